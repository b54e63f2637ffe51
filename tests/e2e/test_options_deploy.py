"""`build.py deploy` of an environment using the container options (templates/spec_options.py) against the local
CloudFormation endpoint (127.0.0.1 only): the service's Network Load Balancer with its UDP and TCP listeners, the
ALB target group's health check and stickiness, and the service's Fargate / Fargate Spot strategy, read back with
boto3."""

from __future__ import annotations

import pytest
import yaml

from stackloom.cli.main import main

from ..helpers import options_spec
from .local_endpoint import aws, local_endpoint, local_endpoint_server  # noqa: F401

STACK = "acme-dev"


@pytest.fixture
def deployed(local_endpoint, aws, tmp_path, capsys) -> dict[str, str]:
    """acme/dev (options_spec) deployed; returns the service stack's outputs."""
    params = tmp_path / "params"
    (params / "acme").mkdir(parents=True)
    (params / "acme" / "dev.yaml").write_text(yaml.safe_dump(options_spec(), sort_keys=False))
    argv = ["deploy", "acme/dev", "--yes", "--endpoint-url", local_endpoint.url, "--poll", "0.05"]
    code = main(argv + ["--params", str(params), "--output", str(tmp_path / "output")])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    return _outputs(aws, "ServiceApi")


def _nested(aws, logical_id: str) -> str:
    (physical,) = [
        summary["PhysicalResourceId"]
        for summary in aws("cloudformation").list_stack_resources(StackName=STACK)["StackResourceSummaries"]
        if summary["LogicalResourceId"] == logical_id
    ]
    return physical


def _outputs(aws, logical_id: str) -> dict[str, str]:
    outputs = aws("cloudformation").describe_stacks(StackName=_nested(aws, logical_id))["Stacks"][0]["Outputs"]
    return {item["OutputKey"]: item["OutputValue"] for item in outputs}


def _physical(aws, logical_id: str, resource: str) -> str:
    resources = aws("cloudformation").describe_stack_resources(StackName=_nested(aws, logical_id))["StackResources"]
    (physical,) = [item["PhysicalResourceId"] for item in resources if item["LogicalResourceId"] == resource]
    return physical


def test_the_network_load_balancer_listens_on_udp_and_tcp(deployed, aws):
    # GIVEN acme/dev with a UDP 5060 and a TCP 7000 public port, deployed
    elb = aws("elbv2")
    arn = _physical(aws, "ServiceApi", "NetworkLoadBalancer")
    (balancer,) = elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
    # THEN the service's NLB is internet-facing, and its DNS name is the stack's output
    assert (balancer["Type"], balancer["Scheme"]) == ("network", "internet-facing")
    assert balancer["DNSName"] == deployed["NetworkLoadBalancerDnsName"]
    # AND it has one listener per port with that protocol, each forwarding to its IP target group
    listeners = {item["Port"]: item for item in elb.describe_listeners(LoadBalancerArn=arn)["Listeners"]}
    assert {port: item["Protocol"] for port, item in listeners.items()} == {5060: "UDP", 7000: "TCP"}
    udp_group = listeners[5060]["DefaultActions"][0]["TargetGroupArn"]
    (group,) = elb.describe_target_groups(TargetGroupArns=[udp_group])["TargetGroups"]
    assert (group["Protocol"], group["Port"], group["TargetType"]) == ("UDP", 5060, "ip")
    assert (group["HealthCheckProtocol"], group["HealthCheckPort"]) == ("TCP", "8080")


def test_the_alb_target_group_has_the_health_check_and_stickiness(deployed, aws):
    # GIVEN a route's health check (200,204 every 30 s, 10 s timeout, 3/5) and 3600 s stickiness, deployed
    elb = aws("elbv2")
    arn = _physical(aws, "ServiceApi", "TargetGroup")
    (group,) = elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"]
    assert group["Matcher"]["HttpCode"] == "200,204"
    assert (group["HealthCheckIntervalSeconds"], group["HealthCheckTimeoutSeconds"]) == (30, 10)
    assert (group["HealthyThresholdCount"], group["UnhealthyThresholdCount"]) == (3, 5)
    attributes = {
        item["Key"]: item["Value"] for item in elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    }
    assert attributes["stickiness.enabled"] == "true"
    assert attributes["stickiness.type"] == "lb_cookie"
    assert attributes["stickiness.lb_cookie.duration_seconds"] == "3600"


def test_the_service_runs_on_the_fargate_and_spot_mix(deployed, aws):
    # GIVEN capacity {fargate: 1, fargate-spot: 3, base: 1} WHEN the service is described
    ecs = aws("ecs")
    cluster = _outputs(aws, "Cluster")["ClusterName"]
    (service,) = ecs.describe_services(cluster=cluster, services=[deployed["ServiceName"]])["services"]
    # THEN it places tasks by that strategy, with no launch type
    strategy = {
        item["capacityProvider"]: (item["weight"], item["base"]) for item in service["capacityProviderStrategy"]
    }
    assert strategy == {"FARGATE": (1, 1), "FARGATE_SPOT": (3, 0)}
    assert not service.get("launchType")
    # AND it registers with the ALB target group and both NLB target groups
    ports = {item["containerPort"]: item["targetGroupArn"] for item in service["loadBalancers"]}
    assert set(ports) == {8080, 5060, 7000}
    assert ports[5060] == _physical(aws, "ServiceApi", "PublicTargetGroupUdp5060")
    assert ports[8080] == _physical(aws, "ServiceApi", "TargetGroup")
    # AND its cluster has both Fargate capacity providers associated
    (described,) = ecs.describe_clusters(clusters=[cluster])["clusters"]
    assert {"FARGATE", "FARGATE_SPOT"} <= set(described["capacityProviders"])
