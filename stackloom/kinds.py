"""What the tool knows about each CloudFormation resource type, in one registry keyed by the type.

A resource kind is described once here: whether replacing or removing it loses data (the deploy gate
`--allow-replace`, `diff`'s risk verdict and the production stack policy all read `stateful`), and which
property, if any, makes AWS refuse to delete it (`deletion_protection`, read by deploy's removal check).
The reports register their per-type handlers against the same keys, with the decorators below:
`@inventory(TYPE, ...)` on the collector that turns the type's resources into inventory records
(`stackloom/report/inventory.py`), `@cost(TYPE, ...)` on the pricer that turns those records into cost lines
(`stackloom/report/cost.py`). `inventory()` and `estimate()` run every registered handler of their role, in
registration order (a handler reading another kind's records registers after that kind's handler). A type
has at most one handler per role: registering a second one is refused. This module imports no report module
(diff and deploy import it); the handlers land here when the report modules are imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

Handler = TypeVar("Handler", bound=Callable)

STACK_TYPE = "AWS::CloudFormation::Stack"


@dataclass(frozen=True)
class Kind:
    """One CloudFormation resource type as the tool sees it."""

    type: str
    stateful: bool = False  # replacement or removal loses data (or makes it unreadable)
    why: str = ""  # what would be lost, in words
    deletion_protection: str | None = None  # the property with which AWS refuses a delete
    name_property: str | None = None  # the property that names it (a fixed name can clash with one left behind)
    delete_command: str | None = None  # the AWS CLI command that deletes one by name ({name})


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    if kind.type in KINDS:
        raise ValueError(f"{kind.type} is registered twice")
    KINDS[kind.type] = kind
    return kind


def kind(resource_type: str) -> Kind:
    """The registered kind, or a plain stateless one for any other type."""
    return KINDS.get(resource_type) or Kind(resource_type)


def is_stateful(resource_type: str) -> bool:
    return kind(resource_type).stateful


def stateful_types() -> tuple[str, ...]:
    return tuple(name for name, entry in KINDS.items() if entry.stateful)


# role -> resource type -> handler (dicts keep registration order, the order the handlers run in)
ROLES = ("inventory", "cost", "diagram")
HANDLERS: dict[str, dict[str, Callable]] = {role: {} for role in ROLES}


def handles(role: str, *types: str) -> Callable[[Handler], Handler]:
    """Decorator: the function is the `role` handler of each of `types` (refused if one already has one)."""
    if role not in HANDLERS:
        raise ValueError(f"{role!r} is not a handler role (one of {', '.join(ROLES)})")
    if not types:
        raise ValueError(f"a {role} handler needs at least one resource type")

    def register_handler(function: Handler) -> Handler:
        table = HANDLERS[role]
        taken = [name for name in types if name in table] + [
            name for index, name in enumerate(types) if name in types[:index]
        ]
        if taken:
            owners = ", ".join(
                f"{name} ({getattr(table.get(name), '__qualname__', function.__qualname__)})" for name in taken
            )
            raise ValueError(f"{role} handler {function.__qualname__}: registered twice for {owners}")
        for name in types:
            table[name] = function
        return function

    return register_handler


def inventory(*types: str) -> Callable[[Handler], Handler]:
    """`@kinds.inventory("AWS::RDS::DBCluster")`: `function(built, found)` adds the type's inventory records."""
    return handles("inventory", *types)


def cost(*types: str) -> Callable[[Handler], Handler]:
    """`@kinds.cost("AWS::RDS::DBCluster")`: `function(found, pricer)` adds the type's cost lines."""
    return handles("cost", *types)


def diagram(*types: str, regional: bool = False) -> Callable[[Handler], Handler]:
    """`@kinds.diagram("AWS::RDS::DBCluster")`: `function(chart, found, component)` draws the type's nodes among
    the private subnets' data stores (`component` maps a record key such as `db:<id>` to its node id);
    `regional=True` draws them outside the VPC instead, for services without network interfaces in it (S3, SQS)."""
    register_handler = handles("diagram", *types)

    def registered(function: Handler) -> Handler:
        function.regional = regional  # read by the diagram: where the nodes go
        return register_handler(function)

    return registered


def handlers(role: str) -> list[Callable]:
    """The distinct handlers of a role, in registration order (the order inventory()/estimate() run them)."""
    return list(dict.fromkeys(HANDLERS[role].values()))


def covered(role: str) -> tuple[str, ...]:
    """The resource types that have a handler of this role."""
    return tuple(HANDLERS[role])


def handlers_of(resource_type: str) -> dict[str, Callable]:
    """Every handler registered for one resource type, by role."""
    return {role: table[resource_type] for role, table in HANDLERS.items() if resource_type in table}


for _entry in (
    Kind("AWS::RDS::DBCluster", stateful=True, why="the Aurora data", deletion_protection="DeletionProtection"),
    Kind("AWS::ElastiCache::ReplicationGroup", stateful=True, why="Redis data"),
    Kind(
        "AWS::S3::Bucket",
        stateful=True,
        why="artifacts, ALB access logs, application objects",
        name_property="BucketName",
        delete_command="aws s3 rb s3://{name} --force",
    ),
    Kind(
        "AWS::ECR::Repository",
        stateful=True,
        why="pushed images",
        name_property="RepositoryName",
        delete_command="aws ecr delete-repository --repository-name {name} --force",
    ),
    Kind(
        "AWS::Logs::LogGroup",
        stateful=True,
        why="application and flow logs",
        name_property="LogGroupName",
        delete_command="aws logs delete-log-group --log-group-name {name}",
    ),
    Kind(
        "AWS::SecretsManager::Secret",
        stateful=True,
        why="generated credentials",
        name_property="Name",
        delete_command="aws secretsmanager delete-secret --secret-id {name} --force-delete-without-recovery",
    ),
    Kind("AWS::KMS::Key", stateful=True, why="a new key cannot read what the old one encrypted"),
    Kind("AWS::RDS::DBInstance", deletion_protection="DeletionProtection"),
    Kind(
        "AWS::DynamoDB::Table",
        stateful=True,
        why="table items (a new table starts empty)",
        deletion_protection="DeletionProtectionEnabled",
    ),
    # a replaced queue (fifo is create-only) drops every message waiting in it, the dead-letter queue's too
    Kind("AWS::SQS::Queue", stateful=True, why="messages waiting in the queue or its dead-letter queue"),
):
    register(_entry)
