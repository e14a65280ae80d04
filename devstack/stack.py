"""The whole pipeline on one machine: AWS emulator, ZEGO simulator (or a real endpoint), the real
poller behind a local event source mapping, and the real API behind a local API Gateway.

Used by ``make run``, the end-to-end tests, the benchmarks and the chaos soak.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests

from devstack.api_gateway import LocalApiGateway
from devstack.emulator import AwsEmulator, restore_environment
from devstack.event_source import EventSourceSettings, LocalEventSourceMapping
from devstack.handlers import Handler, load_handler
from devstack.resources import ProvisionedStack, provision
from devstack.zego_simulator import FaultSettings, Scenario, ZegoSimulator

DEMO_SCENARIO = Path(__file__).resolve().parent / "scenarios" / "demo.json"
LOCAL_APP_ID = 1234567890


@dataclass(frozen=True)
class ZegoTarget:
    """A ZEGO endpoint to use instead of the simulator (real ZEGO, or anything speaking its API)."""

    endpoint: str
    app_id: str
    server_secret: str = field(repr=False)


@dataclass
class StackOptions:
    """What to run; the defaults are the embedded demo."""

    api_port: int = 0
    zego: ZegoTarget | None = None
    scenario: Scenario | None = None
    time_scale: float = 1.0
    faults: FaultSettings | None = None
    simulator_rate_limit: int | None = 20
    simulator_seed: int = 0
    poller_environment: dict[str, str] = field(default_factory=dict)
    """Overrides of the poller's tuning knobs (e.g. a short NO_TASK grace for the demo)."""
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    """Template parameters for the provisioned resources (e.g. the soak's short visibility timeout)."""
    event_source: EventSourceSettings | None = None
    crash_rate: float = 0.0
    seed: int | None = None


class LocalStack:
    """Start with :meth:`start` (or ``with``); everything binds to 127.0.0.1."""

    def __init__(
        self,
        options: StackOptions | None = None,
        *,
        emulator: AwsEmulator | None = None,
        wrap_poller: Callable[[Handler], Handler] | None = None,
    ) -> None:
        """``emulator``: another AWS emulator than moto in this process, uncorrected (e.g. one in its own
        process, or with :class:`devstack.emulator.MotoFixes`); ``wrap_poller``: what the event source
        invokes instead of the poller's handler (the soak logs each invocation through it)."""
        self.options = options or StackOptions()
        self.emulator = emulator or AwsEmulator()
        self._wrap_poller = wrap_poller
        self.simulator: ZegoSimulator | None = None
        self.resources: ProvisionedStack | None = None
        self.event_source: LocalEventSourceMapping | None = None
        self.api: LocalApiGateway | None = None
        self.environment: dict[str, str] = {}
        self._saved_environment: dict[str, str | None] = {}
        self._http = requests.Session()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> LocalStack:
        """Start every part; on any failure, stop what already started and re-raise."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        options = self.options
        self.emulator.start()
        self._set_environment(self.emulator.environment())
        self.resources = provision(prefix="local", parameter_overrides=options.parameter_overrides)
        zego = options.zego
        if zego is None:
            secret = secrets.token_hex(16)
            scenario = options.scenario or Scenario.from_file(DEMO_SCENARIO)
            self.simulator = ZegoSimulator(
                scenario,
                apps={LOCAL_APP_ID: secret},
                rate_limit=options.simulator_rate_limit,
                time_scale=options.time_scale,
                faults=options.faults,
                seed=options.simulator_seed,
            ).start()
            zego = ZegoTarget(endpoint=self.simulator.url, app_id=str(LOCAL_APP_ID), server_secret=secret)
        resources = self.resources
        self._set_environment(
            {
                "TABLE_NAME": resources.table_names["TasksTable"],
                "RATE_LIMIT_TABLE_NAME": resources.table_names["RateLimitTable"],
                "QUEUE_URL": resources.queue_urls["PollQueue"],
                "DLQ_URL": resources.queue_urls["PollDeadLetterQueue"],
                "ZEGO_ENDPOINT": zego.endpoint,
                "ZEGO_APP_ID": zego.app_id,
                "ZEGO_SERVER_SECRET": zego.server_secret,
                "PAGINATION_SECRET": secrets.token_hex(32),
                "POWERTOOLS_SERVICE_NAME": "zego-media-tasks",
                "POWERTOOLS_METRICS_NAMESPACE": "ZegoMediaTasks/Local",
                "POWERTOOLS_TRACE_DISABLED": "true",
                **options.poller_environment,
            }
        )
        poller = load_handler("poller")
        if self._wrap_poller is not None:
            poller = self._wrap_poller(poller)
        api = load_handler("api")
        settings = options.event_source or EventSourceSettings.from_template()
        self.event_source = LocalEventSourceMapping(
            poller,
            resources.queue_urls["PollQueue"],
            settings,
            crash_rate=options.crash_rate,
            seed=options.seed,
        ).start()
        self.api = LocalApiGateway(api, options.api_port).start()

    def stop(self) -> None:
        """Stop every part that started, newest first, and restore the environment."""
        if self.api is not None:
            self.api.stop()
            self.api = None
        if self.event_source is not None:
            self.event_source.stop()
            self.event_source = None
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None
        self.emulator.stop()
        self._http.close()
        restore_environment(self._saved_environment)
        self._saved_environment.clear()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _set_environment(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_environment.setdefault(name, os.environ.get(name))
            os.environ[name] = value
            self.environment[name] = value

    # -- using it ---------------------------------------------------------------------------------
    def provisioned(self) -> ProvisionedStack:
        """The provisioned tables and queues (the stack must be started)."""
        if self.resources is None:
            raise RuntimeError("stack not started")
        return self.resources

    def stop_crashing(self) -> None:
        """Switch off the event source's injected crashes (``StackOptions.crash_rate``) from now on."""
        if self.event_source is not None:
            self.event_source.stop_crashing()

    @property
    def api_url(self) -> str:
        """Base URL of the local read API."""
        if self.api is None:
            raise RuntimeError("stack not started")
        return self.api.url

    def register(self, task_id: str, vendor: str) -> requests.Response:
        """``POST /tasks`` over HTTP, as a client would."""
        return self._http.post(f"{self.api_url}/tasks", json={"TaskId": task_id, "Vendor": vendor}, timeout=10)

    def task(self, task_id: str, vendor: str) -> dict[str, Any] | None:
        """The API's representation of one task, or None when it is not tracked (404)."""
        response = self._http.get(f"{self.api_url}/tasks/{task_id}", params={"vendor": vendor}, timeout=10)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        tasks = body.get("tasks")
        if isinstance(tasks, list):
            return tasks[0] if tasks else None
        return body

    def dead_letters(self) -> list[dict[str, Any]]:
        """Messages currently visible in the DLQ (peeked and made visible again at once)."""
        if self.resources is None:
            return []
        sqs = boto3.client("sqs")
        url = self.resources.queue_urls["PollDeadLetterQueue"]
        found: list[dict[str, Any]] = []
        for _ in range(10):
            batch = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageAttributeNames=["All"]
            ).get("Messages", [])
            new = [dict(m) for m in batch if m["MessageId"] not in {f["MessageId"] for f in found}]
            if not new:
                break
            found.extend(new)
        return found

    def describe(self) -> dict[str, Any]:
        """What is running where (for the banner and for debugging)."""
        return {
            "api": self.api.url if self.api else None,
            "aws_emulator": self.emulator.endpoint_url,
            "zego": self.environment.get("ZEGO_ENDPOINT"),
            "simulator": self.simulator is not None,
            "resources": json.loads(json.dumps(self.resources.__dict__)) if self.resources else None,
        }
