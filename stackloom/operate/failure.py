"""Why a rollout failed, printed by `deploy` where the failure is, before CloudFormation's rollback summary.

When the resource that failed a deploy is an ECS service (its deployment circuit breaker tripped, its tasks did
not start, its targets failed their health checks), CloudFormation only says "ECS Deployment Circuit Breaker
was triggered". The reasons are in ECS, ELB and CloudWatch Logs; this reads them for that service:

* the last stopped tasks (ListTasks desiredStatus=STOPPED + DescribeTasks): stoppedReason, stopCode, and each
  container's exit code and reason;
* the service's last events (DescribeServices);
* the targets of its target groups that are not healthy, with ELB's reason (DescribeTargetHealth);
* the last log lines of the failing container (its awslogs stream `<prefix>/<container>/<task id>`).

Every read is best effort: what cannot be read (a cluster already rolled back away) is said, not raised.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from stackloom.deploy.aws import Aws
from stackloom.deploy.changeset import Console
from stackloom.manifest import Manifest
from stackloom.operate.resources import SERVICE_TYPE, ServiceLocation, cluster_of, locate_service, stack_tree
from stackloom.operate.status import target_health

STOPPED_TASKS = 3  # the most recent stopped tasks shown
EVENTS = 5
LOG_LINES = 20
DESCRIBE_TASKS_BATCH = 100  # DescribeTasks takes at most 100 tasks


def failed_services(manifest: Manifest, failed) -> list[str]:
    """The services whose ECS service is the failed resource (`failed`: a stack event, or None)."""
    if failed is None or failed.resource_type != SERVICE_TYPE:
        return []
    parts = set(failed.path.split("/"))
    return [name for name, entry in sorted(manifest.services.items()) if entry.stack in parts]


def explain(aws: Aws, manifest: Manifest, failed, console: Console) -> None:
    """Print why each failed service did not roll out (nothing when the failure is not a service's)."""
    for name in failed_services(manifest, failed):
        try:
            explain_service(aws, manifest, name, console, failed.physical_id)
        except (ClientError, BotoCoreError) as error:
            console(console.yellow(f"could not read why {name} failed: {error}"))
        except Exception as error:  # noqa: BLE001 - a diagnostic must never hide the deploy's own failure report
            console(console.yellow(f"could not read why {name} failed ({type(error).__name__}: {error})"))


def explain_service(aws: Aws, manifest: Manifest, name: str, console: Console, service_arn: str = "") -> None:
    cloudformation = aws.client("cloudformation")
    tree = stack_tree(cloudformation, manifest)
    location = locate_service(cloudformation, manifest, tree, name) if tree else ServiceLocation(name=name, stack=None)
    arn = location.service_arn or (service_arn if service_arn.startswith("arn:") else "")
    cluster = location.cluster or cluster_of([], arn)
    console(console.red(console.bold(f"why {name} did not roll out:")))
    if not arn or not cluster:
        console("  its ECS service is gone (rolled back); see the stack events above")
        return
    ecs = aws.client("ecs")
    stopped = stopped_tasks(ecs, cluster, arn.rsplit("/", 1)[-1])
    if not stopped:
        console("  no stopped tasks")
    for task in stopped:
        _print_task(task, console)
    services = ecs.describe_services(cluster=cluster, services=[arn]).get("services") or []
    events = (services[0].get("events") or [])[:EVENTS] if services else []
    if events:
        console("  service events (newest first):")
    for event in events:
        console(f"    {event.get('createdAt')}  {event.get('message', '')}")
    for target in target_health(aws.client("elbv2"), location.target_groups):
        if target["state"] != "healthy":
            why = ", ".join(part for part in (target["reason"], target["description"]) if part)
            console(f"  target {target['id']}:{target['port']} {target['state']}" + (f": {why}" if why else ""))
    if stopped:
        last_log_lines(aws, stopped[0], console)


def stopped_tasks(ecs, cluster: str, service_name: str, limit: int = STOPPED_TASKS) -> list[dict]:
    """The service's most recently stopped tasks, newest first."""
    paginator = ecs.get_paginator("list_tasks")
    pages = paginator.paginate(cluster=cluster, serviceName=service_name, desiredStatus="STOPPED")
    arns = [arn for page in pages for arn in page.get("taskArns") or []]
    found = []
    for start in range(0, len(arns), DESCRIBE_TASKS_BATCH):
        found += (
            ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + DESCRIBE_TASKS_BATCH]).get("tasks") or []
        )
    found.sort(key=lambda task: str(task.get("stoppedAt") or task.get("createdAt") or ""), reverse=True)
    return found[:limit]


def _print_task(task: dict, console: Console) -> None:
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    code = f" ({task['stopCode']})" if task.get("stopCode") else ""
    console(f"  task {task_id} stopped: {console.red(task.get('stoppedReason') or 'no reason given')}{code}")
    for container in task.get("containers") or []:
        exit_code = container.get("exitCode")
        parts = [f"exit code {exit_code}" if exit_code is not None else "no exit code"]
        if container.get("reason"):
            parts.append(container["reason"])
        console(f"    container {container.get('name')}: {', '.join(parts)}")


def failing_container(task: dict) -> str | None:
    """The container to read logs of: the first that exited non-zero, else the first one."""
    containers = task.get("containers") or []
    for container in containers:
        if container.get("exitCode") not in (None, 0):
            return container.get("name")
    return containers[0].get("name") if containers else None


def last_log_lines(aws: Aws, task: dict, console: Console, lines: int = LOG_LINES) -> None:
    """The last lines the failing container of `task` wrote (its awslogs stream)."""
    name = failing_container(task)
    definition = aws.client("ecs").describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
    settings = next((item for item in definition.get("containerDefinitions") or [] if item.get("name") == name), {})
    configuration = settings.get("logConfiguration") or {}
    options = configuration.get("options") or {}
    group, prefix = options.get("awslogs-group"), options.get("awslogs-stream-prefix")
    if configuration.get("logDriver") != "awslogs" or not group or not prefix:
        console(f"  container {name} does not log to CloudWatch Logs (awslogs)")
        return
    stream = f"{prefix}/{name}/{task['taskArn'].rsplit('/', 1)[-1]}"
    try:
        answer = aws.client("logs").get_log_events(
            logGroupName=group, logStreamName=stream, limit=lines, startFromHead=False
        )
    except ClientError as error:
        console(f"  no log lines of {name} ({group} {stream}: {error.response.get('Error', {}).get('Message')})")
        return
    events = answer.get("events") or []
    console(f"  last {len(events)} log line(s) of {name} ({group} {stream}):")
    for event in events:
        console(f"    {event.get('message', '').rstrip()}")
