"""The spec parts of a service: its image and repository, secrets, load balancer route and autoscaling.

No `from __future__ import annotations`, as in templates/spec.py: msgspec builds the annotations at import.
"""

from typing import Annotated, Literal

from msgspec import Meta, field

from .spec_addons import ADDONS_DESCRIPTION, AddonPath
from .spec_alarms import ServiceAlarmsSpec
from .spec_common import (
    FARGATE_MEMORY,
    HEALTH_CHECK_PATH_PATTERN,
    HOST_PATTERN,
    PATH_PATTERN,
    EnvVarName,
    Model,
    Port,
    check_retention,
)
from .spec_options import CapacitySpec, PublicPortSpec, StickinessSpec, TargetHealthCheckSpec
from .spec_sidecars import (  # noqa: F401 - ImageSpec and SecretRef re-exported: they lived here
    Condition,
    ContainerName,
    ImageSpec,
    Platform,
    SecretRef,
    SidecarSpec,
    check_options,
    check_secrets,
    check_task,
)
from .spec_storage import GrantLevel, StorageName
from .validation import FieldError, worded


class RepositorySpec(Model):
    """An ECR repository, created in the bootstrap stack so images can be pushed before a deploy."""

    name: Annotated[
        str,
        Meta(
            pattern=worded(
                r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$",
                "an ECR repository name: lower-case letters and digits, parts separated by . or _ or __ or hyphens, path segments by /",
            ),
            min_length=2,
            max_length=255,
            description="ECR repository name.",
        ),
    ]
    immutable_tags: Annotated[
        bool, Meta(description=("Forbid overwriting a tag. Turn off only for moving tags such as `latest`."))
    ] = True
    keep_images: Annotated[
        int, Meta(ge=1, le=1000, description="Lifecycle policy: keep this many most recent images.")
    ] = 30
    untagged_expiry_days: Annotated[
        int, Meta(ge=1, le=365, description=("Lifecycle policy: expire untagged images after this many days."))
    ] = 7


class LoadBalancerRouteSpec(Model):
    """How the load balancer reaches a service: listener rule conditions and target group health check."""

    path_patterns: Annotated[
        list[Annotated[str, Meta(pattern=PATH_PATTERN, max_length=128)]],
        Meta(
            min_length=1,
            max_length=5,
            description="ALB listener rule path patterns: each starts with / and has at most 128 characters "
            "(letters, digits and _-.$/~\"'@:+&*?).",
        ),
    ] = field(default_factory=lambda: ["/*"])
    host_headers: Annotated[
        list[Annotated[str, Meta(pattern=HOST_PATTERN, max_length=128)]],
        Meta(
            max_length=5,
            description="Optional host-header conditions: host names of at most 128 characters, no scheme or path "
            "(letters, digits, - and ., wildcards * and ?).",
        ),
    ] = []
    priority: Annotated[int, Meta(ge=1, le=50000, description="Listener rule priority (unique per ALB).")] = 100
    health_check_path: Annotated[
        str,
        Meta(pattern=HEALTH_CHECK_PATH_PATTERN, max_length=1024, description="Target group health check path."),
    ] = "/"
    health_check_grace_seconds: Annotated[
        int, Meta(ge=0, le=2147483647, description="ECS health check grace period.")
    ] = 60
    deregistration_delay_seconds: Annotated[int, Meta(ge=0, le=3600, description="Target deregistration delay.")] = 30
    # container options (templates/spec_options.py)
    health_check: Annotated[
        TargetHealthCheckSpec | None,
        Meta(
            description="Target group health check: matcher, interval, timeout, thresholds. Default: 200-399 every 15 s."
        ),
    ] = None
    stickiness: Annotated[
        StickinessSpec | None, Meta(description="Sticky sessions with a load balancer cookie. Default: off.")
    ] = None
    protocol: Annotated[
        Literal["tcp", "udp"],
        Meta(description="Protocol of the port the ALB forwards to: tcp only (UDP goes through `public_ports`)."),
    ] = "tcp"

    def __post_init__(self) -> None:
        if self.protocol != "tcp":
            raise FieldError(
                "protocol",
                f"{self.protocol}: an Application Load Balancer forwards HTTP over TCP only; serve UDP through the "
                "service's `public_ports` (a Network Load Balancer) instead",
            )
        values = len(self.path_patterns) + len(self.host_headers)
        if values > 5:  # ALB: at most 5 condition values per rule, wildcards and all conditions counted together
            raise FieldError(
                "path_patterns", f"a listener rule takes at most 5 path and host values together, got {values}"
            )


class AutoscalingSpec(Model):
    """Target-tracking autoscaling of a service's task count."""

    min_capacity: Annotated[int, Meta(ge=0, le=1000, description="Minimum task count.")] = 1
    max_capacity: Annotated[int, Meta(ge=1, le=1000, description="Maximum task count.")] = 4
    cpu_target_percent: Annotated[int, Meta(ge=10, le=95, description="Target average CPU utilisation.")] = 60
    memory_target_percent: Annotated[
        Annotated[int, Meta(ge=10, le=95)] | None, Meta(description="Optional target average memory utilisation.")
    ] = None

    def __post_init__(self) -> None:
        if self.min_capacity > self.max_capacity:
            raise ValueError(f"autoscaling: min_capacity {self.min_capacity} is above max_capacity {self.max_capacity}")


class TaskSpec(Model):
    """What a service and a job share: the task (image, size, command, variables, secrets), its peers, its grants
    and its logs. Checked the same way for both (here, and against the environment in `check_references`)."""

    image: Annotated[
        ImageSpec,
        Meta(description=("Container image: an ECR repository of this environment or an external URI, and a tag.")),
    ]
    compute: Annotated[Literal["fargate", "fargate-spot", "ec2"], Meta(description="Where tasks run.")] = "fargate"
    cpu: Annotated[int, Meta(description="Task CPU units (Fargate: 256, 512, 1024, 2048, 4096, 8192, 16384).")] = 256
    memory: Annotated[
        int, Meta(ge=128, le=122880, description="Task memory in MiB (Fargate: must fit the CPU size).")
    ] = 512
    command: Annotated[list[str] | None, Meta(description="Override of the image's command.")] = None
    environment: Annotated[dict[EnvVarName, str], Meta(description="Plain (non-secret) environment variables.")] = {}
    secrets: Annotated[
        dict[EnvVarName, SecretRef],
        Meta(description=("Secret environment variables, injected by ECS from SSM or Secrets Manager.")),
    ] = {}
    connects_to: Annotated[
        list[str],
        Meta(
            description=(
                "Other services, `cache` or `database` this service or job talks to; opens exactly those ports."
            )
        ),
    ] = []
    addons: Annotated[list[AddonPath], Meta(description=ADDONS_DESCRIPTION)] = []
    grants: Annotated[
        dict[StorageName, GrantLevel],
        Meta(
            description="Buckets, queues, topics and tables the service or job uses, each with a level (buckets and tables: "
            "read, write, read-write; queues: send, consume; topics: publish): a task role policy for exactly "
            "that resource, and its names in environment variables."
        ),
    ] = {}
    log_group: Annotated[
        Annotated[
            str,
            Meta(
                pattern=worded(
                    r"^[\.\-_/#A-Za-z0-9]{1,512}$", "a CloudWatch Logs group name: 1 to 512 letters, digits and ._-/#"
                )
            ),
        ]
        | None,
        Meta(description=("CloudWatch log group name. Default: /ecs/<system>-<env>-<name> (jobs: -job-<name>).")),
    ] = None
    log_retention_days: Annotated[int, Meta(description="Log retention in days.")] = 30
    readonly_root_filesystem: Annotated[bool, Meta(description="Mount the container root filesystem read-only.")] = (
        False
    )
    writable_paths: Annotated[
        Annotated[
            list[
                Annotated[
                    str,
                    Meta(
                        pattern=worded(r"^/[A-Za-z0-9._/-]*$", "an absolute path: / then letters, digits and ._/-"),
                        max_length=200,
                    ),
                ]
            ],
            Meta(max_length=10),
        ]
        | None,
        Meta(
            description="Scratch directories mounted writable (task-local volumes); only with "
            "readonly_root_filesystem: true. Default: /tmp.",
        ),
    ] = None
    user: Annotated[
        Annotated[
            str,
            Meta(
                pattern=worded(
                    r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$",
                    "a user, or user:group, of letters, digits and _.- (names or numeric IDs)",
                )
            ),
        ]
        | None,
        Meta(description=("User (uid[:gid] or name) the container runs as. Default: the image's.")),
    ] = None
    # --- sidecars and container options (templates/spec_sidecars.py checks them) ---
    sidecars: Annotated[
        list[SidecarSpec],
        Meta(
            description="Further containers of the task (proxies, agents, log routers): each with its own image, "
            "CPU and memory out of the task's, log stream, variables, secrets and health check (see docs/spec.md)."
        ),
    ] = []
    depends_on: Annotated[
        dict[ContainerName, Condition],
        Meta(
            description="Sidecars the main container waits for, each with a condition: START, COMPLETE, SUCCESS "
            "(on a non-essential sidecar) or HEALTHY (on a sidecar with a health check)."
        ),
    ] = {}
    platform: Annotated[
        Platform | None,
        Meta(
            description="CPU architecture of the task: x86_64, or arm64 (Graviton; not on Fargate Spot). Default: "
            "the EC2 capacity's architecture for compute: ec2, x86_64 on Fargate."
        ),
    ] = None
    ephemeral_storage: Annotated[
        Annotated[int, Meta(ge=21, le=200)] | None,
        Meta(
            description="Fargate ephemeral storage of the task in GiB, 21 to 200 (above the 20 GiB every task "
            "gets; billed per GB-hour). Fargate only. Default: 20 GiB."
        ),
    ] = None

    @property
    def ports(self) -> list[int]:
        """The ports the container listens on (none for a job; a service overrides this)."""
        return []

    @property
    def scratch_paths(self) -> list[str]:
        """The writable scratch directories of a read-only root filesystem (writable_paths, /tmp by default)."""
        return ["/tmp"] if self.writable_paths is None else list(self.writable_paths)

    def __post_init__(self) -> None:
        check_retention("log_retention_days", self.log_retention_days)
        if self.compute != "ec2":
            allowed = FARGATE_MEMORY.get(self.cpu)
            if allowed is None:
                raise FieldError("cpu", f"{self.cpu} is not a Fargate size; allowed: {sorted(FARGATE_MEMORY)}")
            if self.memory not in allowed:
                raise FieldError(
                    "memory",
                    f"{self.memory} does not fit Fargate cpu {self.cpu}; allowed: "
                    f"{allowed[0]}..{allowed[-1]} MiB in steps of {allowed[1] - allowed[0]}",
                )
        elif not 128 <= self.cpu <= 196608:
            raise FieldError("cpu", "EC2 tasks take 128 to 196608 CPU units")
        paths = self.writable_paths or []
        twice = sorted({item for item in paths if paths.count(item) > 1})
        if twice:
            raise ValueError(f"writable_paths lists {', '.join(twice)} more than once")
        if self.writable_paths is not None and not self.readonly_root_filesystem:
            raise FieldError(
                "writable_paths",
                "applies only with readonly_root_filesystem: true (a writable root needs no scratch volumes); "
                "set readonly_root_filesystem: true or remove writable_paths",
            )
        clash = set(self.environment) & set(self.secrets)
        if clash:
            raise ValueError(f"variables defined both as environment and secret: {sorted(clash)}")
        check_options(self)


class ServiceSpec(TaskSpec):
    """An ECS service: its task (image, size, ports, variables, secrets), routes, peers and scaling."""

    port: Annotated[
        Port | None,
        Meta(
            description=(
                "Container port the application listens on. Leave it out for a worker (no load balancer route, no "
                "discovery): it gets no port mapping and no inbound rule at all."
            )
        ),
    ] = None
    extra_ports: Annotated[
        list[Port], Meta(description=("Further container ports (TCP), reachable from `connects_to` peers only."))
    ] = []
    desired_count: Annotated[
        int, Meta(ge=0, le=1000, description=("Default of the deploy-time `<Service>DesiredCount` parameter."))
    ] = 1
    load_balancer: Annotated[
        LoadBalancerRouteSpec | None, Meta(description=("Expose through the ALB. Default: not exposed."))
    ] = None
    discovery: Annotated[
        bool | None,
        Meta(
            description=(
                "Register in the Cloud Map namespace as <service>.<namespace>. Default: on when the service has a port."
            )
        ),
    ] = None
    autoscaling: Annotated[
        AutoscalingSpec | None, Meta(description=("Target-tracking autoscaling. Default: fixed desired count."))
    ] = None
    health_check_command: Annotated[
        list[str] | None, Meta(description=("Container health check command (CMD-SHELL form)."))
    ] = None
    alarms: Annotated[
        ServiceAlarmsSpec | None,
        Meta(description="This service's alarm thresholds over the environment's `alarms`. Default: those."),
    ] = None
    min_healthy_percent: Annotated[int, Meta(ge=0, le=100, description="Deployment minimum healthy percent.")] = 100
    max_percent: Annotated[int, Meta(ge=100, le=400, description="Deployment maximum percent.")] = 200
    exec: Annotated[
        bool,
        Meta(
            description="ECS Exec: allow `aws ecs execute-command` into the running containers (the task role "
            "gets the ssmmessages channel permissions; a warning says it is on). Default: off."
        ),
    ] = False
    # container options (templates/spec_options.py)
    public_ports: Annotated[
        list[PublicPortSpec],
        Meta(
            description="Ports (TCP or UDP) served to named `ip_ranges` through an internet-facing Network Load "
            "Balancer of the service; the tasks stay in the private subnets."
        ),
    ] = []
    capacity: Annotated[
        CapacitySpec | None,
        Meta(
            description="Fargate / Fargate Spot mix, e.g. {fargate: 1, fargate-spot: 3, base: 1}. "
            "Default: every task on `compute`."
        ),
    ] = None

    @property
    def discoverable(self) -> bool:
        """Registered in Cloud Map: `discovery` as given, else whenever the service listens on a port."""
        return self.discovery if self.discovery is not None else self.port is not None

    @property
    def ports(self) -> list[int]:
        """Every port the container listens on: the main one, then the extra ones (none for a worker)."""
        return [self.port, *self.extra_ports] if self.port is not None else []

    def __post_init__(self) -> None:
        TaskSpec.__post_init__(self)
        if self.port is None:
            for field_name, given, why in (
                ("load_balancer", self.load_balancer is not None, "a route forwards to the service's port"),
                ("discovery", self.discovery is True, "Cloud Map registers the service's port"),
                ("extra_ports", bool(self.extra_ports), "extra ports come beside a main port"),
            ):
                if given:
                    raise FieldError(field_name, f"needs `port`: {why}; a worker (no port) has neither route nor name")
        twice = sorted({item for item in self.extra_ports if self.extra_ports.count(item) > 1})
        if twice:
            raise ValueError(f"extra_ports lists {', '.join(map(str, twice))} more than once")
        scaling = self.autoscaling
        if scaling is not None and not scaling.min_capacity <= self.desired_count <= scaling.max_capacity:
            raise FieldError(
                "desired_count",
                f"{self.desired_count} is outside autoscaling's {scaling.min_capacity}..{scaling.max_capacity} "
                "(Application Auto Scaling would move it there at once); choose a count within that range",
            )
        if self.port in self.extra_ports:
            raise FieldError("extra_ports", f"repeats the main port {self.port}")


def check_references(spec, where: str, name: str, task: TaskSpec) -> None:
    """A service's or job's references against the environment `spec` (an EnvironmentSpec): its repository, EC2
    capacity, `connects_to` peers (services with a port and discovery, the cache, the database) and secrets
    under the environment's prefix. `where` is the field path (`services.api`, `jobs.nightly`)."""
    if task.image.repository is not None and task.image.repository not in spec.repositories:
        raise FieldError(
            f"{where}.image.repository",
            f"{task.image.repository!r} is not a key of repositories (known: {sorted(spec.repositories)})",
        )
    if task.compute == "ec2" and spec.cluster.ec2_capacity is None:
        raise FieldError(f"{where}.compute", "ec2 needs cluster.ec2_capacity")
    targets = set(spec.services) - {name} | {"cache", "database"}
    for target in task.connects_to:
        if target == name and target in spec.services:
            raise FieldError(
                f"{where}.connects_to", f"{target!r} is the service itself; it needs no rule to reach itself"
            )
        if target not in targets:
            raise FieldError(f"{where}.connects_to", f"{target!r} is unknown; allowed: {sorted(targets)}")
        if target in ("cache", "database") and getattr(spec, target) is None:
            raise FieldError(f"{where}.connects_to", f"{target!r} but the environment has no {target} section")
        if target in spec.services and spec.services[target].port is None:
            raise FieldError(
                f"{where}.connects_to", f"{target!r} is a worker: it listens on no port, so nothing can reach it"
            )
        if target in spec.services and not spec.services[target].discoverable:
            raise FieldError(f"{where}.connects_to", f"{target!r} has discovery off, so it cannot be reached by name")
    check_secrets(spec, f"{where}.secrets", task.secrets)
    check_task(spec, where, name, task)


def _prefix(pattern: str) -> str | None:
    """The fixed prefix of a pattern whose only wildcard is one trailing `*` (`/api/*` -> `/api/`), else None."""
    if pattern.endswith("*") and not any(char in pattern[:-1] for char in "*?"):
        return pattern[:-1]
    return None


def _suffix(pattern: str) -> str | None:
    """The fixed suffix of a host pattern whose only wildcard is one leading `*` (`*.example.com`), else None."""
    if pattern.startswith("*") and not any(char in pattern[1:] for char in "*?"):
        return pattern[1:]
    return None


def _path_covered(path: str, by: str) -> bool:
    """Does ALB path pattern `by` match every request `path` matches? (Sound, not complete: only the exact
    pattern and a `prefix*` pattern are taken to cover others; ALB path patterns are case-sensitive.)"""
    prefix = _prefix(by)
    return path == by or (prefix is not None and path.startswith(prefix))


def _host_covered(host: str, by: str) -> bool:
    """Does ALB host pattern `by` match every host `host` matches? (Host names compare case-insensitively.)"""
    host, by = host.lower(), by.lower()
    suffix = _suffix(by)
    return host == by or (suffix is not None and host.endswith(suffix) and len(host) > len(suffix))


def covers(earlier: LoadBalancerRouteSpec, later: LoadBalancerRouteSpec) -> bool:
    """Would a rule with `earlier`'s conditions, evaluated first, match every request `later`'s rule matches?"""
    if not all(any(_path_covered(path, by) for by in earlier.path_patterns) for path in later.path_patterns):
        return False
    if not earlier.host_headers:
        return True
    return bool(later.host_headers) and all(
        any(_host_covered(host, by) for by in earlier.host_headers) for host in later.host_headers
    )
