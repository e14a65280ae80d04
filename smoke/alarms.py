"""Which function each alarm of ``template.yaml`` watches, read from the alarm's dimensions: the function
itself (``FunctionName``), its metrics (``service``, its ``POWERTOOLS_SERVICE_NAME``), the API it serves
(``ApiName``), or a queue (``QueueName``) it consumes, that dead-letters what it consumes, or that its event
source parks failures on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ALARM_TYPE = "AWS::CloudWatch::Alarm"
FUNCTION_TYPE = "AWS::Serverless::Function"


def _queues_of(function: Mapping[str, Any], resources: Mapping[str, Any]) -> set[str]:
    """The queues a function's alarms may name: those it consumes, their DLQs, its failure destinations."""
    queues: set[str] = set()
    for event in function["Properties"].get("Events", {}).values():
        properties = event.get("Properties", {})
        consumed = properties.get("Queue", {}).get("Fn::GetAtt", [None])[0] if event.get("Type") == "SQS" else None
        if consumed is not None:
            queues.add(consumed)
            redrive = resources.get(consumed, {}).get("Properties", {}).get("RedrivePolicy", {})
            dead_letter = redrive.get("deadLetterTargetArn", {}).get("Fn::GetAtt", [None])[0]
            if dead_letter is not None:
                queues.add(dead_letter)
        destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination", {})
        if isinstance(destination, dict) and "Fn::GetAtt" in destination:
            queues.add(destination["Fn::GetAtt"][0])
    return queues


def _watches(alarm: Mapping[str, Any], function_id: str, resources: Mapping[str, Any]) -> bool:
    function = resources[function_id]
    dimensions = {item["Name"]: item["Value"] for item in alarm["Properties"].get("Dimensions", [])}
    variables = function["Properties"].get("Environment", {}).get("Variables", {})
    events = function["Properties"].get("Events", {}).values()
    queue = dimensions.get("QueueName", {})
    return (
        dimensions.get("FunctionName") == {"Ref": function_id}
        or ("service" in dimensions and dimensions["service"] == variables.get("POWERTOOLS_SERVICE_NAME"))
        or ("ApiName" in dimensions and any(event.get("Type") == "Api" for event in events))
        or (isinstance(queue, dict) and queue.get("Fn::GetAtt", [None])[0] in _queues_of(function, resources))
    )


def function_alarms(present: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Each function of ``present`` (a stack's resources, as the template declares them) and its alarms."""
    alarms = {lid: resource for lid, resource in present.items() if resource["Type"] == ALARM_TYPE}
    return {
        function_id: frozenset(lid for lid, alarm in alarms.items() if _watches(alarm, function_id, present))
        for function_id, resource in present.items()
        if resource["Type"] == FUNCTION_TYPE
    }
