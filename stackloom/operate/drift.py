"""`drift SYSTEM/ENV`: CloudFormation drift detection over the root stack and every nested stack.

A detection covers one stack's own resources, so one is started per stack (DetectStackDrift; they run side by
side), each awaited with a botocore waiter on DescribeStackDriftDetectionStatus (boto3 ships none for it: the
WaiterModel below is one, made with `create_waiter_with_client`), then the drifted resources are read with
DescribeStackResourceDrifts (a botocore Paginator over NextToken, boto3 ships none) with their
PropertyDifferences. Exit 0: nothing drifted; 2: something drifted; 1: an error, or a detection that failed.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

from botocore.exceptions import WaiterError
from botocore.paginate import Paginator
from botocore.waiter import WaiterModel, create_waiter_with_client

from stackloom.deploy.changeset import Console, DeployError
from stackloom.manifest import Manifest
from stackloom.operate.resources import require_deployed, stack_tree

EXIT_NONE = 0
EXIT_ERROR = 1
EXIT_DRIFTED = 2
MAX_WAIT_SECONDS = 1800.0
WAITER_NAME = "StackDriftDetectionComplete"
# DETECTION_FAILED ends the wait too: some resources could not be checked, the others' results stand
WAITER_MODEL = {
    "version": 2,
    "waiters": {
        WAITER_NAME: {
            "operation": "DescribeStackDriftDetectionStatus",
            "delay": 5,
            "maxAttempts": 360,
            "acceptors": [
                {
                    "state": "success",
                    "matcher": "path",
                    "argument": "DetectionStatus",
                    "expected": "DETECTION_COMPLETE",
                },
                {"state": "success", "matcher": "path", "argument": "DetectionStatus", "expected": "DETECTION_FAILED"},
                {
                    "state": "retry",
                    "matcher": "path",
                    "argument": "DetectionStatus",
                    "expected": "DETECTION_IN_PROGRESS",
                },
            ],
        }
    },
}
PAGINATION = {
    "input_token": "NextToken",
    "output_token": "NextToken",
    "limit_key": "MaxResults",
    "result_key": "StackResourceDrifts",
}
DRIFTED = ("MODIFIED", "DELETED")


@dataclass
class Difference:
    path: str
    expected: str
    actual: str
    kind: str  # ADD | REMOVE | NOT_EQUAL


@dataclass
class ResourceDrift:
    path: str  # "ServiceBackend/LogGroup"
    resource_type: str
    physical_id: str
    status: str  # MODIFIED | DELETED
    differences: list[Difference] = field(default_factory=list)


@dataclass
class StackDrift:
    path: str  # "" for the root
    name: str
    status: str  # IN_SYNC | DRIFTED | UNKNOWN | NOT_CHECKED
    detection: str  # DETECTION_COMPLETE | DETECTION_FAILED
    reason: str
    drifted: int
    resources: list[ResourceDrift] = field(default_factory=list)


@dataclass
class Report:
    target: str
    stacks: list[StackDrift]

    @property
    def resources(self) -> list[ResourceDrift]:
        return [resource for stack in self.stacks for resource in stack.resources]


def waiter(cloudformation):
    return create_waiter_with_client(WAITER_NAME, WaiterModel(WAITER_MODEL), cloudformation)


def resource_drifts(cloudformation, stack_id: str) -> list[dict]:
    """The stack's MODIFIED and DELETED resources (DescribeStackResourceDrifts, every page)."""
    request = {"StackName": stack_id, "StackResourceDriftStatusFilters": list(DRIFTED)}
    if cloudformation.can_paginate("describe_stack_resource_drifts"):
        paginator = cloudformation.get_paginator("describe_stack_resource_drifts")
    else:
        model = cloudformation.meta.service_model.operation_model("DescribeStackResourceDrifts")
        paginator = Paginator(cloudformation.describe_stack_resource_drifts, PAGINATION, model)
    return [item for page in paginator.paginate(**request) for item in page.get("StackResourceDrifts") or []]


def detect(cloudformation, manifest: Manifest, poll: float, limit: float = MAX_WAIT_SECONDS) -> Report:
    """Detect drift on every stack of the environment and collect the drifted resources."""
    tree = stack_tree(cloudformation, manifest)
    require_deployed(tree, manifest)
    started = {stack.path: cloudformation.detect_stack_drift(StackName=stack.stack_id) for stack in tree}
    wait = waiter(cloudformation)
    config = {"Delay": poll, "MaxAttempts": max(1, math.ceil(limit / poll))}
    stacks = []
    for stack in tree:
        detection_id = started[stack.path]["StackDriftDetectionId"]
        try:
            wait.wait(StackDriftDetectionId=detection_id, WaiterConfig=config)
        except WaiterError as error:
            raise DeployError(f"drift detection of {stack.name} did not finish: {error}") from None
        answer = cloudformation.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
        prefix = f"{stack.path}/" if stack.path else ""
        resources = [
            ResourceDrift(
                path=prefix + item["LogicalResourceId"],
                resource_type=item.get("ResourceType", ""),
                physical_id=item.get("PhysicalResourceId", ""),
                status=item["StackResourceDriftStatus"],
                differences=[
                    Difference(
                        path=difference.get("PropertyPath", ""),
                        expected=difference.get("ExpectedValue", ""),
                        actual=difference.get("ActualValue", ""),
                        kind=difference.get("DifferenceType", ""),
                    )
                    for difference in item.get("PropertyDifferences") or []
                ],
            )
            for item in resource_drifts(cloudformation, stack.stack_id)
        ]
        stacks.append(
            StackDrift(
                path=stack.path,
                name=stack.name,
                status=answer.get("StackDriftStatus", "UNKNOWN"),
                detection=answer["DetectionStatus"],
                reason=answer.get("DetectionStatusReason", ""),
                drifted=answer.get("DriftedStackResourceCount", len(resources)),
                resources=resources,
            )
        )
    return Report(target=manifest.target, stacks=stacks)


def exit_code(report: Report) -> int:
    if report.resources or any(stack.status == "DRIFTED" for stack in report.stacks):
        return EXIT_DRIFTED
    if any(stack.detection != "DETECTION_COMPLETE" for stack in report.stacks):
        return EXIT_ERROR  # nothing found, but not everything could be checked
    return EXIT_NONE


def as_data(report: Report) -> dict:
    """One environment of the `--json` list: {"target", "drifted": bool, "stacks": [{"path", "name", "status", "detection",
    "reason", "drifted", "resources": [{"path", "resource_type", "physical_id", "status",
    "differences": [{"path", "expected", "actual", "kind"}]}]}]}."""
    return {"target": report.target, "drifted": exit_code(report) == EXIT_DRIFTED, **asdict(report)}


def render(report: Report, console: Console) -> None:
    console(console.bold(f"drift of {report.target}: {len(report.stacks)} stack(s) checked"))
    width = max(len(stack.path or "(root)") for stack in report.stacks)
    for stack in report.stacks:
        paint = (
            console.red if stack.status == "DRIFTED" else console.green if stack.status == "IN_SYNC" else console.yellow
        )
        note = f" ({stack.drifted} resource(s))" if stack.drifted else ""
        failed = f"  {stack.detection}: {stack.reason}" if stack.detection != "DETECTION_COMPLETE" else ""
        console(f"  {stack.path or '(root)':<{width}}  {paint(stack.status)}{note}{failed}")
    if not report.resources:
        console(console.green("no drifted resources") if exit_code(report) == EXIT_NONE else "")
        return
    console(console.bold("drifted resources (expected -> actual):"))
    for resource in report.resources:
        console(f"  {resource.path} ({resource.resource_type}) {resource.physical_id}  {console.red(resource.status)}")
        for difference in resource.differences:
            console(
                f"    {difference.path}: {_short(difference.expected)} -> {_short(difference.actual)}  ({difference.kind})"
            )


def _short(value: str, limit: int = 120) -> str:
    """A value on one line, long JSON cut with its length said."""
    try:
        value = json.dumps(json.loads(value), sort_keys=True) if value and value[0] in "[{" else value
    except ValueError:
        pass
    return value if len(value) <= limit else f"{value[:limit]}... ({len(value)} characters)"
