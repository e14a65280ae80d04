"""Every checkov check suppressed in ``template.yaml`` says why, in words.

``make security`` fails on any failed checkov check; the only way past one is a ``Metadata: checkov: skip:``
entry on the resource. checkov accepts an entry without a comment, so this test makes the written reason
mandatory. (No route without authorization and no wildcard action: ``tests/unit/test_template.py``.)
"""

from __future__ import annotations

import re

from devstack.template import load_template

CHECK_ID = re.compile(r"CKV2?_AWS_[0-9]+")
MIN_REASON_WORDS = 6


def test_every_checkov_suppression_names_a_check_and_gives_a_reason() -> None:
    suppressions = []
    for logical_id, resource in load_template()["Resources"].items():
        for entry in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            suppressions.append((logical_id, entry))
            assert CHECK_ID.fullmatch(str(entry.get("id", ""))), (logical_id, entry)
            reason = str(entry.get("comment", "")).split()
            assert len(reason) >= MIN_REASON_WORDS, f"{logical_id} skips {entry.get('id')} without a reason"
    assert suppressions  # the template does suppress some checks; an empty list means the path changed
