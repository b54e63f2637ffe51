"""The VPC's default security group allows nothing, proven by deploying against the local endpoint: the
custom resource's own Lambda code runs there (in-process, against moto's EC2) and revokes the default rules."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from stackloom.cli.main import main
from templates.network import RESTRICT_DEFAULT_SECURITY_GROUP_CODE

from .local_endpoint import aws, local_endpoint, local_endpoint_server, params_copy  # noqa: F401

DEFAULT_INGRESS = {"IpProtocol": "-1", "from": "self"}


def deploy(local_endpoint, tmp_path, capsys, params: Path | None = None) -> tuple[int, str]:
    argv = [
        "deploy",
        "vanity-market/preprod",
        "--endpoint-url",
        local_endpoint.url,
        "--poll",
        "0.05",
        "--yes",
        "--output",
        str(tmp_path / "output"),
    ] + (["--params", str(params)] if params else [])
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def vpc_id(aws) -> str:
    outputs = aws("cloudformation").describe_stacks(StackName="vanity-market-preprod")["Stacks"][0]["Outputs"]
    return {o["OutputKey"]: o["OutputValue"] for o in outputs}["VpcId"]


def default_group(aws, vpc: str) -> dict:
    groups = aws("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )
    (group,) = groups["SecurityGroups"]
    return group


def test_after_a_deploy_the_default_security_group_has_no_rules(local_endpoint, aws, tmp_path, capsys):
    # GIVEN vanity-market/preprod (restrict_default_security_group defaults to true)
    # WHEN it is deployed to the local endpoint
    code, out = deploy(local_endpoint, tmp_path, capsys)
    assert code == 0, out
    # THEN the VPC's default security group has neither ingress nor egress rules
    group = default_group(aws, vpc_id(aws))
    assert group["IpPermissions"] == [] and group["IpPermissionsEgress"] == []
    # AND the custom resource completed, named after the group it restricted
    network = _nested(aws, "Network")
    resource = aws("cloudformation").describe_stack_resource(
        StackName=network, LogicalResourceId="RestrictDefaultSecurityGroup"
    )["StackResourceDetail"]
    assert resource["ResourceStatus"] == "CREATE_COMPLETE" and resource["PhysicalResourceId"] == group["GroupId"]


def test_only_the_default_group_loses_rules(local_endpoint, aws, tmp_path, capsys):
    # GIVEN vanity-market/preprod deployed
    assert deploy(local_endpoint, tmp_path, capsys)[0] == 0
    # THEN the groups the environment creates itself keep their rules (e.g. the ALB's listeners)
    groups = aws("ec2").describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id(aws)]}])[
        "SecurityGroups"
    ]
    others = [group for group in groups if group["GroupName"] != "default"]
    assert others and any(group["IpPermissions"] for group in others)
    assert all(group["IpPermissionsEgress"] or group["IpPermissions"] for group in others)


def test_with_the_switch_off_the_default_rules_stay(local_endpoint, aws, tmp_path, capsys, params_copy):
    # GIVEN vanity-market/preprod with network.restrict_default_security_group: false
    path = params_copy / "vanity-market" / "preprod.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["network"]["restrict_default_security_group"] = False
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    # WHEN it is deployed
    code, out = deploy(local_endpoint, tmp_path, capsys, params_copy)
    assert code == 0, out
    # THEN the default group keeps AWS's defaults: all traffic from itself in, everything out
    group = default_group(aws, vpc_id(aws))
    assert [
        (rule["IpProtocol"], [pair["GroupId"] for pair in rule["UserIdGroupPairs"]]) for rule in group["IpPermissions"]
    ] == [("-1", [group["GroupId"]])]
    assert [(rule["IpProtocol"], rule["IpRanges"]) for rule in group["IpPermissionsEgress"]] == [
        ("-1", [{"CidrIp": "0.0.0.0/0"}])
    ]


def _nested(aws, logical_id: str) -> str:
    resource = aws("cloudformation").describe_stack_resource(
        StackName="vanity-market-preprod", LogicalResourceId=logical_id
    )
    return resource["StackResourceDetail"]["PhysicalResourceId"]


# ---- the handler itself, in a small stack: update, failure --------------------------------------------


def _template(group_of: str | None, security_group_id: str | None = None) -> str:
    """Two VPCs, the function from network.py, and a custom resource restricting one VPC's default group."""
    target = security_group_id or {"Fn::GetAtt": [group_of, "DefaultSecurityGroup"]}
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {
                "VpcA": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.1.0.0/16"}},
                "VpcB": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.2.0.0/16"}},
                "Role": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "AssumeRolePolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": {"Service": "lambda.amazonaws.com"},
                                    "Action": "sts:AssumeRole",
                                }
                            ],
                        }
                    },
                },
                "Function": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Runtime": "python3.12",
                        "Handler": "index.handler",
                        "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                        "Code": {"ZipFile": RESTRICT_DEFAULT_SECURITY_GROUP_CODE},
                    },
                },
                "Restrict": {
                    "Type": "Custom::RestrictDefaultSecurityGroup",
                    "Properties": {"ServiceToken": {"Fn::GetAtt": ["Function", "Arn"]}, "SecurityGroupId": target},
                },
            },
        }
    )


def _default_of(aws, stack: str, logical_id: str) -> dict:
    vpc = aws("cloudformation").describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
    return default_group(aws, vpc["StackResourceDetail"]["PhysicalResourceId"])


def _apply(aws, template: str, kind: str) -> str:
    """Create or update the stack `restrict` through a change set, as `deploy` does; returns its status."""
    cloudformation = aws("cloudformation")
    cloudformation.create_change_set(
        StackName="restrict",
        ChangeSetName=f"{kind.lower()}-1",
        ChangeSetType=kind,
        TemplateBody=template,
        Capabilities=["CAPABILITY_IAM"],
    )
    cloudformation.execute_change_set(StackName="restrict", ChangeSetName=f"{kind.lower()}-1")
    return cloudformation.describe_stacks(StackName="restrict")["Stacks"][0]["StackStatus"]


def _rules(group: dict) -> int:
    return len(group["IpPermissions"]) + len(group["IpPermissionsEgress"])


def test_an_update_restricts_the_new_target_group(local_endpoint, aws):
    # GIVEN a stack whose custom resource restricted VPC A's default group
    assert _apply(aws, _template("VpcA"), "CREATE") == "CREATE_COMPLETE"
    assert _rules(_default_of(aws, "restrict", "VpcA")) == 0 and _rules(_default_of(aws, "restrict", "VpcB")) == 2
    # WHEN the custom resource is pointed at VPC B's default group (an Update request)
    assert _apply(aws, _template("VpcB"), "UPDATE") == "UPDATE_COMPLETE"
    # THEN B's default group has lost its rules too, and the resource names it
    assert _rules(_default_of(aws, "restrict", "VpcB")) == 0
    resource = aws("cloudformation").describe_stack_resource(StackName="restrict", LogicalResourceId="Restrict")[
        "StackResourceDetail"
    ]
    assert resource["PhysicalResourceId"] == _default_of(aws, "restrict", "VpcB")["GroupId"]


def test_a_failing_revoke_fails_the_resource_with_the_reason(local_endpoint, aws):
    # GIVEN a custom resource aimed at a security group that does not exist
    # WHEN the stack is created
    status = _apply(aws, _template(None, "sg-0123456789abcdef0"), "CREATE")
    # THEN the function answered FAILED with EC2's error, and the stack rolled back
    assert status == "ROLLBACK_COMPLETE"
    events = aws("cloudformation").describe_stack_events(StackName="restrict")["StackEvents"]
    (failed,) = [event for event in events if event["ResourceStatus"] == "CREATE_FAILED"]
    assert failed["LogicalResourceId"] == "Restrict"
    assert "FAILED" in failed["ResourceStatusReason"] and "sg-0123456789abcdef0" in failed["ResourceStatusReason"]
