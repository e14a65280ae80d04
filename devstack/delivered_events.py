"""What a subscriber of the state-change events receives: a rule on the bus, a queue, and a reader.

The local stand-in for a pipeline's rule (README: "Receiving state-change events"): a rule on the stack's
bus matching ``source`` and the ``ZEGO Media Task State Change`` detail type delivers to an SQS queue of
its own, and a reader drains that queue, keeping each event and, when given a path, writing it there as
one line exactly as EventBridge delivered it (the message body, untouched). The file is rewritten by each
run. The template creates no rule, since the rules are the subscribers' own; the smoke suite (``smoke``)
also uses this one, on a deployed stack's bus, and deletes it afterwards (:meth:`DeliveredEvents.delete`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import IO, Any

import boto3

from zego_media_tasks.domain.state_change import DETAIL_TYPE

LOG = logging.getLogger(__name__)


def event_pattern(source: str) -> dict[str, list[str]]:
    """The rule's pattern: every state-change event of the stack's ``source``."""
    return {"source": [source], "detail-type": [DETAIL_TYPE]}


class DeliveredEvents:
    """Subscribes a local queue to the bus's state-change events and reads it in a daemon thread."""

    def __init__(
        self,
        bus_name: str,
        source: str,
        *,
        path: Path | None = None,
        name_prefix: str = "local",
        session: boto3.session.Session | None = None,
    ) -> None:
        self.bus_name = bus_name
        self.source = source
        self.path = path
        self._name = f"{name_prefix}-delivered-events-{uuid.uuid4().hex[:8]}"
        session = session or boto3.session.Session()
        self._sqs = session.client("sqs")
        self._events_client = session.client("events")
        self.queue_url = ""
        self.rule_arn = ""
        self._file: IO[str] | None = None
        self._events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._idle_receive_started: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> DeliveredEvents:
        """Create the queue and the rule, (re)write the file empty, and start reading."""
        self.queue_url = self._sqs.create_queue(QueueName=self._name)["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.rule_arn = self._events_client.put_rule(
            Name=self._name, EventBusName=self.bus_name, EventPattern=json.dumps(event_pattern(self.source))
        )["RuleArn"]
        # What a deployed subscriber needs too: the queue lets this rule, and only it, send to it.
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": self.rule_arn}},
                }
            ],
        }
        self._sqs.set_queue_attributes(QueueUrl=self.queue_url, Attributes={"Policy": json.dumps(policy)})
        self._events_client.put_targets(
            Rule=self._name, EventBusName=self.bus_name, Targets=[{"Id": "delivered-events", "Arn": queue_arn}]
        )
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", encoding="utf-8")
        self._thread = threading.Thread(target=self._run, name="delivered-events", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop reading (what is still on the queue stays there) and close the file."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def delete(self) -> None:
        """Stop, then delete what :meth:`start` created (the rule's target, the rule, the queue); safe to
        call after a start that failed half-way, and more than once."""
        self.stop()
        if self.rule_arn:
            self._events_client.remove_targets(Rule=self._name, EventBusName=self.bus_name, Ids=["delivered-events"])
            self._events_client.delete_rule(Name=self._name, EventBusName=self.bus_name)
            self.rule_arn = ""
        if self.queue_url:
            self._sqs.delete_queue(QueueUrl=self.queue_url)
            self.queue_url = ""

    @property
    def count(self) -> int:
        """Events delivered so far (a redelivery counts again)."""
        with self._lock:
            return len(self._events)

    def events(self) -> list[dict[str, Any]]:
        """Every event delivered so far, in delivery order, as EventBridge delivered it."""
        with self._lock:
            return list(self._events)

    def idle_since(self, moment: float) -> bool:
        """True when a receive that began at or after ``moment`` (``time.monotonic()``) found the queue
        empty: every event delivered to it before ``moment`` has been read."""
        with self._lock:
            return self._idle_receive_started is not None and self._idle_receive_started >= moment

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._receive()
            except Exception:
                LOG.exception("delivered events: receive failed")
                self._stop.wait(0.2)

    def _receive(self) -> None:
        started = time.monotonic()
        messages = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        with self._lock:
            self._idle_receive_started = None if messages else started
            for message in messages:
                body = message["Body"]
                self._events.append(json.loads(body))
                if self._file is not None:
                    # One line per event: a raw newline in JSON can only be white space between tokens.
                    self._file.write(body.replace("\n", " ") + "\n")
            if messages and self._file is not None:
                self._file.flush()
        if messages:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(messages)],
            )
