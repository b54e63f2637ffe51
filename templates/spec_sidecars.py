"""The parts of a task's containers: the image and secret references every container has, the sidecars beside a
service's or job's main container, and the container options of the task (CPU architecture, Fargate ephemeral
storage; ECS Exec is a service's).

A sidecar is a further container of the same task definition (Copilot's `sidecars`): it shares the task's network
namespace (the main container reaches it at localhost:<port>), its CPU and memory come out of the task's, it logs
to the service's log group under its own stream prefix, and reads its secrets through the same execution role.

No `from __future__ import annotations`, as in templates/spec.py: msgspec builds the annotations at import.
"""

from typing import Annotated, Literal

from msgspec import Meta

from .spec_common import SECRET_PATTERN, SERVICE_NAME_PATTERN, EnvVarName, Model, Port
from .validation import FieldError, worded

ContainerName = Annotated[str, Meta(pattern=SERVICE_NAME_PATTERN)]
# ECS ContainerDependency conditions (what the dependent container waits for)
Condition = Literal["START", "COMPLETE", "SUCCESS", "HEALTHY"]
Platform = Literal["x86_64", "arm64"]
CONTAINERS_PER_TASK = 10  # ECS: at most 10 container definitions in a task definition
MIN_CONTAINER_MEMORY = 6  # MiB: Docker reserves 6 MiB for a container; ECS rejects a hard limit below it
FREE_EPHEMERAL_GIB = 20  # Fargate's ephemeral storage included with every task (billed above it)


class ImageSpec(Model):
    """Where a service's image comes from (an ECR repository of the environment or an external URI) and its tag."""

    repository: Annotated[
        str | None, Meta(description=("Key of a repository in `repositories` (ECR in this account/region)."))
    ] = None
    uri: Annotated[
        str | None, Meta(description="External image repository URI without a tag, e.g. public.ecr.aws/x/y.")
    ] = None
    tag: Annotated[
        str,
        Meta(
            pattern=worded(
                r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
                "an image tag: letters, digits and _.-, at most 128 characters, not starting with . or -",
            ),
            description=("Default tag; a deploy-time parameter `<Service>ImageTag` overrides it."),
        ),
    ] = "latest"

    def in_ecr(self, region: str) -> bool:
        """Is the image in an ECR registry of `region` (a `repositories` key, or such a URI)?"""
        if self.repository is not None:
            return True
        parts = self.uri.split("/", 1)[0].lower().split(".")
        return (
            len(parts) >= 6
            and parts[0].isdigit()
            and len(parts[0]) == 12
            and parts[1:4] == ["dkr", "ecr", region]
            and ".".join(parts[4:]) in ("amazonaws.com", "amazonaws.com.cn")
        )

    def __post_init__(self) -> None:
        if (self.repository is None) == (self.uri is None):
            raise ValueError("image: give exactly one of `repository` (an ECR repository key) or `uri`")


class SecretRef(Model):
    """A secret injected as an environment variable by ECS; the task definition holds a reference, never the value."""

    ssm: Annotated[
        Annotated[str, Meta(pattern=r"^/[A-Za-z0-9_.\-/]+$")] | None, Meta(description="SSM parameter name (path).")
    ] = None
    secrets_manager: Annotated[
        Annotated[str, Meta(pattern=SECRET_PATTERN)] | None,
        Meta(
            description="Secrets Manager secret: its name (ECS resolves it in the task's own region and account) or "
            "its full ARN (with the six-character suffix; needed for a secret of another region or to pin one)."
        ),
    ] = None
    json_key: Annotated[
        Annotated[
            str,
            Meta(pattern=worded(r"^[A-Za-z0-9_.+=@/-]{1,256}$", "a JSON key of 1 to 256 letters, digits and _.+=@/-")),
        ]
        | None,
        Meta(description=("Key inside a JSON Secrets Manager secret (no `:`: ECS splits the reference on it).")),
    ] = None

    @property
    def secret_arn_given(self) -> bool:
        return bool(self.secrets_manager) and self.secrets_manager.startswith("arn:")

    @property
    def secret_name(self) -> str | None:
        """The Secrets Manager secret's name, also when its full ARN was given (the suffix left out)."""
        if not self.secret_arn_given:
            return self.secrets_manager
        return self.secrets_manager.split(":secret:", 1)[1][:-7]

    def __post_init__(self) -> None:
        if (self.ssm is None) == (self.secrets_manager is None):
            raise ValueError("secret: give exactly one of `ssm` or `secrets_manager`")
        if self.json_key is not None and self.secrets_manager is None:
            raise FieldError("json_key", "applies to secrets_manager secrets only")


class HealthCheckSpec(Model):
    """A container health check (Docker HEALTHCHECK run by ECS): a command and its timing, ECS's defaults."""

    command: Annotated[
        list[Annotated[str, Meta(min_length=1)]],
        Meta(min_length=1, description='Command, run with the shell (CMD-SHELL), e.g. ["curl -f localhost:9901"].'),
    ]
    interval: Annotated[int, Meta(ge=5, le=300, description="Seconds between two checks.")] = 30
    timeout: Annotated[int, Meta(ge=2, le=120, description="Seconds a check may take before it counts failed.")] = 5
    retries: Annotated[int, Meta(ge=1, le=10, description="Failed checks in a row before unhealthy.")] = 3
    start_period: Annotated[
        int, Meta(ge=0, le=300, description="Grace seconds after start in which failed checks do not count.")
    ] = 0

    def __post_init__(self) -> None:
        if self.timeout >= self.interval:
            raise FieldError("timeout", f"{self.timeout} must be shorter than interval {self.interval}")


class SidecarSpec(Model):
    """A further container beside the task's main one: a proxy, a log router, an agent."""

    name: Annotated[
        ContainerName, Meta(description="Container name (unique in the task, not the service's or job's own name).")
    ]
    image: Annotated[
        ImageSpec,
        Meta(
            description="Image: a repository of `repositories` or an external URI, and a tag (fixed at build time; "
            "only the main container's tag is a deploy-time parameter)."
        ),
    ]
    memory: Annotated[
        int,
        Meta(
            ge=MIN_CONTAINER_MEMORY,
            le=122880,
            description="Memory in MiB, a hard limit, taken out of the task's (the main container keeps the rest).",
        ),
    ]
    cpu: Annotated[
        int,
        Meta(
            ge=0,
            le=196608,
            description="CPU units reserved for the sidecar out of the task's (the main container keeps the rest). "
            "0: no reservation.",
        ),
    ] = 0
    port: Annotated[
        Port | None,
        Meta(
            description="Container port it listens on, for the other containers of the task (localhost:<port>); "
            "not routed by the load balancer and not opened to other services."
        ),
    ] = None
    command: Annotated[list[str] | None, Meta(description="Override of the image's command.")] = None
    environment: Annotated[dict[EnvVarName, str], Meta(description="Plain environment variables.")] = {}
    secrets: Annotated[
        dict[EnvVarName, SecretRef],
        Meta(description="Secret environment variables, read by the task's execution role like the main container's."),
    ] = {}
    essential: Annotated[
        bool,
        Meta(
            description="Stop the whole task when this container stops (Copilot's default). Set false for a "
            "container that runs once and exits (an init step the others wait for with COMPLETE or SUCCESS)."
        ),
    ] = True
    depends_on: Annotated[
        dict[ContainerName, Condition],
        Meta(
            description="Containers of the task (the main one by the service's or job's name, or sidecars) this "
            "one waits for, each with a condition: START, COMPLETE, SUCCESS (both only on a non-essential "
            "container) or HEALTHY (only on a container with a health check)."
        ),
    ] = {}
    health_check: Annotated[HealthCheckSpec | None, Meta(description="Container health check. Default: none.")] = None
    user: Annotated[
        Annotated[str, Meta(pattern=worded(r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$", "a user, or user:group"))] | None,
        Meta(description="User (uid[:gid] or name) the sidecar runs as. Default: the image's."),
    ] = None
    readonly_root_filesystem: Annotated[bool, Meta(description="Mount the sidecar's root filesystem read-only.")] = (
        False
    )

    def __post_init__(self) -> None:
        clash = set(self.environment) & set(self.secrets)
        if clash:
            raise ValueError(f"variables defined both as environment and secret: {sorted(clash)}")
        if self.name in self.depends_on:
            raise FieldError("depends_on", f"{self.name!r} is the sidecar itself; a container cannot wait for itself")


def check_options(task) -> None:
    """What a TaskSpec's own fields decide about its sidecars and options (its `__post_init__` calls this):
    unique sidecar names and ports, the sidecars' CPU and memory within the task's, and the Fargate-only options."""
    names = [sidecar.name for sidecar in task.sidecars]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise FieldError("sidecars", f"names {', '.join(twice)} more than once; each container needs its own name")
    if len(names) + 1 > CONTAINERS_PER_TASK:
        raise FieldError(
            "sidecars", f"at most {CONTAINERS_PER_TASK - 1} (ECS: {CONTAINERS_PER_TASK} containers a task)"
        )
    taken = {port: "the main container" for port in task.ports}
    for index, sidecar in enumerate(task.sidecars):
        if sidecar.port is not None:
            if sidecar.port in taken:
                raise FieldError(
                    f"sidecars.{index}.port",
                    f"{sidecar.port} is already {taken[sidecar.port]}'s; the containers of a task share one network "
                    "namespace, so each port can be listened on once",
                )
            taken[sidecar.port] = f"sidecar {sidecar.name}"
    cpu, memory = sum(item.cpu for item in task.sidecars), sum(item.memory for item in task.sidecars)
    if task.sidecars and cpu >= task.cpu:
        raise FieldError(
            "sidecars",
            f"reserve {cpu} CPU units together, but the task has {task.cpu}: the main container needs some; "
            "lower the sidecars' cpu or raise the task's",
        )
    if task.sidecars and task.memory - memory < MIN_CONTAINER_MEMORY:
        raise FieldError(
            "sidecars",
            f"take {memory} MiB together, leaving the main container {task.memory - memory} of the task's "
            f"{task.memory} MiB (at least {MIN_CONTAINER_MEMORY}); lower the sidecars' memory or raise the task's",
        )
    if task.ephemeral_storage is not None and task.compute == "ec2":
        raise FieldError(
            "ephemeral_storage",
            "applies to Fargate only; EC2 tasks use the container instance's disk (root_volume_gib)",
        )
    if task.platform == "arm64" and task.compute == "fargate-spot":
        raise FieldError(
            "platform", "arm64 does not run on Fargate Spot (it takes X86_64 Linux tasks only); use compute: fargate"
        )
    capacity = getattr(task, "capacity", None)  # a service's Fargate / Fargate Spot mix (spec_options)
    if task.platform == "arm64" and capacity is not None and capacity.fargate_spot > 0:
        raise FieldError(
            "capacity",
            "fargate-spot must be 0 with platform: arm64 (Fargate Spot takes X86_64 Linux tasks only)",
        )


def architecture(spec, task) -> str:
    """The task's CPU architecture: its `platform`, or else the EC2 capacity's on EC2 (a task must match the
    instances it is placed on), x86_64 on Fargate."""
    if task.platform is not None:
        return task.platform
    capacity = spec.cluster.ec2_capacity
    if task.compute == "ec2" and capacity is not None and capacity.architecture is not None:
        return capacity.architecture
    return "x86_64"


def check_task(spec, where: str, name: str, task) -> None:
    """A task's containers against each other and the environment `spec` (from spec_services.check_references):
    sidecar names apart from the main container's, every `depends_on` naming a container of the task with a
    condition ECS accepts for it, no waiting in a circle, the sidecars' repositories and secrets, and the task's
    CPU architecture on EC2 capacity of the same architecture."""
    containers = {name: _main(task), **{sidecar.name: sidecar for sidecar in task.sidecars}}
    for index, sidecar in enumerate(task.sidecars):
        if sidecar.name == name:
            raise FieldError(f"{where}.sidecars.{index}.name", f"{name!r} is the main container's name; choose another")
    waits = {name: task.depends_on, **{sidecar.name: sidecar.depends_on for sidecar in task.sidecars}}
    for index, (container, targets) in enumerate(waits.items()):
        field_path = f"{where}.depends_on" if container == name else f"{where}.sidecars.{index - 1}.depends_on"
        for target, condition in sorted(targets.items()):
            _check_dependency(field_path, containers, container, target, condition)
    _check_cycles(where, waits)
    for index, sidecar in enumerate(task.sidecars):
        image = sidecar.image
        if image.repository is not None and image.repository not in spec.repositories:
            raise FieldError(
                f"{where}.sidecars.{index}.image.repository",
                f"{image.repository!r} is not a key of repositories (known: {sorted(spec.repositories)})",
            )
        if spec.network.nat == "none" and not image.in_ecr(spec.region):
            raise FieldError(
                f"{where}.sidecars.{index}.image",
                f"{image.uri} needs internet egress; with nat: none only ECR images of {spec.region} can be pulled",
            )
        check_secrets(spec, f"{where}.sidecars.{index}.secrets", sidecar.secrets)
    capacity = spec.cluster.ec2_capacity
    if task.compute == "ec2" and capacity is not None and task.platform not in (None, capacity.architecture):
        raise FieldError(
            f"{where}.platform",
            f"{task.platform} but the EC2 capacity's {capacity.instance_type} is {capacity.architecture}; "
            f"set platform: {capacity.architecture} or choose an instance type of that architecture",
        )


def check_secrets(spec, where: str, secrets: dict) -> None:
    """Secrets under the environment's prefix (execution roles may read only their environment's)."""
    for variable, secret in secrets.items():
        if secret.ssm is not None and not secret.ssm.startswith(spec.secret_prefix):
            raise FieldError(
                f"{where}.{variable}.ssm",
                f"{secret.ssm!r} must be under {spec.secret_prefix} "
                "(execution roles may read only their environment's parameters)",
            )
        if secret.secrets_manager is not None and not ("/" + secret.secret_name).startswith(spec.secret_prefix):
            raise FieldError(
                f"{where}.{variable}.secrets_manager",
                f"{secret.secrets_manager!r} must "
                + ("name a secret starting with" if secret.secret_arn_given else "start with")
                + f" {spec.secret_prefix[1:]}",
            )


class _Main:
    """What a dependency needs to know of the main container: always essential, a health check if the service
    has a health_check_command."""

    essential = True

    def __init__(self, health_check):
        self.health_check = health_check


def _main(task) -> _Main:
    return _Main(getattr(task, "health_check_command", None))


def _check_dependency(where: str, containers: dict, container: str, target: str, condition: str) -> None:
    if target == container:
        raise FieldError(where, f"{target!r} is the container itself; a container cannot wait for itself")
    if target not in containers:
        raise FieldError(where, f"{target!r} is not a container of the task; known: {sorted(containers)}")
    other = containers[target]
    if condition in ("COMPLETE", "SUCCESS") and other.essential:
        raise FieldError(
            f"{where}.{target}",
            f"{condition} waits for {target!r} to exit, but it is essential (its exit stops the task); "
            "set essential: false on it or wait with START or HEALTHY",
        )
    if condition == "HEALTHY" and not other.health_check:
        raise FieldError(
            f"{where}.{target}",
            f"HEALTHY needs a health check on {target!r} (ECS waits for it to pass); give it one "
            "(health_check, or health_check_command for the main container) or wait with START",
        )


def _check_cycles(where: str, waits: dict[str, dict]) -> None:
    """ECS starts containers in dependency order: a circle of waits never starts."""
    state: dict[str, str] = {}

    def visit(container: str, trail: list[str]) -> None:
        if state.get(container) == "done":
            return
        if state.get(container) == "open":
            circle = trail[trail.index(container) :] + [container]
            raise FieldError(
                f"{where}.depends_on", f"containers wait for each other in a circle: {' -> '.join(circle)}"
            )
        state[container] = "open"
        for target in sorted(waits.get(container, {})):
            visit(target, [*trail, container])
        state[container] = "done"

    for container in sorted(waits):
        visit(container, [])


def exec_notes(spec) -> list[str]:
    """Build warnings (also the audit's note): every service with ECS Exec on, what it allows and costs."""
    return [
        f"services.{name}: ECS Exec is on (exec: true): whoever may call ecs:ExecuteCommand on the cluster can "
        "open a shell in its running containers, as their user; keep it off where nobody needs that (production)"
        for name, service in sorted(spec.services.items())
        if service.exec
    ]
