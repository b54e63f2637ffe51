"""`status SYSTEM/ENV`: what is deployed and how it is doing, read from CloudFormation, ECS and ELBv2.

`collect` returns one environment as plain data (the `--json` shape, a list of these even for one environment):

    {"target": "bet2wealth/dev", "region": "eu-central-1", "stack": "bet2wealth-dev",
     "status": "UPDATE_COMPLETE" | "NOT_DEPLOYED", "reason": "...", "updated": ISO-8601 | null,
     "stacks": [{"path": "" (root) | "Network" | "Services01/ServiceApi", "name", "status", "reason", "updated"}],
     "services": [{"name", "stack", "ecs_service", "status": "ACTIVE" | "MISSING" | "NOT_DEPLOYED",
                   "desired", "running", "pending", "task_definition": "family:revision", "revision",
                   "images": [...], "rollout": {"state", "reason"} | null, "deployments",
                   "events": [{"at": ISO-8601, "message"}] (newest first),
                   "targets": [{"target_group", "id", "port", "state", "reason", "description"}],
                   "log_group"}],
     "outputs": {"BaseUrl": "...", ...}}

`render` prints the same as text for a terminal.
"""

from __future__ import annotations

from datetime import datetime

from stackloom.deploy.aws import Aws
from stackloom.deploy.changeset import Console
from stackloom.manifest import Manifest
from stackloom.operate.resources import ServiceLocation, locate_service, stack_tree

EVENTS = 5  # the last service events shown
DESCRIBE_BATCH = 10  # DescribeServices takes at most 10 services
HEALTHY = ("healthy",)
STABLE_STATUSES = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")


def iso(value) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def collect(aws: Aws, manifest: Manifest) -> dict:
    """One environment's status as plain data (see the module docstring)."""
    cloudformation = aws.client("cloudformation")
    tree = stack_tree(cloudformation, manifest)
    root = tree[0] if tree else None
    environment = {
        "target": manifest.target,
        "region": aws.region,
        "stack": manifest.stack_name,
        "status": root.status if root else "NOT_DEPLOYED",
        "reason": root.reason if root else "",
        "updated": iso(root.updated) if root else None,
        "stacks": [
            {
                "path": stack.path,
                "name": stack.name,
                "status": stack.status,
                "reason": stack.reason,
                "updated": iso(stack.updated),
            }
            for stack in tree
        ],
        "services": [],
        "outputs": dict(sorted(root.outputs.items())) if root else {},
    }
    if root is None:
        return environment
    locations = [locate_service(cloudformation, manifest, tree, name) for name in sorted(manifest.services)]
    described = describe_services(aws.client("ecs"), locations)
    environment["services"] = [
        service_status(aws, location, described.get(location.service_arn)) for location in locations
    ]
    return environment


def describe_services(ecs, locations: list[ServiceLocation]) -> dict[str, dict]:
    """DescribeServices of every located service, by ARN (and by name), at most 10 per call and cluster."""
    found: dict[str, dict] = {}
    by_cluster: dict[str, list[str]] = {}
    for location in locations:
        if location.service_arn and location.cluster:
            by_cluster.setdefault(location.cluster, []).append(location.service_arn)
    for cluster, arns in sorted(by_cluster.items()):
        for start in range(0, len(arns), DESCRIBE_BATCH):
            answer = ecs.describe_services(cluster=cluster, services=arns[start : start + DESCRIBE_BATCH])
            for service in answer.get("services") or []:
                found[service["serviceArn"]] = service
                found[service["serviceName"]] = service
    return found


def service_status(aws: Aws, location: ServiceLocation, service: dict | None) -> dict:
    entry = {
        "name": location.name,
        "stack": location.stack.path if location.stack else None,
        "ecs_service": location.service_arn or None,
        "status": "NOT_DEPLOYED" if location.stack is None else "MISSING",
        "desired": 0,
        "running": 0,
        "pending": 0,
        "task_definition": None,
        "revision": None,
        "images": [],
        "rollout": None,
        "deployments": 0,
        "events": [],
        "targets": target_health(aws.client("elbv2"), location.target_groups),
        "log_group": location.log_group or None,
    }
    if service is None:
        return entry
    deployments = service.get("deployments") or []
    primary = next((item for item in deployments if item.get("status") == "PRIMARY"), None)
    definition = task_definition(aws.client("ecs"), service.get("taskDefinition"))
    entry.update(
        status=service.get("status", "UNKNOWN"),
        desired=service.get("desiredCount", 0),
        running=service.get("runningCount", 0),
        pending=service.get("pendingCount", 0),
        task_definition=f"{definition['family']}:{definition['revision']}" if definition else None,
        revision=definition.get("revision") if definition else None,
        images=[container.get("image", "") for container in (definition or {}).get("containerDefinitions", [])],
        rollout=(
            {"state": primary.get("rolloutState"), "reason": primary.get("rolloutStateReason", "")} if primary else None
        ),
        deployments=len(deployments),
        events=[
            {"at": iso(event.get("createdAt")), "message": event.get("message", "")}
            for event in (service.get("events") or [])[:EVENTS]
        ],
    )
    return entry


def task_definition(ecs, arn: str | None) -> dict | None:
    if not arn:
        return None
    return ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]


def target_health(elbv2, target_groups: list[str]) -> list[dict]:
    """Each registered target of the target groups with its state and, when not healthy, ELB's reason."""
    targets = []
    for arn in target_groups:
        for item in elbv2.describe_target_health(TargetGroupArn=arn).get("TargetHealthDescriptions") or []:
            health = item.get("TargetHealth") or {}
            targets.append(
                {
                    "target_group": arn,
                    "id": item.get("Target", {}).get("Id"),
                    "port": item.get("Target", {}).get("Port"),
                    "state": health.get("State", "unknown"),
                    "reason": health.get("Reason", ""),
                    "description": health.get("Description", ""),
                }
            )
    return targets


def render(environment: dict, console: Console) -> None:
    """One environment as text: a header, the stacks, the services, the outputs."""
    status = environment["status"]
    paint = console.green if status in STABLE_STATUSES else console.red if "FAIL" in status else console.yellow
    console(
        console.bold(environment["target"])
        + f"  {environment['stack']} ({environment['region']})  "
        + paint(status)
        + (f"  {environment['updated']}" if environment["updated"] else "")
    )
    if status == "NOT_DEPLOYED":
        console(f"  not deployed: python build.py deploy {environment['target']}")
        return
    console(console.bold("stacks:"))
    width = max(len(stack["path"] or "(root)") for stack in environment["stacks"])
    for stack in environment["stacks"]:
        reason = f"  {stack['reason']}" if stack["reason"] and stack["status"] not in STABLE_STATUSES else ""
        console(f"  {stack['path'] or '(root)':<{width}}  {stack['status']}{reason}")
    if environment["services"]:
        console(console.bold("services:"))
    for service in environment["services"]:
        _render_service(service, console)
    if environment["outputs"]:
        console(console.bold("outputs:"))
        width = max(len(key) for key in environment["outputs"])
        for key, value in environment["outputs"].items():
            console(f"  {key:<{width}}  {value}")


def _render_service(service: dict, console: Console) -> None:
    counts = f"desired {service['desired']}  running {service['running']}  pending {service['pending']}"
    short = service["running"] < service["desired"]
    console(
        f"  {console.bold(service['name'])}  {service['status']}  "
        + (console.yellow(counts) if short else counts)
        + (f"  {service['task_definition']}" if service["task_definition"] else "")
    )
    for image in service["images"]:
        console(f"    image     {image}")
    rollout = service["rollout"]
    if rollout:
        state = rollout["state"] or "?"
        paint = console.red if state == "FAILED" else console.green if state == "COMPLETED" else console.yellow
        console(f"    rollout   {paint(state)}" + (f"  {rollout['reason']}" if rollout["reason"] else ""))
    for target in service["targets"]:
        where = f"{target['id']}:{target['port']}" if target["port"] else str(target["id"])
        why = ", ".join(part for part in (target["reason"], target["description"]) if part)
        paint = console.green if target["state"] in HEALTHY else console.red
        console(f"    target    {where}  {paint(target['state'])}" + (f"  {why}" if why else ""))
    for event in service["events"]:
        console(f"    event     {event['at']}  {event['message']}")
    if service["log_group"]:
        console(f"    logs      {service['log_group']}")
