"""What a deploy of a fresh build would do to an environment built earlier: per template and logical ID,
add / modify / replace / remove, and whether a stateful resource would be replaced or removed.

`python build.py diff SYSTEM/ENV --baseline DIR` compiles the spec in memory and compares it with
`DIR/<system>/<env>/` (or DIR itself when it is an environment folder), prints a table and exits by the
comparing commands' convention (EXIT_CONVENTION): 0 no changes, 1 error, 2 changes, 3 when a resource
`stackloom.kinds` marks stateful would be replaced or removed.

How a replacement is decided (offline, from the templates alone):
- a changed `Type` replaces;
- a changed value under one of the type's `createOnlyProperties` (cfn-lint's bundled resource provider
  schemas; nested paths such as `/properties/A/B` and `*` for list items are followed; where the value
  is an intrinsic function the whole function is compared) replaces; `conditionalCreateOnlyProperties`
  replace "maybe" (`replace?`), counted as a replacement for the stateful check;
- a replaced resource gets a new physical ID and attributes, so a property that reaches it through
  `Ref`, `Fn::GetAtt` or `Fn::Sub` changes value too: in a createOnly property that replaces the
  referencing resource, elsewhere it modifies it; repeated until nothing more changes;
- across nested stacks: a child output whose value changes (its expression differs, or it reaches a
  replaced resource or changed parameter) changes `GetAtt Child.Outputs.X` in the parent; a parent
  expression passed as a child parameter that changes makes `Ref Param` in the child change; a
  top-level parameter changes when its definition (default) does.
Not modelled: attributes that change on a plain update (e.g. a new task definition revision is a
replacement anyway), `Fn::ImportValue`, conditions flipping at deploy time.

Python API (the deploy command uses it): `compare(old, new, region)` -> list[Change] with
`old`/`new` = template file name -> parsed template; `stateful_risks(changes)`; `render(changes)`;
`load_environment(folder)`, `build_templates(build)` and `deployed_templates(client, stack, new)` (what is
deployed now, nested stacks included) to get those dicts.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError

from stackloom import manifest as manifests
from stackloom.cfn import model
from stackloom.cfn.model import STACK_TYPE, is_stateful
from stackloom.cfn.model import mapping as _mapping
from stackloom.cfn.model import properties as _properties
from stackloom.cfn.model import resources as _resources
from stackloom.cfn.model import value_references as references
from stackloom.cfn.schemas import create_only
from stackloom.errors import UserError, display

ADD, MODIFY, REPLACE, REMOVE = "add", "modify", "replace", "remove"
ORDER = {REMOVE: 0, REPLACE: 1, MODIFY: 2, ADD: 3}
RESOURCE_ATTRIBUTES = (
    "Condition",
    "CreationPolicy",
    "DeletionPolicy",
    "DependsOn",
    "Metadata",
    "UpdatePolicy",
    "UpdateReplacePolicy",
)
# The exit codes of every command that compares (diff, plan): 0 no changes, 1 error (bad input, unreachable
# endpoint, missing baseline), 2 changes, 3 changes that replace or remove a stateful resource.
EXIT_NO_CHANGES, EXIT_ERROR, EXIT_CHANGES, EXIT_RISK = 0, 1, 2, 3
EXIT_CONVENTION = (
    "Exit codes: 0 no changes, 1 error (bad input, unreachable endpoint, missing baseline), 2 changes, "
    "3 changes that replace or remove a stateful resource."
)
_MISSING = model.MISSING


@dataclass(frozen=True)
class Change:
    """One resource that a deploy would touch."""

    template: str  # file name: "data.json"
    logical_id: str
    action: str  # add | modify | replace | remove
    resource_type: str  # the new type (the old one for remove)
    old_type: str | None = None  # set when the type changes
    conditional: bool = False  # replacement only possible (conditionalCreateOnlyProperties)
    details: tuple[str, ...] = ()  # why: changed properties, references to replaced resources
    stack: str = ""  # logical ID path of the nested stack holding it ("" = top-level)
    policy: str | None = None  # UpdateReplacePolicy (replace) / DeletionPolicy (remove) in force

    @property
    def path(self) -> str:
        return f"{self.stack}/{self.logical_id}" if self.stack else self.logical_id

    @property
    def stateful(self) -> bool:
        return is_stateful(self.resource_type) or (self.old_type is not None and is_stateful(self.old_type))

    @property
    def risky(self) -> bool:
        """A stateful resource replaced or removed: its data would be lost or orphaned."""
        return self.stateful and self.action in (REPLACE, REMOVE)


def stateful_risks(changes: list[Change]) -> list[Change]:
    return [change for change in changes if change.risky]


def exit_code(changed: bool, risky: bool) -> int:
    """The comparing commands' convention: 0 no changes, 2 changes, 3 stateful replace/remove (1 is an error)."""
    return EXIT_RISK if risky else EXIT_CHANGES if changed else EXIT_NO_CHANGES


# ---- comparison ------------------------------------------------------------------------------------


@dataclass
class _Volatile:
    """Names whose value changes on deploy: per template, replaced resources, parameters, outputs."""

    replaced: dict[str, set[str]] = field(default_factory=dict)
    parameters: dict[str, set[str]] = field(default_factory=dict)
    outputs: dict[str, set[str]] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)  # templates with a change (their nested stack is modified)

    def size(self) -> int:
        groups = (self.replaced, self.parameters, self.outputs)
        return sum(len(items) for group in groups for items in group.values()) + len(self.touched)


def compare(old: dict[str, dict], new: dict[str, dict], region: str = "us-east-1") -> list[Change]:
    """Every resource a deploy of `new` over `old` would add, modify, replace or remove.

    `old` and `new` map a template file name (root.json, data.json, ...) to the parsed template; a nested
    stack's `TemplateURL` names its child file. Sorted by template, then removals and replacements first.
    """
    files = sorted(set(old) | set(new))
    children = model.children(old, new)
    stacks = model.stack_paths(children)
    state = _Volatile()
    while True:
        before = state.size()
        changes = {
            name: _compare_template(name, old.get(name), new.get(name), region, state, children) for name in files
        }
        state.touched |= {name for name, found in changes.items() if found}
        _propagate(old, new, children, state)
        if state.size() == before:
            break
    result = []
    for name in files:
        for change in changes[name]:
            result.append(dataclasses.replace(change, stack=stacks.get(name, "")))
    return sorted(result, key=lambda c: (c.template != "root.json", c.template, ORDER[c.action], c.logical_id))


def _changed_token(name: str, state: _Volatile, children: dict[str, dict[str, str]]):
    """A predicate: does (resource or parameter, attribute) change value in this template?"""
    replaced = state.replaced.setdefault(name, set())  # live: grows while the template is compared
    parameters = state.parameters.setdefault(name, set())
    links = children.get(name, {})

    def changed(token: tuple[str, str | None]) -> bool:
        target, attribute = token
        if target in replaced:
            return True
        if attribute is None and target in parameters:
            return True
        if target in links and attribute and attribute.startswith("Outputs."):
            return attribute.removeprefix("Outputs.") in state.outputs.get(links[target], set())
        return False

    return changed


def _compare_template(
    name: str, old: dict | None, new: dict | None, region: str, state: _Volatile, children: dict[str, dict[str, str]]
) -> list[Change]:
    before, after = _resources(old), _resources(new)
    changed = _changed_token(name, state, children)
    replaced: dict[str, tuple[list[str], bool]] = {}

    # direct replacements: type or createOnly values changed; then the cascade through references
    pending = True
    while pending:
        pending = False
        for logical_id in sorted(set(before) & set(after)):
            if logical_id in replaced:
                continue
            reasons, conditional = _replacement(
                before[logical_id], after[logical_id], region, changed, state.replaced[name]
            )
            if reasons:
                replaced[logical_id] = (reasons, conditional)
                state.replaced[name].add(logical_id)
                pending = True
    changes = []
    for logical_id in sorted(set(before) | set(after)):
        was, now = before.get(logical_id), after.get(logical_id)
        if now is None:
            changes.append(
                Change(
                    name,
                    logical_id,
                    REMOVE,
                    was.get("Type", "?"),
                    policy=was.get("DeletionPolicy") or _default_policy(was),
                )
            )
        elif was is None:
            changes.append(Change(name, logical_id, ADD, now.get("Type", "?")))
        elif logical_id in replaced:
            reasons, conditional = replaced[logical_id]
            old_type = was.get("Type") if was.get("Type") != now.get("Type") else None
            changes.append(
                Change(
                    name,
                    logical_id,
                    REPLACE,
                    now.get("Type", "?"),
                    old_type=old_type,
                    conditional=conditional,
                    details=tuple(reasons),
                    policy=now.get("UpdateReplacePolicy") or _default_policy(now),
                )
            )
        else:
            details = _modification(was, now, changed, state.replaced[name], children.get(name, {}), state)
            if details:
                changes.append(Change(name, logical_id, MODIFY, now.get("Type", "?"), details=tuple(details)))
    return changes


def _default_policy(resource: dict) -> str:
    return "not set (CloudFormation's default)"


def _replacement(was: dict, now: dict, region: str, changed, replaced: set[str]) -> tuple[list[str], bool]:
    if was.get("Type") != now.get("Type"):
        return [f"type {was.get('Type')} -> {now.get('Type')}"], False
    old_properties, new_properties = _properties(was), _properties(now)
    edited, cascaded, conditional = [], [], True
    for parts, maybe in create_only(region, now.get("Type", "")):
        label = "/".join(parts) + (" (may replace)" if maybe else "")
        before, after = model.project(old_properties, parts), model.project(new_properties, parts)
        if before != after:
            edited.append(f"{label} changed")
        else:
            hit = sorted(_describe(token, replaced) for token in references(after) if changed(token))
            if not hit:
                continue
            cascaded.append(f"{label} uses {', '.join(hit)}")
        conditional = conditional and maybe
    reasons = edited + cascaded
    return reasons, bool(reasons) and conditional


def _describe(token: tuple[str, str | None], replaced: set[str]) -> str:
    name, attribute = token
    text = name if attribute is None else f"{name}.{attribute}"
    return f"{text} (replaced)" if name in replaced else f"{text} (changed)"


def _modification(
    was: dict, now: dict, changed, replaced: set[str], links: dict[str, str], state: _Volatile
) -> list[str]:
    details = []
    old_properties, new_properties = _properties(was), _properties(now)
    for key in sorted(set(old_properties) | set(new_properties)):
        before, after = old_properties.get(key, _MISSING), new_properties.get(key, _MISSING)
        if before != after:
            details.append(key)
        else:
            hit = sorted(_describe(token, replaced) for token in references(after) if changed(token))
            if hit:
                details.append(f"{key} uses {', '.join(hit)}")
    for key in RESOURCE_ATTRIBUTES:
        if was.get(key) != now.get(key):
            details.append(key)
    url = new_properties.get("TemplateURL")
    if now.get("Type") == STACK_TYPE and url in links.values() and url in state.touched:
        details.append(f"nested template {url} changes")
    return details


def _propagate(
    old: dict[str, dict], new: dict[str, dict], children: dict[str, dict[str, str]], state: _Volatile
) -> None:
    """Push changed values across stack boundaries: child outputs up, parent-passed parameters down."""
    nested = {child for links in children.values() for child in links.values()}
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name) or {}, new.get(name) or {}
        changed = _changed_token(name, state, children)
        old_outputs, new_outputs = _mapping(before.get("Outputs")), _mapping(after.get("Outputs"))
        for output, body in new_outputs.items():
            value = (body or {}).get("Value") if isinstance(body, dict) else body
            previous = old_outputs.get(output)
            previous = previous.get("Value") if isinstance(previous, dict) else previous
            if previous != value or any(changed(token) for token in references(value)):
                state.outputs.setdefault(name, set()).add(output)
        if name not in nested:
            old_parameters, new_parameters = _mapping(before.get("Parameters")), _mapping(after.get("Parameters"))
            for parameter, definition in new_parameters.items():
                if old_parameters.get(parameter) != definition:
                    state.parameters.setdefault(name, set()).add(parameter)
        for logical_id, child in children.get(name, {}).items():
            was = _properties(_resources(before).get(logical_id))
            now = _properties(_resources(after).get(logical_id))
            old_passed, new_passed = _mapping(was.get("Parameters")), _mapping(now.get("Parameters"))
            child_before = _mapping((old.get(child) or {}).get("Parameters"))
            child_after = _mapping((new.get(child) or {}).get("Parameters"))
            for parameter in child_after:
                value = new_passed.get(parameter, _MISSING)
                if (
                    value != old_passed.get(parameter, _MISSING)
                    or any(changed(t) for t in references(value))
                    or (value == _MISSING and child_before.get(parameter) != child_after.get(parameter))
                ):
                    state.parameters.setdefault(child, set()).add(parameter)


# ---- inputs ----------------------------------------------------------------------------------------


def build_templates(build) -> dict[str, dict]:
    """The CloudFormation templates of an in-memory `compiler.Build`, by file name."""
    parsed = {name: json.loads(body) for name, body in build.files.items() if name.endswith(".json")}
    return {name: value for name, value in parsed.items() if model.is_template(value)}


def load_environment(folder: Path) -> dict[str, dict]:
    """The templates of one built environment folder (every *.json that is a template), by file name."""
    templates = {}
    for path in sorted(folder.glob("*.json")):
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise UserError(f"{display(path)}: cannot read the baseline template ({error})") from None
        if model.is_template(value):
            templates[path.name] = value
    return templates


def baseline_folder(baseline: Path, system: str, environment: str) -> Path:
    """`DIR/<system>/<env>` when DIR is an output root, DIR itself when it is that environment's folder."""
    for candidate in (baseline / system / environment, baseline):
        if (candidate / "root.json").is_file():
            if (candidate / manifests.FILE_NAME).is_file():
                try:
                    found = manifests.load(candidate)
                    which = (found.system, found.environment)
                except UserError:  # a baseline from another version: its place says which it is
                    which = (system, environment)
                if which != (system, environment):
                    raise UserError(
                        f"{display(candidate)}: the baseline is {which[0]}/{which[1]}, not {system}/{environment}"
                    )
            return candidate
    raise UserError(
        f"{display(baseline)}: no earlier build of {system}/{environment} (expected "
        f"{baseline / system / environment / 'root.json'} or {baseline / 'root.json'}); "
        "give --baseline an output folder, e.g. a checkout of output/ from the last release"
    )


def deployed_templates(
    cloudformation, stack_name: str, new: dict[str, dict], root_file: str = "root.json"
) -> dict[str, dict]:
    """The templates of a deployed stack and its nested stacks, keyed like `new` so `compare` can pair them:
    a nested stack under the file name the new parent gives that logical ID (others as `<LogicalId>.deployed.json`),
    its parent's TemplateURL rewritten to that key (deployed ones are S3 URLs). {} when the stack does not exist.
    For the bootstrap stack call it again with root_file="bootstrap.json"."""
    try:
        body = cloudformation.get_template(StackName=stack_name)["TemplateBody"]
    except ClientError as error:
        if "does not exist" in str(error):
            return {}
        raise
    found: dict[str, dict] = {}
    _add_deployed(cloudformation, stack_name, root_file, body, new, found)
    return found


def _add_deployed(cloudformation, stack_id: str, file_name: str, body, new: dict[str, dict], found: dict) -> None:
    template = model.parse(body)
    found[file_name] = template
    nested = {
        item["LogicalResourceId"]: item.get("PhysicalResourceId")
        for item in cloudformation.describe_stack_resources(StackName=stack_id)["StackResources"]
        if item.get("ResourceType") == STACK_TYPE and item.get("PhysicalResourceId")
    }
    new_resources = _resources(new.get(file_name))
    for logical_id, physical_id in sorted(nested.items()):
        url = _properties(new_resources.get(logical_id)).get("TemplateURL")
        child = url if isinstance(url, str) and url in new else f"{logical_id}.deployed.json"
        resource = _resources(template).get(logical_id)
        if resource is not None:
            resource.setdefault("Properties", {})["TemplateURL"] = child
        _add_deployed(
            cloudformation,
            physical_id,
            child,
            cloudformation.get_template(StackName=physical_id)["TemplateBody"],
            new,
            found,
        )


# ---- output ----------------------------------------------------------------------------------------


def label(change: Change) -> str:
    return "replace?" if change.action == REPLACE and change.conditional else change.action


def render(changes: list[Change]) -> str:
    """A readable table (one line per resource, details untruncated), counts, then the stateful resources at risk."""
    if not changes:
        return "no changes"
    rows = [("action", "template", "logical id", "type", "details")]
    for change in changes:
        details = "; ".join(change.details)
        if change.risky:
            details = f"STATEFUL, {_policy_name(change)} {change.policy}; {details}".rstrip("; ")
        rows.append(
            (label(change), change.template, change.logical_id, change.resource_type.removeprefix("AWS::"), details)
        )
    widths = [max(len(row[index]) for row in rows) for index in range(4)]
    lines = []
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(size) for cell, size in zip(row, widths)) + "  " + row[4])
        if number == 0:
            lines.append("  ".join("-" * size for size in widths) + "  " + "-" * len(row[4]))
    lines = [line.rstrip() for line in lines]
    counts = {
        action: sum(1 for change in changes if change.action == action) for action in (ADD, MODIFY, REPLACE, REMOVE)
    }
    lines.append("")
    lines.append(", ".join(f"{counts[action]} to {action}" for action in (ADD, MODIFY, REPLACE, REMOVE)))
    risks = stateful_risks(changes)
    if risks:
        lines.append(f"{len(risks)} stateful resource(s) would be replaced or removed:")
        for change in risks:
            lines.append(
                f"  {label(change)} {change.template} {change.logical_id} ({change.resource_type}, "
                f"{_policy_name(change)} {change.policy})"
            )
    return "\n".join(lines)


def _policy_name(change: Change) -> str:
    return "UpdateReplacePolicy" if change.action == REPLACE else "DeletionPolicy"


# ---- command ---------------------------------------------------------------------------------------
