"""Alarms (templates/alarms.py): every service, job, Redis and Aurora alarmed, all to one encrypted SNS topic per
environment, thresholds from the spec's `alarms`, ECS deployment alarms rolling a deployment back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bench import synthetic
from stackloom import build as compiler
from stackloom.cli.main import main
from templates import spec as spec_module

from ..helpers import base_spec, compile_dict, jobs_spec, only, resources

ALARM = "AWS::CloudWatch::Alarm"
TOPIC = {"Ref": "AlarmTopicArn"}


def _alarms(template: dict) -> dict[str, dict]:
    """Logical ID -> properties of every alarm of a template."""
    return {key: value["Properties"] for key, value in resources(template, ALARM).items()}


def _dimensions(props: dict) -> dict:
    return {item["Name"]: item["Value"] for item in props["Dimensions"]}


def _queries(props: dict) -> dict[str, dict]:
    return {query["Id"]: query for query in props["Metrics"]}


# ---- services -------------------------------------------------------------------------------------------------


def test_a_service_behind_the_alb_has_cpu_memory_running_5xx_and_unhealthy_alarms_with_the_defaults():
    # GIVEN the base api service behind the load balancer, no `alarms` in the spec
    # WHEN the environment is compiled
    alarms = _alarms(compile_dict(base_spec())["service-api.json"])
    # THEN it has the five alarms
    assert set(alarms) == {
        "CpuHighAlarm",
        "MemoryHighAlarm",
        "RunningTasksAlarm",
        "Http5xxAlarm",
        "UnhealthyTargetsAlarm",
    }
    service = {"ClusterName": {"Ref": "ClusterName"}, "ServiceName": "api"}
    # AND CPU and memory watch the service's AWS/ECS metrics above 80 % (average) over 3 periods of 60 s
    for logical_id, metric in (("CpuHighAlarm", "CPUUtilization"), ("MemoryHighAlarm", "MemoryUtilization")):
        props = alarms[logical_id]
        assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/ECS", metric, "Average")
        assert _dimensions(props) == service
        assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 80)
        assert (props["EvaluationPeriods"], props["Period"]) == (3, 60)
    # AND the ALB alarms take the target group's and the load balancer's full names
    target = {
        "LoadBalancer": {"Ref": "LoadBalancerFullName"},
        "TargetGroup": {"Fn::GetAtt": ["TargetGroup", "TargetGroupFullName"]},
    }
    http = alarms["Http5xxAlarm"]
    assert (http["Namespace"], http["MetricName"], http["Statistic"]) == (
        "AWS/ApplicationELB",
        "HTTPCode_Target_5XX_Count",
        "Sum",
    )
    assert _dimensions(http) == target and (http["ComparisonOperator"], http["Threshold"]) == (
        "GreaterThanThreshold",
        10,
    )
    unhealthy = alarms["UnhealthyTargetsAlarm"]
    assert (unhealthy["MetricName"], unhealthy["Statistic"], unhealthy["Threshold"]) == (
        "UnHealthyHostCount",
        "Maximum",
        1,
    )
    assert _dimensions(unhealthy) == target and unhealthy["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    # AND every alarm notifies the topic on ALARM and OK, missing data not breaching
    for props in alarms.values():
        assert props["AlarmActions"] == [TOPIC] and props["OKActions"] == [TOPIC]
        assert props["TreatMissingData"] == "notBreaching"


def test_running_tasks_below_desired_compares_the_container_insights_counts():
    # GIVEN the base api service WHEN compiled
    props = _alarms(compile_dict(base_spec())["service-api.json"])["RunningTasksAlarm"]
    queries = _queries(props)
    # THEN the alarm is desired - running > 0 over Container Insights' task counts of the service
    assert queries["result"] == {
        "Id": "result",
        "Expression": "desired - running",
        "Label": "running-below-desired",
        "ReturnData": True,
    }
    for query_id, metric in (("running", "RunningTaskCount"), ("desired", "DesiredTaskCount")):
        stat = queries[query_id]["MetricStat"]
        assert stat["Metric"]["Namespace"] == "ECS/ContainerInsights" and stat["Metric"]["MetricName"] == metric
        assert {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]} == {
            "ClusterName": {"Ref": "ClusterName"},
            "ServiceName": "api",
        }
        assert queries[query_id]["ReturnData"] is False
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 0)


def test_thresholds_come_from_the_spec_and_a_service_overrides_single_fields():
    # GIVEN environment thresholds and a service that overrides only its CPU
    spec = base_spec(
        alarms={
            "cpu_percent": 70,
            "memory_percent": 60,
            "http_5xx_count": 25,
            "evaluation_periods": 5,
            "period_seconds": 300,
        }
    )
    spec["services"]["api"]["alarms"] = {"cpu_percent": 95}
    # WHEN compiled
    alarms = _alarms(compile_dict(spec)["service-api.json"])
    # THEN the service's own field wins, every other one is the environment's
    assert alarms["CpuHighAlarm"]["Threshold"] == 95
    assert alarms["MemoryHighAlarm"]["Threshold"] == 60
    assert alarms["Http5xxAlarm"]["Threshold"] == 25
    assert {(props["EvaluationPeriods"], props.get("Period", 300)) for props in alarms.values()} == {(5, 300)}
    assert {
        query["MetricStat"]["Period"] for query in alarms["RunningTasksAlarm"]["Metrics"] if "MetricStat" in query
    } == {300}


def test_the_service_rolls_back_on_its_cpu_memory_and_5xx_alarms_without_a_cycle():
    # GIVEN the base api service WHEN compiled
    template = compile_dict(base_spec())["service-api.json"]
    service = only(template, "AWS::ECS::Service")
    alarms = _alarms(template)
    # THEN its deployment alarms are its CPU, memory and 5xx alarms, by name, enabled with rollback
    names = [alarms[key]["AlarmName"] for key in ("CpuHighAlarm", "MemoryHighAlarm", "Http5xxAlarm")]
    assert names == [
        "acme-dev-service-api-cpu-high",
        "acme-dev-service-api-memory-high",
        "acme-dev-service-api-http-5xx",
    ]
    assert service["Properties"]["DeploymentConfiguration"]["Alarms"] == {
        "AlarmNames": names,
        "Enable": True,
        "Rollback": True,
    }
    # AND the alarms exist before the service names them, and none of them refers to the service (no cycle)
    assert {"CpuHighAlarm", "MemoryHighAlarm", "Http5xxAlarm"} <= set(service["DependsOn"])
    assert '"Service"' not in json.dumps(alarms)


def test_a_worker_has_no_alb_alarms_and_rolls_back_on_cpu_and_memory():
    # GIVEN a worker: no port, no load balancer
    spec = base_spec()
    del spec["load_balancer"]
    spec["services"]["api"] = {"image": {"repository": "api", "tag": "v1"}}
    # WHEN compiled
    template = compile_dict(spec)["service-api.json"]
    # THEN it has CPU, memory and running-task alarms only, and takes no load balancer name
    assert set(_alarms(template)) == {"CpuHighAlarm", "MemoryHighAlarm", "RunningTasksAlarm"}
    assert "LoadBalancerFullName" not in template["Parameters"]
    alarms = only(template, "AWS::ECS::Service")["Properties"]["DeploymentConfiguration"]["Alarms"]
    assert alarms["AlarmNames"] == ["acme-dev-service-api-cpu-high", "acme-dev-service-api-memory-high"]


# ---- topic, key, wiring ---------------------------------------------------------------------------------------


def test_the_alarm_topic_is_encrypted_with_the_environment_key_and_mails_the_listed_addresses():
    # GIVEN two addresses to alarm
    built = compile_dict(base_spec(alarms={"email": ["ops@example.com", "oncall@example.org"]}))
    network = built["network.json"]
    # THEN the network stack holds one topic, named after the environment, encrypted with the environment key
    topic = only(network, "AWS::SNS::Topic")["Properties"]
    assert topic["TopicName"] == "acme-dev-alarms"
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": ["EnvironmentKey", "Arn"]}
    # AND one e-mail subscription per address
    subscriptions = [value["Properties"] for value in resources(network, "AWS::SNS::Subscription").values()]
    assert sorted((s["Protocol"], s["Endpoint"]) for s in subscriptions) == [
        ("email", "oncall@example.org"),
        ("email", "ops@example.com"),
    ]
    assert all(s["TopicArn"] == {"Ref": "AlarmTopic"} for s in subscriptions)
    assert network["Outputs"]["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}
    # AND without addresses the topic has no subscription
    assert not resources(compile_dict(base_spec())["network.json"], "AWS::SNS::Subscription")


def test_the_key_policy_lets_cloudwatch_use_the_key_for_this_environments_alarms_only():
    # GIVEN any environment WHEN compiled
    policy = only(compile_dict(base_spec())["network.json"], "AWS::KMS::Key")["Properties"]["KeyPolicy"]
    statement = next(s for s in policy["Statement"] if s["Sid"] == "CloudWatchPublishesThisEnvironmentsAlarms")
    # THEN CloudWatch may decrypt and generate data keys, for this account's alarms named as the environment's
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": ["cloudwatch.amazonaws.com"]}
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}}
    assert statement["Condition"]["ArnLike"] == {
        "aws:SourceArn": {
            "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:acme-dev-*"
        }
    }


def test_the_root_wires_the_topic_and_the_load_balancer_name_into_the_service():
    # GIVEN the base environment WHEN compiled
    root = compile_dict(base_spec())["root.json"]
    parameters = root["Resources"]["ServiceApi"]["Properties"]["Parameters"]
    # THEN the service takes the topic from the network stack and the ALB's full name from the load balancer stack
    assert parameters["AlarmTopicArn"] == {"Fn::GetAtt": ["Network", "Outputs.AlarmTopicArn"]}
    assert parameters["LoadBalancerFullName"] == {"Fn::GetAtt": ["LoadBalancer", "Outputs.LoadBalancerFullName"]}


# ---- data stores and jobs -------------------------------------------------------------------------------------


def test_redis_alarms_take_the_worst_node_and_replication_lag_with_replicas():
    # GIVEN a two-node cache and its thresholds
    spec = base_spec(
        cache={"nodes": 2, "multi_az": True},
        alarms={"cache": {"cpu_percent": 65, "memory_percent": 75, "connections": 500, "replication_lag_seconds": 10}},
    )
    spec["services"]["api"]["connects_to"] = ["cache"]
    alarms = _alarms(compile_dict(spec)["data.json"])
    # THEN four alarms, each the MAX over the nodes <group>-001 and <group>-002
    expected = {
        "CacheCpuAlarm": ("EngineCPUUtilization", 65),
        "CacheMemoryAlarm": ("DatabaseMemoryUsagePercentage", 75),
        "CacheConnectionsAlarm": ("CurrConnections", 500),
        "CacheReplicationLagAlarm": ("ReplicationLag", 10),
    }
    assert set(alarms) == set(expected)
    for logical_id, (metric, threshold) in expected.items():
        queries = _queries(alarms[logical_id])
        assert queries["result"]["Expression"] == "MAX([node1,node2])" and alarms[logical_id]["Threshold"] == threshold
        for index in (1, 2):
            stat = queries[f"node{index}"]["MetricStat"]["Metric"]
            assert (stat["Namespace"], stat["MetricName"]) == ("AWS/ElastiCache", metric)
            assert stat["Dimensions"] == [
                {
                    "Name": "CacheClusterId",
                    "Value": {"Fn::Join": ["-", [{"Ref": "CacheReplicationGroup"}, f"00{index}"]]},
                }
            ]
    # AND a single node has no replication lag alarm
    spec["cache"] = {"nodes": 1, "multi_az": False}
    assert "CacheReplicationLagAlarm" not in _alarms(compile_dict(spec)["data.json"])


def test_aurora_alarms_watch_the_cluster_behind_the_database_switch():
    # GIVEN a database with a reader
    spec = base_spec(
        database={"instances": 2}, alarms={"database": {"freeable_memory_mib": 512, "replica_lag_seconds": 5}}
    )
    spec["services"]["api"]["connects_to"] = ["database"]
    template = compile_dict(spec)["data.json"]
    alarms = _alarms(template)
    # THEN CPU, freeable memory, connections and reader lag of the cluster, each only with the cluster
    assert {
        key: (props["MetricName"], props["ComparisonOperator"], props["Threshold"]) for key, props in alarms.items()
    } == {
        "DatabaseCpuAlarm": ("CPUUtilization", "GreaterThanThreshold", 80),
        "DatabaseMemoryAlarm": ("FreeableMemory", "LessThanThreshold", 512 * 1024 * 1024),
        "DatabaseConnectionsAlarm": ("DatabaseConnections", "GreaterThanThreshold", 500),
        "DatabaseReplicaLagAlarm": ("AuroraReplicaLagMaximum", "GreaterThanThreshold", 5000),
    }
    for key, props in alarms.items():
        assert props["Namespace"] == "AWS/RDS" and _dimensions(props) == {
            "DBClusterIdentifier": {"Ref": "DatabaseCluster"}
        }
        assert template["Resources"][key]["Condition"] == "DatabaseEnabled"
    # AND one instance has no reader, so no lag alarm
    spec["database"] = {"instances": 1}
    assert "DatabaseReplicaLagAlarm" not in _alarms(compile_dict(spec)["data.json"])


def test_a_job_has_cpu_and_memory_alarms_over_its_task_definition_family():
    # GIVEN the jobs spec WHEN compiled
    alarms = _alarms(compile_dict(jobs_spec())["job-report.json"])
    # THEN CPU and memory used over reserved, in percent, of the job's family
    assert set(alarms) == {"CpuHighAlarm", "MemoryHighAlarm"}
    for logical_id, resource in (("CpuHighAlarm", "Cpu"), ("MemoryHighAlarm", "Memory")):
        props = alarms[logical_id]
        queries = _queries(props)
        assert queries["result"]["Expression"] == "100 * used / reserved" and props["Threshold"] == 80
        assert queries["used"]["MetricStat"]["Metric"]["MetricName"] == f"{resource}Utilized"
        assert queries["reserved"]["MetricStat"]["Metric"]["MetricName"] == f"{resource}Reserved"
        assert {d["Name"]: d["Value"] for d in queries["used"]["MetricStat"]["Metric"]["Dimensions"]} == {
            "ClusterName": {"Ref": "ClusterName"},
            "TaskDefinitionFamily": "acme-dev-job-report",
        }
        assert props["AlarmName"].startswith("acme-dev-job-report-")


def test_alarm_names_are_unique_across_the_environment():
    # GIVEN services, jobs, a cache and a database
    spec = jobs_spec()
    spec["database"] = {"instances": 2}
    built = compile_dict(spec)
    # THEN no two alarms share a name (CloudWatch names are unique per account and region)
    templates = [template for template in built.values() if isinstance(template, dict) and "Resources" in template]
    names = [props["AlarmName"] for template in templates for props in _alarms(template).values()]
    assert len(names) == len(set(names)) and len(names) > 10


def test_grouped_services_get_their_alarms_and_the_topic_through_their_group():
    # GIVEN 100 services (the root groups them into ServicesNN stacks) WHEN compiled
    built = {
        name: json.loads(body)
        for name, body in compiler.compile_environment(spec_module.parse(synthetic.spec(100))).files.items()
    }
    groups = [name for name in built if name.startswith("services-")]
    assert groups
    # THEN every service stack has its alarms and deployment alarms
    services = [name for name in built if name.startswith("service-")]
    assert len(services) == 100
    for name in services:
        assert {"CpuHighAlarm", "MemoryHighAlarm", "RunningTasksAlarm"} <= set(_alarms(built[name]))
        assert only(built[name], "AWS::ECS::Service")["Properties"]["DeploymentConfiguration"]["Alarms"]["Rollback"]
    # AND each group takes the topic from the network stack and hands it to its members
    for group in groups:
        root_parameters = built["root.json"]["Resources"][_logical(group)]["Properties"]["Parameters"]
        assert root_parameters["AlarmTopicArn"] == {"Fn::GetAtt": ["Network", "Outputs.AlarmTopicArn"]}
        for member in resources(built[group], "AWS::CloudFormation::Stack").values():
            assert member["Properties"]["Parameters"]["AlarmTopicArn"] == {"Ref": "AlarmTopicArn"}


def _logical(group_file: str) -> str:
    return "Services" + group_file.removeprefix("services-").removesuffix(".json")


# ---- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "alarms, service, expected",
    [
        (
            {"email": ["not-an-address"]},
            None,
            "alarms.email.0: an e-mail address such as ops@example.com (got 'not-an-address')",
        ),
        (
            {"email": ["a@example.com", "A@example.com"]},
            None,
            "alarms.email: 'A@example.com' is listed twice (entries 0 and 1)",
        ),
        ({"cpu_percent": 150}, None, "alarms.cpu_percent: expected an integer <= 100 (got 150)"),
        ({"period_seconds": 10}, None, "alarms.period_seconds: allowed values are 60, 300, 900 or 3600 (got 10)"),
        ({"database": {"connections": 0}}, None, "alarms.database.connections: expected an integer >= 1 (got 0)"),
        ({"cache": {"memory_pct": 70}}, None, "alarms.cache.memory_pct: unknown field (did you mean memory_percent?)"),
        ({}, {"cpu_percent": 0}, "services.api.alarms.cpu_percent: expected an integer >= 1 (got 0)"),
    ],
)
def test_bad_alarm_settings_name_the_file_and_the_field(tmp_path: Path, capsys, alarms, service, expected):
    # GIVEN a params file with a bad alarm setting
    spec = base_spec(alarms=alarms)
    if service is not None:
        spec["services"]["api"]["alarms"] = service
    params = tmp_path / "params" / "acme"
    params.mkdir(parents=True)
    (params / "dev.yaml").write_text(yaml.safe_dump(spec))
    # WHEN it is built THEN exit 2, the file and the field named, no traceback
    code = main(["build", "acme/dev", "--params", str(tmp_path / "params"), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert str(params / "dev.yaml") in err and expected in err and "Traceback" not in err


def test_the_readme_example_builds_with_the_thresholds_it_shows():
    # GIVEN the README's Alarms example merged into the base spec
    readme = (Path(__file__).resolve().parents[2] / "docs" / "spec.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Alarms") :]
    example = yaml.safe_load(section[section.index("```yaml") + 7 : section.index("```", section.index("```yaml") + 7)])
    spec = base_spec(alarms=example["alarms"], cache={"nodes": 2, "multi_az": True})
    spec["services"]["api"].update(example["services"]["api"], connects_to=["cache"])
    # WHEN compiled
    built = compile_dict(spec)
    service, data = _alarms(built["service-api.json"]), _alarms(built["data.json"])
    # THEN the environment's CPU, the cache's connections and the service's own 5xx threshold hold, and the
    # address is subscribed
    assert service["CpuHighAlarm"]["Threshold"] == 85 and service["Http5xxAlarm"]["Threshold"] == 50
    assert data["CacheConnectionsAlarm"]["Threshold"] == 5000
    assert only(built["network.json"], "AWS::SNS::Subscription")["Properties"]["Endpoint"] == "ops@example.com"
