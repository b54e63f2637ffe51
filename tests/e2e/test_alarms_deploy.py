"""The alarms deployed on the local endpoint (127.0.0.1 only): bet2wealth/dev's CloudWatch alarms notify its
encrypted alarm topic, the ALB alarms carry the target group's full name, and the service's deployment
alarms reach ECS."""

from __future__ import annotations

import pytest

from stackloom.cli.main import main

from ..helpers import PARAMS
from .local_endpoint import aws, hosted_zone, local_endpoint, local_endpoint_server  # noqa: F401

PREFIX = "bet2wealth-dev-"


@pytest.fixture
def deployed(local_endpoint, aws, hosted_zone, tmp_path, capsys):
    """bet2wealth/dev deployed on the local endpoint."""
    argv = ["deploy", "bet2wealth/dev", "--yes", "--endpoint-url", local_endpoint.url, "--poll", "0.05"]
    code = main(argv + ["--params", str(PARAMS), "--output", str(tmp_path / "output")])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    return aws


def test_the_deployed_alarms_notify_the_encrypted_topic_and_watch_the_service(deployed):
    # GIVEN bet2wealth/dev deployed
    cloudwatch, sns = deployed("cloudwatch"), deployed("sns")
    # THEN the alarm topic exists, encrypted with a KMS key
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":bet2wealth-dev-alarms")]
    assert len(topics) == 1
    assert sns.get_topic_attributes(TopicArn=topics[0])["Attributes"]["KmsMasterKeyId"].startswith("arn:aws:kms:")
    # AND the backend's and the cache's alarms exist and notify it on ALARM and OK
    alarms = {alarm["AlarmName"]: alarm for alarm in cloudwatch.describe_alarms(AlarmNamePrefix=PREFIX)["MetricAlarms"]}
    for name in ("service-backend-cpu-high", "service-backend-http-5xx", "cache-cpu-high"):
        assert alarms[PREFIX + name]["AlarmActions"] == topics and alarms[PREFIX + name]["OKActions"] == topics
    # AND the 5xx alarm names the deployed target group by its full name
    dimensions = {d["Name"]: d["Value"] for d in alarms[PREFIX + "service-backend-http-5xx"]["Dimensions"]}
    assert dimensions["TargetGroup"].startswith("targetgroup/")
    groups = deployed("elbv2").describe_target_groups()["TargetGroups"]
    assert dimensions["TargetGroup"] in {group["TargetGroupArn"].split(":", 5)[5] for group in groups}


def test_the_deployed_service_rolls_back_on_its_alarms(deployed):
    # GIVEN bet2wealth/dev deployed
    ecs = deployed("ecs")
    cluster = ecs.list_clusters()["clusterArns"][0]
    service = ecs.describe_services(cluster=cluster, services=ecs.list_services(cluster=cluster)["serviceArns"])
    configuration = service["services"][0]["deploymentConfiguration"]
    # THEN ECS has its CPU, memory and 5xx alarms as deployment alarms, with rollback
    assert configuration["alarms"] == {
        "alarmNames": [
            PREFIX + "service-backend-cpu-high",
            PREFIX + "service-backend-memory-high",
            PREFIX + "service-backend-http-5xx",
        ],
        "enable": True,
        "rollback": True,
    }
    assert configuration["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}


def test_destroying_the_environment_removes_its_alarms(deployed, local_endpoint, capsys):
    # GIVEN bet2wealth/dev deployed, its alarms in CloudWatch
    cloudwatch = deployed("cloudwatch")
    assert cloudwatch.describe_alarms(AlarmNamePrefix=PREFIX)["MetricAlarms"]
    # WHEN it is destroyed
    argv = ["destroy", "bet2wealth/dev", "--yes", "--endpoint-url", local_endpoint.url, "--poll", "0.05"]
    code = main(argv + ["--params", str(PARAMS)])
    out = capsys.readouterr()
    # THEN none of its alarms is left
    assert code == 0, out.out + out.err
    assert cloudwatch.describe_alarms(AlarmNamePrefix=PREFIX)["MetricAlarms"] == []
