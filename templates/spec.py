"""The environment spec: one YAML file per environment, validated into typed, immutable objects.

Every field has a description (a test enforces it) and a default where one makes sense. Types are strict:
YAML already types its scalars, so `port: "4000"` or `port: true` is a mistake, not a 4000 or a 1. Surrounding
whitespace is trimmed from every text, keys included. Combinations that cannot work are rejected here, in
plain words naming the field, before any template is built.

The models are msgspec Structs (see templates/validation.py for why, and for how errors are worded); the
checks a type cannot express live in each part's `__post_init__`, which msgspec runs once the part's own
fields are valid, so a check may rely on them.

No `from __future__ import annotations` here: msgspec would then evaluate every annotation from its text on
the first conversion, which costs more than building them at import (13 ms against 10.5 ms, measured).
"""

import ipaddress
from typing import Annotated, Literal

from msgspec import Meta, field

from . import catalog
from .spec_common import (
    AZ_PATTERN,
    DNS_NAME_PATTERN,
    NAME_PATTERN,
    PRODUCTION_BACKUP_DAYS,
    RESERVED_TAGS,
    SSL_POLICY_PATTERN,
    SSM_PARAMETER_PATTERN,
    ZONE_NAME_PATTERN,
    Model,
    ServiceName,
    check_retention,
    check_tag,
    parse_cidr,
    pascal,
)
from .spec_services import (  # noqa: F401 - re-exported: the spec's parts are importable from templates.spec
    AutoscalingSpec,
    ImageSpec,
    LoadBalancerRouteSpec,
    RepositorySpec,
    SecretRef,
    ServiceSpec,
    covers,
)
from .validation import FieldError, SpecInvalid, convert

__all__ = ["EnvironmentSpec", "FieldError", "SpecInvalid", "parse", "pascal"]


def parse(data: object) -> "EnvironmentSpec":
    """A spec from the data of a params file, or SpecInvalid naming every problem by its path."""
    return convert(_trimmed(data), EnvironmentSpec)


def _trimmed(data: object) -> object:
    """`data` with surrounding whitespace removed from every text, keys included (iterative: deep files)."""
    if isinstance(data, str):
        return data.strip()
    if not isinstance(data, (dict, list)):
        return data
    root: list = [None]
    pending = [(root, 0, data, ())]
    while pending:
        parent, slot, value, where = pending.pop()
        if isinstance(value, dict):
            copy: dict = {}
            for key, item in value.items():
                name = key.strip() if isinstance(key, str) else key
                if name in copy:
                    raise SpecInvalid([(where + (name,), "given twice (once with surrounding spaces)")])
                copy[name] = None
                pending.append((copy, name, item, where + (name,)))
        elif isinstance(value, list):
            copy = [None] * len(value)
            pending += [(copy, index, item, where + (index,)) for index, item in enumerate(value)]
        else:
            copy = value.strip() if isinstance(value, str) else value
        parent[slot] = copy
    return root[0]


class NetworkSpec(Model):
    """The VPC: its CIDR, availability zones, public and private subnets, NAT gateways and flow logs."""

    cidr: Annotated[str, Meta(description="VPC IPv4 CIDR block, e.g. 10.0.0.0/16 (prefix /16 to /24).")]
    vpc_name: Annotated[
        Annotated[str, Meta(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._:/=+@-]*$")] | None,
        Meta(description="Name tag of the VPC (what the console shows). Default: <system>-<env>-vpc."),
    ] = None
    availability_zones: Annotated[
        Annotated[list[Annotated[str, Meta(pattern=AZ_PATTERN)]], Meta(min_length=1, max_length=6)]
        | Annotated[int, Meta(ge=1, le=6)],
        Meta(description="Either a count of AZs (picked with Fn::GetAZs at deploy time) or explicit AZ names."),
    ] = 2
    subnet_prefix: Annotated[
        int,
        Meta(
            ge=16,
            le=28,
            description=("Prefix length of the generated subnets when public/private subnets are not listed."),
        ),
    ] = 20
    public_subnets: Annotated[
        list[str] | None, Meta(description=("Explicit public subnet CIDRs, one per AZ. Default: carved from `cidr`."))
    ] = None
    private_subnets: Annotated[
        list[str] | None, Meta(description=("Explicit private subnet CIDRs, one per AZ. Default: carved from `cidr`."))
    ] = None
    nat: Annotated[
        Literal["none", "single", "per-az"],
        Meta(
            description=(
                "NAT gateways: none (private subnets have no internet egress), single (one, cheap, "
                "not highly available), per-az (one per AZ, highly available)."
            )
        ),
    ] = "single"
    flow_logs: Annotated[bool, Meta(description="Send VPC flow logs (all traffic) to CloudWatch Logs.")] = True
    flow_log_retention_days: Annotated[int, Meta(description="Retention of the VPC flow log group, in days.")] = 30
    restrict_default_security_group: Annotated[
        bool,
        Meta(
            description=(
                "Make the VPC's default security group allow nothing (as AWS CDK's restrictDefaultSecurityGroup): "
                "a custom resource revokes its default rules (ingress from itself, egress to 0.0.0.0/0) at deploy time; "
                "its function's log group keeps flow_log_retention_days. Turning it off later leaves the rules revoked."
            )
        ),
    ] = True

    def __post_init__(self) -> None:
        network = parse_cidr("cidr", self.cidr)
        if not 16 <= network.prefixlen <= 24:
            raise FieldError("cidr", f"VPC CIDR prefix must be between /16 and /24, got /{network.prefixlen}")
        check_retention("flow_log_retention_days", self.flow_log_retention_days)
        if isinstance(self.availability_zones, list) and len(set(self.availability_zones)) != len(
            self.availability_zones
        ):
            raise FieldError("availability_zones", "each AZ may be listed once")
        subnets = self.subnet_cidrs()
        every = [(kind, cidr) for kind in ("public_subnets", "private_subnets") for cidr in subnets[kind]]
        for kind, cidr in every:
            if not cidr.subnet_of(network):
                raise FieldError(kind, f"{cidr} is not inside the VPC CIDR {network}")
        for index, (kind, cidr) in enumerate(every):
            for other_kind, other in every[index + 1 :]:
                if cidr.overlaps(other):
                    raise FieldError(kind, f"{cidr} overlaps {other_kind} {other}; subnets must not overlap")

    @property
    def az_count(self) -> int:
        zones = self.availability_zones
        return zones if isinstance(zones, int) else len(zones)

    def subnet_cidrs(self) -> dict[str, list[ipaddress.IPv4Network]]:
        """Public and private subnet CIDRs, one per AZ: the listed ones, else carved from the VPC in order."""
        vpc = ipaddress.ip_network(self.cidr)
        count = self.az_count
        result: dict[str, list[ipaddress.IPv4Network]] = {}
        if self.public_subnets is None or self.private_subnets is None:
            if self.subnet_prefix < vpc.prefixlen:
                raise FieldError("subnet_prefix", f"/{self.subnet_prefix} is larger than the VPC /{vpc.prefixlen}")
            available = 2 ** (self.subnet_prefix - vpc.prefixlen)
            if available < 2 * count:
                raise FieldError(
                    "subnet_prefix",
                    f"the VPC {vpc} holds {available} subnets of /{self.subnet_prefix}, "
                    f"but {2 * count} are needed ({count} AZs x public + private); use a longer prefix",
                )
            carved = vpc.subnets(new_prefix=self.subnet_prefix)
            generated = [next(carved) for _ in range(2 * count)]
        for index, kind in enumerate(("public_subnets", "private_subnets")):
            listed = getattr(self, kind)
            if listed is None:
                result[kind] = generated[index * count : (index + 1) * count]
                continue
            if len(listed) != count:
                raise FieldError(kind, f"{len(listed)} CIDRs listed for {count} availability zones; give one per AZ")
            result[kind] = [parse_cidr(f"{kind}.{position}", cidr) for position, cidr in enumerate(listed)]
        return result


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
        Annotated[str, Meta(pattern=r"^Z[A-Z0-9]{1,31}$")] | None,
        Meta(description="Hosted zone ID. Default: a deploy-time parameter `HostedZoneId` (looked up by `deploy`)."),
    ] = None

    def __post_init__(self) -> None:
        name, zone = self.name.rstrip(".").lower(), self.zone_name.rstrip(".").lower()
        if name != zone and not name.endswith("." + zone):
            raise FieldError("name", f"{self.name!r} is not inside zone {self.zone_name!r}")


class LoadBalancerSpec(Model):
    """The public Application Load Balancer: HTTPS with an HTTP redirect, or plain HTTP chosen explicitly."""

    name: Annotated[
        Annotated[str, Meta(max_length=32, pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")] | None,
        Meta(description="ALB name (max 32 chars). Default: <system>-<env>-alb."),
    ] = None
    certificate_arn: Annotated[
        Annotated[str, Meta(pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")] | None,
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


class Ec2CapacitySpec(Model):
    """An EC2 capacity provider: Auto Scaling group and launch template of ECS-optimized instances."""

    instance_type: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", description="EC2 instance type.")] = (
        "t3.medium"
    )
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
        str,
        Meta(
            pattern=SSM_PARAMETER_PATTERN,
            max_length=1011,
            description="Public SSM parameter holding the ECS-optimized AMI ID (a path of letters, digits and _.-/).",
        ),
    ] = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"

    def __post_init__(self) -> None:
        if not self.min_size <= self.desired_capacity <= self.max_size:
            raise ValueError(
                f"need min_size <= desired_capacity <= max_size, got {self.min_size} / {self.desired_capacity} / {self.max_size}"
            )


class ClusterSpec(Model):
    """The ECS cluster, its optional EC2 capacity and its Cloud Map namespace."""

    name: Annotated[
        Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,255}$")] | None,
        Meta(description="ECS cluster name. Default: <system>-<env>."),
    ] = None
    container_insights: Annotated[bool, Meta(description="Enable CloudWatch Container Insights.")] = True
    ec2_capacity: Annotated[
        Ec2CapacitySpec | None,
        Meta(description=("EC2 capacity provider (ASG + launch template). Required when a service uses compute: ec2.")),
    ] = None
    service_discovery_namespace: Annotated[
        Annotated[str, Meta(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")] | None,
        Meta(description="Cloud Map private DNS namespace. Default: <system>-<env>.local."),
    ] = None


class DatabaseSpec(Model):
    """Aurora PostgreSQL Serverless v2, created only while the deploy-time `EnableDatabase` switch is on."""

    enabled: Annotated[
        bool,
        Meta(description=("Default of the deploy-time `EnableDatabase` switch (the cluster exists only when on).")),
    ] = False
    engine_version: Annotated[str, Meta(pattern=r"^\d+\.\d+$", description="Aurora PostgreSQL engine version.")] = (
        "17.6"
    )
    min_capacity: Annotated[float, Meta(ge=0, le=256, description="Serverless v2 minimum ACUs.")] = 0.5
    max_capacity: Annotated[float, Meta(ge=1, le=256, description="Serverless v2 maximum ACUs.")] = 1
    database_name: Annotated[
        str, Meta(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,62}$", description="Initial database name.")
    ] = "app"
    master_username: Annotated[
        str,
        Meta(
            pattern=r"^[A-Za-z][A-Za-z0-9_]{0,15}$",
            description=("Master user; its password is generated and kept in Secrets Manager by RDS."),
        ),
    ] = "app_admin"
    backup_retention_days: Annotated[int, Meta(ge=1, le=35, description="Automated backup retention.")] = 7
    deletion_protection: Annotated[
        bool, Meta(description=("RDS deletion protection (turn off to tear down a test cluster)."))
    ] = True
    monitoring_interval_seconds: Annotated[
        Literal[0, 1, 5, 10, 15, 30, 60], Meta(description=("Enhanced Monitoring interval (0 turns it off)."))
    ] = 60
    instances: Annotated[
        int, Meta(ge=1, le=15, description="Serverless v2 instances (2+ for a reader in another AZ).")
    ] = 1

    def __post_init__(self) -> None:
        if self.min_capacity > self.max_capacity:
            raise FieldError("min_capacity", f"{self.min_capacity} is above max_capacity {self.max_capacity}")
        if (self.min_capacity * 2) % 1 or (self.max_capacity * 2) % 1:
            raise ValueError("ACU capacities go in steps of 0.5")


class CacheSpec(Model):
    """An ElastiCache Redis replication group: encrypted in transit and at rest, AUTH token in Secrets Manager."""

    node_type: Annotated[str, Meta(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$", description="ElastiCache node type.")] = (
        "cache.t4g.micro"
    )
    engine_version: Annotated[str, Meta(pattern=r"^\d+\.\d+$", description="Redis OSS engine version.")] = "7.1"
    nodes: Annotated[
        int, Meta(ge=1, le=6, description="Cache clusters in the replication group (primary + replicas).")
    ] = 2
    multi_az: Annotated[bool, Meta(description="Multi-AZ with automatic failover (needs nodes >= 2).")] = True
    snapshot_retention_days: Annotated[
        int, Meta(ge=0, le=35, description=("Daily snapshot retention (0 turns snapshots off)."))
    ] = 1

    def __post_init__(self) -> None:
        if self.multi_az and self.nodes < 2:
            raise FieldError("multi_az", "needs nodes >= 2 (a primary and at least one replica)")


class EnvironmentSpec(Model):
    """One environment of a system: a params file `params/<system>/<env>.yaml`."""

    system: Annotated[
        str, Meta(pattern=NAME_PATTERN, description="System name, lower-case, used in every resource name.")
    ]
    environment: Annotated[
        str, Meta(pattern=NAME_PATTERN, description="Environment name (dev, preprod, production, ...).")
    ]
    network: Annotated[NetworkSpec, Meta(description="VPC layout.")]
    services: Annotated[dict[ServiceName, ServiceSpec], Meta(min_length=1, description="ECS services by name.")]
    region: Annotated[str, Meta(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$", description="AWS region.")] = "eu-central-1"
    account_id: Annotated[
        Annotated[str, Meta(pattern=r"^\d{12}$")] | None,
        Meta(description=("Expected AWS account (deploy refuses others).")),
    ] = None
    production: Annotated[
        bool, Meta(description=("Production safeguards: deletion protection, termination protection, stack policy."))
    ] = False
    tags: Annotated[
        dict[str, str],
        Meta(
            description=(
                "Extra tags on every taggable resource (not System, Environment, ManagedBy or Name: those are set by stackforge)."
            )
        ),
    ] = {}
    load_balancer: Annotated[
        LoadBalancerSpec | None, Meta(description=("Public ALB. Required when a service has `load_balancer`."))
    ] = None
    cluster: Annotated[ClusterSpec, Meta(description="ECS cluster and capacity.")] = field(default_factory=ClusterSpec)
    repositories: Annotated[
        dict[ServiceName, RepositorySpec], Meta(description=("ECR repositories, created in the bootstrap stack."))
    ] = {}
    database: Annotated[DatabaseSpec | None, Meta(description="Aurora PostgreSQL Serverless v2.")] = None
    cache: Annotated[CacheSpec | None, Meta(description="ElastiCache Redis replication group.")] = None

    def __post_init__(self) -> None:
        self.check_tags()
        self._check_zones()
        self._check_references()
        self._check_production_safety()
        self._check_offered()

    def _check_zones(self) -> None:
        """Named availability zones must be the spec's region's (eu-central-1a belongs to eu-central-1)."""
        zones = self.network.availability_zones
        if isinstance(zones, list):
            foreign = [zone for zone in zones if zone[:-1] != self.region]
            if foreign:
                raise FieldError(
                    "network.availability_zones",
                    f"{', '.join(foreign)} {'is' if len(foreign) == 1 else 'are'} not in region {self.region}; "
                    f"name zones of it ({self.region}a, {self.region}b, ...) or give a count",
                )

    def check_tags(self) -> None:
        for key, text in self.tags.items():
            check_tag(f"key {key!r}", key, 1, 127)  # ECR: keys up to 127
            check_tag(f"{key!r} value", text, 1, 255)  # ECR: values 1 to 255
            if key.lower().startswith("aws:"):
                raise FieldError("tags", f"key {key!r}: the aws: prefix is reserved for AWS")
            if key in RESERVED_TAGS:
                raise FieldError(
                    "tags",
                    f"key {key!r} is set by stackforge on every resource " f"(reserved: {', '.join(RESERVED_TAGS)})",
                )

    def _check_references(self) -> None:
        for name, service in self.services.items():
            where = f"services.{name}"
            if service.image.repository is not None and service.image.repository not in self.repositories:
                raise FieldError(
                    f"{where}.image.repository",
                    f"{service.image.repository!r} is not a key of repositories "
                    f"(known: {sorted(self.repositories)})",
                )
            if service.load_balancer is not None and self.load_balancer is None:
                raise FieldError(f"{where}.load_balancer", "the environment has no load_balancer section")
            if service.compute == "ec2" and self.cluster.ec2_capacity is None:
                raise FieldError(f"{where}.compute", "ec2 needs cluster.ec2_capacity")
            targets = set(self.services) - {name} | {"cache", "database"}
            for target in service.connects_to:
                if target == name:
                    raise FieldError(
                        f"{where}.connects_to", f"{target!r} is the service itself; it needs no rule to reach itself"
                    )
                if target not in targets:
                    raise FieldError(f"{where}.connects_to", f"{target!r} is unknown; allowed: {sorted(targets)}")
                if target in ("cache", "database") and getattr(self, target) is None:
                    raise FieldError(f"{where}.connects_to", f"{target!r} but the environment has no {target} section")
                if target in self.services and not self.services[target].discovery:
                    raise FieldError(
                        f"{where}.connects_to", f"{target!r} has discovery off, so it cannot be reached by name"
                    )
            for variable, secret in service.secrets.items():
                if secret.ssm is not None and not secret.ssm.startswith(self.secret_prefix):
                    raise FieldError(
                        f"{where}.secrets.{variable}.ssm",
                        f"{secret.ssm!r} must be under {self.secret_prefix} "
                        "(execution roles may read only their environment's parameters)",
                    )
                if secret.secrets_manager is not None and not ("/" + secret.secret_name).startswith(self.secret_prefix):
                    raise FieldError(
                        f"{where}.secrets.{variable}.secrets_manager",
                        f"{secret.secrets_manager!r} must "
                        + ("name a secret starting with" if secret.secret_arn_given else "start with")
                        + f" {self.secret_prefix[1:]}",
                    )
        priorities: dict[int, str] = {}
        for name, service in sorted(self.services.items()):
            if service.load_balancer is not None:
                other = priorities.setdefault(service.load_balancer.priority, name)
                if other != name:
                    raise FieldError(
                        f"services.{name}.load_balancer",
                        f"priority {service.load_balancer.priority} is already used by {other}; "
                        "priorities must be unique",
                    )
        routes = sorted(
            ((service.load_balancer, name) for name, service in self.services.items() if service.load_balancer),
            key=lambda item: item[0].priority,
        )
        for index, (later, name) in enumerate(routes):
            for earlier, other in routes[:index]:
                if covers(earlier, later):
                    raise FieldError(
                        f"services.{name}.load_balancer",
                        f"can never match: {other}'s rule (priority {earlier.priority}, paths "
                        f"{', '.join(earlier.path_patterns)}"
                        + (f", hosts {', '.join(earlier.host_headers)}" if earlier.host_headers else "")
                        + f") is evaluated first and matches every request this one would; give {name} a priority "
                        f"below {earlier.priority} or narrow {other}'s paths",
                    )
        if self.load_balancer is not None and not priorities:
            raise FieldError(
                "load_balancer", "no service has a load_balancer route; remove the section or route a service"
            )

    def _check_production_safety(self) -> None:
        """`production: true` is a promise the templates keep: a spec cannot switch its data safety off."""
        if not self.production:
            return
        problems = []
        if self.load_balancer is not None and self.load_balancer.deletion_protection is False:
            problems.append("load_balancer.deletion_protection: false")
        if self.database is not None and not self.database.deletion_protection:
            problems.append("database.deletion_protection: false")
        if self.database is not None and self.database.backup_retention_days < PRODUCTION_BACKUP_DAYS:
            problems.append(
                f"database.backup_retention_days: {self.database.backup_retention_days} "
                f"(production keeps at least {PRODUCTION_BACKUP_DAYS})"
            )
        if self.cache is not None and self.cache.snapshot_retention_days < 1:
            problems.append("cache.snapshot_retention_days: 0 (production keeps at least one daily snapshot)")
        if problems:
            raise FieldError(
                "production",
                "true does not allow "
                + "; ".join(problems)
                + ". Set production: false for an environment whose data may go",
            )

    def _check_offered(self) -> None:
        """Names AWS must know (instance types in this region, engine versions): checked against cfn-lint's data."""
        if self.cluster.ec2_capacity is not None:
            catalog.check(
                self.cluster.ec2_capacity.instance_type,
                catalog.ec2_instance_types(self.region),
                f"cluster.ec2_capacity.instance_type: in {self.region},",
            )
        if self.database is not None:
            catalog.check(
                self.database.engine_version,
                catalog.aurora_postgresql_versions(),
                "database.engine_version: Aurora PostgreSQL version",
            )
        if self.cache is not None:
            catalog.check(
                self.cache.node_type, catalog.cache_node_types(self.region), f"cache.node_type: in {self.region},"
            )
            catalog.check(self.cache.engine_version, catalog.redis_versions(), "cache.engine_version: Redis version")

    @property
    def prefix(self) -> str:
        """`<system>-<env>`: the start of every physical name."""
        return f"{self.system}-{self.environment}"

    @property
    def secret_prefix(self) -> str:
        return f"/{self.system}/{self.environment}/"

    @property
    def cluster_name(self) -> str:
        return self.cluster.name or self.prefix

    @property
    def namespace(self) -> str:
        return self.cluster.service_discovery_namespace or f"{self.prefix}.local"
