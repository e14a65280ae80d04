"""The smoke checks, the same for a deployed and a local stack (:class:`smoke.targets.Target`).

In order: subscribe a temporary queue to the bus's state-change events; register a smoke task (a Huawei
merge, which waits for its callback instead of being polled, so that nothing races the callback); read it
back; list it by status; the registration's event arrives; a ZEGO-signed completion callback ends the task
and its event arrives (when the stack has the callback route); every function's alarms exist in
CloudWatch; the API refuses a call without credentials (deployed only: the local gateway enforces none).
The rule and the queue are deleted whatever happens; the task's record stays in the table, named
``smoke-...``, until TTL.

Each check returns one line; the first that fails raises :class:`CheckError` and ends the run.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import requests

from devstack.delivered_events import DeliveredEvents
from smoke.targets import Target
from zego_media_tasks.zego.callbacks import callback_signature

VENDOR: Final = "Huawei"
KIND: Final = "merge"
HTTP_TIMEOUT_SECONDS: Final = 30
LIST_PAGES: Final = 5
NOT_APPLICABLE: Final = "not applicable"
"""How a check that this target cannot have begins its line (it is not counted as passed)."""
REPLAY_URL: Final = "https://smoke.invalid/zego-media-tasks/smoke.mp4"
"""The smoke callback's output URL: the task has no real output; ``.invalid`` can never resolve."""


class CheckError(Exception):
    """One check failed; the message is the one line to print."""


@dataclass(frozen=True)
class Outcome:
    """One check's result line."""

    name: str
    passed: bool
    detail: str

    @property
    def applicable(self) -> bool:
        """False for a check this target cannot have (the local gateway's authorization, a stack without
        callbacks)."""
        return not self.detail.startswith(NOT_APPLICABLE)


@dataclass
class Suite:
    """One run of the checks against ``target``."""

    target: Target
    event_timeout_seconds: float = 90.0
    task_id: str = field(default_factory=lambda: f"smoke-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}")
    report: Callable[[Outcome], None] = lambda outcome: None
    outcomes: list[Outcome] = field(default_factory=list)
    _http: requests.Session = field(default_factory=requests.Session)

    def run(self) -> list[Outcome]:
        """Every check in order; raises :class:`CheckError` at the first failure (after cleaning up)."""
        subscriber = DeliveredEvents(
            self.target.bus_name, self.target.event_source, name_prefix="smoke", session=self.target.session
        )
        try:
            self._check("events: temporary rule and queue", lambda: self._subscribe(subscriber))
            self._check("api: register", self._register)
            record = self._check_value("api: read back", self._read_back)
            self._check("api: list by status", lambda: self._listed(record["status"]))
            self._check("events: registration", lambda: self._event(subscriber, lambda detail: True))
            self._check("callbacks: signed callback", self._callback)
            if self.target.callbacks is not None:
                self._check(
                    "events: callback",
                    lambda: self._event(subscriber, lambda detail: detail["status"] == "SUCCEEDED"),
                )
            self._check("alarms", self._alarms)
            self._check("api: refuses unsigned calls", self._refuses_unsigned)
        finally:
            subscriber.delete()
            self._http.close()
        return self.outcomes

    # -- running ---------------------------------------------------------------------------------
    def _check(self, name: str, check: Callable[[], str]) -> None:
        self._check_value(name, lambda: (None, check()))

    def _check_value(self, name: str, check: Callable[[], tuple[Any, str]]) -> Any:
        try:
            value, detail = check()
        except CheckError as failure:
            self._record(Outcome(name, False, str(failure)))
            raise CheckError(f"{name}: {failure}") from None
        except (requests.RequestException, OSError) as error:
            self._record(Outcome(name, False, str(error)))
            raise CheckError(f"{name}: {type(error).__name__}: {error}") from None
        self._record(Outcome(name, True, detail))
        return value

    def _record(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.report(outcome)

    def _call(self, method: str, path: str, *, signed: bool = True, **kwargs: Any) -> requests.Response:
        auth = self.target.auth if signed else None
        return self._http.request(
            method, f"{self.target.api_url}{path}", auth=auth, timeout=HTTP_TIMEOUT_SECONDS, **kwargs
        )

    # -- the checks ------------------------------------------------------------------------------
    def _subscribe(self, subscriber: DeliveredEvents) -> str:
        subscriber.start()
        return f"rule {subscriber.rule_arn.rsplit('/', 1)[-1]} on bus {self.target.bus_name}"

    def _register(self) -> str:
        body = {"TaskId": self.task_id, "Vendor": VENDOR, "Kind": KIND}
        response = self._call("POST", "/tasks", json=body)
        _expect(response, 202)
        return f"POST /tasks {self.task_id} ({VENDOR} {KIND}) -> 202"

    def _read_back(self) -> tuple[dict[str, Any], str]:
        response = self._call("GET", f"/tasks/{self.task_id}", params={"vendor": VENDOR})
        _expect(response, 200)
        tasks = response.json().get("tasks") or []
        if len(tasks) != 1 or tasks[0].get("taskId") != self.task_id:
            raise CheckError(f"GET /tasks/{self.task_id} answered {tasks!r}, not the registered task")
        return tasks[0], f"GET /tasks/{self.task_id} -> {tasks[0]['status']}"

    def _listed(self, status: str) -> str:
        params: dict[str, Any] = {"status": status, "vendor": VENDOR, "limit": 100}
        for page in range(1, LIST_PAGES + 1):
            response = self._call("GET", "/tasks", params=params)
            _expect(response, 200)
            body = response.json()
            if any(task.get("taskId") == self.task_id for task in body.get("tasks", [])):
                return f"GET /tasks?status={status}&vendor={VENDOR} lists it (page {page})"
            if not body.get("nextToken"):
                break
            params["nextToken"] = body["nextToken"]
        raise CheckError(f"GET /tasks?status={status}&vendor={VENDOR} does not list {self.task_id}")

    def _refuses_unsigned(self) -> str:
        if self.target.auth is None:
            return f"{NOT_APPLICABLE}: the local gateway enforces no authorization"
        response = self._call("GET", f"/tasks/{self.task_id}", signed=False, params={"vendor": VENDOR})
        if response.status_code not in (401, 403):
            raise CheckError(f"GET /tasks/{self.task_id} without credentials answered {response.status_code}")
        return f"without {self.target.auth_mode} credentials -> {response.status_code}"

    def _alarms(self) -> str:
        expected = self.target.expected_alarms
        unwatched = sorted(function for function, alarms in expected.items() if not alarms)
        if unwatched:
            raise CheckError(f"the template gives {', '.join(unwatched)} no alarm")
        wanted = set().union(*expected.values())
        missing_from_stack = sorted(wanted - set(self.target.alarms))
        if missing_from_stack:
            raise CheckError(f"the stack has no {', '.join(missing_from_stack)}")
        cloudwatch = self.target.session.client("cloudwatch")
        names = sorted(self.target.alarms[logical] for logical in wanted)
        found: dict[str, str] = {}
        for start in range(0, len(names), 100):
            for alarm in cloudwatch.describe_alarms(AlarmNames=names[start : start + 100])["MetricAlarms"]:
                found[alarm["AlarmName"]] = alarm["StateValue"]
        absent = sorted(logical for logical in wanted if self.target.alarms[logical] not in found)
        if absent:
            raise CheckError(f"CloudWatch has no alarm for {', '.join(absent)}")
        per_function = "; ".join(
            f"{function} " + ", ".join(f"{logical} {found[self.target.alarms[logical]]}" for logical in sorted(alarms))
            for function, alarms in sorted(expected.items())
        )
        return f"{len(wanted)} alarms in CloudWatch, every function watched: {per_function}"

    def _event(self, subscriber: DeliveredEvents, wanted: Callable[[Mapping[str, Any]], bool]) -> str:
        deadline = time.monotonic() + self.event_timeout_seconds
        while True:
            for event in subscriber.events():
                detail = event.get("detail", {})
                if detail.get("taskId") == self.task_id and detail.get("vendor") == VENDOR and wanted(detail):
                    previous = detail.get("previousStatus") or "none"
                    return f"{event['detail-type']}: {previous} -> {detail['status']} (sequence {detail['sequence']})"
            if time.monotonic() >= deadline:
                raise CheckError(f"no state-change event for {self.task_id} within {self.event_timeout_seconds:g} s")
            time.sleep(0.5)

    def _callback(self) -> str:
        route = self.target.callbacks
        if route is None:
            return f"{NOT_APPLICABLE}: the stack has no callback route (ZegoCallbackSecretArn is empty)"
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:12]
        body = {
            "appid": str(route.app_id),
            "event": "compose",
            "task_id": self.task_id,
            "replay_url": REPLAY_URL,
            "timestamp": timestamp,
            "nonce": nonce,
            "signature": callback_signature(route.secret, timestamp, nonce),
        }
        response = self._http.post(route.url, json=body, timeout=HTTP_TIMEOUT_SECONDS)
        _expect(response, 200)
        return f"POST {route.url.rsplit('/', 2)[-2]}/{route.url.rsplit('/', 1)[-1]} compose, signed -> 200"


def _expect(response: requests.Response, status: int) -> None:
    if response.status_code != status:
        call = f"{response.request.method} {response.url}"
        raise CheckError(f"{call} answered {response.status_code}, not {status}: {response.text[:300]}")
