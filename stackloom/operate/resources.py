"""Where a deployed environment's parts are: its manifest (output/<system>/<env>/manifest.json, else the build of
its spec in memory), its stack tree (root + every nested stack at any depth), and for a service the ECS service,
cluster, target groups and log group, as the deployed stacks' resources and outputs name them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from stackloom import manifest as manifest_file
from stackloom.build import compile_all
from stackloom.cfn.model import STACK_TYPE
from stackloom.deploy.changeset import describe_stack
from stackloom.errors import UserError
from stackloom.manifest import Manifest
from stackloom.params import select
from templates import names

SERVICE_TYPE = "AWS::ECS::Service"
TARGET_GROUP_TYPE = "AWS::ElasticLoadBalancingV2::TargetGroup"
LOG_GROUP_TYPE = "AWS::Logs::LogGroup"
EMPTY_STATES = ("ROLLBACK_COMPLETE", "DELETE_COMPLETE")  # a root stack whose resources are all deleted


def manifests(params_dir: Path, output_dir: Path, targets: list[str]) -> list[Manifest]:
    """The manifests of `targets` (SYSTEM/ENV or SYSTEM): the built one in output_dir when there is one (what
    was deployed from it), else the spec's build in memory (nothing is written)."""
    found = []
    for target, path in sorted(select(params_dir, targets).items()):
        folder = output_dir / target
        if (folder / manifest_file.FILE_NAME).is_file():
            found.append(manifest_file.load(folder))
        else:
            found.append(compile_all({target: path})[0].manifest)
    return found


@dataclass
class Stack:
    """One deployed stack of the tree: `path` is "" for the root, "ServiceBackend" or "Services01/ServiceApi"."""

    path: str
    stack_id: str
    name: str
    status: str
    reason: str
    updated: datetime | None
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def logical_id(self) -> str:
        return self.path.rpartition("/")[2]


def _stack(path: str, described: dict) -> Stack:
    return Stack(
        path=path,
        stack_id=described["StackId"],
        name=described["StackName"],
        status=described["StackStatus"],
        reason=described.get("StackStatusReason") or "",
        updated=described.get("LastUpdatedTime") or described.get("CreationTime"),
        outputs={item["OutputKey"]: item.get("OutputValue", "") for item in described.get("Outputs") or []},
    )


def stack_tree(cloudformation, manifest: Manifest) -> list[Stack]:
    """The root stack and every nested stack (root first, then by path); empty when it is not deployed."""
    root = describe_stack(cloudformation, manifest.stack_name)
    if root is None:
        return []
    tree = [_stack("", root)]
    if root["StackStatus"] in EMPTY_STATES:
        return tree  # a failed first create rolled back: nothing of it is left to list
    pending = [("", root["StackId"])]
    while pending:  # depth first, every level (a grouped service's stack is inside its ServicesNN stack)
        prefix, parent = pending.pop()
        for item in stack_resources(cloudformation, parent):
            physical = item.get("PhysicalResourceId")
            if item["ResourceType"] == STACK_TYPE and physical:
                path = f"{prefix}/{item['LogicalResourceId']}" if prefix else item["LogicalResourceId"]
                (described,) = cloudformation.describe_stacks(StackName=physical)["Stacks"]
                tree.append(_stack(path, described))
                pending.append((path, physical))
    return [tree[0], *sorted(tree[1:], key=lambda stack: stack.path)]


def require_deployed(tree: list[Stack], manifest: Manifest) -> None:
    if not tree:
        raise UserError(
            f"{manifest.target}: stack {manifest.stack_name} is not deployed; "
            f"deploy it first: python build.py deploy {manifest.target}"
        )


def stack_resources(cloudformation, stack_id: str) -> list[dict]:
    """The resource summaries of one stack (list_stack_resources paginator)."""
    paginator = cloudformation.get_paginator("list_stack_resources")
    return [item for page in paginator.paginate(StackName=stack_id) for item in page["StackResourceSummaries"]]


@dataclass
class ServiceLocation:
    """A service as deployed: its stack, the ECS service's ARN and cluster, its target groups and log group."""

    name: str
    stack: Stack | None
    cluster: str = ""
    service_arn: str = ""
    target_groups: list[str] = field(default_factory=list)
    log_group: str = ""


def known_names(manifest: Manifest) -> list[str]:
    return sorted(manifest.services) + sorted(manifest.jobs or {})


def check_name(manifest: Manifest, name: str) -> None:
    """`name` must be a service or job of the manifest: a UserError listing the known ones otherwise."""
    if name not in manifest.services and name not in (manifest.jobs or {}):
        services = ", ".join(sorted(manifest.services)) or "none"
        jobs = ", ".join(sorted(manifest.jobs or {})) or "none"
        raise UserError(f"{manifest.target} has no service or job {name!r}; services: {services}; jobs: {jobs}")


def find_stack(tree: list[Stack], logical_id: str) -> Stack | None:
    """The nested stack whose logical ID is `logical_id` (unique at any depth, as the manifest lists them)."""
    return next((stack for stack in tree if stack.path and stack.logical_id == logical_id), None)


def cluster_of(tree: list[Stack], service_arn: str = "") -> str:
    """The environment's ECS cluster: the root's ClusterName output, else the cluster in a service ARN."""
    if tree and tree[0].outputs.get(names.CLUSTER_NAME):
        return tree[0].outputs[names.CLUSTER_NAME]
    parts = service_arn.split(":", 5)[-1].split("/")
    return parts[1] if len(parts) == 3 else ""


def locate_service(cloudformation, manifest: Manifest, tree: list[Stack], name: str) -> ServiceLocation:
    """Where service `name` runs, from its deployed stack's resources and outputs."""
    entry = manifest.services[name]
    stack = find_stack(tree, entry.stack)
    if stack is None:
        return ServiceLocation(name=name, stack=None)
    resources = [item for item in stack_resources(cloudformation, stack.stack_id) if item.get("PhysicalResourceId")]
    of_type = {
        kind: [item["PhysicalResourceId"] for item in resources if item["ResourceType"] == kind]
        for kind in (SERVICE_TYPE, TARGET_GROUP_TYPE, LOG_GROUP_TYPE)
    }
    service_arn = stack.outputs.get(names.SERVICE_ARN) or next(iter(of_type[SERVICE_TYPE]), "")
    return ServiceLocation(
        name=name,
        stack=stack,
        cluster=cluster_of(tree, service_arn),
        service_arn=service_arn,
        target_groups=sorted(of_type[TARGET_GROUP_TYPE]),
        log_group=stack.outputs.get(names.LOG_GROUP_NAME) or next(iter(of_type[LOG_GROUP_TYPE]), ""),
    )
