"""The whole pipeline on one machine: AWS emulator, ZEGO simulator (or a real endpoint), the real
poller behind a local event source mapping, and the real API and callback receiver behind a local API
Gateway (every function with ``Api`` events in the template, on the routes the template gives it).

With ``simulator_callbacks``, the embedded simulator also sends ZEGO's signed completion callbacks to the
gateway's callback route, signed with the CallbackSecret the receiver checks. A real ZEGO endpoint cannot
reach this machine: its callbacks go to the URL ZEGO support configured for the AppId (a deployed
stack's ``/callbacks/zego``), so locally such tasks are finished by polling alone.

Every task write also reaches the real state-change publisher, as deployed: the tasks table's stream feeds
it through a local stream event source (:mod:`devstack.stream_source`), it publishes to the stack's bus in
moto's EventBridge, and a local rule delivers the events to a queue that :mod:`devstack.delivered_events`
reads (``make run`` writes them to ``.devstack/events.jsonl``).

Used by ``make run``, the end-to-end tests, the benchmarks and the chaos soak.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import boto3
import requests

from devstack.api_gateway import CALLBACK_FUNCTION, LocalApiGateway
from devstack.delivered_events import DeliveredEvents
from devstack.emulator import AwsEmulator, restore_environment
from devstack.event_source import EventSourceSettings, LocalEventSourceMapping
from devstack.handlers import Handler, function_directory, load_function_module, load_handler, load_template_handler
from devstack.resources import ProvisionedStack, provision
from devstack.schedule import LocalSchedule, ScheduleSettings
from devstack.stream_source import LocalStreamEventSource, StreamSourceSettings
from devstack.zego_simulator import (
    CallbackFaultSettings,
    CallbackSettings,
    FaultSettings,
    Scenario,
    ZegoSimulator,
)
from zego_media_tasks.domain.ports import Clock
from zego_media_tasks.watchdog.wiring import build_watchdog

DEMO_SCENARIO = Path(__file__).resolve().parent / "scenarios" / "demo.json"
LOCAL_APP_ID = 1234567890
PUBLISHER_FUNCTION = "PublisherFunction"
WATCHDOG_FUNCTION = "WatchdogFunction"


@dataclass(frozen=True)
class ZegoTarget:
    """A ZEGO endpoint to use instead of the simulator (real ZEGO, or anything speaking its API)."""

    endpoint: str
    app_id: str
    server_secret: str = field(repr=False)


class _Stoppable(Protocol):
    """A running part of the stack."""

    def stop(self) -> None: ...


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
    loss_rate: float = 0.0
    """Share of a running chain's poll messages the event source deletes on delivery (the chaos soak)."""
    seed: int | None = None
    simulator_callbacks: bool = False
    """The embedded simulator sends completion callbacks to the local callback route (off: polling alone,
    as the soak and the benchmarks measure it)."""
    callback_faults: CallbackFaultSettings | None = None
    """Callback fault knobs of the embedded simulator (with ``simulator_callbacks``)."""
    callback_secret: str | None = field(default=None, repr=False)
    """The CallbackSecret the receiver checks and the simulator signs with (None: a random one)."""
    simulator_server_secret: str | None = field(default=None, repr=False)
    """The embedded simulator's ServerSecret (None: a random one)."""
    server_secret_in_secrets_manager: bool = False
    """The poller reads the simulator's ServerSecret from a secret in the emulator's Secrets Manager, as
    deployed (``ZEGO_SERVER_SECRET_ARN``), instead of ``ZEGO_SERVER_SECRET``; see
    :meth:`LocalStack.rotate_server_secret`."""
    simulator_call_log: Path | None = None
    """Also write the simulator's DescribeMediaTask call log here, as JSON lines."""
    simulator_callback_log: Path | None = None
    """Also write the simulator's callback log here, as JSON lines."""
    state_change_events: bool = True
    """Run the publisher behind the tasks table's stream and subscribe a local queue to its events (off:
    no stream reads and no publishing, for measurements of the poller alone)."""
    stream_source: StreamSourceSettings | None = None
    """The stream event source's settings (None: the template's ``PublisherFunction`` event)."""
    events_log: Path | None = None
    """Also write every delivered state-change event here, one JSON line each (rewritten at start)."""
    watchdog: bool = True
    """Run the lost-chain watchdog on its schedule (off: chains that lose their message stay lost)."""
    watchdog_interval_seconds: float | None = None
    """How often the watchdog runs (None: the template's schedule, every ``WatchdogScheduleMinutes``)."""
    watchdog_clock: Clock | None = None
    """The watchdog's clock (None: the system's), so that a test can move its time past the grace."""


def _simulator_callbacks(options: StackOptions, url: str, secret: str) -> CallbackSettings | None:
    """Where and how the embedded simulator sends completion callbacks: to ``url`` (the local callback
    route), signed with ``secret``; None without ``simulator_callbacks``."""
    if not options.simulator_callbacks:
        return None
    return CallbackSettings(url=url, secret=secret, faults=options.callback_faults or CallbackFaultSettings())


class LocalStack:
    """Start with :meth:`start` (or ``with``); everything binds to 127.0.0.1."""

    def __init__(
        self,
        options: StackOptions | None = None,
        *,
        emulator: AwsEmulator | None = None,
        wrap_poller: Callable[[Handler], Handler] | None = None,
        wrap_publisher: Callable[[Handler], Handler] | None = None,
    ) -> None:
        """``emulator``: another AWS emulator than moto in this process, uncorrected (e.g. one in its own
        process, or with :class:`devstack.emulator.MotoFixes`); ``wrap_poller``: what the event source
        invokes instead of the poller's handler (the soak logs each invocation through it);
        ``wrap_publisher``: the same for the publisher behind the stream."""
        self.options = options or StackOptions()
        self.emulator = emulator or AwsEmulator()
        self._wrap_poller = wrap_poller
        self._wrap_publisher = wrap_publisher
        self.stream_source: LocalStreamEventSource | None = None
        self.delivered_events: DeliveredEvents | None = None
        self.watchdog: LocalSchedule | None = None
        self.server_secret_arn: str | None = None
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
        # Bound first: the simulator needs the callback URL before it starts.
        self.api = LocalApiGateway(options.api_port)
        callback_secret = options.callback_secret or secrets.token_hex(16)
        zego = options.zego
        if zego is None:
            server_secret = options.simulator_server_secret or secrets.token_hex(16)
            self.simulator = ZegoSimulator(
                options.scenario or Scenario.from_file(DEMO_SCENARIO),
                apps={LOCAL_APP_ID: server_secret},
                rate_limit=options.simulator_rate_limit,
                time_scale=options.time_scale,
                faults=options.faults,
                seed=options.simulator_seed,
                call_log_path=options.simulator_call_log,
                callbacks=_simulator_callbacks(options, self.api.url_of(CALLBACK_FUNCTION), callback_secret),
                callback_log_path=options.simulator_callback_log,
            ).start()
            zego = ZegoTarget(endpoint=self.simulator.url, app_id=str(LOCAL_APP_ID), server_secret=server_secret)
        resources = self.resources
        self._set_environment(
            {
                "TABLE_NAME": resources.table_names["TasksTable"],
                "RATE_LIMIT_TABLE_NAME": resources.table_names["RateLimitTable"],
                "QUEUE_URL": resources.queue_urls["PollQueue"],
                "DLQ_URL": resources.queue_urls["PollDeadLetterQueue"],
                "LISTS_BUCKET_NAME": resources.bucket_names["TaskListsBucket"],
                "ZEGO_ENDPOINT": zego.endpoint,
                "ZEGO_APP_ID": zego.app_id,
                **self._server_secret_variables(zego.server_secret),
                "ZEGO_CALLBACK_SECRET": callback_secret,
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
        settings = options.event_source or EventSourceSettings.from_template()
        self.event_source = LocalEventSourceMapping(
            poller,
            resources.queue_urls["PollQueue"],
            settings,
            crash_rate=options.crash_rate,
            loss_rate=options.loss_rate,
            seed=options.seed,
        ).start()
        if options.state_change_events:
            self._start_state_change_events(resources)
        if options.watchdog:
            self._start_watchdog(resources)
        served = {route.function for route in self.api.routes}
        self.api.start({function: load_template_handler(function) for function in sorted(served)})

    def _start_state_change_events(self, resources: ProvisionedStack) -> None:
        """The bus's subscriber queue first (no event is published before it exists), then the publisher
        behind the table's stream, with the template's bus, source and stream settings."""
        self._set_environment(resources.environment_of(PUBLISHER_FUNCTION, "EVENT_BUS_NAME", "EVENT_SOURCE"))
        self.delivered_events = DeliveredEvents(
            self.environment["EVENT_BUS_NAME"],
            self.environment["EVENT_SOURCE"],
            path=self.options.events_log,
            name_prefix=resources.stack_name,
        ).start()
        publisher = load_template_handler(PUBLISHER_FUNCTION)
        if self._wrap_publisher is not None:
            publisher = self._wrap_publisher(publisher)
        settings = self.options.stream_source or StreamSourceSettings.from_template(
            PUBLISHER_FUNCTION, self.options.parameter_overrides
        )
        failure_queue = resources.queue_urls.get(settings.on_failure_queue or "")
        self.stream_source = LocalStreamEventSource(
            publisher,
            resources.stream_arns["TasksTable"],
            settings,
            function_name=PUBLISHER_FUNCTION,
            on_failure_queue_url=failure_queue,
        ).start()

    def _start_watchdog(self, resources: ProvisionedStack) -> None:
        """The watchdog on its schedule, with the template's grace and the poll queue's settings."""
        self._set_environment(
            resources.environment_of(
                WATCHDOG_FUNCTION, "WATCHDOG_GRACE_SECONDS", "POLL_VISIBILITY_TIMEOUT_SECONDS", "POLL_MAX_RECEIVE_COUNT"
            )
        )
        module = load_function_module(function_directory(WATCHDOG_FUNCTION))
        clock = self.options.watchdog_clock
        if clock is not None:
            module.build_watchdog = partial(build_watchdog, clock=clock)  # type: ignore[attr-defined]
        settings = ScheduleSettings.from_template(WATCHDOG_FUNCTION, self.options.parameter_overrides)
        if self.options.watchdog_interval_seconds is not None:
            settings = replace(settings, interval_seconds=self.options.watchdog_interval_seconds)
        self.watchdog = LocalSchedule(module.lambda_handler, settings, function_name=WATCHDOG_FUNCTION).start()

    def _server_secret_variables(self, server_secret: str) -> dict[str, str]:
        if not (self.options.server_secret_in_secrets_manager and self.simulator is not None):
            return {"ZEGO_SERVER_SECRET": server_secret}
        created = boto3.client("secretsmanager").create_secret(
            Name=f"{self.provisioned().stack_name}-zego-server-secret",
            SecretString=json.dumps({"ServerSecret": server_secret}),
        )
        self.server_secret_arn = str(created["ARN"])
        return {"ZEGO_SERVER_SECRET": "", "ZEGO_SERVER_SECRET_ARN": self.server_secret_arn}

    def rotate_server_secret(self, new_secret: str) -> None:
        """Rotate the ServerSecret as an operator does: into Secrets Manager, then at ZEGO (the simulator).
        Needs ``server_secret_in_secrets_manager``."""
        if self.server_secret_arn is None or self.simulator is None:
            raise RuntimeError("the stack reads no ServerSecret from Secrets Manager")
        boto3.client("secretsmanager").put_secret_value(
            SecretId=self.server_secret_arn, SecretString=json.dumps({"ServerSecret": new_secret})
        )
        self.simulator.service.rotate_secret(LOCAL_APP_ID, new_secret)

    def stop(self) -> None:
        """Stop every part that started, each before what it reads from (the gateway, the event sources,
        the events' subscriber, the simulator, the emulator), and restore the environment."""
        parts: tuple[_Stoppable | None, ...] = (
            self.api,
            self.watchdog,
            self.event_source,
            self.stream_source,
            self.delivered_events,
            self.simulator,
        )
        for part in parts:
            if part is not None:
                part.stop()
        self.api = self.watchdog = self.event_source = self.stream_source = None
        self.delivered_events = self.simulator = None
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

    @property
    def callback_url(self) -> str:
        """The local callback route (``POST``), where the embedded simulator sends ZEGO's callbacks."""
        if self.api is None:
            raise RuntimeError("stack not started")
        return self.api.url_of(CALLBACK_FUNCTION)

    def register(self, task_id: str, vendor: str, kind: str | None = None) -> requests.Response:
        """``POST /tasks`` over HTTP, as a client would (with ``Kind`` when given)."""
        body = {"TaskId": task_id, "Vendor": vendor, **({"Kind": kind} if kind else {})}
        return self._http.post(f"{self.api_url}/tasks", json=body, timeout=10)

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

    def wait_for_events(self, timeout: float = 15.0) -> bool:
        """Wait until every write made so far has been through the publisher and every event it published
        has been read from the subscriber queue; False when ``timeout`` (s, monotonic) passed first."""
        if self.stream_source is None or self.delivered_events is None:
            return True
        deadline = time.monotonic() + timeout
        written = time.monotonic()
        while not self.stream_source.drained_since(written):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        published = time.monotonic()
        while not self.delivered_events.idle_since(published):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def state_change_events(self) -> list[dict[str, Any]]:
        """Every state-change event delivered to the local subscriber queue so far, as delivered."""
        return self.delivered_events.events() if self.delivered_events is not None else []

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
            "callbacks": self.callback_url if self.simulator and self.simulator.callbacks else None,
            "resources": json.loads(json.dumps(self.resources.__dict__)) if self.resources else None,
        }
