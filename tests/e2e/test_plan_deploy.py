"""`build.py plan` / `deploy --plan` / `deploy --plan-file` against the local CloudFormation endpoint (127.0.0.1
only), and the endpoint's DescribeChangeSet with IncludePropertyValues that the plan prints from."""

from __future__ import annotations

import json

from .local_endpoint import aws, local_endpoint, local_endpoint_server  # noqa: F401

QUEUE = {
    "Parameters": {"Name": {"Type": "String", "Default": "orders"}},
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "Name"}, "DelaySeconds": 1}}
    },
}


def _change_set(cloudformation, kind: str, template: dict, **extra) -> str:
    created = cloudformation.create_change_set(
        StackName="probe",
        ChangeSetName=f"c-{kind.lower()}",
        ChangeSetType=kind,
        TemplateBody=json.dumps(template),
        **extra,
    )
    cloudformation.get_waiter("change_set_create_complete").wait(
        ChangeSetName=created["Id"], StackName="probe", WaiterConfig={"Delay": 0.05}
    )
    return created["Id"]


def test_describe_change_set_gives_before_and_after_values_only_when_asked(aws):
    # GIVEN a deployed queue, then a change set that changes a property and (through a parameter) its name
    cloudformation = aws("cloudformation")
    cloudformation.execute_change_set(ChangeSetName=_change_set(cloudformation, "CREATE", QUEUE), StackName="probe")
    assert "LastUpdatedTime" not in cloudformation.describe_stacks(StackName="probe")["Stacks"][0]
    changed = json.loads(json.dumps(QUEUE))
    changed["Resources"]["Queue"]["Properties"]["DelaySeconds"] = 5
    change_set = _change_set(
        cloudformation, "UPDATE", changed, Parameters=[{"ParameterKey": "Name", "ParameterValue": "payments"}]
    )
    # WHEN it is described with IncludePropertyValues
    (change,) = cloudformation.describe_change_set(ChangeSetName=change_set, IncludePropertyValues=True)["Changes"]
    targets = {detail["Target"]["Name"]: detail["Target"] for detail in change["ResourceChange"]["Details"]}
    # THEN each Target carries Path, BeforeValue, AfterValue and AttributeChangeType, parameters resolved
    assert targets["DelaySeconds"] == {
        "Attribute": "Properties",
        "Name": "DelaySeconds",
        "RequiresRecreation": "Never",
        "Path": "/Properties/DelaySeconds",
        "BeforeValue": "1",
        "AfterValue": "5",
        "AttributeChangeType": "Modify",
    }
    assert (targets["QueueName"]["BeforeValue"], targets["QueueName"]["AfterValue"]) == ("orders", "payments")
    assert json.loads(change["ResourceChange"]["AfterContext"]) == {
        "Properties": {"DelaySeconds": 5, "QueueName": "payments"}
    }
    # AND without it, as AWS, none of the values
    (plain,) = cloudformation.describe_change_set(ChangeSetName=change_set)["Changes"]
    assert "BeforeContext" not in plain["ResourceChange"]
    assert all("BeforeValue" not in detail["Target"] for detail in plain["ResourceChange"]["Details"])
    # AND executing it sets the stack's LastUpdatedTime (what a plan file compares)
    cloudformation.execute_change_set(ChangeSetName=change_set, StackName="probe")
    assert cloudformation.describe_stacks(StackName="probe")["Stacks"][0]["LastUpdatedTime"]
