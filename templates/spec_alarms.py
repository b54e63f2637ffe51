"""The `alarms` part of the spec: who is told (one encrypted SNS topic per environment, e-mail subscribers)
and the thresholds of every alarm the compiler emits (templates/alarms.py), each with a documented default.

The environment's `alarms` sets the thresholds of every service; a service's own `alarms` overrides single
fields of it (a field left out keeps the environment's value), resolved once in `service_thresholds`.

No `from __future__ import annotations`, as in templates/spec.py: msgspec builds the annotations at import.
"""

from typing import Annotated, Literal

from msgspec import Meta, field
from msgspec.structs import replace

from .spec_common import Model
from .validation import FieldError, worded

EMAIL_PATTERN = worded(
    r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$",
    "an e-mail address such as ops@example.com",
)
Email = Annotated[str, Meta(pattern=EMAIL_PATTERN, max_length=254)]
Percent = Annotated[int, Meta(ge=1, le=100)]
Periods = Annotated[int, Meta(ge=1, le=100)]
Period = Literal[60, 300, 900, 3600]  # the metrics watched are reported every minute at best (no high resolution)

CPU = "CPU above this percentage of the task's CPU (AWS/ECS CPUUtilization, average)."
MEMORY = "Memory above this percentage of the task's memory (AWS/ECS MemoryUtilization, average)."
HTTP_5XX = "Target 5xx responses per period above which the ALB alarm fires (HTTPCode_Target_5XX_Count, sum)."
UNHEALTHY = "Unhealthy ALB targets at or above which the alarm fires (UnHealthyHostCount, maximum)."
PERIODS = "Consecutive periods over the threshold before an alarm fires."
PERIOD = "Seconds per evaluation period (60, 300, 900 or 3600)."


class CacheAlarmsSpec(Model):
    """Thresholds of the Redis alarms (one set per node of the replication group, AWS/ElastiCache)."""

    cpu_percent: Annotated[Percent, Meta(description="Redis engine CPU (EngineCPUUtilization) above this.")] = 80
    memory_percent: Annotated[
        Percent, Meta(description="Used memory (DatabaseMemoryUsagePercentage) above this percentage of maxmemory.")
    ] = 80
    connections: Annotated[
        int, Meta(ge=1, le=65000, description="Client connections (CurrConnections) above this number.")
    ] = 1000
    replication_lag_seconds: Annotated[
        int,
        Meta(ge=1, le=3600, description="Replica lag (ReplicationLag) above this, with 2 or more nodes."),
    ] = 30


class DatabaseAlarmsSpec(Model):
    """Thresholds of the Aurora alarms (the cluster's metrics, AWS/RDS DBClusterIdentifier)."""

    cpu_percent: Annotated[Percent, Meta(description="CPUUtilization of the cluster above this.")] = 80
    freeable_memory_mib: Annotated[int, Meta(ge=1, le=1048576, description="FreeableMemory below this many MiB.")] = 256
    connections: Annotated[int, Meta(ge=1, le=262142, description="DatabaseConnections above this number.")] = 500
    replica_lag_seconds: Annotated[
        int,
        Meta(ge=1, le=3600, description="AuroraReplicaLagMaximum above this, with 2 or more instances (readers)."),
    ] = 30


class ServiceAlarmsSpec(Model):
    """A service's own thresholds: each field left out keeps the environment's `alarms` value."""

    cpu_percent: Annotated[Percent | None, Meta(description=CPU + " Default: the environment's.")] = None
    memory_percent: Annotated[Percent | None, Meta(description=MEMORY + " Default: the environment's.")] = None
    http_5xx_count: Annotated[
        Annotated[int, Meta(ge=1)] | None, Meta(description=HTTP_5XX + " Default: the environment's.")
    ] = None
    unhealthy_targets: Annotated[
        Annotated[int, Meta(ge=1)] | None, Meta(description=UNHEALTHY + " Default: the environment's.")
    ] = None
    evaluation_periods: Annotated[Periods | None, Meta(description=PERIODS + " Default: the environment's.")] = None


class AlarmsSpec(Model):
    """CloudWatch alarms of the environment, all to one encrypted SNS topic (`<system>-<env>-alarms`)."""

    email: Annotated[
        list[Email], Meta(description="E-mail addresses subscribed to the alarm topic (each confirms by mail).")
    ] = []
    cpu_percent: Annotated[Percent, Meta(description=CPU)] = 80
    memory_percent: Annotated[Percent, Meta(description=MEMORY)] = 80
    http_5xx_count: Annotated[int, Meta(ge=1, description=HTTP_5XX)] = 10
    unhealthy_targets: Annotated[int, Meta(ge=1, description=UNHEALTHY)] = 1
    evaluation_periods: Annotated[Periods, Meta(description=PERIODS)] = 3
    period_seconds: Annotated[Period, Meta(description=PERIOD)] = 60
    cache: Annotated[CacheAlarmsSpec, Meta(description="Redis alarm thresholds.")] = field(
        default_factory=CacheAlarmsSpec
    )
    database: Annotated[DatabaseAlarmsSpec, Meta(description="Aurora alarm thresholds.")] = field(
        default_factory=DatabaseAlarmsSpec
    )

    def __post_init__(self) -> None:
        seen: dict[str, int] = {}
        for index, address in enumerate(self.email):
            if address.lower() in seen:
                raise FieldError("email", f"{address!r} is listed twice (entries {seen[address.lower()]} and {index})")
            seen[address.lower()] = index


def service_thresholds(alarms: AlarmsSpec, own: ServiceAlarmsSpec | None) -> AlarmsSpec:
    """The thresholds a service's alarms use: the environment's `alarms` with the service's own fields over it."""
    if own is None:
        return alarms
    overrides = {name: getattr(own, name) for name in own.__struct_fields__ if getattr(own, name) is not None}
    return replace(alarms, **overrides)
