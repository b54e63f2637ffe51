"""The records of an environment's inventory: what `inventory(built)` finds in the evaluated templates and
the diagram, the ARCHITECTURE.md tables and the cost estimate read.

Each record says whether it exists with the parameter values (`active`) and, if not, why (`reason`).
Special cases are kept to one table, `EXTERNAL_NETWORKS`: a service whose image repository is named there
and that has internet egress gets an arrow to that named network (yagna -> Golem network) instead of the
generic "Internet (egress)". Everything else is derived from the templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stackloom.cfn.evaluate import Built

# Image repository name (last path segment, without tag) -> the external network such a service talks to.
EXTERNAL_NETWORKS = {"yagna": "Golem network<br/>(providers, P2P via NAT)"}


@dataclass
class Subnet:
    key: tuple
    tier: str  # public | private | isolated
    cidr: str
    zone: str
    nat: tuple | None = None  # key of the NAT gateway its default route goes to


@dataclass
class Nat:
    key: tuple
    zone: str
    active: bool = True


@dataclass
class Listener:
    protocol: str
    port: int | None
    action: str


@dataclass
class LoadBalancer:
    key: tuple
    name: str
    scheme: str
    kind: str
    zones: int
    tier: str
    listeners: list[Listener] = field(default_factory=list)
    certificates: list[str] = field(default_factory=list)
    access_logs: bool = False
    active: bool = True


@dataclass
class Record:
    name: str
    type: str
    zone: str
    alias_of: tuple | None
    active: bool = True


@dataclass
class Capacity:
    key: tuple
    instance_type: str
    desired: int | None
    minimum: int | None
    maximum: int | None
    volume_gib: float
    volume_type: str
    ecs: bool
    tier: str
    active: bool = True


@dataclass
class Secret:
    variable: str
    store: str  # ssm | secretsmanager
    name: str
    active: bool = True
    note: str = ""


@dataclass
class Route:
    load_balancer: tuple | None
    paths: list[str]
    hosts: list[str]
    port: int | None
    priority: int | None


@dataclass
class Service:
    name: str
    file: str
    compute: str  # Fargate | Fargate Spot | EC2 | ...
    cpu: int | None
    memory: int | None
    ports: list[int]
    desired: int | None
    desired_parameter: str | None
    autoscaling: tuple[int, int] | None
    routes: list[Route]
    discovery: str | None
    log_group: str | None
    log_retention: int | None
    repository: str | None  # ECR repository name
    image: str
    tag: str
    secrets: list[Secret]
    roles: dict[str, list[str]]  # execution/task -> AWS service prefixes it may call
    groups: list[tuple]
    tier: str
    egress: bool  # security group allows 0.0.0.0/0 out
    active: bool = True
    reason: str = ""
    architecture: str = "X86_64"  # the task definition's RuntimePlatform CpuArchitecture (X86_64 | ARM64)
    ephemeral_gib: int | None = None  # Fargate EphemeralStorage SizeInGiB when set (20 GiB are included)
    strategy: tuple = ()  # (capacity provider, weight, base) of each strategy item: a Fargate / Spot mix

    @property
    def fargate(self) -> bool:
        return self.compute.startswith("Fargate")


@dataclass
class Database:
    key: tuple
    engine: str
    version: str
    serverless: tuple[float, float] | None
    instances: int
    instance_class: str
    groups: list[tuple]
    managed_secret: bool
    log_exports: list[str]
    active: bool = True
    reason: str = ""


@dataclass
class Cache:
    key: tuple
    engine: str
    version: str
    node_type: str
    nodes: int
    multi_az: bool
    tls: bool
    groups: list[tuple]
    active: bool = True
    reason: str = ""


@dataclass
class Flow:
    source: tuple
    target: tuple
    protocol: str
    ports: str
    active: bool = True


@dataclass
class LogGroup:
    key: tuple
    name: str
    retention: int | None
    owner: str  # a service name, "flow-logs", ...
    active: bool = True


@dataclass
class Function:
    """A Lambda function; `deploy_time` when it backs a custom resource (CloudFormation invokes it on deploy)."""

    key: tuple
    name: str
    purpose: str  # from the custom resource type (Custom::RestrictDefaultSecurityGroup) or the function name
    runtime: str
    log_group: str | None  # the log group it writes to (LoggingConfig, else /aws/lambda/<FunctionName>)
    custom_resources: list[str] = field(default_factory=list)  # types of the custom resources it backs
    targets: list[tuple[str, str]] = field(default_factory=list)  # (component: "vpc", what it does to it)
    in_vpc: bool = False
    active: bool = True

    @property
    def deploy_time(self) -> bool:
        return bool(self.custom_resources)


@dataclass
class Endpoint:
    """A VPC endpoint: `service` is the part of its service name after the region (`ecr.api`, `s3`)."""

    key: tuple
    service: str
    kind: str  # Interface | Gateway
    zones: int  # the subnets of an interface endpoint (one network interface, billed per AZ, in each)
    private_dns: bool
    active: bool = True


@dataclass
class Store:
    """A bucket, queue, topic or table of the storage stack (`kind`: bucket | queue | topic | table)."""

    key: tuple
    kind: str
    name: str  # its Name tag (<system>-<env>-<spec key>), else its logical ID
    details: list[str] = field(default_factory=list)  # what the diagram and the tables show under the name
    delivers_to: list[tuple] = field(default_factory=list)  # a topic's subscribed queues (their keys)
    active: bool = True
    fifo: bool = False  # a FIFO queue or topic
    capacity: tuple[float, float] | None = None  # a provisioned table's (read, write) capacity units
    recovery: bool = False  # a table with point-in-time recovery


@dataclass
class Alarm:
    """A CloudWatch alarm of any stack; `metrics` is what CloudWatch bills it for (each metric of a metric-math
    alarm)."""

    file: str
    logical_id: str
    name: str
    metrics: int = 1
    active: bool = True


@dataclass
class AlarmTopic:
    """The environment's alarm topic (network stack) and the e-mail addresses subscribed to it."""

    name: str
    subscribers: int = 0
    active: bool = True


@dataclass
class Job:
    """A job's task definition (a `job-<name>.json` stack) and, when scheduled, its schedule expression."""

    name: str
    file: str
    compute: str  # Fargate | Fargate Spot | EC2
    cpu: int | None
    memory: int | None
    schedule: str | None
    timezone: str | None
    groups: list[tuple] = field(default_factory=list)
    active: bool = True
    architecture: str = "X86_64"  # as a service's
    ephemeral_gib: int | None = None


@dataclass
class Grant:
    """A workload's role allowed to use a store: `level` as the spec says it (read, read-write, consume, ...)."""

    file: str  # the template of the role (a service's stack file)
    role: str  # its logical ID
    store: tuple  # the store's key
    level: str
    active: bool = True


@dataclass
class Inventory:
    built: Built
    system: str
    environment: str
    region: str
    stack_name: str
    vpc_cidr: str = ""
    vpc_key: tuple | None = None
    subnets: list[Subnet] = field(default_factory=list)
    nats: list[Nat] = field(default_factory=list)
    internet_gateway: bool = False
    load_balancers: list[LoadBalancer] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    hosted_zone: str | None = None
    cluster: str = ""
    container_insights: bool = False
    capacity: list[Capacity] = field(default_factory=list)
    namespace: str | None = None
    namespace_kind: str = ""
    services: list[Service] = field(default_factory=list)
    databases: list[Database] = field(default_factory=list)
    caches: list[Cache] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    internet_ingress: dict[tuple, list[str]] = field(default_factory=dict)
    owners: dict[tuple, str] = field(default_factory=dict)  # security group key -> component id
    log_groups: list[LogGroup] = field(default_factory=list)
    repositories: list[str] = field(default_factory=list)
    kms_keys: int = 0
    created_secrets: list[tuple[str, bool]] = field(default_factory=list)
    flow_logs: str | None = None  # log group name of the VPC flow logs
    instance_role: bool = False
    functions: list[Function] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    stores: list[Store] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)
    alarm_topic: AlarmTopic | None = None

    @property
    def zones(self) -> list[str]:
        return sorted({subnet.zone for subnet in self.subnets})

    def subnets_of(self, tier: str) -> list[Subnet]:
        return [subnet for subnet in self.subnets if subnet.tier == tier]

    @property
    def network_load_balancers(self) -> list[LoadBalancer]:
        """The Network Load Balancers (a service's `public_ports`), which ELB prices apart from ALBs."""
        return [balancer for balancer in self.load_balancers if balancer.kind == "network"]

    @property
    def active_nats(self) -> list[Nat]:
        return [nat for nat in self.nats if nat.active]


def is_active(found: Inventory, owner: str) -> bool:
    """Does the component behind a security group owner id (`svc:api`, `db:Cluster`, `cache:Redis`) exist?"""
    kind, _, name = owner.partition(":")
    if kind == "svc":
        return all(service.active for service in found.services if service.name == name)
    if kind == "db":
        return all(database.active for database in found.databases if database.key[1] == name)
    if kind == "cache":
        return all(cache.active for cache in found.caches if cache.key[1] == name)
    return True
