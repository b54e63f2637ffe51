"""`build.py deploy` of an environment whose service has an addon (a DynamoDB table and a managed policy granting
it), against the local CloudFormation endpoint (127.0.0.1 only): the addon's stack is created as a nested stack,
the table exists, the task role has the addon's policy attached, and the task definition's container has the
addon's output as an environment variable."""

from __future__ import annotations

import pytest
import yaml

from stackloom.cli.main import main

from ..helpers import base_spec
from ..templates.test_addons import ORDERS
from .local_endpoint import aws, local_endpoint, local_endpoint_server  # noqa: F401

STACK = "acme-dev"


@pytest.fixture
def deployed(local_endpoint, aws, tmp_path, capsys) -> None:
    """acme/dev, its api with the orders addon (params/acme/addons/orders.yaml), deployed."""
    folder = tmp_path / "params" / "acme"
    (folder / "addons").mkdir(parents=True)
    spec = base_spec()
    del spec["load_balancer"]
    service = spec["services"]["api"]
    del service["load_balancer"]
    service.update(user="1000", readonly_root_filesystem=True, addons=["addons/orders.yaml"])
    (folder / "dev.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    (folder / "addons" / "orders.yaml").write_text(ORDERS, encoding="utf-8")
    argv = ["deploy", "acme/dev", "--yes", "--endpoint-url", local_endpoint.url, "--poll", "0.05"]
    code = main(argv + ["--params", str(tmp_path / "params"), "--output", str(tmp_path / "output")])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err


def _outputs(aws, nested: str) -> dict[str, str]:
    cloudformation = aws("cloudformation")
    (physical,) = [
        summary["PhysicalResourceId"]
        for summary in cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
        if summary["LogicalResourceId"] == nested
    ]
    outputs = cloudformation.describe_stacks(StackName=physical)["Stacks"][0]["Outputs"]
    return {item["OutputKey"]: item["OutputValue"] for item in outputs}


def test_the_addon_is_deployed_and_wired_into_the_service(deployed, aws):
    # GIVEN the deployed environment WHEN the addon's nested stack is read THEN its table exists under the name
    # built from the parameters the root passed (System, Environment, ServiceName)
    addon = _outputs(aws, "AddonApiOrders")
    assert addon["OrdersTableName"] == "acme-dev-api-orders"
    table = aws("dynamodb").describe_table(TableName=addon["OrdersTableName"])["Table"]
    assert table["TableStatus"] == "ACTIVE"
    # AND the service's task role has the addon's managed policy attached
    service = _outputs(aws, "ServiceApi")
    role_name = service["TaskRoleArn"].rsplit("/", 1)[-1]
    attached = aws("iam").list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
    assert [policy["PolicyArn"] for policy in attached] == [addon["OrdersAccessPolicy"]]
    # AND the task definition's container gets the table's name as ORDERS_TABLE_NAME
    task = aws("ecs").describe_task_definition(taskDefinition=service["TaskDefinitionArn"])["taskDefinition"]
    (container,) = task["containerDefinitions"]
    variables = {item["name"]: item["value"] for item in container["environment"]}
    assert variables["ORDERS_TABLE_NAME"] == "acme-dev-api-orders"
    assert "ORDERS_ACCESS_POLICY" not in variables
