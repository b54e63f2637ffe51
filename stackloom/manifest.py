"""`manifest.json`: the contract between the build and everything after it (deploy, diff, diagram, cost,
the CI workflow through `build.py manifest`). Written and read through these Structs only.

`nested_stacks` lists every nested stack at any depth (logical IDs are unique across levels). When the
services are grouped (large systems, see templates/root.py), each service also names its `group` and the
root list parameters that carry its image tag and desired count, and `packed_parameters` maps each list
parameter to {service: the service stack's own parameter}; `pack_overrides` uses it.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from stackloom.errors import UserError, display
from templates import names

FILE_NAME = "manifest.json"
ROOT_FILE = names.ROOT_FILE


class ServiceEntry(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """One service: its stack and the root parameters that set its image tag and desired count."""

    stack: str
    image_parameter: str
    desired_count_parameter: str
    repository: str | None  # the ECR repository name when the image is built here
    image_uri: str | None  # the image when it comes from elsewhere
    group: str | None = None  # the ServicesNN stack that holds it (grouped environments only)
    image_list_parameter: str | None = None
    desired_count_list_parameter: str | None = None


class JobEntry(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """One job: its stack, the stack outputs `build.py run` passes to RunTask, where its container logs, and the
    root parameter of its image tag."""

    stack: str
    container: str
    log_group: str
    log_stream_prefix: str  # awslogs names a task's stream <prefix>/<container>/<task id>
    image_parameter: str
    compute: str  # fargate | fargate-spot | ec2
    schedule: str | None = None
    task_definition_output: str = names.TASK_DEFINITION_ARN
    cluster_output: str = names.CLUSTER_NAME
    subnets_output: str = names.JOB_SUBNET_IDS
    security_group_output: str = names.JOB_SECURITY_GROUP_ID
    capacity_provider_output: str = names.JOB_CAPACITY_PROVIDER


class Manifest(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """One built environment, as the tools after the build need it without re-reading the spec."""

    system: str
    environment: str
    region: str
    account_id: str | None
    production: bool
    stack_name: str
    bootstrap_stack_name: str
    root_template: str
    bootstrap_template: str
    nested_stacks: dict[str, str]  # logical ID -> file, at any depth
    parameters: dict[str, str]  # deploy-time parameters with their defaults
    required_parameters: list[str]  # deploy-time parameters without a default
    services: dict[str, ServiceEntry]
    hosted_zone: str | None
    packed_parameters: dict[str, dict[str, str]] | None = None
    certificate_arn: str | None = None  # an existing ACM certificate the HTTPS listener uses (spec's load_balancer)
    jobs: dict[str, JobEntry] | None = None  # absent when the spec has none (older manifests stay byte-identical)

    @property
    def target(self) -> str:
        return f"{self.system}/{self.environment}"

    @property
    def declared_parameters(self) -> set[str]:
        """Every name `deploy --param` accepts (a grouped service's own parameters included)."""
        names = set(self.parameters) | set(self.required_parameters)
        return names | {name for entries in (self.packed_parameters or {}).values() for name in entries.values()}


def as_dict(manifest: Manifest) -> dict:
    return msgspec.to_builtins(manifest)


def decode(text: str | bytes, where: str = FILE_NAME) -> Manifest:
    try:
        return msgspec.json.decode(text, type=Manifest)
    except msgspec.DecodeError as error:  # ValidationError is a DecodeError
        raise UserError(
            f"{display(where)}: not a manifest of this version of stackloom ({error}); "
            "rebuild with `stackloom build`"
        ) from None


def from_dict(value: dict) -> Manifest:
    """A manifest from its parsed JSON (tests, and scripts that already hold the dict)."""
    return msgspec.convert(value, Manifest)


def load(folder: Path) -> Manifest:
    """The manifest of a built environment folder."""
    path = folder / FILE_NAME
    try:
        return decode(path.read_bytes(), str(path))
    except OSError as error:
        raise UserError(f"{display(path)}: cannot read ({error.strerror}); run `stackloom build` first") from None


def field(manifest: Manifest, dotted: str):
    """A value by dotted path (`services.backend.repository`), for scripts (`build.py manifest`)."""
    value = as_dict(manifest)
    for part in dotted.split(".") if dotted else []:
        if not isinstance(value, dict) or part not in value:
            known = ", ".join(sorted(value)) if isinstance(value, dict) else "none (not a mapping)"
            raise UserError(f"manifest of {manifest.target}: no field {dotted!r} ({part!r} not found; known: {known})")
        value = value[part]
    return value


def pack_overrides(
    manifest: Manifest, overrides: dict[str, str], current: dict[str, str] | None = None
) -> dict[str, str]:
    """Deploy-time values for an environment whose services are grouped: `overrides` may name a service's
    own parameter (`ApiImageTag=v2`, `ApiDesiredCount=3`); those are folded into the root list parameters
    (`Services03ImageTags=api=v2,...`). Every list parameter is returned whole, merged by service name:
    an override, else the service's value in `current` (the deployed stack's parameters), else the
    build's default, so a service added to or removed from a group keeps the others' deployed values.
    Without packed parameters (small environments) `overrides` comes back unchanged."""
    packed = manifest.packed_parameters or {}
    if not packed:
        return dict(overrides)
    own = {parameter for entries in packed.values() for parameter in entries.values()}
    result = {key: value for key, value in overrides.items() if key not in own and key not in packed}
    for name, entries in packed.items():
        layers = [
            names.unpack(manifest.parameters.get(name, "")),
            names.unpack((current or {}).get(name, "")),
            names.unpack(overrides.get(name, "")),
        ]
        merged = {}
        for service_name, parameter in entries.items():
            value = overrides.get(parameter)
            for layer in reversed(layers):
                if value is None:
                    value = layer.get(service_name)
            merged[service_name] = value
        result[name] = names.pack(merged)
    return result
