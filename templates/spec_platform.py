"""The spec parts of the platform around the services: the load balancer (with its DNS and certificate rules)
and the ECS cluster (with its EC2 capacity and namespace), and the rules AWS applies to them.

No `from __future__ import annotations`, as in templates/spec.py: msgspec builds the annotations at import.
"""

from typing import Annotated

from msgspec import Meta

from . import catalog
from .spec_common import DNS_NAME_PATTERN, SSL_POLICY_PATTERN, SSM_PARAMETER_PATTERN, ZONE_NAME_PATTERN, Model
from .validation import FieldError, worded


class DnsSpec(Model):
    """A Route53 alias record for the load balancer, and the DNS-validated certificate it gets."""

    name: Annotated[
        str,
        Meta(
            pattern=DNS_NAME_PATTERN,
            max_length=253,
            description="Fully qualified record name pointing at the load balancer, e.g. api.dev.example.com.",
        ),
    ]
    zone_name: Annotated[
        str,
        Meta(
            pattern=ZONE_NAME_PATTERN,
            max_length=253,
            description="Route53 public hosted zone that holds the record, e.g. example.com.",
        ),
    ]
    zone_id: Annotated[
        Annotated[
            str,
            Meta(
                pattern=worded(
                    r"^Z[A-Z0-9]{1,31}$", "a Route53 hosted zone ID: Z and then 1 to 31 upper-case letters and digits"
                )
            ),
        ]
        | None,
        Meta(description="Hosted zone ID. Default: a deploy-time parameter `HostedZoneId` (looked up by `deploy`)."),
    ] = None

    def __post_init__(self) -> None:
        name, zone = self.name.rstrip(".").lower(), self.zone_name.rstrip(".").lower()
        if name != zone and not name.endswith("." + zone):
            raise FieldError("name", f"{self.name!r} is not inside zone {self.zone_name!r}")


class LoadBalancerSpec(Model):
    """The public Application Load Balancer: HTTPS with an HTTP redirect, or plain HTTP chosen explicitly."""

    name: Annotated[
        Annotated[
            str,
            Meta(
                max_length=32,
                pattern=worded(
                    r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$",
                    "an ALB name: letters, digits and hyphens, at most 32 characters, not starting or ending with a hyphen",
                ),
            ),
        ]
        | None,
        Meta(description="ALB name (max 32 chars). Default: <system>-<env>-alb."),
    ] = None
    certificate_arn: Annotated[
        Annotated[
            str,
            Meta(
                pattern=worded(
                    r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$",
                    "an ACM certificate ARN: arn:aws:acm:REGION:ACCOUNT:certificate/ID",
                )
            ),
        ]
        | None,
        Meta(description="Existing ACM certificate ARN. With `dns`, a DNS-validated certificate is created instead."),
    ] = None
    dns: Annotated[DnsSpec | None, Meta(description="Route53 alias record (and certificate) for the ALB.")] = None
    http_only: Annotated[
        bool,
        Meta(
            description=(
                "Serve plain HTTP on port 80 with no TLS. Must be chosen explicitly when no certificate or DNS is given."
            )
        ),
    ] = False
    idle_timeout_seconds: Annotated[int, Meta(ge=1, le=4000, description="ALB idle timeout.")] = 60
    ssl_policy: Annotated[
        str,
        Meta(
            pattern=SSL_POLICY_PATTERN,
            max_length=64,
            description="TLS policy of the HTTPS listener: an ELB predefined policy of TLS 1.2 or newer "
            "(ELBSecurityPolicy-TLS13-1-2-..., -TLS13-1-3-..., -TLS-1-2-..., -FS-1-2-...).",
        ),
    ] = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    deletion_protection: Annotated[
        bool | None, Meta(description=("ALB deletion protection. Default: on in production, off elsewhere."))
    ] = None
    access_logs: Annotated[bool, Meta(description="Write ALB access logs to a dedicated, retained S3 bucket.")] = True
    access_log_retention_days: Annotated[int, Meta(ge=1, le=3650, description="Days before access logs expire.")] = 90

    def __post_init__(self) -> None:
        if self.name is not None and self.name.lower().startswith("internal-"):
            raise FieldError("name", "ALB names must not start with internal- (AWS reserves it)")
        has_tls = self.certificate_arn is not None or self.dns is not None
        if has_tls and self.http_only:
            raise ValueError("http_only cannot be combined with certificate_arn or dns: a certificate turns HTTPS on")
        if not has_tls and not self.http_only:
            raise ValueError(
                "no TLS: give certificate_arn or dns to serve HTTPS, or set http_only: true to serve plain HTTP on purpose"
            )

    @property
    def tls(self) -> bool:
        return not self.http_only


ACM_NAMES_PER_CERTIFICATE = 10  # ACM's default quota: the domain name and up to 9 subject alternative names


def certificate_name(host: str) -> str | None:
    """How a certificate names an ALB host pattern: as it is without wildcards, `*.<rest>` when only the first
    label has them (`*` or `?` inside it, as ALB allows), None when a later label has one."""
    first, _, rest = host.partition(".")
    if any(char in rest for char in "*?"):
        return None
    if not any(char in first for char in "*?"):
        return host
    return f"*.{rest}" if rest else None


def in_zone(name: str, zone: str) -> bool:
    """`name` is the zone itself or a name under it (`*.shop.example.com` is under `example.com`)."""
    return name == zone or name.endswith("." + zone)


ECS_AMIS = "/aws/service/ecs/optimized-ami/"
ECS_AMI_X86_64 = ECS_AMIS + "amazon-linux-2023/recommended/image_id"
ECS_AMI_ARM64 = ECS_AMIS + "amazon-linux-2023/arm64/recommended/image_id"


class Ec2CapacitySpec(Model):
    """An EC2 capacity provider: Auto Scaling group and launch template of ECS-optimized instances."""

    instance_type: Annotated[
        str,
        Meta(
            pattern=worded(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", "an EC2 instance type such as t3.medium"),
            description="EC2 instance type.",
        ),
    ] = "t3.medium"
    min_size: Annotated[int, Meta(ge=0, le=100, description="Minimum instances in the Auto Scaling group.")] = 1
    max_size: Annotated[int, Meta(ge=1, le=100, description="Maximum instances in the Auto Scaling group.")] = 2
    desired_capacity: Annotated[
        int, Meta(ge=0, le=100, description=("Instances at creation time (ECS managed scaling adjusts it)."))
    ] = 1
    target_capacity_percent: Annotated[
        int, Meta(ge=1, le=100, description="ECS managed scaling target utilisation.")
    ] = 100
    root_volume_gib: Annotated[int, Meta(ge=30, le=1024, description="Encrypted gp3 root volume size.")] = 30
    ami_parameter: Annotated[
        Annotated[str, Meta(pattern=SSM_PARAMETER_PATTERN, max_length=1011)] | None,
        Meta(
            description=(
                "Public SSM parameter holding the ECS-optimized AMI ID (a path of letters, digits and _.-/). Default: "
                "Amazon Linux 2023's recommended ECS image for the instance type's architecture (x86_64 or arm64)."
            ),
        ),
    ] = None

    @property
    def ami(self) -> str:
        """The SSM parameter of the AMI: given, or the ECS-optimized Amazon Linux 2023 image for the type's CPUs
        (an arm64 type such as t4g cannot boot the x86_64 image, and the reverse)."""
        if self.ami_parameter is not None:
            return self.ami_parameter
        return ECS_AMI_ARM64 if self.architecture == "arm64" else ECS_AMI_X86_64

    @property
    def architecture(self) -> str | None:
        known = catalog.ec2_instance_type(self.instance_type)
        if known is None:
            return None
        return "arm64" if known.architectures == ["arm64"] else "x86_64"

    def __post_init__(self) -> None:
        architecture = self.architecture
        if self.ami_parameter is not None and architecture is not None and self.ami_parameter.startswith(ECS_AMIS):
            given = "arm64" if "/arm64/" in self.ami_parameter else "x86_64"
            if given != architecture:
                raise FieldError(
                    "ami_parameter",
                    f"{self.ami_parameter} is an {given} image, but {self.instance_type} has {architecture} CPUs; "
                    "leave ami_parameter out to get the image for the instance type",
                )
        if not self.min_size <= self.desired_capacity <= self.max_size:
            raise ValueError(
                f"need min_size <= desired_capacity <= max_size, got {self.min_size} / {self.desired_capacity} / {self.max_size}"
            )


class ClusterSpec(Model):
    """The ECS cluster, its optional EC2 capacity and its Cloud Map namespace."""

    name: Annotated[
        Annotated[
            str,
            Meta(
                pattern=worded(
                    r"^[A-Za-z0-9_-]{1,255}$", "an ECS cluster name: 1 to 255 letters, digits, hyphens and underscores"
                )
            ),
        ]
        | None,
        Meta(description="ECS cluster name. Default: <system>-<env>."),
    ] = None
    container_insights: Annotated[bool, Meta(description="Enable CloudWatch Container Insights.")] = True
    ec2_capacity: Annotated[
        Ec2CapacitySpec | None,
        Meta(description=("EC2 capacity provider (ASG + launch template). Required when a service uses compute: ec2.")),
    ] = None
    service_discovery_namespace: Annotated[
        Annotated[
            str,
            Meta(
                pattern=worded(
                    r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$",
                    "a DNS name of two or more labels (lower-case letters, digits and inner hyphens) joined by dots",
                )
            ),
        ]
        | None,
        Meta(description="Cloud Map private DNS namespace. Default: <system>-<env>.local."),
    ] = None

    def __post_init__(self) -> None:
        name = self.service_discovery_namespace
        if name is None:
            return
        if len(name) > 253:
            raise FieldError("service_discovery_namespace", f"at most 253 characters (a DNS name), got {len(name)}")
        for label in name.split("."):
            if len(label) > 63:
                raise FieldError(
                    "service_discovery_namespace",
                    f"each label at most 63 characters (DNS), got {len(label)}: {label[:20]}...",
                )


def check_capacity(spec) -> None:
    """Tasks on the EC2 capacity provider must fit its instances: each task on one instance (CPU units, the
    memory ECS registers, a network interface per awsvpc task), and every desired task on `max_size` of them;
    otherwise the service never reaches its count and the deploy waits for hours before it fails."""
    capacity = spec.cluster.ec2_capacity
    on_ec2 = {name: service for name, service in sorted(spec.services.items()) if service.compute == "ec2"}
    known = catalog.ec2_instance_type(capacity.instance_type) if capacity is not None else None
    if known is None or not on_ec2:
        return
    offers = (
        f"{capacity.instance_type} offers {known.cpu_units} CPU units, about {known.task_memory_mib} MiB for tasks "
        f"({known.memory_mib} MiB less what the kernel and ECS agent keep) and {known.awsvpc_tasks} awsvpc "
        f"task{'s' if known.awsvpc_tasks != 1 else ''}"
    )
    for name, service in on_ec2.items():
        if service.cpu > known.cpu_units or service.memory > known.task_memory_mib:
            raise FieldError(
                f"services.{name}",
                f"a task asks for {service.cpu} CPU units and {service.memory} MiB, but one {offers}; "
                "use a larger cluster.ec2_capacity.instance_type or a smaller task",
            )
    tasks = sorted(
        ((service.memory, service.cpu, name) for name, service in on_ec2.items() for _ in range(service.desired_count)),
        reverse=True,
    )
    free = [[known.task_memory_mib, known.cpu_units, known.awsvpc_tasks] for _ in range(capacity.max_size)]
    for memory, cpu, name in tasks:  # first fit, largest first: what ECS's binpack placement comes close to
        room = next((slot for slot in free if slot[0] >= memory and slot[1] >= cpu and slot[2] >= 1), None)
        if room is None:
            wanted = ", ".join(f"{n} {s.desired_count} x {s.cpu} CPU / {s.memory} MiB" for n, s in on_ec2.items())
            raise FieldError(
                "cluster.ec2_capacity.max_size",
                f"the EC2 services' desired tasks ({wanted}) do not fit on {capacity.max_size} instance"
                f"{'s' if capacity.max_size != 1 else ''}, where each {offers}; raise max_size, use a larger "
                "instance type or run fewer tasks",
            )
        room[0], room[1], room[2] = room[0] - memory, room[1] - cpu, room[2] - 1
