"""What AWS accepts, read from the data cfn-lint ships (instance types per region, engine versions).

The spec checks names against these lists so a typo (`t3.mediun`, Aurora `17.99`) is a spec error naming the
field, not a template that builds and then fails lint or a deploy. The JSON files are read straight from the
installed cfn-lint package without importing it (importing cfnlint costs half a second; one file costs ms).
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
from pathlib import Path

import msgspec

EXTENSIONS = ("data", "schemas", "extensions")


def _path(folder: str, filename: str) -> Path | None:
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or spec.origin is None:  # cfn-lint missing: nothing to check against, CloudFormation will say
        return None
    path = Path(spec.origin).parent.joinpath(*EXTENSIONS, folder, filename)
    return path if path.is_file() else None


@functools.cache
def _schema(folder: str, filename: str) -> dict | None:
    path = _path(folder, filename)
    return msgspec.json.decode(path.read_bytes()) if path else None


@functools.cache
def _regions(folder: str, filename: str) -> dict[str, msgspec.Raw]:
    """`region -> its part, still undecoded`: the EC2 list is 470 kB for 30+ regions; a build needs one."""
    path = _path(folder, filename)
    return msgspec.json.decode(path.read_bytes(), type=dict[str, msgspec.Raw]) if path else {}


@functools.cache
def _regional(folder: str, filename: str, region: str) -> list[str] | None:
    part = _regions(folder, filename).get(region)
    return msgspec.json.decode(part).get("enum") if part is not None else None


def _versions(folder: str, engine: str) -> list[str] | None:
    for rule in (_schema(folder, "engine_version.json") or {}).get("allOf", []):
        if rule.get("if", {}).get("properties", {}).get("Engine", {}).get("const") == engine:
            return rule["then"]["properties"]["EngineVersion"].get("enum")
    return None


def ec2_instance_types(region: str) -> list[str] | None:
    """EC2 instance types offered in `region` (None when unknown: the check is skipped)."""
    return _regional("aws_ec2_instance", "instancetype_enum.json", region)


def cache_node_types(region: str) -> list[str] | None:
    """ElastiCache node types offered in `region`."""
    return _regional("aws_elasticache_cachecluster", "cachenodetype_enum.json", region)


def aurora_postgresql_versions() -> list[str] | None:
    """Aurora PostgreSQL engine versions CloudFormation accepts."""
    return _versions("aws_rds_dbcluster", "aurora-postgresql")


def redis_versions() -> list[str] | None:
    """ElastiCache Redis OSS engine versions."""
    return _versions("aws_elasticache_cachecluster", "redis")


def check(value: str, allowed: list[str] | None, what: str) -> None:
    """Raise ValueError naming `what`, the value and the closest allowed ones, when `value` is not allowed."""
    if allowed is None or value in allowed:
        return
    close = difflib.get_close_matches(value, allowed, n=5, cutoff=0.6)
    hint = (
        f"did you mean {', '.join(close)}?"
        if close
        else f"{len(allowed)} values are allowed, e.g. {', '.join(allowed[-5:])}"
    )
    raise ValueError(f"{what} {value!r} is not one AWS accepts ({hint})")


class InstanceType(msgspec.Struct, frozen=True, array_like=True):
    """What ECS can place on one instance: `vcpus` x 1024 CPU units, `memory_mib` (of which the kernel and the
    ECS agent keep some), `maximum_network_interfaces` (an awsvpc task takes one, the instance keeps one)."""

    vcpus: int
    memory_mib: int
    maximum_network_interfaces: int
    architectures: list[str]

    @property
    def cpu_units(self) -> int:
        return self.vcpus * 1024

    @property
    def task_memory_mib(self) -> int:
        """Memory ECS registers for tasks, conservatively: AWS's own example registers 7985 of an m4.large's
        8192 MiB (AmazonECS/latest/developerguide/memory-management.html); 6% is kept here for smaller ones."""
        return int(self.memory_mib * 0.94)

    @property
    def awsvpc_tasks(self) -> int:
        """awsvpc tasks per instance without ENI trunking (which needs an account setting this tool does not make)."""
        return self.maximum_network_interfaces - 1


class _InstanceTypes(msgspec.Struct, frozen=True):
    types: dict[str, InstanceType]


@functools.cache
def _instance_types() -> dict[str, InstanceType]:
    path = Path(__file__).resolve().parent / "ec2_instance_types.json"
    return msgspec.json.decode(path.read_bytes(), type=_InstanceTypes).types


def ec2_instance_type(name: str) -> InstanceType | None:
    """vCPUs, memory, network interfaces and architectures of an EC2 instance type (templates/ec2_instance_types.json,
    from EC2 DescribeInstanceTypes); None for a type newer than that table."""
    return _instance_types().get(name)
