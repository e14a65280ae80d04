"""The soak's knobs: fault rates, poller tuning, stack overrides, and the run's time bounds."""

from __future__ import annotations

from dataclasses import dataclass, field

from devstack.aws_faults import AwsFaultSettings
from devstack.template import load_template, parameter_defaults
from devstack.zego_simulator import CallbackFaultSettings, FaultSettings
from devstack.zego_simulator.callbacks import CallbackFaultChanges
from devstack.zego_simulator.faults import FaultChanges
from zego_media_tasks.domain.watch import minimum_grace_seconds

READ_TIMEOUT_SECONDS = 1
# Fault rates of issue 6 ("Chaos soak"), per ZEGO call: they add up to 23 % of the calls. A hang (2 s) must
# outlast the client's read timeout, so that the client really times out.
ZEGO_FAULTS: FaultChanges = {
    "http_5xx_rate": 0.10,
    "hang_rate": 0.05,
    "hang_seconds": 2.0,
    "code_6_rate": 0.05,
    "code_1000_rate": 0.02,
    "malformed_json_rate": 0.01,
}
DUPLICATE_RATE = 0.05
"""Share of poll messages sent a second time (a real second SQS message with the same body)."""
CRASH_RATE = 0.02
"""Share of poller invocations that die after doing their work, before the batch is deleted."""
# Lost chains of issue 12, during the first LOSS_WINDOW_SECONDS of the run (a revived chain comes back one
# grace later, which must fall within the run).
DELETED_RATE = 0.02
"""Share of a running chain's poll messages deleted on delivery, before the poller sees them."""
DROPPED_SEND_RATE = 0.02
"""Share of the poller's re-enqueues dropped, while the record is written as if they had gone out."""
LOSS_WINDOW_SECONDS = 60.0
WATCHDOG_INTERVAL_SECONDS = 5.0
"""The watchdog's schedule for the soak (template default: 5 minutes)."""
# AWS faults of issue 12: during a few windows, a share of the stack's own DynamoDB and SQS requests is answered
# with AWS's throttling or 5xx errors by the emulator (devstack.aws_faults); boto3 retries them, and what gets
# through its retries reaches the product's defined outcomes (item failures and redelivery, 503 and a retry).
AWS_FAULT_WINDOWS = ((80.0, 10.0), (190.0, 10.0), (300.0, 10.0))
"""``(start, seconds)`` from the soak's start: short brownouts, each over before the next, spaced more than a
visibility timeout apart (a message that failed in one is redelivered outside it), all over before the
registrations end (no redelivery lengthens the run's tail)."""
DYNAMODB_FAULT_RATE = 0.25
"""Share of the stack's DynamoDB data-plane requests refused within a window."""
SQS_FAULT_RATE = 0.25
"""Share of the stack's SQS data-plane requests refused within a window."""
AWS_THROTTLE_SHARE = 0.5
"""Share of the refusals that are throttling (HTTP 400); the others are HTTP 500."""
SECRET_ROTATION_AT_SECONDS = 150.0
"""When the ServerSecret is rotated, mid-run: in Secrets Manager (which the poller reads, as deployed), then
at ZEGO (the simulator), while the poller still holds the old one in its 300-s cache."""

# Callback faults of issue 10 ("Callback chaos"), per completion callback: the plan scripts each task's
# callback fate with these rates (together 31 % of the callbacks), so that every expected end is known. A
# delayed callback comes 30 scenario seconds late (3 s at the soak's time scale): later than most polls, so
# a late callback often finds the task ended already.
CALLBACK_FAULTS: CallbackFaultChanges = {
    "lost_rate": 0.06,
    "duplicate_rate": 0.08,
    "delayed_rate": 0.06,
    "delay_seconds": 30.0,
    "reordered_rate": 0.05,
    "bad_signature_rate": 0.06,
}
CALLBACK_SHARE = 0.9
"""Share of tasks with an ending that get a completion callback at all (the rest: none, polling alone)."""
KIND_SHARE = 0.5
"""Share of tasks (Huawei merges aside: always) registered with their ``Kind``; it is optional."""
BACKOFF_CAP_WITH_CALLBACKS_SECONDS = 8
"""``POLL_BACKOFF_CAP_WITH_CALLBACKS_SECONDS``: polling backs off further with callbacks on, as deployed
(600 s there), scaled down to the soak's timelines; it is the safety net of every lost callback."""

VISIBILITY_TIMEOUT_SECONDS = 60
"""The poll queue's visibility timeout for the soak (template default 180 s): the smallest value the
template allows. A crashed batch, and a message reported failed, reappear after it. It still exceeds
the poller's 30 s timeout, so no message becomes visible again while its invocation is running."""
QUICK_VISIBILITY_TIMEOUT_SECONDS = 20
"""The quick variant's: below what the template allows (and below the poller's timeout, so a slow
invocation's records may be delivered again while it runs: more duplicates, which the soak tolerates
by design), so that a crashed batch comes back within the test's time budget."""


@dataclass(frozen=True)
class SoakConfig:
    """One soak run. The defaults are ``make soak``; :meth:`quick` is the small e2e variant."""

    tasks: int = 1000
    seed: int = 20261124
    time_scale: float = 0.1
    """Real seconds per scenario second: generated timelines of 5-60 scenario s play in 0.5-6 s."""
    registration_rate: float = 5.0
    """Tasks registered per second (API and pipeline messages together); paced so that the 20 calls/s
    ZEGO budget, not a registration burst, sets the pace."""
    api_share: float = 0.7
    """Share of tasks registered with ``POST /tasks``; the rest arrive as a pipeline's SQS message."""
    task_deadline_seconds: int = 90
    """``TASK_DEADLINE_SECONDS`` (the poller's minimum is 60): how long a stuck task is polled before
    it ends ``TIMED_OUT``. Every other task ends well before."""
    not_found_grace_seconds: int = 30
    """``NOT_FOUND_GRACE_SECONDS``: a Huawei task still ``NO_TASK`` after this ends ``NOT_FOUND``. It counts
    from the task's first sighting, and a Huawei task that appears late is scripted from the simulator's first
    answered query, so the grace must cover the polls before that answer (a ZEGO fault, a rate-limited step)
    and leave a task that never appears answered polls before its deadline. During an AWS brownout a poll
    step takes 10-15 s (boto3's throttling backoff): a hang and one slow step took 27 s before the first
    answer, past the 20 s used before; at 40 s, a task that never appears met faults and rate limits on every
    poll between 40 s and its 90 s deadline on a loaded machine and ended TIMED_OUT."""
    malformed_messages: int = 10
    """Unreadable messages sent on purpose (half of them with a readable TaskId and Vendor, which end
    ``REJECTED``); they, and only they, must reach the dead-letter queue."""
    max_run_seconds: float = 540.0
    """Give up waiting for terminal states after this long (the soak must finish within 10 minutes)."""
    drain_seconds: float = 120.0
    """After every task is terminal: the longest wait for the queue to empty. The longest delay is a
    Huawei merge's poll message, which waits for its deadline (a callback may end the task long before):
    the deadline + slack; also the longest wait for the last refused callbacks' retries."""
    visibility_timeout_seconds: int = VISIBILITY_TIMEOUT_SECONDS
    deadline_tasks: bool = True
    """Include the tasks that only their deadline ends (60 s at least): Tencent tasks stuck in PROCESSING,
    and Huawei merges whose callback never arrives valid (lost or badly signed)."""
    duplicate_rate: float = DUPLICATE_RATE
    crash_rate: float = CRASH_RATE
    deleted_rate: float = DELETED_RATE
    dropped_send_rate: float = DROPPED_SEND_RATE
    loss_window_seconds: float = LOSS_WINDOW_SECONDS
    watchdog_interval_seconds: float = WATCHDOG_INTERVAL_SECONDS
    secret_rotation_at_seconds: float | None = SECRET_ROTATION_AT_SECONDS
    """None: no rotation."""
    aws_fault_windows: tuple[tuple[float, float], ...] = AWS_FAULT_WINDOWS
    """Empty: no AWS faults."""
    dynamodb_fault_rate: float = DYNAMODB_FAULT_RATE
    sqs_fault_rate: float = SQS_FAULT_RATE
    aws_throttle_share: float = AWS_THROTTLE_SHARE
    faults: FaultSettings = field(default_factory=lambda: FaultSettings(**ZEGO_FAULTS))
    callbacks: bool = True
    """The simulator sends completion callbacks to the stack's callback route (off: polling alone)."""
    callback_share: float = CALLBACK_SHARE
    callback_faults: CallbackFaultSettings = field(default_factory=lambda: CallbackFaultSettings(**CALLBACK_FAULTS))
    """The rates the plan draws callback fates with (the simulator's own random rates stay at zero)."""
    kind_share: float = KIND_SHARE
    events_settle_seconds: float = 120.0
    """After the drain: the longest wait for the last writes' state-change events to be delivered (the
    local publisher makes one PutEvents call per stream record, about 0.1 s each against moto, so a backlog
    built up under the soak's write rate takes a while to clear)."""

    @classmethod
    def quick(cls, seed: int = 7) -> SoakConfig:
        """60 tasks with the same fault rates, for the end-to-end test (about 80 s: the drain waits for the
        Huawei merges' poll messages, which come back at their 60 s deadline)."""
        return cls(
            tasks=60,
            seed=seed,
            registration_rate=20.0,
            task_deadline_seconds=60,
            not_found_grace_seconds=20,  # within the run's 60 s; its one brownout is short
            malformed_messages=4,
            max_run_seconds=60.0,
            drain_seconds=60.0,
            visibility_timeout_seconds=QUICK_VISIBILITY_TIMEOUT_SECONDS,
            deadline_tasks=False,
            # A lost chain is revived one grace (100 s here) later: beyond this variant's run.
            deleted_rate=0.0,
            dropped_send_rate=0.0,
            secret_rotation_at_seconds=None,
            # One brownout, early (a message that failed in it is redelivered one visibility timeout later).
            aws_fault_windows=((5.0, 15.0),),
            events_settle_seconds=30.0,
        )

    def aws_faults(self, origin: float) -> AwsFaultSettings | None:
        """The emulator's fault settings, windows counted from ``origin`` (Unix seconds); None: none."""
        if not self.aws_fault_windows:
            return None
        return AwsFaultSettings.relative(
            origin,
            self.aws_fault_windows,
            dynamodb_rate=self.dynamodb_fault_rate,
            sqs_rate=self.sqs_fault_rate,
            throttle_share=self.aws_throttle_share,
            seed=self.seed + 3,
        )

    def poller_environment(self) -> dict[str, str]:
        """The poller's (and the API's) tuning variables for the soak."""
        return {
            "POLL_BACKOFF_BASE_SECONDS": "1",
            "POLL_BACKOFF_CAP_SECONDS": "4",
            # Full jitter and doubling, as the soak's timings were set with: its verdicts stay comparable.
            "POLL_BACKOFF_FACTOR": "2",
            "POLL_BACKOFF_JITTER": "1",
            "THROTTLE_RETRY_SECONDS": "1",
            "NOT_FOUND_GRACE_SECONDS": str(self.not_found_grace_seconds),
            "TASK_DEADLINE_SECONDS": str(self.task_deadline_seconds),
            "ZEGO_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT_SECONDS),
            "ZEGO_CONNECT_TIMEOUT_SECONDS": "1",
            "CALLBACKS_ENABLED": "true" if self.callbacks else "false",
            "POLL_BACKOFF_CAP_WITH_CALLBACKS_SECONDS": str(BACKOFF_CAP_WITH_CALLBACKS_SECONDS),
            # One JSON line per record and an EMF blob per invocation go to the soak's log file, not the
            # console; INFO keeps them (they are the record of what happened).
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }

    @property
    def watchdog_grace_seconds(self) -> int:
        """The shortest grace the watchdog accepts with the soak's queue: visibility timeout x receives."""
        receives = int(parameter_defaults(load_template())["PollMaxReceiveCount"])
        return minimum_grace_seconds(self.visibility_timeout_seconds, receives)

    def parameter_overrides(self) -> dict[str, str]:
        """Template parameters the soak provisions with (see :data:`VISIBILITY_TIMEOUT_SECONDS`; the
        watchdog's grace follows it)."""
        return {
            "PollVisibilityTimeoutSeconds": str(self.visibility_timeout_seconds),
            "WatchdogGraceSeconds": str(self.watchdog_grace_seconds),
        }
