"""Each function of the template is watched by alarms (what ``make smoke`` checks exists in CloudWatch),
and each alarm watches a function, read from the alarms' dimensions."""

from __future__ import annotations

import copy

from smoke.alarms import function_alarms
from smoke.targets import LOCAL_CALLBACK_SECRET_ARN

from devstack.resources import present_resources
from devstack.template import load_template

WITH_CALLBACKS = {"ZegoCallbackSecretArn": LOCAL_CALLBACK_SECRET_ARN}


def test_every_function_has_an_alarm_and_every_alarm_watches_a_function() -> None:
    present = present_resources(load_template(), WITH_CALLBACKS)
    watched = function_alarms(present)
    alarms = {lid for lid, r in present.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert {"PollerFunction", "ApiFunction", "PublisherFunction", "CallbackFunction"} <= set(watched)
    assert all(watched.values()), {function for function, found in watched.items() if not found}
    assert set().union(*watched.values()) == alarms


def test_the_alarms_are_attributed_by_function_queue_service_and_api() -> None:
    watched = function_alarms(present_resources(load_template(), WITH_CALLBACKS))
    assert {"PollerErrorsAlarm", "PollDeadLetterQueueNotEmptyAlarm", "PollQueueOldestMessageAgeAlarm"} <= watched[
        "PollerFunction"
    ]
    assert watched["PublisherFunction"] >= {"PublishFailuresAlarm", "PublishFailureQueueNotEmptyAlarm"}
    assert "CallbacksRejectedAlarm" in watched["CallbackFunction"]
    assert "Api5xxAlarm" in watched["ApiFunction"]


def test_without_callbacks_there_is_no_callback_function_to_watch() -> None:
    watched = function_alarms(present_resources(load_template(), {}))
    assert "CallbackFunction" not in watched
    assert "CallbacksRejectedAlarm" not in set().union(*watched.values())


def test_a_function_no_alarm_watches_is_reported_with_none() -> None:
    template = load_template()
    present = copy.deepcopy(present_resources(template, {}))
    present["UnwatchedFunction"] = {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "app.handler"}}
    assert function_alarms(present)["UnwatchedFunction"] == frozenset()
