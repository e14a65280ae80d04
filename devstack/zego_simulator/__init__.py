"""A ZEGO DescribeMediaTask simulator on loopback (stdlib only), for tests, benchmarks, soaks and ``make run``;
it can also send ZEGO's completion callbacks (``callbacks.py``).

Independent of ``zego_media_tasks`` on purpose: it implements ZEGO's wire contract from the vendor's
documentation, so it can catch our adapter's mistakes instead of sharing them. Scenario file format:
``devstack/scenarios/README.md``. Standalone: ``python -m devstack.zego_simulator --help``.
"""

from __future__ import annotations

from devstack.zego_simulator.callbacks import (
    CallbackDispatcher,
    CallbackEvent,
    CallbackFaultSettings,
    CallbackLog,
    CallbackOutcome,
    CallbackRecord,
    CallbackSettings,
    DeliveryResult,
    callback_body,
    callback_fields,
    sign_callback,
)
from devstack.zego_simulator.faults import Fault, FaultDecision, FaultInjector, FaultSettings
from devstack.zego_simulator.scenario import (
    DEFAULT_MIX,
    GENERATED_KINDS,
    CallbackFate,
    CallbackScript,
    FinalState,
    Scenario,
    ScenarioError,
    Step,
    TaskAnswer,
    TaskBook,
    TaskSpec,
    TaskTemplate,
    TimelineClock,
    TimelineStart,
    Vendor,
)
from devstack.zego_simulator.server import (
    DEFAULT_RATE_LIMIT,
    CallLog,
    CallRecord,
    CallStats,
    Reply,
    ReturnCode,
    SlidingWindowLimiter,
    ZegoService,
    ZegoSimulator,
    busiest_window,
    sign,
)

__all__ = [
    "DEFAULT_MIX",
    "DEFAULT_RATE_LIMIT",
    "GENERATED_KINDS",
    "CallLog",
    "CallRecord",
    "CallStats",
    "CallbackDispatcher",
    "CallbackEvent",
    "CallbackFate",
    "CallbackFaultSettings",
    "CallbackLog",
    "CallbackOutcome",
    "CallbackRecord",
    "CallbackScript",
    "CallbackSettings",
    "DeliveryResult",
    "Fault",
    "FaultDecision",
    "FaultInjector",
    "FaultSettings",
    "FinalState",
    "Reply",
    "ReturnCode",
    "Scenario",
    "ScenarioError",
    "SlidingWindowLimiter",
    "Step",
    "TaskAnswer",
    "TaskBook",
    "TaskSpec",
    "TaskTemplate",
    "TimelineClock",
    "TimelineStart",
    "Vendor",
    "ZegoService",
    "ZegoSimulator",
    "busiest_window",
    "callback_body",
    "callback_fields",
    "sign",
    "sign_callback",
]
