"""A stand-in for CloudFormation drift detection, which moto 5.2 does not implement: DetectStackDrift,
DescribeStackDriftDetectionStatus and DescribeStackResourceDrifts, in the shapes of the CloudFormation API
reference (StackDriftDetectionId; DetectionStatus DETECTION_IN_PROGRESS | DETECTION_COMPLETE, StackDriftStatus
IN_SYNC | DRIFTED, DriftedStackResourceCount; StackResourceDrift with ExpectedProperties / ActualProperties as
JSON strings, PropertyDifferences [{PropertyPath, ExpectedValue, ActualValue, DifferenceType}] and
StackResourceDriftStatus IN_SYNC | MODIFIED | DELETED | NOT_CHECKED).

As on AWS, one detection covers one stack's own resources (a nested stack is detected on its own). Expected
values are the stack's template properties with its references resolved; actual values are read from moto's
backends for the types below, whose properties can be changed out of band through their own APIs; every other
type is NOT_CHECKED, as AWS reports types that drift detection does not support. A detection stays
DETECTION_IN_PROGRESS until it is described once, so a client's waiter polls as it would on AWS.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from moto.cloudformation import parsing, responses
from moto.core.responses import ActionResult
from moto.logs.models import logs_backends
from moto.ssm.models import ssm_backends

from stackloom.local.common import physical_id, validation


def _log_group(account_id: str, region: str, name: str) -> dict | None:
    group = logs_backends[account_id][region].groups.get(name)
    return None if group is None else {"RetentionInDays": group.retention_in_days}


def _ssm_parameter(account_id: str, region: str, name: str) -> dict | None:
    parameter = ssm_backends[account_id][region].get_parameter(name)
    if parameter is None:
        return None
    return {"Value": parameter.value, "Type": parameter.parameter_type, "Description": parameter.description}


# resource type -> reader of the live properties it can check (None: the resource is gone)
READERS = {"AWS::Logs::LogGroup": _log_group, "AWS::SSM::Parameter": _ssm_parameter}


def patch() -> None:
    Response = responses.CloudFormationResponse
    Response.detect_stack_drift = _detect_stack_drift
    Response.describe_stack_drift_detection_status = _describe_stack_drift_detection_status
    Response.describe_stack_resource_drifts = _describe_stack_resource_drifts


def _detections(cloudformation_backend) -> dict:
    # on the backend, so that resetting moto forgets them with the stacks
    if not hasattr(cloudformation_backend, "stackloom_drift_detections"):
        cloudformation_backend.stackloom_drift_detections = {}
    return cloudformation_backend.stackloom_drift_detections


def _detect_stack_drift(self):
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    if stack.status.endswith("_IN_PROGRESS") or stack.status in ("DELETE_COMPLETE", "ROLLBACK_COMPLETE"):
        raise validation(f"Drift detection is not supported for stack {stack.name} in status {stack.status}")
    now = datetime.now(timezone.utc)
    drifts = [resource_drift(stack, logical_id, now) for logical_id in sorted(stack.template_dict.get("Resources", {}))]
    drifts = [item for item in drifts if item is not None]
    detection_id = str(uuid.uuid4())
    drifted = sum(1 for item in drifts if item["StackResourceDriftStatus"] in ("MODIFIED", "DELETED"))
    stack.stackloom_resource_drifts = drifts
    _detections(self.cloudformation_backend)[detection_id] = {
        "StackId": stack.stack_id,
        "StackDriftDetectionId": detection_id,
        "StackDriftStatus": "DRIFTED" if drifted else "IN_SYNC",
        "DetectionStatus": "DETECTION_COMPLETE",
        "DriftedStackResourceCount": drifted,
        "Timestamp": now,
        "described": False,
    }
    return ActionResult({"StackDriftDetectionId": detection_id})


def _describe_stack_drift_detection_status(self):
    detection_id = self._get_param("StackDriftDetectionId")
    detection = _detections(self.cloudformation_backend).get(detection_id)
    if detection is None:
        raise validation(f"The specified drift detection ID {detection_id} does not exist")
    answer = {key: value for key, value in detection.items() if key != "described"}
    if not detection["described"]:  # the first look sees it running, as a real detection takes a while
        detection["described"] = True
        answer.update(DetectionStatus="DETECTION_IN_PROGRESS", StackDriftStatus="UNKNOWN")
        answer.pop("DriftedStackResourceCount")
    return ActionResult(answer)


def _describe_stack_resource_drifts(self):
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    wanted = set(self._get_param("StackResourceDriftStatusFilters") or [])
    drifts = [
        item
        for item in getattr(stack, "stackloom_resource_drifts", [])
        if not wanted or item["StackResourceDriftStatus"] in wanted
    ]
    size = int(self._get_param("MaxResults") or 100)
    start = int(self._get_param("NextToken") or 0)
    page = drifts[start : start + size]
    answer: dict[str, Any] = {"StackResourceDrifts": page}
    if start + size < len(drifts):
        answer["NextToken"] = str(start + size)
    return ActionResult(answer)


def resource_drift(stack, logical_id: str, now: datetime) -> dict | None:
    """One resource's drift record, or None for a resource that was not created (a false condition)."""
    definition = stack.template_dict["Resources"][logical_id]
    instance = stack.resource_map._parsed_resources.get(logical_id)
    physical = physical_id(instance) if instance is not None and not isinstance(instance, (str, dict)) else ""
    if not physical:
        return None
    resource_type = definition["Type"]
    record: dict[str, Any] = {
        "StackId": stack.stack_id,
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical,
        "ResourceType": resource_type,
        "Timestamp": now,
    }
    reader = READERS.get(resource_type)
    if reader is None:
        return {**record, "StackResourceDriftStatus": "NOT_CHECKED"}
    expected = parsing.clean_json(definition.get("Properties", {}), stack.resource_map)
    live = reader(stack.account_id, stack.region_name, physical)
    record["ExpectedProperties"] = json.dumps(expected, sort_keys=True, default=str)
    if live is None:
        return {**record, "StackResourceDriftStatus": "DELETED"}
    actual = {**expected, **{key: value for key, value in live.items() if key in expected}}
    differences = [
        {
            "PropertyPath": f"/{key}",
            "ExpectedValue": _text(expected[key]),
            "ActualValue": _text(actual[key]),
            "DifferenceType": "NOT_EQUAL",
        }
        for key in sorted(live)
        if key in expected and _text(expected[key]) != _text(actual[key])
    ]
    record["ActualProperties"] = json.dumps(actual, sort_keys=True, default=str)
    record["PropertyDifferences"] = differences
    record["StackResourceDriftStatus"] = "MODIFIED" if differences else "IN_SYNC"
    return record


def _text(value: Any) -> str:
    """A property value as the API's strings carry it (numbers as digits, objects as JSON)."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return "" if value is None else str(value)
