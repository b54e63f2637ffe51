"""Change sets that behave like CloudFormation's.

Parameter constraints are checked on create; changes carry `Replacement`/`Details` (from the resource
schemas' createOnly properties, the data cfn-lint ships); parameter-only changes count; nested change sets
(`IncludeNestedStacks`) are made for modified nested stacks; DescribeChangeSet with `IncludePropertyValues`
adds each Target's Path, BeforeValue, AfterValue and AttributeChangeType (and Before/AfterContext); executing one
runs the update engine (which sets LastUpdatedTime) and
refreshes the stack's template, parameters and Outputs. Also `DeleteStack` refusing a protected stack.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

from moto.cloudformation import models
from moto.cloudformation.models import Change, ChangeSet
from moto.cloudformation.utils import generate_changeset_id
from moto.route53.models import route53_backends

from stackloom.cfn import parameters as cfn_parameters
from stackloom.cfn.evaluate import conditions as evaluate_conditions
from stackloom.cfn.model import GETATT, REF, STACK_TYPE, SUB, dependency_order, references
from stackloom.cfn.schemas import create_only_top
from stackloom.local.common import (
    ResourceFailed,
    backend,
    physical_id,
    reason,
    stack_event,
    template_from_url,
    validation,
)
from stackloom.local.engine import create_resources, delete_stack, update_stack

NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set."

request = threading.local()  # per server thread: flags of the request being handled (set by the responses patch)


def patch_backend() -> None:
    """moto's CloudFormation backend: create/execute change sets, DeleteStack, and a change set's diff."""
    Backend = models.CloudFormationBackend
    original_create_change_set = Backend.create_change_set

    def create_change_set(
        self,
        stack_name,
        change_set_name,
        template,
        parameters,
        description,
        change_set_type,
        notification_arns=None,
        tags=None,
        role_arn=None,
    ):
        template_dict = models.Stack.parse_template(template)
        if not isinstance(template_dict, dict) or not template_dict.get("Resources"):
            raise validation("Template format error: At least one Resources member must be defined.")
        parameters = {key: cfn_parameters.as_value(value) for key, value in (parameters or {}).items()}
        check_parameters(template_dict, parameters, self.account_id)
        existing = [stack for stack in self.stacks.values() if stack.name == stack_name]
        if change_set_type == "CREATE" and existing:
            if existing[0].status != "REVIEW_IN_PROGRESS":
                raise validation(
                    f"Stack [{stack_name}] already exists and cannot be created again with the "
                    f"changeSet [{change_set_name}]."
                )
            self.stacks.pop(existing[0].stack_id)
        if change_set_type == "UPDATE":
            if not existing:
                raise validation(f"Stack [{stack_name}] does not exist")
            status = existing[0].status
            if (
                not status.endswith("_COMPLETE")
                or status in ("ROLLBACK_COMPLETE", "DELETE_COMPLETE")
                or "IN_PROGRESS" in status
            ):
                raise validation(f"Stack:{existing[0].stack_id} is in {status} state and can not be updated.")
        change_set_id, stack_id = original_create_change_set(
            self,
            stack_name=stack_name,
            change_set_name=change_set_name,
            template=template,
            parameters=parameters,
            description=description,
            change_set_type=change_set_type,
            notification_arns=notification_arns,
            tags=tags,
            role_arn=role_arn,
        )
        change_set = self.change_sets[change_set_id]
        stack = self.stacks[stack_id]
        unchanged = (
            change_set_type == "UPDATE"
            and stack.template_dict == template_dict
            and cfn_parameters.values(stack.template_dict, stack.parameters)
            == cfn_parameters.values(template_dict, parameters)
        )
        if unchanged:
            change_set.status, change_set.execution_status, change_set.status_reason = (
                "FAILED",
                "UNAVAILABLE",
                NO_CHANGES,
            )
        else:
            change_set.status, change_set.execution_status, change_set.status_reason = (
                "CREATE_COMPLETE",
                "AVAILABLE",
                None,
            )
        change_set.include_nested_stacks = getattr(request, "include_nested", False)
        for nested in getattr(change_set, "nested_change_sets", []):
            nested.status, nested.execution_status = change_set.status, change_set.execution_status
        return change_set_id, stack_id

    Backend.create_change_set = create_change_set

    def execute_change_set(self, change_set_name, stack_name=None):
        change_set = self.describe_change_set(change_set_name)
        if getattr(change_set, "parent_change_set_id", None):
            raise validation("Nested change sets are executed by executing their root change set")
        if change_set.execution_status != "AVAILABLE":
            raise validation(
                f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current execution "
                f"status of [{change_set.execution_status}]"
            )
        stack = self.stacks[change_set.stack_id]
        failed = False
        if change_set.change_set_type == "CREATE":
            stack.template = change_set.template
            stack._parse_template()
            stack.parameters = change_set.parameters
            stack_event(stack, "CREATE_IN_PROGRESS", "User Initiated")
            try:
                stack.resource_map = stack._create_resource_map()
                create_resources(stack)
            except ResourceFailed:
                failed = True
            except Exception as error:  # noqa: BLE001 - e.g. a parameter the template cannot take
                stack_event(stack, "ROLLBACK_COMPLETE", reason(error))
                failed = True
        else:
            try:
                update_stack(stack, change_set.template, change_set.parameters)
            except ResourceFailed:
                failed = True
        for item in [change_set, *getattr(change_set, "nested_change_sets", [])]:
            item.execution_status = "EXECUTE_FAILED" if failed else "EXECUTE_COMPLETE"
        # CloudFormation deletes a stack's change sets once one of them has been executed
        for change_set_id, item in list(self.change_sets.items()):
            if item.stack_id == stack.stack_id or getattr(item, "root_change_set_id", None) == change_set.change_set_id:
                del self.change_sets[change_set_id]
        for export in stack.exports if not failed else []:
            self.exports[export.name] = export

    Backend.execute_change_set = execute_change_set

    def delete_stack_request(self, name_or_stack_id):
        stack = self.stacks.get(name_or_stack_id) or next(
            (item for item in self.stacks.values() if item.name == name_or_stack_id), None
        )
        if stack is None:
            return
        if stack.enable_termination_protection:
            raise validation(f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled")
        delete_stack(self, stack)

    Backend.delete_stack = delete_stack_request

    def diff(self):
        return plan(self, getattr(request, "include_nested", False))

    models.ChangeSet.diff = diff


def check_parameters(template_dict: dict, given: dict[str, str], account_id: str) -> None:
    """CloudFormation's parameter checks, with its messages: unknown, missing, and constraint violations
    (stackloom.cfn.parameters), and a hosted zone ID that names no zone of the account (moto's route53)."""
    unknown = cfn_parameters.unknown(template_dict, given)
    if unknown:
        raise validation(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    missing = cfn_parameters.missing(template_dict, given)
    if missing:
        raise validation(f"Parameters: [{', '.join(missing)}] must have values")
    declared = cfn_parameters.declared(template_dict)
    for name, value in cfn_parameters.values(template_dict, given).items():
        found = cfn_parameters.problem(name, declared[name], value) or _hosted_zone_problem(
            name, declared[name], value, account_id
        )
        if found:
            raise validation(cfn_parameters.constraint_message(name, declared[name], found))


def _hosted_zone_problem(name: str, definition: dict, value: str, account_id: str) -> str | None:
    if definition.get("Type", "String") != "AWS::Route53::HostedZone::Id":
        return None
    try:
        route53_backends[account_id]["aws"].get_hosted_zone(value)
    except Exception:  # noqa: BLE001 - NoSuchHostedZone
        return f"Parameter value {value} for parameter name {name} does not exist"
    return None


def _names(value: Any) -> tuple[set[str], set[str]]:
    """Names a property value refers to: (Ref and ${X} names, GetAtt and ${X.Y} resource names)."""
    found = references(value)
    refs = {item.name for item in found if item.kind == REF or (item.kind == SUB and item.attribute is None)}
    attrs = {item.name for item in found if item.kind == GETATT or (item.kind == SUB and item.attribute is not None)}
    return refs, attrs


class _Unknown(str):
    """A parameter value CloudFormation only knows while executing (e.g. another stack's output)."""


def plan(change_set, include_nested: bool) -> list:
    """The resource changes of a change set, as CloudFormation describes them (Replacement, Scope, Details),
    with nested change sets for modified nested stacks when asked."""
    stack = change_set.stack
    new_dict = change_set.template_dict
    new_values = cfn_parameters.values(new_dict, change_set.parameters or {})
    changes, _, _ = _changes(stack, new_dict, new_values, set())
    change_set.nested_change_sets = []
    if include_nested:
        _add_nested_change_sets(change_set, change_set, stack, new_dict, new_values, changes)
    return changes


def _changes(stack, new_dict: dict, new_values: dict[str, str], unknown: set[str]):
    old_dict = stack.template_dict or {}
    live = stack.resource_map._parsed_resources if old_dict else {}
    old_values = cfn_parameters.values(old_dict, stack.parameters or {}) if old_dict else {}
    old_resources = old_dict.get("Resources") or {}
    new_resources = new_dict.get("Resources") or {}
    conditions = evaluate_conditions(new_dict, new_values)
    changed_params = {
        name for name in set(old_values) | set(new_values) if old_values.get(name) != new_values.get(name)
    } | unknown
    replaced: set[str] = set()
    modified: set[str] = set()
    changes = []

    def change(action: str, name: str, resource_type: str, **extra) -> None:
        item = Change(action=action, logical_resource_id=name, resource_type=resource_type)
        item.physical_resource_id = physical_id(live[name]) if live.get(name) is not None else None
        before, after = old_resources.get(name), new_resources.get(name)
        item.before_context = _context(before, old_values) if action != "Add" else None
        item.after_context = _context(after, new_values) if action != "Remove" else None
        item.replacement = extra.get("replacement")
        item.scope = extra.get("scope", [])
        item.details = extra.get("details", [])
        item.change_set_id = None
        item.policy_action = {
            "Add": None,
            "Remove": "Delete",
            "Modify": "ReplaceAndDelete" if extra.get("replacement") == "True" else None,
        }[action]
        changes.append(item)

    for name in dependency_order(new_resources, cycle=validation):
        resource = new_resources[name]
        if resource.get("Condition") and not conditions.get(resource["Condition"], True):
            continue
        if name not in old_resources or live.get(name) is None:
            change("Add", name, resource["Type"])
            replaced.add(name)
            continue
        old = old_resources[name]
        create_only = create_only_top(stack.region_name, resource["Type"])
        details = []
        old_props, new_props = old.get("Properties") or {}, resource.get("Properties") or {}
        for prop in sorted(set(old_props) | set(new_props)):
            before, after = old_props.get(prop), new_props.get(prop)
            refs, attrs = _names(after)
            sources = [("DirectModification", None)] if before != after else []
            sources += [("ParameterReference", param) for param in sorted(refs & changed_params)]
            sources += [("ResourceReference", ref) for ref in sorted(refs & replaced)]
            sources += [("ResourceAttribute", ref) for ref in sorted(attrs & (modified | replaced))]
            for source, causing in sources:
                dynamic = source == "ResourceAttribute" or (source == "ParameterReference" and causing in unknown)
                recreation = "Never" if prop not in create_only else "Conditional" if dynamic else "Always"
                target = {"Attribute": "Properties", "Name": prop, "RequiresRecreation": recreation}
                target.update(_values(prop, before, after, old_values, new_values))
                detail = {
                    "Target": target,
                    "Evaluation": "Dynamic" if dynamic else "Static",
                    "ChangeSource": source,
                }
                if causing:
                    detail["CausingEntity"] = causing
                details.append(detail)
        if old.get("Metadata") != resource.get("Metadata"):
            details.append(
                {
                    "Target": {"Attribute": "Metadata", "RequiresRecreation": "Never"},
                    "Evaluation": "Static",
                    "ChangeSource": "DirectModification",
                }
            )
        if not details:
            continue
        recreations = {detail["Target"]["RequiresRecreation"] for detail in details}
        replacement = "True" if "Always" in recreations else "Conditional" if "Conditional" in recreations else "False"
        modified.add(name)
        if replacement == "True":
            replaced.add(name)
        change(
            "Modify",
            name,
            resource["Type"],
            replacement=replacement,
            details=details,
            scope=sorted({detail["Target"]["Attribute"] for detail in details}),
        )
    for name, old in old_resources.items():
        resource = new_resources.get(name)
        inactive = (
            resource is not None and resource.get("Condition") and not conditions.get(resource["Condition"], True)
        )
        if live.get(name) is not None and (resource is None or inactive):
            change("Remove", name, old["Type"])
    return changes, modified, replaced


VALUE_KEYS = ("Path", "BeforeValue", "AfterValue", "AttributeChangeType")


def _resolved(value: Any, values: dict[str, str]) -> Any:
    """A property value with its parameter references replaced by their values (what CloudFormation shows)."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in values:
            return values[value["Ref"]]
        return {key: _resolved(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolved(item, values) for item in value]
    return value


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _values(prop: str, before: Any, after: Any, old_values: dict, new_values: dict) -> dict:
    """A detail's Target members that DescribeChangeSet adds with IncludePropertyValues: the property's Path,
    BeforeValue / AfterValue (strings; JSON for structures) and AttributeChangeType (Add | Remove | Modify)."""
    found: dict[str, str] = {"Path": f"/Properties/{prop}"}
    if before is not None:
        found["BeforeValue"] = _shown(_resolved(before, old_values))
    if after is not None:
        found["AfterValue"] = _shown(_resolved(after, new_values))
    found["AttributeChangeType"] = "Add" if before is None else "Remove" if after is None else "Modify"
    return found


def _context(resource: dict | None, values: dict) -> str | None:
    """BeforeContext / AfterContext: the resource's properties as JSON (IncludePropertyValues only)."""
    if resource is None:
        return None
    return json.dumps({"Properties": _resolved(resource.get("Properties") or {}, values)}, sort_keys=True)


def shown(change_set, include_values: bool):
    """The change set as DescribeChangeSet answers: without IncludePropertyValues, no before/after values
    (the Target's Path, BeforeValue, AfterValue, AttributeChangeType; the change's Before/AfterContext)."""
    answer = copy.copy(change_set)
    answer.changes = []
    for change in change_set.changes or []:
        item = copy.copy(change)
        if not include_values:
            item.before_context = item.after_context = None
            item.details = [
                {**detail, "Target": {k: v for k, v in detail["Target"].items() if k not in VALUE_KEYS}}
                for detail in getattr(change, "details", None) or []
            ]
        answer.changes.append(item)
    return answer


def _add_nested_change_sets(root, parent, stack, new_dict, new_values, changes) -> None:
    live = stack.resource_map._parsed_resources
    new_resources = new_dict.get("Resources") or {}
    changing = {item.logical_resource_id for item in changes if item.action != "Add"}
    for item in changes:
        if item.action != "Modify" or item.resource_type != STACK_TYPE:
            continue
        nested = live.get(item.logical_resource_id)
        properties = new_resources[item.logical_resource_id].get("Properties", {})
        url = properties.get("TemplateURL")
        if nested is None or not isinstance(url, str):
            continue
        body = template_from_url(url, stack.account_id, stack.region_name)
        nested_dict = nested.parse_template(body)
        values, unknown = {}, set()
        for key, value in (properties.get("Parameters") or {}).items():
            resolved = _static_value(value, new_values, live, changing)
            if isinstance(resolved, _Unknown):
                unknown.add(key)
            values[key] = resolved
        nested_values = cfn_parameters.values(nested_dict, values)
        nested_changes, _, _ = _changes(nested, nested_dict, nested_values, unknown)
        name = f"{root.change_set_name}-{item.logical_resource_id}"[:128]
        child = ChangeSet.__new__(ChangeSet)
        child.change_set_type = "UPDATE"
        child.change_set_id = generate_changeset_id(name, stack.region_name, stack.account_id)
        child.change_set_name = name
        child.stack = nested
        child.stack_id, child.stack_name = nested.stack_id, nested.name
        child.notification_arns, child.description, child.tags, child.role_arn = [], None, None, None
        child.template, child.template_dict, child.parameters = body, nested_dict, nested_values
        child.creation_time = root.creation_time
        child.changes = nested_changes
        child.status, child.execution_status, child.status_reason = "CREATE_COMPLETE", "AVAILABLE", None
        child.include_nested_stacks = True
        child.parent_change_set_id = parent.change_set_id
        child.root_change_set_id = root.change_set_id
        child.nested_change_sets = []
        item.change_set_id = child.change_set_id
        backend(stack.account_id, stack.region_name).change_sets[child.change_set_id] = child
        root.nested_change_sets.append(child)
        _add_nested_change_sets(root, child, nested, nested_dict, nested_values, nested_changes)


def _static_value(value: Any, values: dict[str, str], live: dict, changing: set[str]) -> str:
    """A nested stack parameter as far as it is known before execution."""
    if isinstance(value, dict) and "Ref" in value:
        return values.get(value["Ref"], _Unknown(value["Ref"]))
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target, attribute = value["Fn::GetAtt"][0], value["Fn::GetAtt"][1]
        instance = live.get(target)
        if target in changing or instance is None:
            return _Unknown(f"{target}.{attribute}")
        try:
            return cfn_parameters.as_value(instance.get_cfn_attribute(attribute))
        except Exception:  # noqa: BLE001
            return _Unknown(f"{target}.{attribute}")
    if isinstance(value, (dict, list)):
        return _Unknown(json.dumps(value, sort_keys=True))
    return cfn_parameters.as_value(value)
