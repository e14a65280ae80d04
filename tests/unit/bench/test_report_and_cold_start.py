"""Parsing ``-X importtime`` output, attributing imports, and refreshing the generated block of the
benchmarks document without touching the prose around it."""

from __future__ import annotations

from pathlib import Path

from bench.cold_start import attribute_imports, import_self_times
from bench.report import BEGIN, END, machine_block, update_document

IMPORTTIME = """import time: self [us] | cumulative | imported package
import time:       120 |        120 |   _io
import time:      2000 |       5000 | boto3
import time:      1500 |       1500 |     zego_media_tasks.domain.polling
import time:       700 |       2200 |   zego_media_tasks
import time:      3000 |       3000 | pydantic.main
"""

RESULTS = {
    "generated_at": "2026-11-24T00:00:00+00:00",
    "duration_seconds": 600.0,
    "machine": {
        "nproc": 2,
        "cpu_model": "AMD EPYC",
        "memory_gib": 23.4,
        "implementation": "CPython",
        "python": "3.11.7",
        "platform": "Linux",
        "packages": {"boto3": "1", "aws-lambda-powertools": "2", "moto": "3"},
    },
}


def test_import_self_times_are_read_per_module() -> None:
    times = import_self_times(IMPORTTIME + "not an importtime line\n")
    assert times == {
        "_io": 120,
        "boto3": 2000,
        "zego_media_tasks.domain.polling": 1500,
        "zego_media_tasks": 700,
        "pydantic.main": 3000,
    }


def test_imports_beyond_the_dependencies_are_grouped_by_package() -> None:
    handler = import_self_times(IMPORTTIME)
    dependencies = {"_io": 120, "boto3": 2000}
    attribution = attribute_imports(handler, dependencies)
    assert attribution["extra_modules"] == 3
    assert attribution["extra_ms"] == 5.2
    assert attribution["by_package_ms"] == {"pydantic": 3.0, "zego_media_tasks": 2.2}
    assert next(iter(attribution["top_modules_ms"])) == "pydantic.main"


def test_update_document_replaces_only_the_generated_block(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Title\n\nprose before\n\n{BEGIN}\nold figures\n{END}\n\nprose after\n", encoding="utf-8")
    assert update_document(doc, RESULTS)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nprose before\n\n")
    assert text.endswith(f"{END}\n\nprose after\n")
    assert "old figures" not in text
    assert "2 CPUs (AMD EPYC), 23.4 GiB" in text


def test_update_document_leaves_a_file_without_markers_alone(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Hand-written only\n", encoding="utf-8")
    assert not update_document(doc, RESULTS)
    assert doc.read_text(encoding="utf-8") == "# Hand-written only\n"
    assert not update_document(tmp_path / "missing.md", RESULTS)


def test_the_run_line_says_which_figures_an_only_run_refreshed() -> None:
    partial = {
        **RESULTS,
        "duration_seconds": 60.0,
        "benchmarks_run": ["polling_efficiency"],
        "benchmark_seconds": {"cold_start": 60.0, "polling_efficiency": 60.0, "rate_limit": 400.0},
    }
    assert (
        "(full-length run), `python -m bench --only polling_efficiency` took 1.0 min; cold_start, rate_limit from "
        "an earlier run." in machine_block(partial)
    )
    full = {**partial, "benchmarks_run": ["cold_start", "polling_efficiency", "rate_limit"]}
    assert "(full run), `make bench` took 1.0 min." in machine_block(full)
