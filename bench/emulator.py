"""Make moto fit for a benchmark backlog, without changing what it answers.

Installed in whichever process hosts moto (this one for ``LocalStack``, the ``bench.servers moto``
subprocess for the handler-level run). Three patches, all scoped to the benchmark process:

1. **DynamoDB writes one at a time.** moto evaluates a condition and applies an update as separate
   steps without a lock, so two concurrent ``UpdateItem`` calls can both pass the rate limiter's
   condition and receive the same slot; real DynamoDB serialises the writes to one item. Same lock as
   ``tests.support.poller.serialize_moto_dynamodb_writes``, which the concurrency tests install.
2. **SQS clock.** moto's SQS checks every message's visibility and delay with
   ``moto.core.utils.unix_time_millis``, which builds two ``datetime`` objects per call; with 2,000
   messages in the queue a single ``SendMessage`` cost about 0.35 s of CPU. Plain ``time.time()``
   gives the same number (both are the Unix time of now).
3. **SQS retention check.** ``ReceiveMessage`` checks each candidate message's retention period
   through ``get_queue_attributes``, which recomputes the three approximate message counts (three
   scans of the whole queue) per message: about 80 ms per receive with 2,000 messages. The patch reads
   the queue's retention period directly, as the original ends up doing.

Measured before and after (moto 5.2.5, 2,000 messages): SendMessageBatch of 10 went from ~350 ms to
~10 ms, ReceiveMessage from ~82 ms to ~14 ms. Without these patches the 2,000-task backlog measures
moto, not the poller (about 3 ZEGO calls/s, see docs/benchmarks.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

_installed = False
_install_lock = threading.Lock()


def install_moto_patches() -> None:
    """Apply the three patches to moto's classes in this process (idempotent)."""
    global _installed  # noqa: PLW0603 - patches are process-wide by nature; installed once
    with _install_lock:
        if _installed:
            return
        _serialize_dynamodb_writes()
        _fast_sqs_clock()
        _direct_retention_check()
        _installed = True


def _serialize_dynamodb_writes() -> None:
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoHandler, name)

        def locked(self: Any, *args: Any, __original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        setattr(DynamoHandler, name, locked)


def _fast_sqs_clock() -> None:
    import moto.sqs.models as sqs_models

    namespace = vars(sqs_models)  # the module's globals: what its functions look the helpers up in
    original_seconds: Callable[[datetime | None], float] = namespace["unix_time"]
    original_millis: Callable[[datetime | None], float] = namespace["unix_time_millis"]

    def unix_time(dt: datetime | None = None) -> float:
        return time.time() if dt is None else original_seconds(dt)

    def unix_time_millis(dt: datetime | None = None) -> float:
        return time.time() * 1000.0 if dt is None else original_millis(dt)

    namespace["unix_time"] = unix_time
    namespace["unix_time_millis"] = unix_time_millis


def _direct_retention_check() -> None:
    import moto.sqs.models as sqs_models

    def _valid(self: Any, queue_name: str, message: Any) -> bool:
        queue = self.get_queue(queue_name)
        retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000
        return bool(retain_until > time.time())

    _replace_attribute(sqs_models.SQSBackend, "is_message_valid_based_on_retention_period", _valid)


def _replace_attribute(owner: object, name: str, value: object) -> None:
    setattr(owner, name, value)
