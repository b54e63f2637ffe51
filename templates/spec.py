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
from .spec_addons import ADDON_TEMPLATES_DESCRIPTION, ADDONS_DESCRIPTION, AddonPath
from .spec_addons import check as check_addons
from .spec_alarms import AlarmsSpec  # noqa: F401 - re-exported, as the service parts
from .spec_common import (
    AZ_PATTERN,
    GATEWAY_ENDPOINTS,
    INTERFACE_ENDPOINTS,
    NAME_PATTERN,
    PRODUCTION_BACKUP_DAYS,
    RESERVED_TAGS,
    Model,
    ServiceName,
    check_retention,
    check_tag,
    parse_cidr,
    pascal,
    shortened,
)
from .spec_escapes import AcceptedRiskSpec, OverrideSpec
from .spec_jobs import JobSpec  # noqa: F401 - re-exported, as the service parts
from .spec_jobs import check as check_jobs
from .spec_options import RangeName
from .spec_options import check as check_options
from .spec_platform import (  # noqa: F401 - re-exported, as the service parts
    ACM_NAMES_PER_CERTIFICATE,
    ClusterSpec,
    DnsSpec,
    Ec2CapacitySpec,
    LoadBalancerSpec,
    certificate_name,
    check_capacity,
    in_zone,
)
from .spec_services import (  # noqa: F401 - re-exported: the spec's parts are importable from templates.spec
    AutoscalingSpec,
    ImageSpec,
    LoadBalancerRouteSpec,
    RepositorySpec,
    SecretRef,
    ServiceSpec,
    TaskSpec,
    check_references,
    covers,
)
from .spec_storage import (  # noqa: F401 - re-exported, as the service parts
    GRANT_LEVELS,
    BucketSpec,
    CorsSpec,
    KeyAttribute,
    QueueSpec,
    StorageName,
    TableSpec,
    TopicSpec,
)
from .spec_storage import check as check_storage
from .validation import FieldError, SpecInvalid, convert, worded

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
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=255,
                pattern=worded(
                    r"^[A-Za-z0-9][A-Za-z0-9 ._:/=+@-]*$",
                    "a Name tag: a letter or digit, then letters, digits, spaces and ._:/=+@-",
                ),
            ),
        ]
        | None,
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
    endpoints: Annotated[
        list[str],
        Meta(
            description=(
                "VPC endpoints for the private subnets, by service: gateway endpoints "
                + ", ".join(GATEWAY_ENDPOINTS)
                + " (on the private route tables, free) and interface endpoints "
                + ", ".join(INTERFACE_ENDPOINTS)
                + " (private DNS, in every private subnet, HTTPS from the services' security groups only). "
                "With nat: none the endpoints the services need are added to these (see docs/spec.md)."
            )
        ),
    ] = []

    def __post_init__(self) -> None:
        self._check_endpoints()
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

    def _check_endpoints(self) -> None:
        known = (*GATEWAY_ENDPOINTS, *INTERFACE_ENDPOINTS)
        for name in self.endpoints:
            if name not in known:
                raise FieldError(
                    "endpoints",
                    f"{name!r} is not a VPC endpoint stackforge can add; allowed: gateway "
                    f"{', '.join(GATEWAY_ENDPOINTS)}; interface {', '.join(INTERFACE_ENDPOINTS)}",
                )
        twice = sorted({name for name in self.endpoints if self.endpoints.count(name) > 1})
        if twice:
            raise FieldError("endpoints", f"lists {', '.join(twice)} more than once")

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


class DatabaseSpec(Model):
    """Aurora PostgreSQL Serverless v2, created only while the deploy-time `EnableDatabase` switch is on."""

    enabled: Annotated[
        bool,
        Meta(description=("Default of the deploy-time `EnableDatabase` switch (the cluster exists only when on).")),
    ] = False
    engine_version: Annotated[
        str,
        Meta(
            pattern=worded(r"^\d+\.\d+$", "a major.minor version such as 16.4"),
            description="Aurora PostgreSQL engine version.",
        ),
    ] = "17.6"
    min_capacity: Annotated[
        float,
        Meta(
            ge=0.5,
            le=256,
            description="Serverless v2 minimum ACUs (0.5 or more: a paused cluster, 0 ACUs, is not offered yet).",
        ),
    ] = 0.5
    max_capacity: Annotated[float, Meta(ge=1, le=256, description="Serverless v2 maximum ACUs.")] = 1
    database_name: Annotated[
        str,
        Meta(
            pattern=worded(
                r"^[A-Za-z][A-Za-z0-9_]{0,62}$", "a letter, then letters, digits and underscores, at most 63 characters"
            ),
            description="Initial database name.",
        ),
    ] = "app"
    master_username: Annotated[
        str,
        Meta(
            pattern=worded(
                r"^[A-Za-z][A-Za-z0-9_]{0,15}$", "a letter, then letters, digits and underscores, at most 16 characters"
            ),
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

    node_type: Annotated[
        str,
        Meta(
            pattern=worded(r"^cache\.[a-z0-9]+\.[a-z0-9]+$", "an ElastiCache node type such as cache.t4g.micro"),
            description="ElastiCache node type.",
        ),
    ] = "cache.t4g.micro"
    engine_version: Annotated[
        str,
        Meta(
            pattern=worded(r"^\d+\.\d+$", "a major.minor version such as 16.4"), description="Redis OSS engine version."
        ),
    ] = "7.1"
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
    region: Annotated[
        str,
        Meta(
            pattern=worded(r"^[a-z]{2}(-gov)?-[a-z]+-\d$", "an AWS region name such as eu-central-1"),
            description="AWS region.",
        ),
    ] = "eu-central-1"
    account_id: Annotated[
        Annotated[
            str, Meta(pattern=worded(r"^\d{12}$", "a 12-digit AWS account ID (quoted, so YAML keeps leading zeros)"))
        ]
        | None,
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
    alarms: Annotated[
        AlarmsSpec, Meta(description="CloudWatch alarms: the alarm topic's e-mail subscribers and the thresholds.")
    ] = field(default_factory=AlarmsSpec)
    buckets: Annotated[dict[StorageName, BucketSpec], Meta(description="S3 buckets (storage stack).")] = {}
    queues: Annotated[dict[StorageName, QueueSpec], Meta(description="SQS queues (storage stack).")] = {}
    topics: Annotated[dict[StorageName, TopicSpec], Meta(description="SNS topics (storage stack).")] = {}
    tables: Annotated[dict[StorageName, TableSpec], Meta(description="DynamoDB tables (storage stack).")] = {}
    jobs: Annotated[
        dict[ServiceName, JobSpec],
        Meta(description="Tasks run on a schedule or on demand (`build.py run`), by name (not a service's)."),
    ] = {}
    overrides: Annotated[
        list[OverrideSpec], Meta(description="JSON-Patch operations on emitted templates, applied after the build.")
    ] = []
    accepted_risks: Annotated[
        list[AcceptedRiskSpec], Meta(description="Audit findings accepted on purpose, each with its reason.")
    ] = []
    addons: Annotated[list[AddonPath], Meta(description=ADDONS_DESCRIPTION)] = []
    addon_templates: Annotated[dict[str, dict], Meta(description=ADDON_TEMPLATES_DESCRIPTION)] = {}
    ip_ranges: Annotated[
        dict[RangeName, list[str]],
        Meta(description="Named lists of IPv4 CIDRs that services' `public_ports` admit (office: [203.0.113.0/24])."),
    ] = {}

    def __post_init__(self) -> None:
        self.check_tags()
        self._check_zones()
        self._check_certificate()
        self._check_references()
        self._check_production_safety()
        self._check_offered()
        check_capacity(self)
        check_storage(self)
        check_jobs(self)
        check_options(self)
        self._check_private_egress()
        check_addons(self)

    def _check_private_egress(self) -> None:
        """With nat: none the private subnets reach AWS only through VPC endpoints: an image from a registry other
        than this region's ECR has no way in (the endpoints the services need are added, see templates/endpoints)."""
        if self.network.nat != "none":
            return
        workloads = [("services", self.services), ("jobs", self.jobs)]
        for section, name, service in ((s, n, w) for s, found in workloads for n, w in sorted(found.items())):
            if not service.image.in_ecr(self.region):
                raise FieldError(
                    f"{section}.{name}.image",
                    f"{service.image.uri} needs internet egress; with nat: none only ECR images of {self.region} "
                    "can be pulled (through the ecr.api, ecr.dkr and s3 endpoints): push it to a repository of "
                    "`repositories` or use nat: single",
                )

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

    @property
    def route_hosts(self) -> list[str]:
        """Every host name the services' listener rules match, lower-case (ALB compares them case-insensitively)."""
        return sorted(
            {
                host.lower()
                for service in self.services.values()
                if service.load_balancer is not None
                for host in service.load_balancer.host_headers
            }
        )

    @property
    def dns_hosts(self) -> list[str]:
        """The names in the spec's zone a DNS-validated certificate adds as subject alternative names: each route
        host as a certificate names it (`api-*.example.com` -> `*.example.com`), not the record name itself,
        which is the certificate's domain name."""
        dns = self.load_balancer.dns if self.load_balancer is not None else None
        if dns is None:
            return []
        record, zone = dns.name.rstrip(".").lower(), dns.zone_name.rstrip(".").lower()
        found = set()
        for host in self.route_hosts:
            name = certificate_name(host)
            if name is not None and name != record and in_zone(name, zone):
                found.add(name)
        return sorted(found)

    @property
    def record_hosts(self) -> list[str]:
        """The route hosts that get an alias record: those a record can name as written (`*.shop.example.com`
        too, when that is the host header), never a wildcard the user did not write for the whole of a label."""
        return [host for host in self.dns_hosts if host in self.route_hosts]

    def _check_route_hosts(self) -> None:
        """Route host names must be ones the load balancer's certificate covers: a DNS-validated certificate gets
        each as a subject alternative name, so each must lie in the zone and be nameable by a certificate."""
        settings = self.load_balancer
        if settings is None or settings.dns is None or settings.certificate_arn is not None or not settings.tls:
            return
        record = settings.dns.name.rstrip(".")
        if len(record) > 64:
            raise FieldError(
                "load_balancer.dns.name",
                f"at most 64 characters for the domain name of an ACM certificate, got {len(record)}; "
                "use a shorter name or give certificate_arn",
            )
        zone = settings.dns.zone_name.rstrip(".").lower()
        unnamed = [host for host in self.route_hosts if certificate_name(host) is None]
        if unnamed:
            raise FieldError(
                "services",
                f"host headers {', '.join(unnamed)} have a wildcard past their first label, which no certificate "
                "can name; use a wildcard in the first label only (*.example.com) or give certificate_arn",
            )
        outside = [host for host in self.route_hosts if not in_zone(certificate_name(host), zone)]
        if outside:
            raise FieldError(
                "services",
                f"host headers {', '.join(outside)} are not in zone {zone}, so the DNS-validated certificate of "
                f"{record} cannot cover them (nor can an alias record name them); use hosts in {zone} or give "
                "load_balancer.certificate_arn of a certificate that covers them",
            )
        names = 1 + len(self.dns_hosts)
        if names > ACM_NAMES_PER_CERTIFICATE:
            raise FieldError(
                "services",
                f"the certificate would name {names} hosts ({record} and {', '.join(self.dns_hosts)}), more than "
                f"ACM's default quota of {ACM_NAMES_PER_CERTIFICATE} names per certificate; use a wildcard host "
                "(*.example.com) or give certificate_arn",
            )

    def _check_certificate(self) -> None:
        """An ALB listener takes only a certificate of its own region (and, when the spec names one, account)."""
        self._check_route_hosts()
        arn = self.load_balancer.certificate_arn if self.load_balancer is not None else None
        if arn is None:
            return
        _, _, _, region, account, _ = arn.split(":", 5)
        if region != self.region:
            raise FieldError(
                "load_balancer.certificate_arn",
                f"the certificate is in {region}, but a load balancer in {self.region} can only use an ACM "
                f"certificate of {self.region}; request or import it there",
            )
        if self.account_id is not None and account != self.account_id:
            raise FieldError(
                "load_balancer.certificate_arn",
                f"the certificate belongs to account {account}, not to this environment's account {self.account_id}",
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
            check_references(self, where, name, service)
            if service.load_balancer is not None and self.load_balancer is None:
                raise FieldError(f"{where}.load_balancer", "the environment has no load_balancer section")
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
        """The Cloud Map namespace: given, or `<system>-<env>.local` with the first label cut to DNS's 63."""
        return self.cluster.service_discovery_namespace or f"{shortened(self.prefix, 63)}.local"

    @property
    def capacity_provider_name(self) -> str | None:
        """The EC2 capacity provider's name: CloudFormation's own (`<stack>-<resource>-<random>`), except when the
        stack name starts with aws, ecs or fargate, which ECS refuses in capacity provider names: `cp-<prefix>`."""
        if self.prefix.startswith(("aws", "ecs", "fargate")):
            return shortened(f"cp-{self.prefix}", 255)
        return None

    @property
    def load_balancer_name(self) -> str:
        """The ALB's name: given, or `<system>-<env>-alb` cut to ELB's 32 characters (`alb-...` when the system
        is `internal`, a prefix ELB reserves for internal load balancers)."""
        if self.load_balancer is not None and self.load_balancer.name is not None:
            return self.load_balancer.name
        name = f"{self.prefix}-alb"
        return shortened(f"alb-{self.prefix}" if name.startswith("internal-") else name, 32)
