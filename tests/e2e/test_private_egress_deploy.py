"""`nat: none` with `network.endpoints` deployed end to end on the local endpoint: the VPC endpoints exist with
their service names, private DNS, the private subnets and route tables, and the one endpoints security group."""

from __future__ import annotations

from pathlib import Path

import yaml

from stackloom.cli.main import main

from .local_endpoint import REGION, aws, hosted_zone, local_endpoint, local_endpoint_server, params_copy  # noqa: F401


def _private(params: Path) -> None:
    """bet2wealth/dev without NAT, listing sqs (its SSM secrets and cache AUTH token add ssm and secretsmanager)."""
    path = params / "bet2wealth" / "dev.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["network"] = {"nat": "none", "endpoints": ["sqs"]}  # merged over the shared layer's network
    path.write_text(yaml.safe_dump(spec, sort_keys=False))


def _physical(aws, stack_name: str, logical_id: str) -> str:
    """The physical ID of a resource in a nested stack of the environment, looked up by its logical ID."""
    for summary in aws("cloudformation").list_stacks()["StackSummaries"]:
        if summary["StackStatus"] == "DELETE_COMPLETE" or not summary["StackName"].startswith(stack_name):
            continue
        for resource in aws("cloudformation").describe_stack_resources(StackName=summary["StackName"])[
            "StackResources"
        ]:
            if resource["LogicalResourceId"] == logical_id:
                return resource["PhysicalResourceId"]
    raise AssertionError(f"{logical_id} not found in {stack_name}'s stacks")


def test_nat_none_deploys_the_endpoints_the_services_need(local_endpoint, aws, hosted_zone, params_copy, tmp_path):
    # GIVEN bet2wealth/dev with nat: none and one endpoint listed
    _private(params_copy)
    # WHEN it is deployed to the local endpoint
    code = main(
        [
            "deploy",
            "bet2wealth/dev",
            "--yes",
            "--endpoint-url",
            local_endpoint.url,
            "--poll",
            "0.05",
            "--params",
            str(params_copy),
            "--output",
            str(tmp_path / "output"),
        ]
    )
    assert code == 0
    # THEN there is no NAT gateway, and the VPC has exactly the listed and the needed endpoints
    ec2 = aws("ec2")
    vpc = _physical(aws, "bet2wealth-dev", "Vpc")
    assert ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NatGateways"] == []
    found = {
        endpoint["ServiceName"]: endpoint
        for endpoint in ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    }
    interface = ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "sqs", "ssm"]
    assert sorted(found) == sorted(f"com.amazonaws.{REGION}.{name}" for name in [*interface, "s3"])
    # AND the interface endpoints have private DNS, one network interface per private subnet, the endpoints group
    group = _physical(aws, "bet2wealth-dev", "EndpointsSecurityGroup")
    private = sorted(_physical(aws, "bet2wealth-dev", f"PrivateSubnet{index}") for index in (1, 2))
    for name in interface:
        endpoint = found[f"com.amazonaws.{REGION}.{name}"]
        assert endpoint["VpcEndpointType"] == "Interface"
        assert endpoint["PrivateDnsEnabled"] is True
        assert sorted(endpoint["SubnetIds"]) == private
        assert [item["GroupId"] for item in endpoint["Groups"]] == [group]
    # AND the S3 gateway endpoint is on the private route table
    gateway = found[f"com.amazonaws.{REGION}.s3"]
    assert gateway["VpcEndpointType"] == "Gateway"
    assert gateway["RouteTableIds"] == [_physical(aws, "bet2wealth-dev", "PrivateRouteTable1")]
    # AND the endpoints group admits HTTPS only, only from the service's group
    rules = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    service = _physical(aws, "bet2wealth-dev", "ServiceBackendSecurityGroup")
    assert [(rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) for rule in rules] == [("tcp", 443, 443)]
    assert [pair["GroupId"] for pair in rules[0]["UserIdGroupPairs"]] == [service]
    assert rules[0].get("IpRanges", []) == []
