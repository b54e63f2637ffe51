"""`run SYSTEM/ENV JOB`: start a job's task once on the deployed cluster, wait for it to stop, print its logs.

What RunTask needs is read from the deployed job stack's outputs (the manifest names the stack and the outputs):
the task definition, cluster, subnets, security group and capacity provider, so a run starts exactly as the
schedule would. The task is awaited with boto3's `tasks_stopped` waiter, one poll at a time so each change of
state is printed; then the container's exit code and its CloudWatch log events (stream
`<prefix>/<container>/<task id>`, as the awslogs driver names it) are printed. The exit code of the command is the
container's (`exit_status`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from botocore.exceptions import ClientError, WaiterError

from stackloom.deploy.changeset import DeployError
from stackloom.errors import UserError
from stackloom.manifest import JobEntry, Manifest

STARTED_BY = "stackloom-run"  # RunTask's startedBy: at most 36 characters
MAX_WAIT_SECONDS = 3600.0
EXIT_NOT_STARTED = 1


@dataclass
class Outcome:
    """How a task ended: its ARN, the container's exit code (None when it never ran) and ECS's reason."""

    task_arn: str
    exit_code: int | None
    reason: str
    log_group: str
    log_stream: str


def job_entry(manifest: Manifest, name: str) -> JobEntry:
    """The job `name` of the manifest, or a UserError listing the known ones."""
    jobs = manifest.jobs or {}
    if name not in jobs:
        known = ", ".join(sorted(jobs)) or "none (the spec has no `jobs` section)"
        raise UserError(f"{manifest.target} has no job {name!r}; its jobs: {known}")
    return jobs[name]


def stack_outputs(cloudformation, manifest: Manifest, logical_id: str) -> dict[str, str]:
    """The outputs of the root's nested stack `logical_id`; a UserError when the environment is not deployed."""
    try:
        resource = cloudformation.describe_stack_resource(StackName=manifest.stack_name, LogicalResourceId=logical_id)
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        if "does not exist" in message:
            raise UserError(
                f"{manifest.target}: {'stack ' + manifest.stack_name if 'Stack' in message else logical_id} is not "
                f"deployed ({message}); deploy it first: python build.py deploy {manifest.target}"
            ) from None
        raise
    physical = resource["StackResourceDetail"].get("PhysicalResourceId")
    (stack,) = cloudformation.describe_stacks(StackName=physical)["Stacks"]
    if stack["StackStatus"].endswith("_IN_PROGRESS") and not stack.get("Outputs"):
        raise UserError(f"{manifest.target}: {logical_id} is {stack['StackStatus']}; wait until the deploy ends")
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def run_request(entry: JobEntry, outputs: dict[str, str]) -> dict:
    """RunTask's parameters: the job's task definition on its cluster and capacity provider, in its private subnets
    behind its security group, without a public IP; tags as the schedule sets them."""
    needed = [
        entry.task_definition_output,
        entry.cluster_output,
        entry.subnets_output,
        entry.security_group_output,
        entry.capacity_provider_output,
    ]
    missing = [name for name in needed if name not in outputs]
    if missing:
        raise UserError(
            f"the deployed stack {entry.stack} has no outputs {', '.join(missing)}: it was deployed from an older "
            "build; deploy the environment again"
        )
    return {
        "cluster": outputs[entry.cluster_output],
        "taskDefinition": outputs[entry.task_definition_output],
        "count": 1,
        "startedBy": STARTED_BY,
        "capacityProviderStrategy": [{"capacityProvider": outputs[entry.capacity_provider_output], "weight": 1}],
        **({"platformVersion": "LATEST"} if entry.compute != "ec2" else {}),
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": [subnet for subnet in outputs[entry.subnets_output].split(",") if subnet],
                "securityGroups": [outputs[entry.security_group_output]],
                "assignPublicIp": "DISABLED",
            }
        },
        "enableECSManagedTags": True,
        "propagateTags": "TASK_DEFINITION",
    }


def start(ecs, request: dict) -> str:
    """Start the task; its ARN, or a DeployError with ECS's failure reasons."""
    response = ecs.run_task(**request)
    failures = response.get("failures") or []
    tasks = response.get("tasks") or []
    if failures or not tasks:
        reasons = "; ".join(f"{item.get('arn', '')} {item.get('reason', '')}".strip() for item in failures)
        raise DeployError(f"ECS did not start the task: {reasons or 'no task in the answer'}")
    return tasks[0]["taskArn"]


def wait_stopped(
    ecs, cluster: str, task_arn: str, poll: float, say: Callable[[str], None], limit: float = MAX_WAIT_SECONDS
) -> dict:
    """Wait with the `tasks_stopped` waiter, one attempt per poll so that each new state is said; the task."""
    waiter = ecs.get_waiter("tasks_stopped")
    deadline = time.monotonic() + limit
    seen = None
    while True:
        try:
            waiter.wait(cluster=cluster, tasks=[task_arn], WaiterConfig={"Delay": max(poll, 0.01), "MaxAttempts": 1})
            stopped = True
        except WaiterError as error:
            if "Max attempts exceeded" not in str(error):
                raise DeployError(f"waiting for task {task_arn}: {error}") from None
            stopped = False
        task = _describe(ecs, cluster, task_arn)
        if task.get("lastStatus") != seen:
            seen = task.get("lastStatus")
            say(f"task {task_id(task_arn)}: {seen}")
        if stopped:
            return task
        if time.monotonic() > deadline:
            raise DeployError(f"task {task_arn} did not stop within {limit:g} s (it keeps running)")
        time.sleep(poll)


def _describe(ecs, cluster: str, task_arn: str) -> dict:
    tasks = ecs.describe_tasks(cluster=cluster, tasks=[task_arn]).get("tasks") or []
    if not tasks:
        raise DeployError(f"task {task_arn} is gone from cluster {cluster}")
    return tasks[0]


def task_id(task_arn: str) -> str:
    return task_arn.rsplit("/", 1)[-1]


def outcome(task: dict, entry: JobEntry, log_group: str) -> Outcome:
    """The container's exit code (None if it never ran) and the reason ECS gives."""
    container = next((item for item in task.get("containers", []) if item.get("name") == entry.container), {})
    code = container.get("exitCode")
    reason = task.get("stoppedReason") or container.get("reason") or ""
    stream = f"{entry.log_stream_prefix}/{entry.container}/{task_id(task['taskArn'])}"
    return Outcome(task["taskArn"], code if isinstance(code, int) else None, reason, log_group, stream)


def exit_status(result: Outcome) -> int:
    """The command's exit code: 0 for a container that exited 0; its code (within 1..125, above that 1: 126 and up
    mean something else to a shell) otherwise; 1 for a task whose container never ran."""
    if result.exit_code is None:
        return EXIT_NOT_STARTED
    if result.exit_code == 0:
        return 0
    return result.exit_code if 1 <= result.exit_code <= 125 else 1


def log_events(logs, group: str, stream: str) -> Iterator[str]:
    """The stream's messages from the start, page by page (GetLogEvents has no paginator: its forward token repeats
    at the end); nothing when the stream does not exist (a container that never started writes none)."""
    token = None
    while True:
        request = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        if token:
            request["nextToken"] = token
        try:
            page = logs.get_log_events(**request)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return
            raise
        for event in page.get("events", []):
            yield event.get("message", "")
        following = page.get("nextForwardToken")
        if not page.get("events") or following == token:
            return
        token = following


def run(aws, manifest: Manifest, name: str, poll: float, say: Callable[[str], None]) -> int:
    """Run job `name` once and report it; the exit code for the command (see `exit_status`)."""
    entry = job_entry(manifest, name)
    outputs = stack_outputs(aws.client("cloudformation"), manifest, entry.stack)
    request = run_request(entry, outputs)
    ecs = aws.client("ecs")
    task_arn = start(ecs, request)
    say(f"started task {task_arn} of {request['taskDefinition']} on cluster {request['cluster']}")
    task = wait_stopped(ecs, request["cluster"], task_arn, poll, say)
    result = outcome(task, entry, outputs.get("LogGroupName", entry.log_group))
    if result.exit_code is None:
        say(f"the container never ran: {result.reason or 'no reason given'}")
    else:
        say(f"container {entry.container} exited with code {result.exit_code}")
    say(f"logs ({result.log_group}, stream {result.log_stream}):")
    for message in log_events(aws.client("logs"), result.log_group, result.log_stream):
        say(f"  {message}")
    return exit_status(result)
