"""Fuzzing the callback receiver end to end: while the tasks table is up, no request gets a 5xx.

The real entry point (``functions/callbacks/app.py``, loaded by path) answers API Gateway REST proxy
events over moto's in-process tables, with a few tasks registered (each ended by the first callback
that reaches it). Two properties:

- any request (any bytes, fields signed with another secret, at another time, for another AppId, or
  not signed at all; any Content-Type and headers; base64-flagged or not, truthfully or not) gets a
  documented 4xx or a 200, never a 5xx;
- a callback *correctly signed* with the receiver's CallbackSecret, for our AppId, at its injected
  clock's time, whatever its other fields hold, gets 200, 400 or 413: it reaches the read, the
  reconciliation and the fenced write, where an escaping exception would be a 5xx that ZEGO retries
  five times for nothing.

A 5xx is only right for our own failures (the table or the secret unavailable), never for what ZEGO or
anybody else sends. Each property shows that it reached the stages it is about before it passes.
Bounded: ``EXAMPLES`` examples per property, about half a minute in all on a shared 2-core machine.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack.handlers import load_function_module
from devstack.lambda_context import LocalLambdaContext
from tests.support.clock import FakeClock
from tests.support.json_strategies import LONE_SURROGATES, json_values
from tests.support.moto_in_process import provisioned_in_process
from tests.support.zego_callbacks import (
    APP_ID,
    CALLBACK_SECRET,
    HUAWEI_MERGE,
    SNAPSHOT_TASK,
    TENCENT_MERGE,
    TENCENT_TRANSCODE,
    callback_event,
    receiver_environment,
    zego_signature,
)
from zego_media_tasks.callbacks.wiring import build_receiver
from zego_media_tasks.domain.record import pending_record
from zego_media_tasks.domain.status import TaskKind, Vendor
from zego_media_tasks.domain.timestamps import to_iso
from zego_media_tasks.store.task_store import TaskStore

EXAMPLES = 200
DOCUMENTED_STATUSES = frozenset({200, 400, 401, 403, 409, 413})
"""Every answer the receiver gives for what a caller sends (``HTTP_STATUS_BY_REASON`` and 200)."""
CLOCK = FakeClock()
REGISTERED = [
    (TENCENT_MERGE, Vendor.TENCENT, TaskKind.MERGE),
    (HUAWEI_MERGE, Vendor.HUAWEI, TaskKind.MERGE),
    (HUAWEI_MERGE, Vendor.TENCENT, None),
    (TENCENT_TRANSCODE, Vendor.TENCENT, TaskKind.TRANSCODE),
    (SNAPSHOT_TASK, Vendor.HUAWEI, TaskKind.SNAPSHOT),
]

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture(scope="module")
def invoke() -> Iterator[Invoke]:
    """The entry point over moto (in-process), configured from the function's environment, its clock ours."""
    with pytest.MonkeyPatch.context() as patch, provisioned_in_process(patch, prefix="fuzz") as stack:
        for name, value in receiver_environment(stack, POWERTOOLS_LOG_LEVEL="ERROR").items():
            patch.setenv(name, value)
        store = TaskStore(stack.table_names["TasksTable"])
        now = CLOCK.now()
        for task_id, vendor, kind in REGISTERED:
            store.put_new(
                pending_record(
                    task_id,
                    vendor,
                    now=now,
                    first_seen_at=to_iso(now),
                    deadline_at=to_iso(now + timedelta(days=1)),
                    kind=kind,
                )
            )
        module = load_function_module("callbacks", "callbacks_app_fuzz")
        patch.setattr(module, "build_receiver", lambda settings: build_receiver(settings, clock=CLOCK))
        context = LocalLambdaContext(function_name="CallbackFunction")

        def run(event: dict[str, Any]) -> dict[str, Any]:
            response: dict[str, Any] = module.lambda_handler(event, context)
            return response

        yield run


# --- what arrives ------------------------------------------------------------------------------------

texts = (
    st.text(max_size=30) | st.text(LONE_SURROGATES | st.characters(), max_size=8) | st.text(min_size=900, max_size=1100)
)
values = json_values(texts, max_size=3, max_leaves=6)


def sometimes_anything(likely: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually ``likely``, now and then any JSON value instead."""
    return st.tuples(st.sampled_from([True, True, True, False]), likely, values).map(
        lambda drawn: drawn[1] if drawn[0] else drawn[2]
    )


task_ids = st.sampled_from([task_id for task_id, _, _ in REGISTERED]) | st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="/"), min_size=1, max_size=40
)
codes = st.sampled_from(["0", 0, "40000", 60000, "70000", "", "-1", 1.0])
outputs = st.fixed_dictionaries(
    {"code": sometimes_anything(codes)},
    optional={"message": values, "replay_url": texts, "size": values, "duration": values, "video": values},
)
extra_params = st.lists(outputs, max_size=3).map(lambda items: {"media": {"transcode": items}})
pictures = st.lists(st.fixed_dictionaries({}, optional={"url": values, "offset": values}) | values, max_size=3)
callbacks = st.one_of(
    st.fixed_dictionaries(
        {"event": st.just("compose"), "task_id": task_ids},
        optional={"code": sometimes_anything(codes), "replay_url": texts, "file_id": values, "message": values},
    ),
    st.fixed_dictionaries(
        {
            "event": st.just("procedure"),
            "task_id": task_ids,
            "status": sometimes_anything(st.sampled_from(["SUCCESS", "FAILED", "success", "RUNNING"])),
            "extra_params": sometimes_anything(extra_params.map(json.dumps) | extra_params),
        },
        optional={"fileId": values, "file_id": values},
    ),
    st.fixed_dictionaries(
        {
            "event": st.just("snapshot"),
            "task_id": task_ids,
            "snapshot_pic_list": sometimes_anything(pictures.map(json.dumps) | pictures),
        },
        optional={
            "vendor": sometimes_anything(st.sampled_from(["tencent", "hw", "Huawei", "aws", ""])),
            "field_id": values,
        },
    ),
)
"""Callbacks of the three events about a registered task or any valid TaskId, their other fields anything."""
any_fields = st.dictionaries(texts, values, max_size=6) | callbacks.map(
    lambda callback: {**callback, "event": "Compose "}
)
encodings = st.sampled_from(["json", "json", "percent", "percent-plus", "form"])


def encode(fields: dict[str, Any], encoding: str) -> bytes:
    """As ZEGO's pages allow: JSON, percent-encoded JSON (``+`` for spaces or not), or form fields."""
    if encoding == "form":
        form = {name: value if isinstance(value, str) else json.dumps(value) for name, value in fields.items()}
        return urlencode(form, errors="surrogatepass").encode()
    text = json.dumps(fields)
    if encoding == "percent":
        text = quote(text)
    elif encoding == "percent-plus":
        text = quote_plus(text)
    return text.encode()


@st.composite
def genuine_bodies(draw: st.DrawFn) -> bytes:
    """A callback signed as ZEGO signs it, for our AppId, at the receiver's clock's time."""
    timestamp = str(int(CLOCK.now().timestamp()) + draw(st.integers(min_value=-300, max_value=300)))
    nonce = draw(st.sampled_from(["158243", "n" * 100]) | st.text(alphabet="0123456789abcdef", min_size=1))
    fields = {
        **draw(callbacks),
        "appid": str(APP_ID),
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": zego_signature(CALLBACK_SECRET, timestamp, nonce),
    }
    return encode(fields, draw(encodings))


@st.composite
def doubtful_bodies(draw: st.DrawFn) -> bytes:
    """Anything else: any bytes, or fields signed with another secret, at another time, for another AppId,
    with any nonce, or not signed at all."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=600))
    fields: dict[str, Any] = dict(draw(callbacks | any_fields))
    timestamp = str(int(CLOCK.now().timestamp()) + draw(st.sampled_from([0, -301, 301, 10**9])))
    nonce = draw(st.text(max_size=10))
    secret = draw(st.sampled_from([CALLBACK_SECRET, "another-secret"]))
    fields.update(
        appid=draw(st.sampled_from([str(APP_ID), APP_ID, "1", ""]) | values),
        timestamp=draw(st.sampled_from([timestamp, timestamp, " " + timestamp]) | values),
        nonce=nonce,
        signature=zego_signature(secret, timestamp, nonce),
    )
    for name in draw(st.lists(st.sampled_from(["signature", "nonce", "timestamp", "appid", "task_id"]), max_size=2)):
        fields.pop(name, None)
    return encode(fields, draw(encodings))


content_types = st.none() | st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "application/x-www-form-urlencoded", "text/plain", ""]
) | st.text(max_size=30)  # fmt: skip
header_maps = st.dictionaries(
    st.sampled_from(["Content-Type", "content-type", "CONTENT-TYPE", "X-Forwarded-For", "Host"]) | st.text(max_size=12),
    st.text(max_size=40),
    max_size=4,
)


@st.composite
def proxy_events(draw: st.DrawFn, bodies: st.SearchStrategy[bytes], *, intact: bool) -> dict[str, Any]:
    """``POST /callbacks/zego`` as API Gateway hands it over: the body as text or base64, any headers;
    unless ``intact``, now and then without headers, without body, or with a base64 flag that lies."""
    body = draw(bodies)
    as_base64 = draw(st.booleans())
    event = callback_event(
        body if as_base64 else body.decode("utf-8", "replace"),
        content_type=draw(content_types),
        base64_encoded=as_base64,
        headers=draw(header_maps),
    )
    mangle = "none" if intact else draw(st.sampled_from(["none", "no-headers", "no-body", "flag-lies"]))
    if mangle == "no-headers":
        event["headers"] = None
    elif mangle == "no-body":
        event["body"] = None
    elif mangle == "flag-lies":
        event["isBase64Encoded"] = not as_base64
    return event


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples in CI and locally
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def answer(invoke: Invoke, event: dict[str, Any]) -> tuple[int, str]:
    """Invoke; check the answer is a documented status with a JSON body; return (status, outcome or code)."""
    response = invoke(event)
    assert response["statusCode"] in DOCUMENTED_STATUSES, response
    assert response["headers"]["Content-Type"] == "application/json"
    document = json.loads(response["body"])
    return response["statusCode"], document.get("outcome") or document["error"]["code"]


def test_no_request_gets_a_5xx(invoke: Invoke) -> None:
    answers: Counter[tuple[int, str]] = Counter()

    @FUZZ
    @given(event=proxy_events(doubtful_bodies(), intact=False))
    def never_5xx(event: dict[str, Any]) -> None:
        answers[answer(invoke, event)] += 1

    never_5xx()

    # The fuzz met every kind of refusal
    assert {400, 401, 403} <= {status for status, _ in answers}, answers


def test_no_genuine_callback_gets_a_5xx_whatever_its_fields_hold(invoke: Invoke) -> None:
    answers: Counter[tuple[int, str]] = Counter()

    @FUZZ
    @given(event=proxy_events(genuine_bodies(), intact=True))
    def never_5xx(event: dict[str, Any]) -> None:
        status, outcome = answer(invoke, event)
        assert status in (200, 400, 413), (status, outcome)  # authenticated: applied, unreadable or too big
        answers[(status, outcome)] += 1

    never_5xx()

    # The fuzz got past authentication to the read, the reconciliation and the write
    assert {"APPLIED", "CREATED", "ALREADY_TERMINAL"} <= {outcome for status, outcome in answers if status == 200}, (
        answers
    )
