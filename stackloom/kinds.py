"""What the tool knows about each CloudFormation resource type, in one registry keyed by the type.

A resource kind is described once here: whether replacing or removing it loses data (the deploy gate
`--allow-replace`, `diff`'s risk verdict and the production stack policy all read `stateful`), and which
property, if any, makes AWS refuse to delete it (`deletion_protection`, read by deploy's removal check).
The reports register their per-type handlers (inventory, cost lines, diagram node) against the same keys
(see `docs/architecture.md`, "Adding a resource kind").
"""
from __future__ import annotations

from dataclasses import dataclass

STACK_TYPE = "AWS::CloudFormation::Stack"


@dataclass(frozen=True)
class Kind:
    """One CloudFormation resource type as the tool sees it."""

    type: str
    stateful: bool = False              # replacement or removal loses data (or makes it unreadable)
    why: str = ""                       # what would be lost, in words
    deletion_protection: str | None = None  # the property with which AWS refuses a delete


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


for _entry in (
    Kind("AWS::RDS::DBCluster", stateful=True, why="the Aurora data", deletion_protection="DeletionProtection"),
    Kind("AWS::ElastiCache::ReplicationGroup", stateful=True, why="Redis data"),
    Kind("AWS::S3::Bucket", stateful=True, why="artifacts, ALB access logs"),
    Kind("AWS::ECR::Repository", stateful=True, why="pushed images"),
    Kind("AWS::Logs::LogGroup", stateful=True, why="application and flow logs"),
    Kind("AWS::SecretsManager::Secret", stateful=True, why="generated credentials"),
    Kind("AWS::KMS::Key", stateful=True, why="a new key cannot read what the old one encrypted"),
    Kind("AWS::RDS::DBInstance", deletion_protection="DeletionProtection"),
):
    register(_entry)
