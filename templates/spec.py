"""The environment spec: one YAML file per environment, validated into typed objects.

Every field has a description (a test enforces it) and a default where one makes sense.
Combinations that cannot work are rejected here, in plain words, before any template is built.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import catalog

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$"
SERVICE_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$"
ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,254}$"
AZ_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d[a-z]$"      # eu-central-1a, us-gov-west-1b
RESERVED_TAGS = ("Environment", "ManagedBy", "Name", "System")   # cost allocation and the diff rely on them
PRODUCTION_BACKUP_DAYS = 7                                       # Aurora automated backups kept in production

# Fargate's valid CPU units and the memory (MiB) each allows.
FARGATE_MEMORY = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4097, 1024)),
    1024: list(range(2048, 8193, 1024)),
    2048: list(range(4096, 16385, 1024)),
    4096: list(range(8192, 30721, 1024)),
    8192: list(range(16384, 61441, 4096)),
    16384: list(range(32768, 122881, 8192)),
}


class Model(BaseModel):
    """Base for every spec part: unknown keys are errors, values are immutable once loaded, and types are
    strict (YAML already types its scalars: `port: true` or `port: "4000"` is a mistake, not a 1 or a 4000)."""

    # defer_build: the validators are built on first use, once, not for every model class at import
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True, strict=True)


class NetworkSpec(Model):
    cidr: str = Field(description="VPC IPv4 CIDR block, e.g. 10.0.0.0/16 (prefix /16 to /24).")
    vpc_name: str | None = Field(
        default=None, min_length=1, max_length=255, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._:/=+@-]*$",
        description="Name tag of the VPC (what the console shows). Default: <system>-<env>-vpc.",
    )
    availability_zones: Annotated[list[Annotated[str, Field(pattern=AZ_PATTERN)]], Field(min_length=1, max_length=6)] | Annotated[int, Field(ge=1, le=6)] = Field(
        default=2,
        description="Either a count of AZs (picked with Fn::GetAZs at deploy time) or explicit AZ names.",
    )
    subnet_prefix: int = Field(
        default=20, ge=16, le=28,
        description="Prefix length of the generated subnets when public/private subnets are not listed.",
    )
    public_subnets: list[str] | None = Field(
        default=None, description="Explicit public subnet CIDRs, one per AZ. Default: carved from `cidr`."
    )
    private_subnets: list[str] | None = Field(
        default=None, description="Explicit private subnet CIDRs, one per AZ. Default: carved from `cidr`."
    )
    nat: Literal["none", "single", "per-az"] = Field(
        default="single",
        description="NAT gateways: none (private subnets have no internet egress), single (one, cheap, "
        "not highly available), per-az (one per AZ, highly available).",
    )
    flow_logs: bool = Field(default=True, description="Send VPC flow logs (all traffic) to CloudWatch Logs.")
    flow_log_retention_days: int = Field(default=30, description="Retention of the VPC flow log group, in days.")
    restrict_default_security_group: bool = Field(
        default=True,
        description="Make the VPC's default security group allow nothing (as AWS CDK's restrictDefaultSecurityGroup): "
        "a custom resource revokes its default rules (ingress from itself, egress to 0.0.0.0/0) at deploy time; "
        "its function's log group keeps flow_log_retention_days. Turning it off later leaves the rules revoked.",
    )

    @field_validator("cidr")
    @classmethod
    def _vpc_cidr(cls, value: str) -> str:
        network = _parse_cidr(value)
        if not 16 <= network.prefixlen <= 24:
            raise ValueError(f"VPC CIDR prefix must be between /16 and /24, got /{network.prefixlen}")
        return str(network)

    @field_validator("flow_log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _check_retention(value)

    @property
    def az_count(self) -> int:
        zones = self.availability_zones
        return zones if isinstance(zones, int) else len(zones)

    @model_validator(mode="after")
    def _subnets(self) -> "NetworkSpec":
        vpc = ipaddress.ip_network(self.cidr)
        if isinstance(self.availability_zones, list) and len(set(self.availability_zones)) != len(self.availability_zones):
            raise ValueError("availability_zones: each AZ may be listed once")
        subnets = self.subnet_cidrs()
        every = [(kind, cidr) for kind in ("public_subnets", "private_subnets") for cidr in subnets[kind]]
        for kind, cidr in every:
            if not cidr.subnet_of(vpc):
                raise ValueError(f"{kind}: {cidr} is not inside the VPC CIDR {vpc}")
        for index, (kind, cidr) in enumerate(every):
            for other_kind, other in every[index + 1:]:
                if cidr.overlaps(other):
                    raise ValueError(f"{kind}: {cidr} overlaps {other_kind} {other}; subnets must not overlap")
        return self

    def subnet_cidrs(self) -> dict[str, list[ipaddress.IPv4Network]]:
        """Public and private subnet CIDRs, one per AZ: the listed ones, else carved from the VPC in order."""
        vpc = ipaddress.ip_network(self.cidr)
        count = self.az_count
        result: dict[str, list[ipaddress.IPv4Network]] = {}
        if self.public_subnets is None or self.private_subnets is None:
            if self.subnet_prefix < vpc.prefixlen:
                raise ValueError(f"subnet_prefix /{self.subnet_prefix} is larger than the VPC /{vpc.prefixlen}")
            available = 2 ** (self.subnet_prefix - vpc.prefixlen)
            if available < 2 * count:
                raise ValueError(
                    f"subnet_prefix: the VPC {vpc} holds {available} subnets of /{self.subnet_prefix}, "
                    f"but {2 * count} are needed ({count} AZs x public + private); use a longer prefix"
                )
            carved = vpc.subnets(new_prefix=self.subnet_prefix)
            generated = [next(carved) for _ in range(2 * count)]
        for index, kind in enumerate(("public_subnets", "private_subnets")):
            listed = getattr(self, kind)
            if listed is None:
                result[kind] = generated[index * count:(index + 1) * count]
                continue
            if len(listed) != count:
                raise ValueError(f"{kind}: {len(listed)} CIDRs listed for {count} availability zones; give one per AZ")
            result[kind] = [_parse_cidr(cidr) for cidr in listed]
        return result


class DnsSpec(Model):
    name: str = Field(description="Fully qualified record name pointing at the load balancer, e.g. api.dev.example.com.")
    zone_name: str = Field(description="Route53 public hosted zone that holds the record, e.g. example.com.")
    zone_id: str | None = Field(
        default=None,
        description="Hosted zone ID. Default: a deploy-time parameter `HostedZoneId` (looked up by `deploy`).",
        pattern=r"^Z[A-Z0-9]{1,31}$",
    )

    @model_validator(mode="after")
    def _inside_zone(self) -> "DnsSpec":
        name, zone = self.name.rstrip(".").lower(), self.zone_name.rstrip(".").lower()
        if name != zone and not name.endswith("." + zone):
            raise ValueError(f"dns.name {self.name!r} is not inside zone {self.zone_name!r}")
        return self


class LoadBalancerSpec(Model):
    name: str | None = Field(default=None, description="ALB name (max 32 chars). Default: <system>-<env>-alb.", max_length=32,
                             pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
    certificate_arn: str | None = Field(
        default=None,
        description="Existing ACM certificate ARN. With `dns`, a DNS-validated certificate is created instead.",
        pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$",
    )
    dns: DnsSpec | None = Field(default=None, description="Route53 alias record (and certificate) for the ALB.")
    http_only: bool = Field(
        default=False,
        description="Serve plain HTTP on port 80 with no TLS. Must be chosen explicitly when no certificate or DNS is given.",
    )
    idle_timeout_seconds: int = Field(default=60, ge=1, le=4000, description="ALB idle timeout.")
    ssl_policy: str = Field(
        default="ELBSecurityPolicy-TLS13-1-2-2021-06", description="TLS policy of the HTTPS listener (TLS 1.2+)."
    )
    deletion_protection: bool | None = Field(
        default=None, description="ALB deletion protection. Default: on in production, off elsewhere."
    )
    access_logs: bool = Field(default=True, description="Write ALB access logs to a dedicated, retained S3 bucket.")
    access_log_retention_days: int = Field(default=90, ge=1, le=3650, description="Days before access logs expire.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and value.lower().startswith("internal-"):
            raise ValueError("ALB names must not start with internal- (AWS reserves it)")
        return value

    @model_validator(mode="after")
    def _tls_choice(self) -> "LoadBalancerSpec":
        has_tls = self.certificate_arn is not None or self.dns is not None
        if has_tls and self.http_only:
            raise ValueError("http_only cannot be combined with certificate_arn or dns: a certificate turns HTTPS on")
        if not has_tls and not self.http_only:
            raise ValueError(
                "no TLS: give certificate_arn or dns to serve HTTPS, or set http_only: true to serve plain HTTP on purpose"
            )
        return self

    @property
    def tls(self) -> bool:
        return not self.http_only


class Ec2CapacitySpec(Model):
    instance_type: str = Field(default="t3.medium", pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", description="EC2 instance type.")
    min_size: int = Field(default=1, ge=0, le=100, description="Minimum instances in the Auto Scaling group.")
    max_size: int = Field(default=2, ge=1, le=100, description="Maximum instances in the Auto Scaling group.")
    desired_capacity: int = Field(default=1, ge=0, le=100, description="Instances at creation time (ECS managed scaling adjusts it).")
    target_capacity_percent: int = Field(default=100, ge=1, le=100, description="ECS managed scaling target utilisation.")
    root_volume_gib: int = Field(default=30, ge=30, le=1024, description="Encrypted gp3 root volume size.")
    ami_parameter: str = Field(
        default="/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
        description="Public SSM parameter holding the ECS-optimized AMI ID.",
    )

    @model_validator(mode="after")
    def _sizes(self) -> "Ec2CapacitySpec":
        if not self.min_size <= self.desired_capacity <= self.max_size:
            raise ValueError(
                f"need min_size <= desired_capacity <= max_size, got {self.min_size} / {self.desired_capacity} / {self.max_size}"
            )
        return self


class ClusterSpec(Model):
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,255}$", description="ECS cluster name. Default: <system>-<env>.")
    container_insights: bool = Field(default=True, description="Enable CloudWatch Container Insights.")
    ec2_capacity: Ec2CapacitySpec | None = Field(
        default=None, description="EC2 capacity provider (ASG + launch template). Required when a service uses compute: ec2."
    )
    service_discovery_namespace: str | None = Field(
        default=None,
        description="Cloud Map private DNS namespace. Default: <system>-<env>.local.",
        pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$",
    )


class RepositorySpec(Model):
    name: str = Field(pattern=r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", min_length=2, max_length=255,
                      description="ECR repository name.")
    immutable_tags: bool = Field(default=True, description="Forbid overwriting a tag. Turn off only for moving tags such as `latest`.")
    keep_images: int = Field(default=30, ge=1, le=1000, description="Lifecycle policy: keep this many most recent images.")
    untagged_expiry_days: int = Field(default=7, ge=1, le=365, description="Lifecycle policy: expire untagged images after this many days.")


class ImageSpec(Model):
    repository: str | None = Field(default=None, description="Key of a repository in `repositories` (ECR in this account/region).")
    uri: str | None = Field(default=None, description="External image repository URI without a tag, e.g. public.ecr.aws/x/y.")
    tag: str = Field(default="latest", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
                     description="Default tag; a deploy-time parameter `<Service>ImageTag` overrides it.")

    @model_validator(mode="after")
    def _one_source(self) -> "ImageSpec":
        if (self.repository is None) == (self.uri is None):
            raise ValueError("image: give exactly one of `repository` (an ECR repository key) or `uri`")
        return self


class SecretRef(Model):
    ssm: str | None = Field(default=None, pattern=r"^/[A-Za-z0-9_.\-/]+$", description="SSM parameter name (path).")
    secrets_manager: str | None = Field(default=None, pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$", description="Secrets Manager secret name.")
    json_key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.+=@/-]{1,256}$",
                                 description="Key inside a JSON Secrets Manager secret (no `:`: ECS splits the reference on it).")

    @model_validator(mode="after")
    def _one_source(self) -> "SecretRef":
        if (self.ssm is None) == (self.secrets_manager is None):
            raise ValueError("secret: give exactly one of `ssm` or `secrets_manager`")
        if self.json_key is not None and self.secrets_manager is None:
            raise ValueError("secret: json_key applies to secrets_manager secrets only")
        return self


class LoadBalancerRouteSpec(Model):
    path_patterns: list[str] = Field(default=["/*"], min_length=1, max_length=5, description="ALB listener rule path patterns.")
    host_headers: list[str] = Field(default=[], max_length=5, description="Optional host-header conditions.")
    priority: int = Field(default=100, ge=1, le=50000, description="Listener rule priority (unique per ALB).")
    health_check_path: str = Field(default="/", pattern=r"^/", max_length=1024, description="Target group health check path.")
    health_check_grace_seconds: int = Field(default=60, ge=0, le=2147483647, description="ECS health check grace period.")
    deregistration_delay_seconds: int = Field(default=30, ge=0, le=3600, description="Target deregistration delay.")


class AutoscalingSpec(Model):
    min_capacity: int = Field(default=1, ge=0, le=1000, description="Minimum task count.")
    max_capacity: int = Field(default=4, ge=1, le=1000, description="Maximum task count.")
    cpu_target_percent: int = Field(default=60, ge=10, le=95, description="Target average CPU utilisation.")
    memory_target_percent: int | None = Field(default=None, ge=10, le=95, description="Optional target average memory utilisation.")

    @model_validator(mode="after")
    def _bounds(self) -> "AutoscalingSpec":
        if self.min_capacity > self.max_capacity:
            raise ValueError(f"autoscaling: min_capacity {self.min_capacity} is above max_capacity {self.max_capacity}")
        return self


class ServiceSpec(Model):
    compute: Literal["fargate", "fargate-spot", "ec2"] = Field(default="fargate", description="Where tasks run.")
    cpu: int = Field(default=256, description="Task CPU units (Fargate: 256, 512, 1024, 2048, 4096, 8192, 16384).")
    memory: int = Field(default=512, ge=128, le=122880, description="Task memory in MiB (Fargate: must fit the CPU size).")
    port: int = Field(ge=1, le=65535, description="Container port the application listens on.")
    extra_ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(
        default=[], description="Further container ports (TCP), reachable from `connects_to` peers only."
    )
    image: ImageSpec = Field(description="Container image: an ECR repository of this environment or an external URI, and a tag.")
    desired_count: int = Field(default=1, ge=0, le=1000, description="Default of the deploy-time `<Service>DesiredCount` parameter.")
    command: list[str] | None = Field(default=None, description="Override of the image's command.")
    environment: dict[Annotated[str, Field(pattern=ENV_VAR_PATTERN)], str] = Field(
        default={}, description="Plain (non-secret) environment variables."
    )
    secrets: dict[Annotated[str, Field(pattern=ENV_VAR_PATTERN)], SecretRef] = Field(
        default={}, description="Secret environment variables, injected by ECS from SSM or Secrets Manager."
    )
    load_balancer: LoadBalancerRouteSpec | None = Field(default=None, description="Expose through the ALB. Default: not exposed.")
    discovery: bool = Field(default=True, description="Register in the Cloud Map namespace as <service>.<namespace>.")
    connects_to: list[str] = Field(
        default=[], description="Other services, `cache` or `database` this service talks to; opens exactly those ports."
    )
    autoscaling: AutoscalingSpec | None = Field(default=None, description="Target-tracking autoscaling. Default: fixed desired count.")
    log_group: str | None = Field(default=None, pattern=r"^[\.\-_/#A-Za-z0-9]{1,512}$",
                                  description="CloudWatch log group name. Default: /ecs/<system>-<env>-<service>.")
    log_retention_days: int = Field(default=30, description="Log retention in days.")
    readonly_root_filesystem: bool = Field(default=False, description="Mount the container root filesystem read-only.")
    writable_paths: list[Annotated[str, Field(pattern=r"^/[A-Za-z0-9._/-]*$", max_length=200)]] = Field(
        default=["/tmp"], max_length=10,
        description="Scratch directories mounted writable (task-local volumes) when the root filesystem is read-only.",
    )
    user: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$",
                             description="User (uid[:gid] or name) the container runs as. Default: the image's.")
    health_check_command: list[str] | None = Field(default=None, description="Container health check command (CMD-SHELL form).")
    min_healthy_percent: int = Field(default=100, ge=0, le=100, description="Deployment minimum healthy percent.")
    max_percent: int = Field(default=200, ge=100, le=400, description="Deployment maximum percent.")

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _check_retention(value)

    @model_validator(mode="after")
    def _sizes(self) -> "ServiceSpec":
        if self.compute != "ec2":
            allowed = FARGATE_MEMORY.get(self.cpu)
            if allowed is None:
                raise ValueError(f"cpu {self.cpu} is not a Fargate size; allowed: {sorted(FARGATE_MEMORY)}")
            if self.memory not in allowed:
                raise ValueError(f"memory {self.memory} does not fit Fargate cpu {self.cpu}; allowed: {allowed[0]}..{allowed[-1]} MiB in steps of {allowed[1] - allowed[0]}")
        elif not 128 <= self.cpu <= 196608:
            raise ValueError("cpu: EC2 tasks take 128 to 196608 CPU units")
        for name, items in (("extra_ports", self.extra_ports), ("writable_paths", self.writable_paths)):
            twice = sorted({item for item in items if items.count(item) > 1})
            if twice:
                raise ValueError(f"{name} lists {', '.join(map(str, twice))} more than once")
        if self.port in self.extra_ports:
            raise ValueError(f"extra_ports repeats the main port {self.port}")
        clash = set(self.environment) & set(self.secrets)
        if clash:
            raise ValueError(f"variables defined both as environment and secret: {sorted(clash)}")
        return self


class DatabaseSpec(Model):
    enabled: bool = Field(default=False, description="Default of the deploy-time `EnableDatabase` switch (the cluster exists only when on).")
    engine_version: str = Field(default="17.6", pattern=r"^\d+\.\d+$", description="Aurora PostgreSQL engine version.")
    min_capacity: float = Field(default=0.5, ge=0, le=256, description="Serverless v2 minimum ACUs.")
    max_capacity: float = Field(default=1, ge=1, le=256, description="Serverless v2 maximum ACUs.")
    database_name: str = Field(default="app", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,62}$", description="Initial database name.")
    master_username: str = Field(default="app_admin", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,15}$",
                                 description="Master user; its password is generated and kept in Secrets Manager by RDS.")
    backup_retention_days: int = Field(default=7, ge=1, le=35, description="Automated backup retention.")
    deletion_protection: bool = Field(default=True, description="RDS deletion protection (turn off to tear down a test cluster).")
    monitoring_interval_seconds: Literal[0, 1, 5, 10, 15, 30, 60] = Field(
        default=60, description="Enhanced Monitoring interval (0 turns it off).")
    instances: int = Field(default=1, ge=1, le=15, description="Serverless v2 instances (2+ for a reader in another AZ).")

    @model_validator(mode="after")
    def _capacity(self) -> "DatabaseSpec":
        if self.min_capacity > self.max_capacity:
            raise ValueError(f"min_capacity {self.min_capacity} is above max_capacity {self.max_capacity}")
        if (self.min_capacity * 2) % 1 or (self.max_capacity * 2) % 1:
            raise ValueError("ACU capacities go in steps of 0.5")
        return self


class CacheSpec(Model):
    node_type: str = Field(default="cache.t4g.micro", pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$", description="ElastiCache node type.")
    engine_version: str = Field(default="7.1", pattern=r"^\d+\.\d+$", description="Redis OSS engine version.")
    nodes: int = Field(default=2, ge=1, le=6, description="Cache clusters in the replication group (primary + replicas).")
    multi_az: bool = Field(default=True, description="Multi-AZ with automatic failover (needs nodes >= 2).")
    snapshot_retention_days: int = Field(default=1, ge=0, le=35, description="Daily snapshot retention (0 turns snapshots off).")

    @model_validator(mode="after")
    def _failover(self) -> "CacheSpec":
        if self.multi_az and self.nodes < 2:
            raise ValueError("multi_az needs nodes >= 2 (a primary and at least one replica)")
        return self


class EnvironmentSpec(Model):
    system: str = Field(pattern=NAME_PATTERN, description="System name, lower-case, used in every resource name.")
    environment: str = Field(pattern=NAME_PATTERN, description="Environment name (dev, preprod, production, ...).")
    region: str = Field(default="eu-central-1", pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$", description="AWS region.")
    account_id: str | None = Field(default=None, pattern=r"^\d{12}$", description="Expected AWS account (deploy refuses others).")
    production: bool = Field(
        default=False, description="Production safeguards: deletion protection, termination protection, stack policy."
    )
    tags: dict[str, str] = Field(default={}, description="Extra tags on every taggable resource "
                                 "(not System, Environment, ManagedBy or Name: those are set by stackforge).")

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            _check_tag(f"key {key!r}", key, 1, 127)         # ECR: keys up to 127
            _check_tag(f"{key!r} value", text, 1, 255)      # ECR: values 1 to 255
            if key.lower().startswith("aws:"):
                raise ValueError(f"key {key!r}: the aws: prefix is reserved for AWS")
            if key in RESERVED_TAGS:
                raise ValueError(f"key {key!r} is set by stackforge on every resource (reserved: {', '.join(RESERVED_TAGS)})")
        return value
    network: NetworkSpec = Field(description="VPC layout.")
    load_balancer: LoadBalancerSpec | None = Field(default=None, description="Public ALB. Required when a service has `load_balancer`.")
    cluster: ClusterSpec = Field(default_factory=ClusterSpec, description="ECS cluster and capacity.")
    repositories: dict[Annotated[str, Field(pattern=SERVICE_NAME_PATTERN)], RepositorySpec] = Field(
        default={}, description="ECR repositories, created in the bootstrap stack."
    )
    services: dict[Annotated[str, Field(pattern=SERVICE_NAME_PATTERN)], ServiceSpec] = Field(
        min_length=1, description="ECS services by name."
    )
    database: DatabaseSpec | None = Field(default=None, description="Aurora PostgreSQL Serverless v2.")
    cache: CacheSpec | None = Field(default=None, description="ElastiCache Redis replication group.")

    @model_validator(mode="after")
    def _references(self) -> "EnvironmentSpec":
        for name, service in self.services.items():
            where = f"services.{name}"
            if service.image.repository is not None and service.image.repository not in self.repositories:
                raise ValueError(f"{where}.image.repository: {service.image.repository!r} is not a key of repositories "
                                 f"(known: {sorted(self.repositories)})")
            if service.load_balancer is not None and self.load_balancer is None:
                raise ValueError(f"{where}.load_balancer: the environment has no load_balancer section")
            if service.compute == "ec2" and self.cluster.ec2_capacity is None:
                raise ValueError(f"{where}.compute: ec2 needs cluster.ec2_capacity")
            targets = set(self.services) - {name} | {"cache", "database"}
            for target in service.connects_to:
                if target not in targets:
                    raise ValueError(f"{where}.connects_to: {target!r} is unknown; allowed: {sorted(targets)}")
                if target in ("cache", "database") and getattr(self, target) is None:
                    raise ValueError(f"{where}.connects_to: {target!r} but the environment has no {target} section")
                if target in self.services and not self.services[target].discovery:
                    raise ValueError(f"{where}.connects_to: {target!r} has discovery off, so it cannot be reached by name")
            for variable, secret in service.secrets.items():
                if secret.ssm is not None and not secret.ssm.startswith(self.secret_prefix):
                    raise ValueError(f"{where}.secrets.{variable}.ssm: {secret.ssm!r} must be under {self.secret_prefix} "
                                     "(execution roles may read only their environment's parameters)")
                if secret.secrets_manager is not None and not ("/" + secret.secrets_manager).startswith(self.secret_prefix):
                    raise ValueError(f"{where}.secrets.{variable}.secrets_manager: {secret.secrets_manager!r} must start with "
                                     f"{self.secret_prefix[1:]}")
        priorities: dict[int, str] = {}
        for name, service in sorted(self.services.items()):
            if service.load_balancer is not None:
                other = priorities.setdefault(service.load_balancer.priority, name)
                if other != name:
                    raise ValueError(f"services.{name}.load_balancer.priority {service.load_balancer.priority} "
                                     f"is already used by {other}; priorities must be unique")
        if self.load_balancer is not None and not priorities:
            raise ValueError("load_balancer: no service has a load_balancer route; remove the section or route a service")
        return self

    @model_validator(mode="after")
    def _production_safety(self) -> "EnvironmentSpec":
        """`production: true` is a promise the templates keep: a spec cannot switch its data safety off."""
        if not self.production:
            return self
        problems = []
        if self.load_balancer is not None and self.load_balancer.deletion_protection is False:
            problems.append("load_balancer.deletion_protection: false")
        if self.database is not None and not self.database.deletion_protection:
            problems.append("database.deletion_protection: false")
        if self.database is not None and self.database.backup_retention_days < PRODUCTION_BACKUP_DAYS:
            problems.append(f"database.backup_retention_days: {self.database.backup_retention_days} "
                            f"(production keeps at least {PRODUCTION_BACKUP_DAYS})")
        if self.cache is not None and self.cache.snapshot_retention_days < 1:
            problems.append("cache.snapshot_retention_days: 0 (production keeps at least one daily snapshot)")
        if problems:
            raise ValueError("production: true does not allow " + "; ".join(problems)
                             + ". Set production: false for an environment whose data may go")
        return self

    @model_validator(mode="after")
    def _offered(self) -> "EnvironmentSpec":
        """Names AWS must know (instance types in this region, engine versions): checked against cfn-lint's data."""
        if self.cluster.ec2_capacity is not None:
            catalog.check(self.cluster.ec2_capacity.instance_type, catalog.ec2_instance_types(self.region),
                          f"cluster.ec2_capacity.instance_type: in {self.region},")
        if self.database is not None:
            catalog.check(self.database.engine_version, catalog.aurora_postgresql_versions(),
                          "database.engine_version: Aurora PostgreSQL version")
        if self.cache is not None:
            catalog.check(self.cache.node_type, catalog.cache_node_types(self.region), f"cache.node_type: in {self.region},")
            catalog.check(self.cache.engine_version, catalog.redis_versions(), "cache.engine_version: Redis version")
        return self

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


def _parse_cidr(value: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a valid IPv4 CIDR ({error})") from None
    return network


TAG_SYMBOLS = set("_.:/=+-@ ")


def _check_tag(what: str, text: str, shortest: int, longest: int) -> None:
    """The characters and lengths every AWS service accepts in tags (letters, digits, spaces, _.:/=+-@)."""
    if not shortest <= len(text) <= longest:
        raise ValueError(f"{what}: {shortest} to {longest} characters, got {len(text)}")
    bad = sorted({char for char in text if not (char.isalnum() or char in TAG_SYMBOLS)})
    if bad:
        raise ValueError(f"{what}: characters {''.join(bad)!r} are not allowed in tags (letters, digits, spaces, _.:/=+-@)")


LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)


def _check_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(f"{value} is not a CloudWatch Logs retention; allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")
    return value


def pascal(name: str) -> str:
    """`yagna-node` -> `YagnaNode`: logical-ID-safe and stable for a given name."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)
