"""The update engine: create, update (in place or by replacement), delete and roll back a stack's resources
in dependency order, with per-resource events, the way CloudFormation does.

Cascades come from moto's resolution of Ref/GetAtt against the resources updated before; removed and
replaced resources are cleaned up afterwards; nested stacks are updated in place.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import Stack
from moto.core.utils import utcnow

from stackloom.cfn.model import STACK_TYPE, dependency_order
from stackloom.cfn.schemas import create_only_top
from stackloom.local.common import (
    ResourceFailed,
    backend,
    event,
    logger,
    physical_id,
    reason,
    stack_event,
    validation,
)
from stackloom.local.standins import STAND_INS


def create_resources(stack) -> None:
    """Create every resource of a stack whose template and parameters are set; roll back on failure."""
    stack._local_created = []
    try:
        stack.resource_map.create(stack.template_dict)
        stack.output_map = stack._create_output_map()
        for key in stack.output_map.outputs:
            stack.output_map[key]
    except ResourceFailed as failure:
        stack_event(
            stack,
            "ROLLBACK_IN_PROGRESS",
            f"The following resource(s) failed to create: [{failure.logical_id}]. Rollback requested by user.",
        )
        delete_resources(stack, list(reversed(stack._local_created)), create_rollback=True)
        stack.output_map = stack._create_output_map()
        stack.output_map._output_json_map = {}
        stack_event(stack, "ROLLBACK_COMPLETE")
        raise
    stack.description = stack.template_dict.get("Description")
    stack_event(stack, "CREATE_COMPLETE")


def delete_resources(stack, names: list[str], template: dict | None = None, create_rollback: bool = False) -> None:
    """Delete resources (in the given order) with events. DeletionPolicy Retain keeps a resource (also when a
    failed create rolls back, as CloudFormation does); RetainExceptOnCreate keeps it except in that case."""
    resource_map = stack.resource_map
    resources = (template or {}).get("Resources") or resource_map._resource_json_map
    for name in names:
        instance = resource_map._parsed_resources.get(name)
        resource_json = resources.get(name) or {}
        resource_type = resource_json.get("Type", getattr(instance, "cf_resource_type", ""))
        if instance is None or isinstance(instance, (str, int, float, list)):
            continue
        physical = physical_id(instance)
        policy = resource_json.get("DeletionPolicy")
        if policy == "Retain" or (policy == "RetainExceptOnCreate" and not create_rollback):
            event(stack, name, physical, resource_type, "DELETE_SKIPPED")
        else:
            event(stack, name, physical, resource_type, "DELETE_IN_PROGRESS")
            try:
                _delete_instance(stack, instance, resource_json, create_rollback)
            except Exception as error:  # noqa: BLE001
                # moto cannot delete some types (route tables, attachments, ...) that real AWS deletes first,
                # so their parents "still have dependencies": count it as deleted, as CloudFormation would.
                logger.info("local endpoint: %s (%s) not deleted in moto: %s", name, resource_type, reason(error))
            event(stack, name, physical, resource_type, "DELETE_COMPLETE")
        resource_map._parsed_resources.pop(name, None)


def _delete_instance(stack, instance, resource_json: dict, create_rollback: bool = False) -> None:
    if isinstance(instance, Stack):
        delete_stack(backend(stack.account_id, stack.region_name), instance, create_rollback)
        return
    stack.resource_map._delete_resource(instance, resource_json)


def delete_stack(found_backend, stack, create_rollback: bool = False) -> None:
    """Delete a stack's resources in reverse dependency order, with events; it moves to the deleted stacks."""
    if stack.stack_id in found_backend.deleted_stacks:
        return
    stack_event(stack, "DELETE_IN_PROGRESS", "User Initiated")
    resources = stack.resource_map._resource_json_map
    order = [
        name
        for name in reversed(dependency_order(resources, cycle=validation))
        if name in stack.resource_map._parsed_resources
    ]
    delete_resources(stack, order, create_rollback=create_rollback)
    found_backend.stacks.pop(stack.stack_id, None)
    found_backend.deleted_stacks[stack.stack_id] = stack
    for export in stack.exports:
        found_backend.exports.pop(export.name, None)
    stack_event(stack, "DELETE_COMPLETE")


def update_stack(stack, template: str, parameters: dict[str, str]) -> None:
    """Apply a new template and parameters to a created stack the way CloudFormation does, or roll back
    (and raise ResourceFailed) when a resource fails."""
    resource_map = stack.resource_map
    account, region = stack.account_id, stack.region_name
    new_dict = stack.parse_template(template)
    saved = dict(
        template=stack.template,
        template_dict=stack.template_dict,
        parameters=stack.parameters,
        parsed=dict(resource_map._parsed_resources),
        json_map=resource_map._resource_json_map,
        input=resource_map.input_parameters,
    )
    stack.last_updated_time = utcnow()  # DescribeStacks' LastUpdatedTime: when the last update began
    stack_event(stack, "UPDATE_IN_PROGRESS", "User Initiated")
    added: list[str] = []
    replaced: dict[str, Any] = {}
    modified: dict[str, tuple[Any, dict]] = {}
    new_resources = new_dict.get("Resources", {})
    try:
        resource_map._template = new_dict
        resource_map._resource_json_map = new_resources
        resource_map.input_parameters = parameters
        try:
            resource_map.load_mapping()
            resource_map.load_parameters()
            resource_map.load_conditions()
        except Exception as error:  # noqa: BLE001
            raise ResourceFailed(stack.stack_id, stack.name, reason(error)) from error
        for name in dependency_order(new_resources, cycle=validation):
            resource_json = new_resources[name]
            condition = resource_json.get("Condition")
            if condition and not resource_map.lazy_condition_map[condition]:
                continue
            current = saved["parsed"].get(name)
            if current is None or name not in saved["json_map"]:
                resource_map._parsed_resources.pop(name, None)
                resource_map[name]
                added.append(name)
                continue
            resource_type = resource_json["Type"]
            try:
                cleaned = parsing.clean_json(copy.deepcopy(resource_json), resource_map)
            except ResourceFailed:
                raise
            except Exception as error:  # noqa: BLE001
                event(stack, name, physical_id(current), resource_type, "UPDATE_FAILED", reason(error))
                raise ResourceFailed(stack.stack_id, name, reason(error)) from error
            previous = getattr(current, "_local_json", None)
            if cleaned == previous:
                continue
            physical = physical_id(current)
            if resource_type != STACK_TYPE and _replaces(region, resource_type, previous, cleaned):
                event(
                    stack,
                    name,
                    physical,
                    resource_type,
                    "UPDATE_IN_PROGRESS",
                    "Requested update requires the creation of a new physical resource; hence creating one.",
                )
                try:
                    instance = _create_replacement(name, resource_json, resource_map, account, region)
                except Exception as error:  # noqa: BLE001
                    event(stack, name, physical, resource_type, "UPDATE_FAILED", reason(error))
                    raise ResourceFailed(stack.stack_id, name, reason(error)) from error
                instance._local_json = cleaned
                resource_map._parsed_resources[name] = instance
                replaced[name] = current
                event(stack, name, physical_id(instance), resource_type, "UPDATE_COMPLETE")
                continue
            event(stack, name, physical, resource_type, "UPDATE_IN_PROGRESS")
            nested_state = (current.template, dict(current.parameters)) if resource_type == STACK_TYPE else None
            try:
                instance = update_in_place(current, name, resource_type, cleaned, account, region)
            except ResourceFailed as failure:
                why = (
                    (
                        f"Embedded stack {physical} was not successfully updated. Currently in "
                        f"UPDATE_ROLLBACK_COMPLETE with reason: The following resource(s) failed to update: "
                        f"[{failure.logical_id}]. "
                    )
                    if resource_type == STACK_TYPE
                    else failure.reason
                )
                event(stack, name, physical, resource_type, "UPDATE_FAILED", why)
                raise ResourceFailed(stack.stack_id, name, why) from failure
            except Exception as error:  # noqa: BLE001
                event(stack, name, physical, resource_type, "UPDATE_FAILED", reason(error))
                raise ResourceFailed(stack.stack_id, name, reason(error)) from error
            instance._local_json = cleaned
            resource_map._parsed_resources[name] = instance
            modified[name] = (current, previous, nested_state)
            event(stack, name, physical_id(instance), resource_type, "UPDATE_COMPLETE")
    except ResourceFailed as failure:
        _rollback_update(stack, saved, added, replaced, modified, failure)
        raise
    stack_event(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    old_resources = saved["json_map"]
    removed = [
        name
        for name in reversed(dependency_order(old_resources, cycle=validation))
        if name in saved["parsed"]
        and saved["parsed"][name] is not None
        and (
            name not in new_resources
            or resource_map._parsed_resources.get(name) is None
            or _inactive(resource_map, new_resources[name])
        )
    ]
    for name in removed:
        resource_map._parsed_resources[name] = saved["parsed"][name]
    delete_resources(stack, removed, {"Resources": old_resources})
    for name, old in replaced.items():
        keep = resource_map._parsed_resources[name]
        resource_map._parsed_resources[name] = old
        delete_resources(stack, [name], {"Resources": old_resources})
        resource_map._parsed_resources[name] = keep
    stack.template = template
    stack.template_dict = new_dict
    stack.parameters = parameters
    stack.description = new_dict.get("Description")
    stack.output_map = stack._create_output_map()
    stack_event(stack, "UPDATE_COMPLETE")


def _inactive(resource_map, resource_json: dict) -> bool:
    condition = resource_json.get("Condition")
    return bool(condition) and not resource_map.lazy_condition_map[condition]


def _replaces(region: str, resource_type: str, previous: dict | None, cleaned: dict) -> bool:
    old = (previous or {}).get("Properties", {})
    new = cleaned.get("Properties", {})
    return any(old.get(name) != new.get(name) for name in create_only_top(region, resource_type))


def _create_replacement(name, resource_json, resource_map, account, region):
    resource_class, cleaned, physical_name = parsing.parse_resource_and_generate_name(
        name, copy.deepcopy(resource_json), resource_map
    )
    instance = resource_class.create_from_cloudformation_json(
        physical_name,
        cleaned,
        account,
        region,
        LogicalId=name,
        StackId=resource_map.stack_id,
        ResourceType=resource_json["Type"],
    )
    instance.cf_resource_type = resource_json["Type"]
    instance.logical_resource_id = name
    return instance


def update_in_place(current, name, resource_type, cleaned, account, region):
    resource_class = parsing.resource_class_from_type(resource_type)
    if type(current) in STAND_INS.values():  # stood in at creation: update the stand-in, not moto's model
        resource_class = type(current)
    if resource_class is None or hasattr(resource_class.update_from_cloudformation_json, "__isabstractmethod__"):
        return current  # moto cannot change it: keep the resource as it is (its properties are remembered)
    name_property = parsing.resource_name_property_from_type(resource_type)
    new_name = cleaned.get("Properties", {}).get(name_property) if name_property else None
    instance = resource_class.update_from_cloudformation_json(
        original_resource=current,
        new_resource_name=new_name or getattr(current, "physical_resource_id", name),
        cloudformation_json=cleaned,
        account_id=account,
        region_name=region,
    )
    if instance is None:
        return current
    if resource_type == "AWS::IAM::Role" and hasattr(instance, "policies"):
        # moto's role update changes only the description; CloudFormation also replaces the inline policies
        instance.policies = {
            policy["PolicyName"]: policy["PolicyDocument"]  # as moto stores them on create
            for policy in cleaned.get("Properties", {}).get("Policies", [])
        }
    instance.cf_resource_type = resource_type
    instance.logical_resource_id = name
    return instance


def _rollback_update(stack, saved, added, replaced, modified, failure: ResourceFailed) -> None:
    resource_map = stack.resource_map
    stack_event(
        stack, "UPDATE_ROLLBACK_IN_PROGRESS", f"The following resource(s) failed to update: [{failure.logical_id}]. "
    )
    new_template = resource_map._template
    for name, (old, previous, nested_state) in reversed(list(modified.items())):
        current = resource_map._parsed_resources.get(name)
        resource_type = (previous or {}).get("Type") or getattr(old, "cf_resource_type", "")
        event(stack, name, physical_id(current), resource_type, "UPDATE_IN_PROGRESS")
        try:
            if nested_state is not None:
                update_stack(current, *nested_state)
            elif previous is not None:
                update_in_place(current, name, resource_type, previous, stack.account_id, stack.region_name)
        except Exception:  # noqa: BLE001 - best effort, like UPDATE_ROLLBACK_FAILED would be
            pass
        resource_map._parsed_resources[name] = old
        event(stack, name, physical_id(old), resource_type, "UPDATE_COMPLETE")
    stack_event(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    resource_map._resource_json_map = new_template.get("Resources", {})
    delete_resources(stack, list(reversed(added)), new_template, create_rollback=True)
    for name, old in replaced.items():
        delete_resources(stack, [name], new_template)
        resource_map._parsed_resources[name] = old
    resource_map._template = saved["template_dict"]
    resource_map._resource_json_map = saved["json_map"]
    resource_map.input_parameters = saved["input"]
    resource_map._parsed_resources.update(
        {k: v for k, v in saved["parsed"].items() if k not in resource_map._parsed_resources}
    )
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    stack.template, stack.template_dict, stack.parameters = (
        saved["template"],
        saved["template_dict"],
        saved["parameters"],
    )
    stack.output_map = stack._create_output_map()
    stack_event(stack, "UPDATE_ROLLBACK_COMPLETE")
