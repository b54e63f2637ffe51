"""One stack through a change set: create it, describe it (nested change sets included), print what it will
add / modify / replace / remove, refuse replacing or removing stateful resources unless allowed, execute it while
printing events, and report the outcome.

The gate reads the change set's own `Action` and `Replacement` field ("True" or "Conditional") for the
types `stackloom.kinds` marks stateful, at every nesting level (`IncludeNestedStacks`).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone

from botocore.exceptions import ClientError, WaiterError

from stackloom.cfn.model import STACK_TYPE, is_stateful
from stackloom.deploy import events as stack_events
from stackloom.terminal import color_enabled

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
NO_CHANGE_REASONS = ("didn't contain changes", "No updates are to be performed")
# A stack in one of these states after a failed first deploy (or an abandoned change set) holds nothing:
# CloudFormation only allows deleting it, so the next deploy removes it and starts over.
RECREATE_STATES = ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS", "ROLLBACK_FAILED")
UPDATABLE_STATES = (
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
)
SYMBOLS = {"Add": "+", "Modify": "~", "Replace": "±", "Remove": "-", "Import": "<", "Dynamic": "?"}


class DeployError(Exception):
    """CloudFormation refused or failed; the message says what and where. Exit code 1."""


@dataclass
class Change:
    path: str  # "ServiceBackend/TaskDefinition"
    action: str  # Add | Modify | Remove | Import | Dynamic
    resource_type: str
    replacement: str | None  # "True" | "False" | "Conditional" for Modify
    details: list = field(default_factory=list)
    nested: bool = False  # a nested stack whose own changes are listed under it

    @property
    def replaces(self) -> bool:
        return self.action == "Modify" and self.replacement in ("True", "Conditional")

    @property
    def kind(self) -> str:
        return "Replace" if self.replaces else self.action

    @property
    def stateful(self) -> bool:
        return is_stateful(self.resource_type)

    @property
    def dangerous(self) -> bool:
        """Replacing or removing a resource that holds data (a template change or a condition turned off, such
        as EnableDatabase=false): the deploy gate stops on these, as `build.py diff` exits 3 on them."""
        return self.stateful and (self.replaces or self.action == "Remove")

    def values(self) -> list[tuple[str, str | None, str | None]]:
        """(property, before, after) of each changed property whose values DescribeChangeSet gave
        (IncludePropertyValues), in the order of the details, each property once."""
        found: dict[str, tuple[str, str | None, str | None]] = {}
        for detail in self.details:
            target = detail.get("Target", {})
            if "BeforeValue" not in target and "AfterValue" not in target:
                continue
            name = target.get("Path") or target.get("Name") or target.get("Attribute", "")
            found.setdefault(name, (name, target.get("BeforeValue"), target.get("AfterValue")))
        return list(found.values())

    def properties(self) -> list[str]:
        names = []
        for detail in self.details:
            target = detail.get("Target", {})
            name = target.get("Name") or target.get("Attribute", "")
            if target.get("RequiresRecreation") in ("Always", "Conditional"):
                name += "*"
            if name and name not in names:
                names.append(name)
        return names


@dataclass
class Plan:
    stack_name: str
    change_set_id: str
    kind: str  # CREATE | UPDATE
    changes: list[Change]
    stack_id: str = ""

    @property
    def dangerous(self) -> list[Change]:
        return [change for change in self.changes if change.dangerous]

    def counts(self) -> dict[str, int]:
        counts = {"Add": 0, "Modify": 0, "Replace": 0, "Remove": 0}
        for change in self.changes:
            if not change.nested:
                counts[change.kind] = counts.get(change.kind, 0) + 1
        return counts


@dataclass
class StackRequest:
    """What to deploy into one stack."""

    name: str
    template_url: str | None = None
    template_body: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)  # values to set
    keep: list[str] = field(default_factory=list)  # parameters that keep their current value
    tags: dict[str, str] = field(default_factory=dict)
    nested: bool = False
    expected_resources: int = 0  # for the progress count of a first deploy


class Console:
    """Plain lines for logs and CI; colour only on a terminal, never with NO_COLOR or --no-color."""

    def __init__(self, stream=None, color: bool | None = None):
        self.stream = stream or sys.stdout
        self.color = color_enabled(self.stream) if color is None else color

    def __call__(self, line: str = "") -> None:
        print(line, file=self.stream, flush=True)

    def paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def red(self, text: str) -> str:
        return self.paint(text, "1;31")

    def yellow(self, text: str) -> str:
        return self.paint(text, "33")

    def green(self, text: str) -> str:
        return self.paint(text, "32")

    def bold(self, text: str) -> str:
        return self.paint(text, "1")


# The last status this process saw of each stack (name -> (status, when)): what a deploy that loses its
# connection can still tell the operator.
LAST_SEEN: dict[str, tuple[str, datetime]] = {}


def describe_stack(cloudformation, name: str) -> dict | None:
    try:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in str(error):
            LAST_SEEN[name] = ("not created", datetime.now(timezone.utc))
            return None
        raise
    LAST_SEEN[stack.get("StackName", name)] = (stack["StackStatus"], datetime.now(timezone.utc))
    return stack


def last_seen() -> str:
    """`name STATUS (at 12:03:04 UTC), ...` for the stacks this process has seen, or ""."""
    return ", ".join(f"{name} {status} (at {when:%H:%M:%S} UTC)" for name, (status, when) in sorted(LAST_SEEN.items()))


def create(cloudformation, request: StackRequest, existing: dict | None, poll: float) -> Plan | None:
    """Create and wait for the change set; None when it has no changes (it is then deleted again)."""
    kind = "UPDATE" if existing else "CREATE"
    name = "stackforge-" + datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    parameters = [{"ParameterKey": key, "ParameterValue": value} for key, value in sorted(request.parameters.items())]
    parameters += [{"ParameterKey": key, "UsePreviousValue": True} for key in sorted(request.keep)]
    arguments = dict(
        StackName=request.name,
        ChangeSetName=name,
        ChangeSetType=kind,
        Parameters=parameters,
        Capabilities=CAPABILITIES,
        Tags=[{"Key": k, "Value": v} for k, v in sorted(request.tags.items())],
        Description=f"stackforge deploy of {request.name}",
    )
    if request.template_url:
        arguments["TemplateURL"] = request.template_url
    else:
        arguments["TemplateBody"] = request.template_body
    if request.nested:
        arguments["IncludeNestedStacks"] = True
    try:
        created = cloudformation.create_change_set(**arguments)
    except ClientError as error:
        if any(reason in str(error) for reason in NO_CHANGE_REASONS):
            return None
        raise DeployError(f"{request.name}: change set refused: {_message(error)}") from error
    try:
        cloudformation.get_waiter("change_set_create_complete").wait(
            ChangeSetName=created["Id"], StackName=request.name, WaiterConfig={"Delay": poll, "MaxAttempts": 720}
        )
    except WaiterError as error:
        described = cloudformation.describe_change_set(ChangeSetName=created["Id"], StackName=request.name)
        reason = described.get("StatusReason") or str(error)
        discard(cloudformation, created["Id"], request.name, kind)
        if any(text in reason for text in NO_CHANGE_REASONS):
            return None
        raise DeployError(f"{request.name}: change set failed: {reason}") from error
    return Plan(
        stack_name=request.name,
        change_set_id=created["Id"],
        kind=kind,
        stack_id=created["StackId"],
        changes=list(describe(cloudformation, created["Id"], request.name)),
    )


def describe(cloudformation, change_set_id: str, stack_name: str | None = None, prefix: str = ""):
    """Every resource change, nested change sets flattened in place under their stack ("Stack/Resource")."""
    paginator = cloudformation.get_paginator("describe_change_set")
    arguments = {"ChangeSetName": change_set_id, "IncludePropertyValues": True}  # before -> after values
    if stack_name:
        arguments["StackName"] = stack_name
    for page in paginator.paginate(**arguments):
        for item in page.get("Changes", []):
            resource = item.get("ResourceChange", {})
            nested_id = resource.get("ChangeSetId")
            path = f"{prefix}{resource.get('LogicalResourceId', '?')}"
            yield Change(
                path=path,
                action=resource.get("Action", "?"),
                resource_type=resource.get("ResourceType", ""),
                replacement=resource.get("Replacement"),
                details=resource.get("Details", []),
                nested=bool(nested_id) and resource.get("ResourceType") == STACK_TYPE,
            )
            if nested_id:
                yield from describe(cloudformation, nested_id, None, f"{path}/")


VALUE_LINES = 12  # per property: the first differing leaves, then a count of the others
VALUE_WIDTH = 100


def value_lines(name: str, before: str | None, after: str | None) -> list[str]:
    """`Name: before -> after`, for structured (JSON) values per differing leaf (`Name[0].Image: a -> b`)."""
    if before is not None and before == after:
        return [f"{name}: {_clip(before)} (unchanged expression: its value changes on deploy)"]
    old, new = _parsed(before), _parsed(after)
    if isinstance(old, (dict, list)) and isinstance(new, (dict, list)):
        leaves = list(_leaf_changes(name, old, new))
    else:
        leaves = [(name, before, after)]
    lines = [f"{where}: {_clip(was)} -> {_clip(now)}" for where, was, now in leaves[:VALUE_LINES]]
    if len(leaves) > VALUE_LINES:
        lines.append(f"{name}: ... and {len(leaves) - VALUE_LINES} more changed values")
    return lines


def _parsed(value: str | None):
    if value is None or value[:1] not in "[{":
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _leaf_changes(where: str, old, new):
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                yield from _leaf_changes(f"{where}.{key}", old.get(key), new.get(key))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (was, now) in enumerate(zip(old, new)):
            if was != now:
                yield from _leaf_changes(f"{where}[{index}]", was, now)
    else:
        yield where, _text(old), _text(new)


def _text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _clip(value: str | None) -> str:
    if value is None:
        return "(none)"
    return value if len(value) <= VALUE_WIDTH else value[: VALUE_WIDTH - 3] + "..."


def render(plan: Plan, console: Console, nested_sizes: dict[str, int] | None = None, values: bool = False) -> None:
    """Print the plan: one line per change, replacements of stateful resources highlighted; with `values`,
    each changed property's value before -> after under its change (IncludePropertyValues)."""
    counts = plan.counts()
    summary = ", ".join(
        f"{counts[key]} to {verb}"
        for key, verb in (("Add", "add"), ("Modify", "modify"), ("Replace", "replace"), ("Remove", "remove"))
    )
    console(console.bold(f"{plan.stack_name} ({'new stack' if plan.kind == 'CREATE' else 'update'}): {summary}"))
    for change in plan.changes:
        symbol = SYMBOLS.get(change.kind, "?")
        depth = change.path.count("/")
        line = f"  {'  ' * depth}{symbol} {change.path.split('/')[-1]:<36} {change.resource_type}"
        if change.nested:
            line += "  (nested stack, changes below)"
        elif change.resource_type == STACK_TYPE and change.action == "Add" and nested_sizes:
            size = nested_sizes.get(change.path.split("/")[-1])
            if size:
                line += f"  ({size} resources)"
        properties = change.properties()
        if change.action == "Modify" and properties and not change.nested:
            line += f"  [{', '.join(properties)}]"
        if change.dangerous and change.replaces:
            line = console.red(f"{line}  <-- REPLACES A STATEFUL RESOURCE (data is lost)")
        elif change.dangerous:
            line = console.red(f"{line}  <-- REMOVES A STATEFUL RESOURCE (its DeletionPolicy decides what is kept)")
        elif change.replaces:
            line = console.yellow(line)
        console(line)
        if values and not change.nested:
            for name, before, after in change.values():
                for text in value_lines(name.removeprefix("/Properties/"), before, after):
                    console(f"  {'  ' * depth}      {text}")
    if any(change.action == "Modify" and not change.nested and shows_replacing(change) for change in plan.changes):
        console("  (* = changing this property replaces the resource)")


def shows_replacing(change: Change) -> bool:
    """Whether the change's row marks a property with `*` (the legend is printed only then)."""
    return any(name.endswith("*") for name in change.properties())


def discard(cloudformation, change_set_id: str, stack_name: str, kind: str) -> None:
    """Delete an unexecuted change set, and the empty stack a CREATE change set made."""
    try:
        cloudformation.delete_change_set(ChangeSetName=change_set_id, StackName=stack_name)
    except ClientError:
        pass
    if kind == "CREATE":
        stack = describe_stack(cloudformation, stack_name)
        if stack and stack["StackStatus"] == "REVIEW_IN_PROGRESS":
            cloudformation.delete_stack(StackName=stack_name)


@dataclass
class Outcome:
    ok: bool
    status: str
    failure: stack_events.Event | None = None
    retained: list = field(default_factory=list)  # resources a rollback kept (DELETE_SKIPPED)


def execute(cloudformation, plan: Plan, console: Console, poll: float, expected: int = 0) -> Outcome:
    """Execute the change set and print events until the stack is done (or rolled back)."""
    stream = stack_events.EventStream(
        cloudformation,
        plan.stack_id or plan.stack_name,
        printer=console,
        expected=expected,
        resources=[change.path for change in plan.changes],
    )
    stream.prime()
    cloudformation.execute_change_set(ChangeSetName=plan.change_set_id, StackName=plan.stack_name)
    waiter = "stack_create_complete" if plan.kind == "CREATE" else "stack_update_complete"
    ok = stack_events.wait(cloudformation, waiter, plan.stack_name, stream, poll)
    stack = describe_stack(cloudformation, plan.stack_id or plan.stack_name)
    status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
    if not ok and status.endswith("_IN_PROGRESS"):
        # still rolling back: wait until it is back where it was
        stack_events.wait(
            cloudformation,
            "stack_rollback_complete" if plan.kind == "UPDATE" else "stack_create_complete",
            plan.stack_name,
            stream,
            poll,
        )
        stack = describe_stack(cloudformation, plan.stack_id or plan.stack_name)
        status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
    if ok:
        return Outcome(ok=True, status=status)
    retained = [event for event in stream.events if event.status == "DELETE_SKIPPED"]
    return Outcome(ok=False, status=status, failure=stack_events.first_failure(stream.events), retained=retained)


def outputs(cloudformation, stack_name: str) -> dict[str, str]:
    stack = describe_stack(cloudformation, stack_name) or {}
    return {item["OutputKey"]: item.get("OutputValue", "") for item in stack.get("Outputs") or []}


def _message(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Message") or str(error)


def policy_json(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True)
