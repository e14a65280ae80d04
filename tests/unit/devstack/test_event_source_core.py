"""The local event sources read a handler's ``batchItemFailures`` as Lambda does."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.event_source_core import failed_item_identifiers

BATCH_IDS = ["m-1", "m-2"]


@pytest.mark.parametrize(
    ("response", "failed"),
    [
        pytest.param(None, set(), id="no response: nothing failed"),
        pytest.param({"batchItemFailures": []}, set(), id="no failures"),
        pytest.param({"batchItemFailures": None}, set(), id="null failures"),
        pytest.param({"batchItemFailures": [{"itemIdentifier": "m-1"}]}, {"m-1"}, id="one failure"),
    ],
)
def test_a_valid_response_names_the_failed_records(response: Any, failed: set[str]) -> None:
    assert failed_item_identifiers(response, BATCH_IDS) == failed


@pytest.mark.parametrize(
    "response",
    [
        pytest.param("nonsense", id="not an object"),
        pytest.param({"batchItemFailures": [{"itemIdentifier": "other"}]}, id="a record of no batch"),
        pytest.param({"batchItemFailures": [{"itemIdentifier": ""}]}, id="an empty identifier"),
        pytest.param({"batchItemFailures": ["m-1"]}, id="an entry that is not an object"),
    ],
)
def test_an_invalid_response_fails_the_whole_batch(response: Any) -> None:
    assert failed_item_identifiers(response, BATCH_IDS) is None
