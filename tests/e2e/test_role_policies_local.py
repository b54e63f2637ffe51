"""The local endpoint keeps an AWS::IAM::Role's ManagedPolicyArns as CloudFormation does (moto alone drops them,
stackloom/local/patches.py): attached on create, the difference attached and detached on a stack update, all
detached when the role is deleted (moto refuses to delete a role with attached policies)."""

from __future__ import annotations

import json

import pytest

from .local_endpoint import aws, local_endpoint, local_endpoint_server  # noqa: F401

STACK = "role-policies"
POLICY_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}],
}


AWS_MANAGED = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


def template(*attached: str) -> str:
    """Two managed policies (A, B) and a role with the ones named in `attached` (Ref; "aws": an AWS managed
    policy, as the cluster's instance role and the database's monitoring role have), in that order; only that
    list changes between two templates."""
    resources = {
        name: {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": POLICY_DOCUMENT}}
        for name in ("A", "B")
    }
    resources["Role"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            **({"ManagedPolicyArns": [_arn(name) for name in attached]} if attached else {}),
        },
    }
    outputs = {name: {"Value": {"Ref": name}} for name in ("A", "B", "Role")}
    return json.dumps({"Resources": resources, "Outputs": outputs})


def _arn(name: str) -> dict:
    if name == "aws":
        return {"Fn::Sub": AWS_MANAGED.replace("arn:aws:", "arn:${AWS::Partition}:")}
    return {"Ref": name}


@pytest.fixture
def cloudformation(aws):
    return aws("cloudformation")


def deploy(cloudformation, body: str, update: bool) -> dict[str, str]:
    if update:
        cloudformation.update_stack(StackName=STACK, TemplateBody=body, Capabilities=["CAPABILITY_IAM"])
        cloudformation.get_waiter("stack_update_complete").wait(StackName=STACK, WaiterConfig={"Delay": 0.1})
    else:
        cloudformation.create_stack(StackName=STACK, TemplateBody=body, Capabilities=["CAPABILITY_IAM"])
        cloudformation.get_waiter("stack_create_complete").wait(StackName=STACK, WaiterConfig={"Delay": 0.1})
    outputs = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
    return {item["OutputKey"]: item["OutputValue"] for item in outputs}


def attached(aws, role: str) -> list[str]:
    return sorted(
        item["PolicyArn"] for item in aws("iam").list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    )


def test_a_stack_update_attaches_and_detaches_the_roles_managed_policies(aws, cloudformation):
    # GIVEN a role created with policy A
    outputs = deploy(cloudformation, template("A"), update=False)
    assert attached(aws, outputs["Role"]) == [outputs["A"]]
    # WHEN an update adds B THEN both are attached
    assert attached(aws, deploy(cloudformation, template("A", "B"), update=True)["Role"]) == sorted(
        [outputs["A"], outputs["B"]]
    )
    # WHEN an update removes A THEN only B is
    assert attached(aws, deploy(cloudformation, template("B"), update=True)["Role"]) == [outputs["B"]]
    # WHEN an update removes the property THEN none is
    assert attached(aws, deploy(cloudformation, template(), update=True)["Role"]) == []


def test_a_role_with_managed_policies_is_deleted_with_its_stack(aws, cloudformation):
    # GIVEN a role with both policies attached WHEN its stack is deleted THEN the stack and the role are gone
    role = deploy(cloudformation, template("A", "B"), update=False)["Role"]
    cloudformation.delete_stack(StackName=STACK)
    cloudformation.get_waiter("stack_delete_complete").wait(StackName=STACK, WaiterConfig={"Delay": 0.1})
    assert role not in [item["RoleName"] for item in aws("iam").list_roles()["Roles"]]


def test_an_aws_managed_policy_is_attached_as_in_aws(aws, cloudformation):
    # GIVEN a role with an AWS managed policy and one of its own (moto loads no AWS managed policy by default)
    outputs = deploy(cloudformation, template("aws", "A"), update=False)
    # THEN both are attached, and an update dropping the AWS one detaches it
    assert attached(aws, outputs["Role"]) == sorted([AWS_MANAGED, outputs["A"]])
    assert attached(aws, deploy(cloudformation, template("A"), update=True)["Role"]) == [outputs["A"]]
