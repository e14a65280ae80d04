"""Run in a fresh interpreter by ``bench.cold_start`` (by path, so that the ``bench`` package itself is
not imported): time one cold start and print it as JSON on stdout.

Kinds: ``poller`` / ``api`` import ``functions/<name>/app.py`` by path as Lambda does and build what
their first invocation builds (settings, service, clients), with no network call; ``deps-<name>``
imports boto3 and the Powertools modules that handler uses, and nothing else; ``deps-init-<name>``
also creates the objects the handler creates from them (Logger, Metrics, a Tracer only when tracing is
on; for the poller its two boto3 clients, for the API its resolver with Powertools' request validation,
which imports pydantic), so that what remains of the handler's time is
our own code. With tracing off (``POWERTOOLS_TRACE_DISABLED``, the template's default) the handlers'
tracer loads no X-Ray SDK (``zego_media_tasks.observability.tracing``), and the baseline has no tracer.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import importlib.util  # noqa: E402 - the clock starts before any import
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"
TRACING = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() not in ("1", "true", "yes", "on")


def _tracer() -> object:
    from aws_lambda_powertools import Tracer

    return Tracer() if TRACING else None


def _load(function: str) -> Any:
    # As Lambda's bootstrap does: module "app", registered in sys.modules. Not devstack.handlers: this
    # interpreter has only the layer on its path, so that every import measured here is the handler's.
    path = FUNCTIONS / function / "app.py"
    spec = importlib.util.spec_from_file_location("app", path)
    if spec is None or spec.loader is None:
        raise ImportError(path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    return module


def _deps_poller() -> Callable[[], object]:
    import boto3
    from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric  # noqa: F401
    from aws_lambda_powertools.metrics import MetricUnit  # noqa: F401
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response  # noqa: F401
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse  # noqa: F401
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord  # noqa: F401
    from aws_lambda_powertools.utilities.typing import LambdaContext  # noqa: F401

    return lambda: (Logger(), _tracer(), Metrics(), boto3.client("dynamodb"), boto3.client("sqs"))


def _deps_api() -> Callable[[], object]:
    import boto3  # noqa: F401 - imported by the handler's code, part of its dependencies
    from aws_lambda_powertools import Logger, Metrics, Tracer  # noqa: F401 - Tracer: when tracing is on
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.logging import correlation_paths  # noqa: F401
    from aws_lambda_powertools.utilities.typing import LambdaContext  # noqa: F401

    # The resolver as the handler creates it: Powertools' request validation (enable_validation) imports
    # pydantic, its dependency, whatever the routes are.
    return lambda: (Logger(), _tracer(), Metrics(), APIGatewayRestResolver(enable_validation=True))


def _importing(kind: str) -> Callable[[], object]:
    """Do the imports of ``kind``; return what its first invocation would build."""
    if kind in ("poller", "api"):
        module = _load(kind)
        return module.instance.runtime if kind == "poller" else module.api  # type: ignore[no-any-return]
    if kind in ("deps-poller", "deps-init-poller"):
        build = _deps_poller()
    elif kind in ("deps-api", "deps-init-api"):
        build = _deps_api()
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    return build if kind.startswith("deps-init") else lambda: None


def main() -> None:
    """Time the kind named by argv[1]; with ``--profile``, also the top functions of the init phase."""
    kind = sys.argv[1]
    build = _importing(kind)
    imported = time.perf_counter()
    report: dict[str, Any] = {"kind": kind}
    if "--profile" in sys.argv[2:]:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(build)
        stats = pstats.Stats(profiler)
        rows = sorted(stats.stats.items(), key=lambda item: -item[1][3])  # type: ignore[attr-defined]
        report["init_profile"] = [
            {"function": f"{Path(file).name}:{line}({name})", "cumulative_seconds": round(row[3], 4)}
            for (file, line, name), row in rows[:25]
        ]
    else:
        build()
    finished = time.perf_counter()
    report.update(import_seconds=imported - STARTED, init_seconds=finished - imported, seconds=finished - STARTED)
    # Straight to fd 1 as the last line: the handlers' own log lines go to stdout before it.
    os.write(1, (json.dumps(report) + "\n").encode())


if __name__ == "__main__":
    main()
