"""The functions' tracer: X-Ray only when the stack traces, and then nothing changes for the handlers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from zego_media_tasks.observability.tracing import SilentProvider, function_tracer, tracing_enabled

LAYER = Path(__file__).resolve().parents[3] / "layers" / "shared"
IN_LAMBDA = {"LAMBDA_TASK_ROOT": "/var/task"}


@pytest.mark.parametrize(
    ("environ", "enabled"),
    [
        ({**IN_LAMBDA, "POWERTOOLS_TRACE_DISABLED": "false"}, True),
        (IN_LAMBDA, True),
        ({**IN_LAMBDA, "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"POWERTOOLS_TRACE_DISABLED": "false"}, False),  # outside Lambda there is no segment to join
        ({**IN_LAMBDA, "AWS_SAM_LOCAL": "true"}, False),
    ],
)
def test_tracing_follows_the_stacks_switch_and_only_in_lambda(environ: dict[str, str], enabled: bool) -> None:
    assert tracing_enabled(environ) is enabled


def test_an_untraced_handler_keeps_its_decorators_and_its_answers() -> None:
    tracer = function_tracer({"POWERTOOLS_TRACE_DISABLED": "true"})
    assert isinstance(tracer.provider, SilentProvider)

    @tracer.capture_method
    def method(value: int) -> int:
        return value * 2

    @tracer.capture_lambda_handler
    def handler(event: dict[str, int], context: object) -> int:
        tracer.put_annotation(key="task_id", value="t-1")
        return method(event["value"])

    assert handler({"value": 21}, None) == 42
    with pytest.raises(ZeroDivisionError):
        tracer.capture_lambda_handler(lambda event, context: 1 // 0)({}, None)


def test_an_untraced_cold_start_never_imports_the_xray_sdk() -> None:
    # A fresh interpreter, as a cold start: build the tracer and run a traced handler, then look
    probe = (
        "import sys\n"
        "from zego_media_tasks.observability.tracing import function_tracer\n"
        "tracer = function_tracer()\n"
        "print(tracer.capture_lambda_handler(lambda event, context: 'ok')({}, None))\n"
        "print(sorted(name for name in sys.modules if name.startswith('aws_xray_sdk.core')))\n"
    )
    environment = {"PYTHONPATH": str(LAYER), "LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}
    completed = subprocess.run(  # noqa: S603 - our interpreter, a fixed script
        [sys.executable, "-c", probe], env=environment, capture_output=True, text=True, timeout=60, check=True
    )
    assert completed.stdout.splitlines() == ["ok", "[]"]
