"""The OpenAPI document: generated from the code, committed, valid, and in step with the template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openapi_spec_validator import validate

from devstack.template import load_template
from zego_media_tasks.api.openapi import main, openapi_document, openapi_json

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def test_the_committed_document_is_the_generated_one() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == openapi_json(), (
        "docs/openapi.json is stale: run `PYTHONPATH=layers/shared .venv/bin/python -m zego_media_tasks.api.openapi`"
    )


def test_check_mode_reports_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n", encoding="utf-8")
    assert main(["--check", "--output", str(stale)]) == 1
    assert main(["--output", str(stale)]) == 0
    assert main(["--check", "--output", str(stale)]) == 0


def test_the_document_is_valid_openapi() -> None:
    validate(openapi_document())


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in document["paths"].items() for method in item}


def test_the_routes_are_the_templates_api_events() -> None:
    resources = load_template()["Resources"]
    events = [
        event
        for function_id in ("ApiFunction", "CallbackFunction")
        for event in resources[function_id]["Properties"]["Events"].values()
    ]
    routes = {(e["Properties"]["Path"], e["Properties"]["Method"].upper()) for e in events if e["Type"] == "Api"}
    assert _operations(openapi_document()) == routes


def test_every_operation_requires_authorization_but_the_signed_callback() -> None:
    document = openapi_document()
    assert document["security"] == [{"sigv4": []}, {"api_key": []}]
    for path, item in document["paths"].items():
        for operation in item.values():
            if path == "/callbacks/zego":
                assert operation["security"] == []  # ZEGO cannot sign SigV4: the callback signature is checked
            else:
                assert "security" not in operation


def test_errors_are_documented_as_the_error_envelope_and_never_422() -> None:
    document = openapi_document()
    for item in document["paths"].values():
        for operation in item.values():
            responses = operation["responses"]
            assert "422" not in responses
            for status, response in responses.items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (status, operation["operationId"])
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_list_documents_status_as_required_and_limit_bounds() -> None:
    parameters = {p["name"]: p for p in openapi_document()["paths"]["/tasks"]["get"]["parameters"]}
    assert parameters["status"]["required"] is True
    assert parameters["limit"]["schema"]["minimum"] == 1
    assert parameters["limit"]["schema"]["maximum"] == 100
    assert parameters["limit"]["schema"]["default"] == 50


def test_registration_body_is_documented_with_its_exact_field_names() -> None:
    body = openapi_document()["paths"]["/tasks"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["required"] == ["TaskId", "Vendor"]
    assert schema["properties"]["Vendor"] == {"$ref": "#/components/schemas/Vendor"}


def test_the_served_json_is_the_document() -> None:
    assert json.loads(openapi_json()) == openapi_document()
