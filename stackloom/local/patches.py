"""The patches to moto 5.2 that make its CloudFormation behave like CloudFormation (apply_patches, once per
process): resource creation (dependency order, events, stand-ins, custom resources, `Fn::GetAZs`, nested
stack outputs), nested stacks through the update engine, the change-set backend (changesets.py), the
CloudFormation API responses (IncludeNestedStacks, termination protection), EC2's default groups, ELBv2's
CertificateNotFound, its load balancers' Type and attribute lists and its target groups' return values, IAM roles' ManagedPolicyArns, and the ECS
properties moto's CloudFormation models drop (task definition, service)."""

from __future__ import annotations

import copy
import functools
import json
import re
import threading
from typing import Any
from urllib.parse import urlparse

from moto.cloudformation import models, parsing, responses, utils
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.responses import ActionResult
from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.ec2.models import ec2_backends
from moto.ec2.models.elastic_network_interfaces import NetworkInterface
from moto.ec2.models.security_groups import SecurityGroupBackend
from moto.ec2.utils import generate_dns_from_ip
from moto.ecs import models as ecs_models
from moto.elb.exceptions import CertificateNotFoundException
from moto.elbv2 import models as elbv2_models
from moto.elbv2.exceptions import ELBClientError
from moto.iam import models as iam_models
from moto.iam.aws_managed_policies import aws_managed_policies_data

from stackloom.cfn.model import STACK_TYPE, dependencies
from stackloom.cfn.parameters import as_value
from stackloom.local import drift, rollouts, tasks
from stackloom.local.changesets import patch_backend, request, shown
from stackloom.local.common import (
    ResourceFailed,
    backend,
    event,
    logger,
    physical_id,
    reason,
    stack_by_id,
    stack_event,
    template_from_url,
    validation,
)
from stackloom.local.custom import custom_resource_class
from stackloom.local.engine import create_resources, delete_stack, update_stack
from stackloom.local.standins import AFTER_CREATE, LOWERCASE_NAMES, create_stand_in, stand_in_class

_patch_lock = threading.Lock()
_patched = False
# Canonical hosted zone of ALBs in eu-central-1 (any well-formed ID does for a local endpoint).
_ALB_ZONE_ID = "Z215JYRZR1TBD5"


def apply_patches() -> None:
    """Patch moto once per process (idempotent, thread-safe)."""
    global _patched
    with _patch_lock:
        if _patched:
            return
        _patch_parsing()
        _patch_stack()
        patch_backend()
        _patch_responses()
        _patch_ec2()
        _patch_elbv2()
        _patch_iam()
        _patch_ecs()
        tasks.patch()
        drift.patch()
        _patched = True


def _patch_ec2() -> None:
    original_create = SecurityGroupBackend.create_security_group

    def create_security_group(self, name, description, vpc_id=None, tags=None, force=False, is_default=None):
        group = original_create(self, name, description, vpc_id=vpc_id, tags=tags, force=force, is_default=is_default)
        if is_default:  # AWS's default group of a VPC also lets in all traffic from itself
            self.authorize_security_group_ingress(
                group.id, "-1", None, None, [], source_groups=[{"GroupId": group.id}], vpc_id=group.vpc_id
            )
        return group

    SecurityGroupBackend.create_security_group = create_security_group

    original_interface = NetworkInterface.__init__

    def network_interface(self, *args, **kwargs):
        original_interface(self, *args, **kwargs)
        # every ENI has its private IPv4 DNS name on AWS; moto gives one only in a VPC whose DNS hostnames it
        # knows are on, which it never learns from a template (ECS's RunTask of an awsvpc task reads it)
        if not hasattr(self, "private_dns_name") and self.private_ip_address:
            self.private_dns_name = generate_dns_from_ip(self.private_ip_address)

    NetworkInterface.__init__ = network_interface


class CertificateNotFound(ELBClientError):
    """ELBv2's answer to a listener certificate that is not in the account and region (its code and message)."""

    code = "CertificateNotFound"


def _patch_iam() -> None:
    """moto keeps no AWS::IAM::Role ManagedPolicyArns (an addon's policy on a task role): attach them on create,
    attach and detach the difference on an update, and detach them all before the role is deleted (moto refuses to
    delete a role with attached policies), as CloudFormation does."""
    role_class = iam_models.Role
    create = role_class.create_from_cloudformation_json.__func__
    update = role_class.update_from_cloudformation_json.__func__
    delete = role_class.delete_from_cloudformation_json.__func__

    def attach(role, cloudformation_json: dict | None, account_id: str, region_name: str) -> None:
        """Make the role's attached policies the template's, keeping those already attached attached."""
        iam = iam_models.iam_backends[account_id][iam_models.get_partition(region_name)]
        wanted = list(dict.fromkeys(((cloudformation_json or {}).get("Properties") or {}).get("ManagedPolicyArns", [])))
        for arn in sorted(set(role.managed_policies) - set(wanted)):
            iam.detach_role_policy(arn, role.name)
        for arn in wanted:
            if arn not in role.managed_policies and _aws_managed(iam, arn) is not False:
                iam.attach_role_policy(arn, role.name)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        role = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        attach(role, cloudformation_json, account_id, region_name)
        return role

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        role = update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        attach(role or original_resource, cloudformation_json, account_id, region_name)
        return role

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        iam = iam_models.iam_backends[account_id][iam_models.get_partition(region_name)]
        for role in [role for role in iam.roles.values() if role.name == resource_name]:
            attach(role, None, account_id, region_name)
        return delete(cls, resource_name, cloudformation_json, account_id, region_name)

    role_class.create_from_cloudformation_json = create_from_cloudformation_json
    role_class.update_from_cloudformation_json = update_from_cloudformation_json
    role_class.delete_from_cloudformation_json = delete_from_cloudformation_json


def _aws_managed(iam, arn: str) -> bool | None:
    """For an AWS managed policy's ARN (`arn:aws:iam::aws:policy/...`, which moto does not load unless told to):
    True once moto's backend has it (from the copy of their documents moto ships), False when moto does not know
    it (the local endpoint leaves it unattached); None for any other ARN."""
    if ":iam::aws:policy/" not in arn:
        return None
    if arn not in iam.managed_policies:
        name = arn.rsplit("/", 1)[-1]
        data = _aws_managed_documents().get(name)
        if data is None:
            return False
        policy = iam_models.AWSManagedPolicy.from_data(name, iam.account_id, iam.region_name, data)
        if policy.arn != arn:
            return False
        iam.managed_policies[arn] = policy
    return True


@functools.cache
def _aws_managed_documents() -> dict:
    return json.loads(aws_managed_policies_data)


# AWS::ECS::TaskDefinition properties -> moto's register_task_definition arguments (all but the containers and
# family, which moto's CloudFormation model reads itself).
_TASK_DEFINITION_ARGUMENTS = {
    "Volumes": "volumes",
    "NetworkMode": "network_mode",
    "PlacementConstraints": "placement_constraints",
    "RequiresCompatibilities": "requires_compatibilities",
    "Cpu": "cpu",
    "Memory": "memory",
    "TaskRoleArn": "task_role_arn",
    "ExecutionRoleArn": "execution_role_arn",
    "ProxyConfiguration": "proxy_configuration",
    "InferenceAccelerators": "inference_accelerators",
    "RuntimePlatform": "runtime_platform",
    "IpcMode": "ipc_mode",
    "PidMode": "pid_mode",
    "EphemeralStorage": "ephemeral_storage",
}


def _task_definition_arguments(properties: dict) -> dict:
    """register_task_definition's keyword arguments from a template's TaskDefinition properties, in the API's
    camelCase shapes (RuntimePlatform.CpuArchitecture -> runtimePlatform.cpuArchitecture)."""
    found = {}
    for key, argument in _TASK_DEFINITION_ARGUMENTS.items():
        if key in properties:
            value = properties[key]
            found[argument] = (
                remap_nested_keys(value, pascal_to_camelcase) if isinstance(value, dict | list) else str(value)
            )
    if "Tags" in properties:
        found["tags"] = [{"key": tag["Key"], "value": tag["Value"]} for tag in properties["Tags"]]
    return found


def _flag(value) -> bool:
    """A Boolean property as CloudFormation reads it: true, or "true" from a parameter."""
    return str(value).lower() == "true"


def _keep_service_properties(service, properties: dict) -> None:
    """What moto's AWS::ECS::Service drops and DescribeServices returns: enableExecuteCommand and the
    deploymentConfiguration (circuit breaker, deployment alarms, percents), in the API's camelCase shapes."""
    service.enable_execute_command = _flag(properties.get("EnableExecuteCommand"))
    configuration = properties.get("DeploymentConfiguration")
    if isinstance(configuration, dict):
        service.deployment_configuration = remap_nested_keys(configuration, pascal_to_camelcase)


def _patch_ecs() -> None:
    """moto's AWS::ECS::TaskDefinition registers only the family, containers, volumes and memory, and its
    AWS::ECS::Service drops EnableExecuteCommand and DeploymentConfiguration: register the task definition with every
    property the template gives (CPU, network mode, roles, RuntimePlatform, EphemeralStorage, ...) and keep the
    service's EnableExecuteCommand and DeploymentConfiguration (DescribeServices' enableExecuteCommand,
    deploymentConfiguration with its alarms), as CloudFormation does.; a rollout whose tasks
    keep failing trips the circuit breaker (rollouts.py)."""
    TaskDefinition, Service = ecs_models.TaskDefinition, ecs_models.Service

    @classmethod
    def create_task_definition(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        family = properties.get("Family", resource_name)
        containers = remap_nested_keys(properties.get("ContainerDefinitions", []), pascal_to_camelcase)
        backend = ecs_models.ecs_backends[account_id][region_name]
        return backend.register_task_definition(
            family=family, container_definitions=containers, **_task_definition_arguments(properties)
        )

    @classmethod
    def update_task_definition(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        # a task definition is immutable: an update registers a new revision (moto's own update keeps too little)
        backend = ecs_models.ecs_backends[account_id][region_name]
        backend.deregister_task_definition(original_resource.arn)
        return create_task_definition.__func__(cls, new_resource_name, cloudformation_json, account_id, region_name)

    TaskDefinition.create_from_cloudformation_json = create_task_definition
    TaskDefinition.update_from_cloudformation_json = update_task_definition

    original_create = Service.create_from_cloudformation_json.__func__
    original_update = Service.update_from_cloudformation_json.__func__

    @classmethod
    def create_service(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        service = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        _keep_service_properties(service, cloudformation_json["Properties"])
        try:
            rollouts.roll_out(service, cloudformation_json["Properties"], account_id, region_name)
        except rollouts.CircuitBreakerTriggered:  # the resource failed: CloudFormation deletes it on rollback
            ecs_models.ecs_backends[account_id][region_name].delete_service(service.cluster_name, service.name, True)
            raise
        return service

    @classmethod
    def update_service(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        service = original_update(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        _keep_service_properties(service, cloudformation_json["Properties"])
        rollouts.roll_out(service, cloudformation_json["Properties"], account_id, region_name)
        return service

    Service.create_from_cloudformation_json = create_service
    Service.update_from_cloudformation_json = update_service


def _patch_elbv2() -> None:
    original_register = elbv2_models.register_certificate

    def register_certificate(account_id: str, region: str, arn_certificate: str, arn_user: str) -> None:
        try:
            original_register(account_id=account_id, region=region, arn_certificate=arn_certificate, arn_user=arn_user)
        except CertificateNotFoundException:  # moto's is the classic ELB's, without the ARN
            raise CertificateNotFound(f"Certificate '{arn_certificate}' not found") from None

    elbv2_models.register_certificate = register_certificate
    _patch_elbv2_properties()


def _patch_elbv2_properties() -> None:
    """moto creates every AWS::ElasticLoadBalancingV2::LoadBalancer as an application load balancer and drops the
    LoadBalancerAttributes and a target group's TargetGroupAttributes: create it of its `Type` (so a network load
    balancer takes TCP and UDP listeners, as ELB does) and apply both attribute lists through moto's own modify
    calls, which validate them as its API does."""
    balancer_model, group_model = elbv2_models.FakeLoadBalancer, elbv2_models.FakeTargetGroup
    original_group = group_model.create_from_cloudformation_json.__func__

    def create_balancer(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        elbv2 = elbv2_models.elbv2_backends[account_id][region_name]
        balancer = elbv2.create_load_balancer(
            resource_name,
            properties.get("SecurityGroups"),
            properties.get("Subnets"),
            scheme=properties.get("Scheme", "internet-facing"),
            loadbalancer_type=properties.get("Type", "application"),
        )
        attributes = _attributes(properties.get("LoadBalancerAttributes"))
        if attributes:
            elbv2.modify_load_balancer_attributes(balancer.arn, attributes)
        return balancer

    def create_group(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        group = original_group(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        attributes = _attributes(cloudformation_json["Properties"].get("TargetGroupAttributes"))
        if attributes:
            elbv2_models.elbv2_backends[account_id][region_name].modify_target_group_attributes(group.arn, attributes)
        return group

    def group_attribute(self, attribute_name: str) -> Any:
        """The target group's CloudFormation return values (AWS::ElasticLoadBalancingV2::TargetGroup): moto's model
        has none, so `Fn::GetAtt` failed. TargetGroupFullName is the ARN's resource part, `targetgroup/<name>/<id>`,
        the value the AWS/ApplicationELB `TargetGroup` dimension takes."""
        resource = self.arn.split(":", 5)[5]
        values = {
            "TargetGroupArn": self.arn,
            "TargetGroupFullName": resource,
            "TargetGroupName": self.name,
            "LoadBalancerArns": list(getattr(self, "load_balancer_arns", []) or []),
        }
        if attribute_name not in values:
            raise UnformattedGetAttTemplateException()
        return values[attribute_name]

    balancer_model.create_from_cloudformation_json = classmethod(create_balancer)
    group_model.create_from_cloudformation_json = classmethod(create_group)
    group_model.get_cfn_attribute = group_attribute


def _attributes(items) -> dict[str, str]:
    """An ELBv2 attribute list of a template ([{Key, Value}]) as the {key: value} moto's modify calls take."""
    return {str(item["Key"]): str(item["Value"]) for item in items or [] if isinstance(item, dict) and "Key" in item}


def _patch_parsing() -> None:
    original_class_from_type = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str):
        if resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource":
            return custom_resource_class()
        if resource_type in parsing.NULL_MODELS:
            return original_class_from_type(resource_type)
        if resource_type not in parsing.get_model_map():
            return stand_in_class(resource_type)
        return parsing.get_model_map()[resource_type]

    parsing.resource_class_from_type = resource_class_from_type

    original_clean_json = parsing.clean_json

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, dict) and "Fn::GetAZs" in resource_json:
            region = original_clean_json(resource_json["Fn::GetAZs"], resources_map) or resources_map["AWS::Region"]
            return _availability_zones(resources_map._account_id, region)
        result = original_clean_json(resource_json, resources_map)
        if isinstance(resource_json, list):
            # CloudFormation drops list items that are AWS::NoValue (an Fn::If branch); moto keeps them as None
            return [item for item in result if item is not None]
        if (
            isinstance(resource_json, dict)
            and isinstance(resource_json.get("Fn::GetAtt"), list)
            and isinstance(result, dict)
            and "Fn::GetAtt" in result
        ):
            # moto has no value for this attribute: give a placeholder of the right shape
            name, attribute = resource_json["Fn::GetAtt"][0], resource_json["Fn::GetAtt"][1]
            return _placeholder_attribute(resources_map[name], attribute)
        return result

    parsing.clean_json = clean_json

    original_generate_name = parsing.generate_resource_name

    def generate_resource_name(resource_type: str, stack_name: str, logical_id: str) -> str:
        name = original_generate_name(resource_type, stack_name, logical_id)
        if resource_type.startswith(LOWERCASE_NAMES):  # CloudFormation names these lowercase, at most 63 long
            name = re.sub("-+", "-", name.lower()[:63]).strip("-")
        return name

    parsing.generate_resource_name = generate_resource_name

    original_from_url = utils.get_stack_from_s3_url

    def get_stack_from_s3_url(template_url: str, account_id: str, partition: str) -> str:
        parts = urlparse(template_url)
        if parts.hostname in ("127.0.0.1", "localhost"):
            template_url = template_url.replace(parts.netloc, f"localhost:{parts.port or 80}", 1)
        return original_from_url(template_url, account_id=account_id, partition=partition)

    for module in (utils, models, responses):
        module.get_stack_from_s3_url = get_stack_from_s3_url

    original_create = parsing.parse_and_create_resource

    def parse_and_create_resource(logical_id, resource_json, resources_map, account_id, region_name):
        condition = resource_json.get("Condition")
        if condition and not resources_map.lazy_condition_map[condition]:
            return None
        stack = stack_by_id(account_id, region_name, resources_map.stack_id)
        # Create what this resource refers to first, so events come in dependency order and a failed
        # dependency stops this resource before it starts.
        for dependency in sorted(dependencies(logical_id, resources_map._resource_json_map)):
            resources_map[dependency]
        resource_type = resource_json["Type"]
        if stack is not None:
            event(stack, logical_id, None, resource_type, "CREATE_IN_PROGRESS")
        try:
            try:
                instance = original_create(logical_id, _adapt(resource_json), resources_map, account_id, region_name)
            except (KeyError, TypeError, AttributeError, NotImplementedError, IndexError) as limitation:
                # moto's model for this type cannot take these properties (not an AWS error): stand in for it
                logger.info("local endpoint: %s (%s) stands in for moto: %r", logical_id, resource_type, limitation)
                instance = create_stand_in(logical_id, resource_json, resources_map, account_id, region_name)
            if instance is not None:
                instance._local_json = clean_json(copy.deepcopy(resource_json), resources_map)
                if resource_type in AFTER_CREATE:
                    AFTER_CREATE[resource_type](instance, instance._local_json.get("Properties", {}))
        except ResourceFailed as failure:
            if stack is not None and (failure.stack_id, failure.logical_id) == (stack.stack_id, logical_id):
                event(stack, logical_id, failure.physical_id, resource_type, "CREATE_FAILED", failure.reason)
            raise
        except Exception as error:  # noqa: BLE001 - any model error is this resource's failure
            why = reason(error)
            if stack is not None:
                event(stack, logical_id, None, resource_type, "CREATE_FAILED", why)
            raise ResourceFailed(resources_map.stack_id, logical_id, why) from error
        if stack is not None and instance is not None:
            stack._local_created = getattr(stack, "_local_created", []) + [logical_id]
            event(stack, logical_id, physical_id(instance), resource_type, "CREATE_COMPLETE")
        return instance

    parsing.parse_and_create_resource = parse_and_create_resource

    original_load_parameters = parsing.ResourceMap.load_parameters

    def load_parameters(self) -> None:
        """Also split list-typed defaults (moto splits only values that were passed in)."""
        original_load_parameters(self)
        for name, spec in (self._template.get("Parameters") or {}).items():
            value = self.resolved_parameters.get(name)
            kind = spec.get("Type", "String")
            if isinstance(value, str) and (kind.startswith("List<") or kind == "CommaDelimitedList"):
                self.resolved_parameters[name] = self._parsed_resources[name] = value.split(",") if value else []

    parsing.ResourceMap.load_parameters = load_parameters

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name.startswith("Outputs."):
            key = attribute_name.split(".", 1)[1]
            output = self.output_map.get(key) if key in (self.output_map.outputs or []) else None
            if output is None:
                raise validation(f"Template error: stack {self.name} has no output {key}")
            return output.value
        raise UnformattedGetAttTemplateException()

    models.Stack.get_cfn_attribute = get_cfn_attribute


def _placeholder_attribute(instance: Any, attribute: str) -> str:
    arn = str(getattr(instance, "arn", "") or "")
    resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else physical_id(instance)
    if attribute == "CanonicalHostedZoneID":
        return _ALB_ZONE_ID
    if attribute.endswith("FullName"):
        return resource.split("/", 1)[1] if resource.startswith("loadbalancer/") else resource
    if attribute.endswith("Arn"):
        return arn or physical_id(instance)
    return physical_id(instance)


def _adapt(resource_json: dict) -> dict:
    """Property shapes moto's models read differently from CloudFormation."""
    if resource_json.get("Type") == "AWS::KMS::Key" and "Tags" in resource_json.get("Properties", {}):
        resource_json = copy.deepcopy(resource_json)
        resource_json["Properties"]["Tags"] = [
            {"TagKey": tag.get("Key"), "TagValue": tag.get("Value")} for tag in resource_json["Properties"]["Tags"]
        ]
    return resource_json


def _availability_zones(account_id: str, region: str) -> list[str]:
    try:
        zones = ec2_backends[account_id][region].describe_availability_zones()
        names = sorted(zone.name for zone in zones)
    except Exception:  # noqa: BLE001 - unknown region in moto
        names = []
    return names or [f"{region}{letter}" for letter in "abc"]


def _patch_stack() -> None:
    """Nested stacks (AWS::CloudFormation::Stack resources) go through the update engine."""
    Stack = models.Stack

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        """A nested stack: created, and rolled back + deleted when one of its resources fails."""
        found_backend = backend(account_id, region_name)
        properties = cloudformation_json["Properties"]
        body = template_from_url(properties["TemplateURL"], account_id, region_name)
        parameters = {key: as_value(value) for key, value in properties.get("Parameters", {}).items()}
        parent_id = kwargs.get("StackId")
        stack_id = models.generate_stack_id(resource_name, region_name, account_id)
        stack = Stack(
            stack_id=stack_id,
            name=resource_name,
            template=body,
            parameters=parameters,
            account_id=account_id,
            region_name=region_name,
            cross_stack_resources=found_backend.exports,
        )
        stack.parent_id = parent_id
        parent = stack_by_id(account_id, region_name, parent_id) if parent_id else None
        stack.root_id = getattr(parent, "root_id", None) or parent_id
        found_backend.stacks[stack_id] = stack
        if parent is not None:
            event(
                parent,
                kwargs.get("LogicalId", resource_name),
                stack_id,
                STACK_TYPE,
                "CREATE_IN_PROGRESS",
                "Resource creation Initiated",
            )
        stack_event(stack, "CREATE_IN_PROGRESS", "User Initiated")
        try:
            create_resources(stack)
        except ResourceFailed as failure:
            delete_stack(found_backend, stack, create_rollback=True)
            raise ResourceFailed(
                parent_id or "",
                kwargs.get("LogicalId", resource_name),
                f"Embedded stack {stack_id} was not successfully created: The following resource(s) "
                f"failed to create: [{failure.logical_id}]. ",
                stack_id,
            ) from failure
        return stack

    Stack.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)

    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        properties = cloudformation_json["Properties"]
        body = template_from_url(properties["TemplateURL"], account_id, region_name)
        parameters = {key: as_value(value) for key, value in properties.get("Parameters", {}).items()}
        update_stack(original_resource, body, parameters)
        return original_resource

    Stack.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)

    def delete(self) -> None:
        delete_stack(backend(self.account_id, self.region_name), self)

    Stack.delete = delete
    # AWS gives a nested stack's stack ID (its ARN) as the AWS::CloudFormation::Stack resource's PhysicalResourceId
    # (ListStackResources, DescribeStackResource) and as its Ref; moto gives the stack's name.
    Stack.physical_resource_id = property(lambda self: self.stack_id)
    # Listing a stack's resources (ListStackResources, DescribeStackResources) only reads what exists. moto's
    # ResourceMap creates a resource on first access, so a listing of a rolled-back stack would create its deleted
    # resources again (a log group that then blocks the next create); list only the resources the stack holds.
    Stack.stack_resources = property(
        lambda self: [
            self.resource_map._parsed_resources[name]
            for name in self.resource_map.resources
            if self.resource_map._parsed_resources.get(name) is not None
        ]
    )


def _patch_responses() -> None:
    """The CloudFormation API: IncludeNestedStacks, change sets without changes, termination protection,
    ListChangeSets without the nested change sets, CancelUpdateStack."""
    Response = responses.CloudFormationResponse
    original_create_change_set = Response.create_change_set

    def create_change_set(self):
        request.include_nested = self._get_bool_param("IncludeNestedStacks", False)
        request.creating_change_set = True
        try:
            return original_create_change_set(self)
        finally:
            request.include_nested = request.creating_change_set = False

    Response.create_change_set = create_change_set
    original_validate = Response._validate_different_update

    def _validate_different_update(self, incoming_params, stack_body, old_stack):
        if getattr(request, "creating_change_set", False):
            return None  # a change set without changes is created FAILED, not refused
        return original_validate(self, incoming_params, stack_body, old_stack)

    Response._validate_different_update = _validate_different_update

    def describe_change_set(self):
        change_set = self.cloudformation_backend.describe_change_set(change_set_name=self._get_param("ChangeSetName"))
        return ActionResult(shown(change_set, self._get_bool_param("IncludePropertyValues", False)))

    Response.describe_change_set = describe_change_set

    def update_termination_protection(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if getattr(stack, "parent_id", None):
            raise validation("Termination protection cannot be updated for a nested stack; it follows the root stack")
        stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection", False)
        return ActionResult({"StackId": stack.stack_id})

    Response.update_termination_protection = update_termination_protection

    def list_change_sets(self):
        name = self._get_param("StackName")
        summaries = [
            item
            for item in self.cloudformation_backend.list_change_sets()
            if name in (item.stack_name, item.stack_id) and not getattr(item, "parent_change_set_id", None)
        ]
        return ActionResult({"Summaries": summaries})

    Response.list_change_sets = list_change_sets

    def cancel_update_stack(self):
        # AWS cancels only an update in progress; this endpoint applies updates before it answers, so every
        # stack it describes is settled and the call is refused as AWS refuses it for a settled stack
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if stack.status != "UPDATE_IN_PROGRESS":
            raise validation(f"CancelUpdateStack cannot be called from current stack status {stack.status}")
        return ActionResult({})

    Response.cancel_update_stack = cancel_update_stack
