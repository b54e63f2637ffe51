"""Delete an environment's stacks with live events; what a delete keeps (Retain/Snapshot) is said first."""

from __future__ import annotations

import json
from collections.abc import Callable

from stackloom.build import Build
from stackloom.deploy import changeset
from stackloom.deploy.aws import Aws
from stackloom.deploy.changeset import Console
from stackloom.deploy.deploy import DEFAULT_POLL, EXIT_FAILED, Environment, delete_stack
from stackloom.errors import UserError


def destroy(
    aws: Aws,
    environment: Environment,
    console: Console,
    force: bool = False,
    yes: bool = False,
    include_bootstrap: bool = False,
    poll: float = DEFAULT_POLL,
    confirm: Callable[[str], bool] = lambda question: False,
) -> int:
    """Delete the environment's stack (and with `include_bootstrap` its bootstrap stack); `confirm` asks
    before each delete unless `yes`. Production stacks (termination protection) need `force`."""
    manifest = environment.manifest
    cloudformation = aws.client("cloudformation")
    names = [manifest.stack_name] + ([manifest.bootstrap_stack_name] if include_bootstrap else [])
    console(console.bold(f"destroy {environment.target} -> {aws.describe()}"))
    stacks = {name: changeset.describe_stack(cloudformation, name) for name in names}
    if not any(stacks.values()):
        console(f"nothing to destroy: {', '.join(names)} not found")
        return 0
    kept = retained_resources(environment.build)
    for name, stack in stacks.items():
        if stack is None:
            continue
        if stack.get("EnableTerminationProtection"):
            if not force:
                raise UserError(f"{name} has termination protection on: pass --force to turn it off and delete it")
        if not yes and not confirm(
            f"Delete stack {name} and everything in it (except: {', '.join(kept[name]) or 'nothing'})?"
        ):
            console("cancelled: nothing deleted")
            return EXIT_FAILED
        if stack.get("EnableTerminationProtection"):
            cloudformation.update_termination_protection(EnableTerminationProtection=False, StackName=name)
            console(f"{name}: termination protection turned off (--force)")
        if not delete_stack(cloudformation, name, console, poll, stack_id=stack["StackId"]):
            return EXIT_FAILED
        if kept[name]:
            console(f"{name}: kept by their DeletionPolicy: {', '.join(kept[name])}")
    return 0


def retained_resources(build: Build) -> dict[str, list[str]]:
    """Per stack name, the resources a delete keeps (DeletionPolicy Retain or Snapshot)."""
    manifest = build.manifest
    files = {
        manifest.stack_name: [manifest.root_template, *manifest.nested_stacks.values()],
        manifest.bootstrap_stack_name: [manifest.bootstrap_template],
    }
    result = {}
    for stack_name, file_names in files.items():
        kept = []
        for file_name in file_names:
            for logical_id, resource in sorted(json.loads(build.files[file_name]).get("Resources", {}).items()):
                policy = resource.get("DeletionPolicy")
                if policy in ("Retain", "RetainExceptOnCreate"):
                    kept.append(f"{logical_id} (retained)")
                elif policy == "Snapshot":
                    kept.append(f"{logical_id} (final snapshot)")
        result[stack_name] = kept
    return result
