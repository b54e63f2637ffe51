"""CloudWatch alarms of every service and data store, all notifying one encrypted SNS topic per environment.

The topic lives in the network stack beside the environment key that encrypts it (keys.py lets CloudWatch use
the key for this environment's alarms), so every service and data stack takes its ARN as a parameter.

Alarms are named by names.alarm_name, never by a reference to what they watch: a service lists its own CPU,
memory and (behind the ALB) 5xx alarms as deployment alarms (ECS rolls a deployment back while one is in ALARM,
as Copilot's `deployment.rollback_alarms` do) without a circular dependency. Every alarm treats missing data as
not breaching: a metric that is not reported (a stopped database, a primary's replication lag) is no alarm.
Thresholds come from the spec's `alarms` (templates/spec_alarms.py), a service's own fields over them.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from troposphere import GetAtt, Join, Ref, Template, cloudwatch, sns

from . import names
from .base import FromStack, output, tags
from .spec import EnvironmentSpec
from .spec_alarms import AlarmsSpec, service_thresholds

MIB = 1024 * 1024


@dataclass(frozen=True)
class Metric:
    """One metric an alarm watches: namespace, name, dimensions and the statistic taken per period."""

    namespace: str
    name: str
    dimensions: dict
    statistic: str = "Average"

    def stat(self, period: int) -> cloudwatch.MetricStat:
        return cloudwatch.MetricStat(
            Metric=cloudwatch.Metric(Namespace=self.namespace, MetricName=self.name, Dimensions=_dimensions(self)),
            Period=period,
            Stat=self.statistic,
        )


def add_topic(template: Template, spec: EnvironmentSpec, key) -> sns.Topic:
    """The alarm topic (names.alarm_topic_name), encrypted with the environment key `key`, and one e-mail
    subscription per spec.alarms.email; exports names.ALARM_TOPIC_ARN."""
    topic = template.add_resource(
        sns.Topic(
            "AlarmTopic",
            TopicName=names.alarm_topic_name(spec),
            DisplayName=f"{spec.prefix} alarms",
            KmsMasterKeyId=GetAtt(key, "Arn"),
            Tags=tags(spec, names.alarm_topic_name(spec)),
        )
    )
    for address in spec.alarms.email:  # named by a hash of the address: reordering the list replaces nothing
        template.add_resource(
            sns.SubscriptionResource(
                f"AlarmEmail{zlib.crc32(address.lower().encode('utf-8')):08X}",
                TopicArn=Ref(topic),
                Protocol="email",
                Endpoint=address,
            )
        )
    output(template, names.ALARM_TOPIC_ARN, Ref(topic), "SNS topic of the environment's alarms")
    return topic


def topic_parameter(take):
    """The alarm topic's ARN as a parameter of a consumer stack, via its `take(name, description, source)`."""
    return take(
        names.ALARM_TOPIC_ARN, "SNS topic of the environment's alarms", FromStack(names.NETWORK, names.ALARM_TOPIC_ARN)
    )


def add_service_alarms(template: Template, spec: EnvironmentSpec, name: str, take, cluster_name) -> list[str]:
    """The alarms of service `name`: CPU and memory high, running tasks below desired and, with a load balancer
    route (the stack's `TargetGroup`), target 5xx responses and unhealthy targets. Returns the names of the
    deployment (rollback) alarms: CPU, memory and 5xx.

    Reads spec.alarms and spec.services[name].alarms (spec_alarms.service_thresholds), .load_balancer.
    Wired inputs: names.ALARM_TOPIC_ARN from names.NETWORK, with a route names.LOAD_BALANCER_FULL_NAME from
    names.LOAD_BALANCER. `cluster_name` is the stack's names.CLUSTER_NAME parameter.
    """
    limits = service_thresholds(spec.alarms, spec.services[name].alarms)
    alarm = _Alarms(template, spec, limits, Ref(topic_parameter(take)))
    service = {"ClusterName": Ref(cluster_name), "ServiceName": name}
    owner = ("service", name)
    rollback = [
        alarm.add("CpuHighAlarm", owner, "cpu-high", f"CPU of {name} above {limits.cpu_percent}%",
                  Metric("AWS/ECS", "CPUUtilization", service), ">", limits.cpu_percent),
        alarm.add("MemoryHighAlarm", owner, "memory-high", f"Memory of {name} above {limits.memory_percent}%",
                  Metric("AWS/ECS", "MemoryUtilization", service), ">", limits.memory_percent),
    ]  # fmt: skip
    alarm.add(
        "RunningTasksAlarm",
        owner,
        "running-below-desired",
        f"Fewer tasks of {name} running than desired",
        {
            "running": Metric("ECS/ContainerInsights", "RunningTaskCount", service),
            "desired": Metric("ECS/ContainerInsights", "DesiredTaskCount", service),
        },
        ">",
        0,
        expression="desired - running",
    )
    if spec.services[name].load_balancer is not None:
        balancer = take(
            names.LOAD_BALANCER_FULL_NAME,
            "ALB full name (for metrics)",
            FromStack(names.LOAD_BALANCER, names.LOAD_BALANCER_FULL_NAME),
        )
        target = {"LoadBalancer": Ref(balancer), "TargetGroup": GetAtt("TargetGroup", "TargetGroupFullName")}
        rollback.append(
            alarm.add("Http5xxAlarm", owner, "http-5xx", f"{name} answered over {limits.http_5xx_count} 5xx per period",
                      Metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", target, "Sum"), ">",
                      limits.http_5xx_count)
        )  # fmt: skip
        alarm.add("UnhealthyTargetsAlarm", owner, "unhealthy-targets",
                  f"{limits.unhealthy_targets} or more unhealthy targets of {name}",
                  Metric("AWS/ApplicationELB", "UnHealthyHostCount", target, "Maximum"), ">=",
                  limits.unhealthy_targets)  # fmt: skip
    return rollback


def add_job_alarms(template: Template, spec: EnvironmentSpec, name: str, take, cluster_name, family: str) -> None:
    """CPU and memory alarms of job `name`'s tasks (no service, so no AWS/ECS service metrics): Container Insights'
    used over reserved per task definition family, in percent. Reads spec.alarms (.cpu_percent, .memory_percent).
    Wired inputs: names.ALARM_TOPIC_ARN from names.NETWORK; `cluster_name` is the stack's names.CLUSTER_NAME."""
    limits = spec.alarms
    alarm = _Alarms(template, spec, limits, Ref(topic_parameter(take)))
    tasks = {"ClusterName": Ref(cluster_name), "TaskDefinitionFamily": family}
    for logical_id, what, resource, words, threshold in (
        ("CpuHighAlarm", "cpu-high", "Cpu", "CPU", limits.cpu_percent),
        ("MemoryHighAlarm", "memory-high", "Memory", "Memory", limits.memory_percent),
    ):
        alarm.add(
            logical_id,
            ("job", name),
            what,
            f"{words} of job {name} above {threshold}%",
            {
                "used": Metric("ECS/ContainerInsights", f"{resource}Utilized", tasks, "Maximum"),
                "reserved": Metric("ECS/ContainerInsights", f"{resource}Reserved", tasks, "Maximum"),
            },
            ">",
            threshold,
            expression="100 * used / reserved",
        )


def add_cache_alarms(template: Template, spec: EnvironmentSpec, group, topic) -> None:
    """Redis alarms over the nodes of replication group `group` (`<id>-001` …, the worst node counts): engine CPU,
    memory, connections and, with 2 or more nodes, replication lag. Reads spec.cache.nodes, spec.alarms.cache."""
    limits = spec.alarms.cache
    alarm = _Alarms(template, spec, spec.alarms, Ref(topic))
    nodes = [Join("-", [Ref(group), f"{index:03d}"]) for index in range(1, spec.cache.nodes + 1)]

    def worst(metric: str, statistic: str) -> dict:
        return {
            f"node{index}": Metric("AWS/ElastiCache", metric, {"CacheClusterId": node}, statistic)
            for index, node in enumerate(nodes, 1)
        }

    expression = "MAX([" + ",".join(f"node{index}" for index in range(1, len(nodes) + 1)) + "])"
    checks = [
        ("CacheCpuAlarm", "cpu-high", f"Redis engine CPU above {limits.cpu_percent}%", "EngineCPUUtilization",
         "Average", limits.cpu_percent),
        ("CacheMemoryAlarm", "memory-high", f"Redis memory above {limits.memory_percent}%",
         "DatabaseMemoryUsagePercentage", "Average", limits.memory_percent),
        ("CacheConnectionsAlarm", "connections-high", f"Redis connections above {limits.connections}",
         "CurrConnections", "Maximum", limits.connections),
    ]  # fmt: skip
    if spec.cache.nodes >= 2:
        checks.append(("CacheReplicationLagAlarm", "replication-lag",
                       f"Redis replica lag above {limits.replication_lag_seconds} s", "ReplicationLag", "Maximum",
                       limits.replication_lag_seconds))  # fmt: skip
    for logical_id, what, description, metric, statistic, threshold in checks:
        alarm.add(logical_id, ("cache", None), what, description, worst(metric, statistic), ">", threshold, expression)


def add_database_alarms(template: Template, spec: EnvironmentSpec, cluster, topic, condition: str) -> None:
    """Aurora alarms over cluster `cluster` (AWS/RDS, DBClusterIdentifier), under `condition` as the cluster:
    CPU, freeable memory, connections and, with 2 or more instances, the readers' lag.
    Reads spec.database.instances, spec.alarms.database."""
    limits = spec.alarms.database
    alarm = _Alarms(template, spec, spec.alarms, Ref(topic), condition)
    of_cluster = {"DBClusterIdentifier": Ref(cluster)}
    alarm.add("DatabaseCpuAlarm", ("database", None), "cpu-high", f"Aurora CPU above {limits.cpu_percent}%",
              Metric("AWS/RDS", "CPUUtilization", of_cluster, "Maximum"), ">", limits.cpu_percent)  # fmt: skip
    alarm.add("DatabaseMemoryAlarm", ("database", None), "freeable-memory-low",
              f"Aurora freeable memory below {limits.freeable_memory_mib} MiB",
              Metric("AWS/RDS", "FreeableMemory", of_cluster, "Minimum"), "<",
              limits.freeable_memory_mib * MIB)  # fmt: skip
    alarm.add("DatabaseConnectionsAlarm", ("database", None), "connections-high",
              f"Aurora connections above {limits.connections}",
              Metric("AWS/RDS", "DatabaseConnections", of_cluster, "Maximum"), ">", limits.connections)  # fmt: skip
    if spec.database.instances >= 2:
        alarm.add("DatabaseReplicaLagAlarm", ("database", None), "replica-lag",
                  f"Aurora reader lag above {limits.replica_lag_seconds} s",
                  Metric("AWS/RDS", "AuroraReplicaLagMaximum", of_cluster, "Maximum"), ">",
                  limits.replica_lag_seconds * 1000)  # milliseconds  # fmt: skip


OPERATORS = {
    ">": "GreaterThanThreshold",
    ">=": "GreaterThanOrEqualToThreshold",
    "<": "LessThanThreshold",
}


class _Alarms:
    """Adds alarms to one template: each notifies `topic` on ALARM and OK, with the period and evaluation
    periods of `limits`."""

    def __init__(self, template: Template, spec: EnvironmentSpec, limits: AlarmsSpec, topic, condition=None):
        self.template, self.spec, self.limits, self.topic, self.condition = template, spec, limits, topic, condition

    def add(self, logical_id, owner, what, description, metric, operator, threshold, expression=None) -> str:
        """An alarm on `metric`, or on `expression` over a dict of id -> Metric, named names.alarm_name(spec,
        *owner's kind*, `what`, *owner's name*); returns its name."""
        period = self.limits.period_seconds
        if isinstance(metric, Metric):
            measured = {
                "Namespace": metric.namespace,
                "MetricName": metric.name,
                "Dimensions": _dimensions(metric),
                "Statistic": metric.statistic,
                "Period": period,
            }
        else:
            measured = {
                "Metrics": [
                    cloudwatch.MetricDataQuery(Id=key, MetricStat=value.stat(period), ReturnData=False)
                    for key, value in metric.items()
                ]
                + [cloudwatch.MetricDataQuery(Id="result", Expression=expression, Label=what, ReturnData=True)]
            }
        name = names.alarm_name(self.spec, owner[0], what, owner[1])
        self.template.add_resource(
            cloudwatch.Alarm(
                logical_id,
                AlarmName=name,
                AlarmDescription=f"{self.spec.prefix}: {description}",
                **measured,
                ComparisonOperator=OPERATORS[operator],
                Threshold=threshold,
                EvaluationPeriods=self.limits.evaluation_periods,
                TreatMissingData="notBreaching",
                AlarmActions=[self.topic],
                OKActions=[self.topic],
                **({"Condition": self.condition} if self.condition else {}),
            )
        )
        return name


def _dimensions(metric: Metric) -> list[cloudwatch.MetricDimension]:
    return [cloudwatch.MetricDimension(Name=key, Value=value) for key, value in sorted(metric.dimensions.items())]
