"""Addons: CloudFormation templates the spec names (`addons:`), each a nested stack of the environment.

An addon's template is emitted as its author wrote it (parsed by stackloom, see stackloom/addons.py; rendered
like every other template, with the environment's cfn-lint region added to its Metadata), so its own logic stays
its own. What the compiler adds is the wiring, by convention as Copilot's addons are wired:

* parameters: each Parameter the addon declares from `spec_addons.ENVIRONMENT_PARAMETERS` (or, for a service's
  or job's addon, `TASK_PARAMETERS`) is passed by the root stack: build-time names as written (`Constant`),
  IDs from the stacks that own them (`FromStack`); any other parameter keeps its Default (`OwnDefault`).
* outputs of a service's or job's addon come back into its stack: an output whose value is a Ref to an
  AWS::IAM::ManagedPolicy of the addon is attached to the task role (ManagedPolicyArns), every other output
  becomes an environment variable of the task's container, named by `spec_addons.variable_name`
  (`TableName` -> `TABLE_NAME`). Such an addon is deployed before its task's stack. One that takes
  `TaskRoleName` is deployed after it, and has no outputs (the spec check says so).
* the environment's addons receive the environment's parameters; their outputs stay the addon stack's own
  (as Copilot's environment addons), no service reads them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from troposphere import AWSObject, Output, Parameter, Ref, Template

from . import names
from .base import Constant, FromStack, NestedStack, OwnDefault, WiringError, lint_metadata
from .spec import EnvironmentSpec
from .spec_addons import AFTER_TASK, owners, policy_outputs, stem, variable_outputs


@dataclass(frozen=True)
class Addon:
    """One addon of the spec: its file (the key of spec.addon_templates), its owner (a service or job name, None
    for the environment's), and its parsed template."""

    path: str
    owner: str | None
    kind: str | None  # "services", "jobs", or None
    document: dict

    @property
    def name(self) -> str:
        return stem(self.path)

    @property
    def logical_id(self) -> str:
        return names.addon_stack(self.owner, self.name)

    @property
    def file_name(self) -> str:
        return names.addon_file(self.owner, self.name)

    @property
    def after_task(self) -> bool:
        """Deployed after its service's or job's stack (it takes what that stack makes: its task role)."""
        return any(name in self.document.get("Parameters", {}) for name in AFTER_TASK)


def of(spec: EnvironmentSpec) -> list[Addon]:
    """Every addon of the spec: the environment's, then each service's and job's, in spec order."""
    found = []
    for where, owner, paths in owners(spec):
        kind = where.split(".", 1)[0] if owner is not None else None
        for path in paths:
            document = spec.addon_templates.get(path)
            if document is None:
                raise WiringError(
                    f"{where}: {path}: its template was not loaded (stackloom's params loader reads addon files "
                    "into addon_templates)"
                )
            found.append(Addon(path, owner, kind, document))
    return found


def of_task(spec: EnvironmentSpec, name: str) -> list[Addon]:
    """The addons of service or job `name`."""
    return [addon for addon in of(spec) if addon.owner == name]


class _AsWritten(AWSObject):
    """A resource exactly as the addon declares it: troposphere's typed classes would check it against their own
    (possibly older) property lists; cfn-lint checks it against CloudFormation's schemas instead."""

    props: dict = {}

    def __init__(self, title: str, definition: dict):
        self.resource_type = definition["Type"]
        super().__init__(title, validation=False)
        for key, value in definition.items():
            if key == "Properties":
                self.properties.update(value)
            elif key != "Type":
                self.resource[key] = value


def _declared(kind, name: str, definition: dict):
    """A Parameter or Output as written (no troposphere validation: cfn-lint checks the emitted file)."""
    item = kind(name, validation=False)
    item.properties.update(definition)
    return item


def build(spec: EnvironmentSpec, addon: Addon) -> NestedStack:
    """The nested stack of `addon` (names.addon_stack, names.addon_file): its template as written, each of its
    parameters wired (see the module docstring)."""
    document = copy.deepcopy(addon.document)  # suppressions write into Metadata: the spec's copy stays as loaded
    template = Template(Description=document.get("Description") or f"{spec.prefix}: addon {addon.path}")
    template.set_version(str(document.get("AWSTemplateFormatVersion") or "2010-09-09"))
    metadata = dict(document.get("Metadata") or {})
    lint = dict(metadata.get("cfn-lint") or {})
    lint["config"] = {**(lint.get("config") or {}), **lint_metadata(spec)["cfn-lint"]["config"]}
    metadata["cfn-lint"] = lint
    template.set_metadata(metadata)
    if "Transform" in document:
        template.set_transform(document["Transform"])
    for name, mapping in (document.get("Mappings") or {}).items():
        template.add_mapping(name, mapping)
    for name, condition in (document.get("Conditions") or {}).items():
        template.add_condition(name, condition)
    for name, rule in (document.get("Rules") or {}).items():
        template.add_rule(name, rule)
    inputs = {}
    for name, definition in (document.get("Parameters") or {}).items():
        template.add_parameter(_declared(Parameter, name, definition))
        inputs[name] = _source(spec, addon, name)
    for name, definition in document["Resources"].items():
        template.add_resource(_AsWritten(name, definition))
    for name, definition in (document.get("Outputs") or {}).items():
        template.add_output(_declared(Output, name, definition))
    return NestedStack(addon.logical_id, addon.file_name, template, inputs)


def _source(spec: EnvironmentSpec, addon: Addon, name: str):
    """Where the root takes the value of the addon's parameter `name` from."""
    owner = addon.owner
    shared = {
        "System": Constant(spec.system),
        "Environment": Constant(spec.environment),
        "VpcId": FromStack(names.NETWORK, names.VPC_ID),
        "PrivateSubnetIds": FromStack(names.NETWORK, names.PRIVATE_SUBNET_IDS),
        "KmsKeyArn": FromStack(names.NETWORK, names.ENVIRONMENT_KEY_ARN),
        "ClusterName": FromStack(names.CLUSTER, names.CLUSTER_NAME),
    }
    if owner is not None:
        job = addon.kind == "jobs"
        group = names.job_group(owner) if job else names.service_group(owner)
        stack = names.job_stack(owner) if job else names.service_stack(owner)
        shared.update(
            ServiceName=Constant(owner),
            SecurityGroupId=FromStack(names.SECURITY, names.security_group_id(group)),
            TaskRoleName=FromStack(stack, names.TASK_ROLE_NAME),
        )
    return shared.get(name, OwnDefault())


def stacks(spec: EnvironmentSpec, after_task: bool) -> list[NestedStack]:
    """The addon stacks deployed before the service and job stacks (`after_task` False: the environment's and
    those whose outputs the tasks read), or after them (those that take a task's role)."""
    return [build(spec, addon) for addon in of(spec) if addon.after_task == after_task]


def inject(spec: EnvironmentSpec, name: str, wiring, task_role, environment: dict, secrets: dict) -> None:
    """Wire the outputs of service or job `name`'s addons into its stack: each output a parameter of the stack
    (names.addon_parameter) fed from the addon's output; managed policies attached to `task_role`, the rest set
    in `environment` (variable -> value). Adds names.TASK_ROLE_NAME as an output when an addon takes it."""
    policies = []
    for addon in of_task(spec, name):
        if addon.after_task:
            if names.TASK_ROLE_NAME not in wiring.template.outputs:
                wiring.template.add_output(
                    Output(names.TASK_ROLE_NAME, Value=Ref(task_role), Description="Name of the task role (addons)")
                )
            continue
        for output in policy_outputs(addon.document):
            policies.append(Ref(_take(wiring, addon, output, "Managed policy")))
        for variable, output in variable_outputs(addon.document).items():
            if variable in environment or variable in secrets:
                raise WiringError(
                    f"{addon.path}: output {output} of {name}'s addon becomes the environment variable {variable}, "
                    f"which {name} already gets from its grants or connects_to; rename the output"
                )
            environment[variable] = Ref(_take(wiring, addon, output, "Value"))
    if policies:
        task_role.ManagedPolicyArns = list(getattr(task_role, "ManagedPolicyArns", [])) + policies


def _take(wiring, addon: Addon, output: str, what: str):
    return wiring.take(
        names.addon_parameter(addon.logical_id, output),
        f"{what} {output} of addon {addon.path}",
        FromStack(addon.logical_id, output),
    )
