"""Addons in the spec: CloudFormation templates beside the params files, each deployed as a nested stack of the
environment (environment-wide, or of one service or job), wired to it by convention (as Copilot's addons are).

`addons:` lists files; stackloom's loader (stackloom/addons.py) reads and parses them and hands the parsed
documents to the compiler in `addon_templates`, keyed by the same text the `addons` entries hold after loading
(the path relative to the params folder). Here: what a spec may say, and the checks a document must pass before
any template is built (`check`, called by EnvironmentSpec): every Parameter it declares is one stackloom passes
(`ENVIRONMENT_PARAMETERS`, `TASK_PARAMETERS`) or has a Default; its outputs can be handed to the service.

No `from __future__ import annotations`, as in templates/spec.py: msgspec builds the annotations at import.
"""

import re
from typing import Annotated

from msgspec import Meta

from .validation import FieldError, worded

ADDON_PATH_PATTERN = worded(
    r"^([A-Za-z0-9_.-]+/)*[a-z][a-z0-9-]*\.(yaml|yml|json)$",
    "a relative path to a CloudFormation template (.yaml, .yml or .json) whose file name is lower-case letters, "
    "digits and hyphens (it names the addon's stack), e.g. addons/orders-table.yaml",
)
AddonPath = Annotated[str, Meta(pattern=ADDON_PATH_PATTERN)]

ADDONS_DESCRIPTION = (
    "CloudFormation templates (YAML with short-form intrinsics such as !Ref, or JSON) deployed as nested stacks "
    "of the environment, each path relative to the params file that lists it. An addon receives the parameters it "
    "declares by name (System, Environment, VpcId, PrivateSubnetIds, KmsKeyArn, ClusterName; for a service's or "
    "job's addon also ServiceName, SecurityGroupId, TaskRoleName); any other parameter needs a Default. A service's "
    "or job's addon hands back its outputs: a Ref to an AWS::IAM::ManagedPolicy of the addon is attached to the "
    "task role, every other output becomes an environment variable (TableName -> TABLE_NAME). See docs/spec.md, Addons."
)
ADDON_TEMPLATES_DESCRIPTION = (
    "Filled in by the loader, never written in a params file: each addon file's parsed template, by its path "
    "relative to the params folder."
)

# Parameters an addon receives by declaring them: name -> what it is given (docs/spec.md, Addons, lists the same).
ENVIRONMENT_PARAMETERS = {
    "System": "the system name (spec `system`)",
    "Environment": "the environment name (spec `environment`)",
    "VpcId": "the VPC's ID",
    "PrivateSubnetIds": "the private subnets' IDs (declare it as List<AWS::EC2::Subnet::Id> or CommaDelimitedList)",
    "KmsKeyArn": "the ARN of the environment's KMS key",
    "ClusterName": "the ECS cluster's name",
}
TASK_PARAMETERS = {
    **ENVIRONMENT_PARAMETERS,
    "ServiceName": "the service's (or job's) name",
    "SecurityGroupId": "the ID of the service's (or job's) security group",
    "TaskRoleName": "the name of the service's (or job's) task role; the addon is then deployed after the service",
}
# a parameter that makes the addon depend on the service's own stack: it is deployed after it
AFTER_TASK = ("TaskRoleName",)
MANAGED_POLICY = "AWS::IAM::ManagedPolicy"
SECTIONS = (
    "AWSTemplateFormatVersion",
    "Conditions",
    "Description",
    "Mappings",
    "Metadata",
    "Outputs",
    "Parameters",
    "Resources",
    "Rules",
    "Transform",
)


def variable_name(output: str) -> str:
    """The environment variable an addon output becomes: its logical ID in UPPER_SNAKE (`TableName` ->
    `TABLE_NAME`, `DDBTableArn` -> `DDB_TABLE_ARN`, `Queue2Url` -> `QUEUE2_URL`)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", output).upper()


def policy_outputs(document: dict) -> list[str]:
    """The outputs whose value is a Ref to a managed policy of the addon (attached to the task role), sorted."""
    resources = document.get("Resources") or {}
    found = []
    for name, output in sorted((document.get("Outputs") or {}).items()):
        value = output.get("Value") if isinstance(output, dict) else None
        target = value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None
        resource = resources.get(target) if isinstance(target, str) else None
        if isinstance(resource, dict) and resource.get("Type") == MANAGED_POLICY:
            found.append(name)
    return found


def variable_outputs(document: dict) -> dict[str, str]:
    """Environment variable -> output, for every output that is not a managed policy."""
    policies = set(policy_outputs(document))
    return {variable_name(name): name for name in sorted(document.get("Outputs") or {}) if name not in policies}


def owners(spec) -> list[tuple[str, str | None, list[str]]]:
    """(field path, owner, addon paths) of every list in the spec: the environment's (owner None), then each
    service's and job's ("services.api", "api", [...])."""
    found = [("addons", None, list(spec.addons))]
    for kind, tasks in (("services", spec.services), ("jobs", spec.jobs)):
        found += [(f"{kind}.{name}.addons", name, list(task.addons)) for name, task in sorted(tasks.items())]
    return [entry for entry in found if entry[2]]


def check(spec) -> None:
    """Every loaded addon document against what stackloom can do with it (an EnvironmentSpec's check). A
    document not loaded yet (a params file between parsing and loading its addons) is checked once it is."""
    seen: dict[str, str] = {}
    for where, owner, paths in owners(spec):
        if len(set(paths)) != len(paths):
            raise FieldError(where, "an addon is listed twice")
        task = None if owner is None else (spec.services.get(owner) or spec.jobs.get(owner))
        variables: dict[str, str] = {}
        for index, path in enumerate(paths):
            key = stem(path) if owner is None else f"{owner}-{stem(path)}"
            other = seen.setdefault(key, f"{where}.{index}")
            if other != f"{where}.{index}":
                raise FieldError(
                    f"{where}.{index}",
                    f"{path}: its stack would be named like the one of {other} (addon-{key}); rename one file",
                )
            document = spec.addon_templates.get(path)
            if document is not None:
                _check_document(f"{where}.{index}", path, document, task, variables)


def stem(path: str) -> str:
    """The addon's name: its file name without the extension (`addons/orders-table.yaml` -> `orders-table`)."""
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def _check_document(where: str, path: str, document, task, variables: dict[str, str]) -> None:
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict) or not document["Resources"]:
        raise FieldError(where, f"{path}: not a CloudFormation template (it needs a Resources mapping)")
    unknown = sorted(set(document) - set(SECTIONS))
    if unknown:
        raise FieldError(where, f"{path}: unknown top-level section {unknown[0]}; allowed: {', '.join(SECTIONS)}")
    for section in ("Parameters", "Outputs", "Conditions", "Mappings"):
        if not isinstance(document.get(section, {}), dict):
            raise FieldError(where, f"{path}: {section} must be a mapping")
    offered = ENVIRONMENT_PARAMETERS if task is None else TASK_PARAMETERS
    for name, definition in sorted(document.get("Parameters", {}).items()):
        if name in offered:
            continue
        if not isinstance(definition, dict) or "Default" not in definition:
            raise FieldError(
                where,
                f"{path}: parameter {name} is not one stackloom passes and has no Default; passed by name: "
                f"{', '.join(offered)} (give {name} a Default, or use one of those)",
            )
    outputs = document.get("Outputs", {})
    if task is None or not outputs:
        return
    taken = [name for name in AFTER_TASK if name in document.get("Parameters", {})]
    if taken:
        raise FieldError(
            where,
            f"{path}: takes {taken[0]}, so it is deployed after the task's own stack, and its outputs "
            f"({', '.join(sorted(outputs))}) cannot come back into it; drop the outputs, or hand permissions "
            f"back as an {MANAGED_POLICY} output instead of taking {taken[0]}",
        )
    for name, output in sorted(outputs.items()):
        if isinstance(output, dict) and "Condition" in output:
            raise FieldError(
                where, f"{path}: output {name} has a Condition: it may not exist, so it cannot be handed to the task"
            )
    for variable, name in variable_outputs(document).items():
        if variable in task.environment or variable in task.secrets:
            raise FieldError(
                where,
                f"{path}: output {name} becomes the environment variable {variable}, which the task's "
                "environment or secrets already set; rename the output or the variable",
            )
        other = variables.setdefault(variable, path)
        if other != path:
            raise FieldError(
                where, f"{path}: output {name} becomes {variable}, as an output of {other} does; rename one output"
            )
