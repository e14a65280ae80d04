"""The runbook (docs/architecture.md, "Runbook") names every alarm of ``template.yaml`` with its meaning
and first action, and no alarm the template does not have."""

from __future__ import annotations

import re
from pathlib import Path

from devstack.template import TEMPLATE_PATH, load_template

ARCHITECTURE = TEMPLATE_PATH.parent / "docs" / "architecture.md"
_ROW_ALARM = re.compile(r"^\| `([A-Za-z0-9]+Alarm)`")


def _section(path: Path, heading: str) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _alarm_rows(section: str) -> dict[str, list[str]]:
    """The alarm table's rows: alarm logical id -> its cells after the name."""
    rows = {}
    for line in section.splitlines():
        match = _ROW_ALARM.match(line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in line.strip().strip("|").split("|")[1:]]
    return rows


def test_every_alarm_of_the_template_has_a_row_with_its_meaning_and_first_action() -> None:
    alarms = {lid for lid, r in load_template()["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    rows = _alarm_rows(_section(ARCHITECTURE, "Runbook"))
    assert alarms, "the template has alarms"
    assert set(rows) == alarms
    for alarm, cells in rows.items():
        assert len(cells) == 3, f"{alarm}: fires when, means, first action"
        assert all(cells), f"{alarm}: an empty cell"


def test_the_runbook_covers_redrive_rotation_the_ceiling_and_deleting_the_stack() -> None:
    section = _section(ARCHITECTURE, "Runbook")
    for heading in ("DLQ redrive", "Secret rotation", "Raising the ceiling", "Deleting the stack"):
        assert f"\n### {heading}" in section, heading
    assert "aws sqs start-message-move-task" in section
    assert "DeletionPolicy: Retain" in section
    assert load_template()["Resources"]["TasksTable"]["DeletionPolicy"] == "Retain"
