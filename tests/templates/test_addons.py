"""Addons (templates/addons.py, stackloom/addons.py): a team's CloudFormation template beside its params file
becomes a nested stack of the environment, receives the parameters it declares by convention, and hands its
outputs back to its service (managed policies onto the task role, the rest as environment variables)."""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path

import pytest
import yaml

from bench import synthetic
from stackloom import build as compiler
from stackloom.audit.lint import lint_files
from stackloom.cfn.evaluate import Built
from stackloom.cli.main import main
from stackloom.output import write
from stackloom.params import SpecError, load_spec
from stackloom.params import schema as params_schema
from stackloom.report import cost
from stackloom.report.inventory import inventory
from stackloom.report.mermaid import mermaid
from templates.spec import SpecInvalid, parse
from templates.spec_addons import variable_name

from ..helpers import base_spec, compile_dict, only
from ..stackloom.test_cost import HOURS, PRICES

ORDERS = textwrap.dedent(
    """\
    AWSTemplateFormatVersion: 2010-09-09
    Description: Orders table of the api
    Parameters:
      System: {Type: String}
      Environment: {Type: String}
      ServiceName: {Type: String}
      KmsKeyArn: {Type: String}
      ReadLimit: {Type: Number, Default: 5}
    Resources:
      Orders:
        Type: AWS::DynamoDB::Table
        DeletionPolicy: Retain
        UpdateReplacePolicy: Retain
        Properties:
          TableName: !Sub '${System}-${Environment}-${ServiceName}-orders'
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
          KeySchema: [{AttributeName: id, KeyType: HASH}]
          PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}
          SSESpecification: {SSEEnabled: true, SSEType: KMS, KMSMasterKeyId: !Ref KmsKeyArn}
          Tags: [{Key: read-limit, Value: !Ref ReadLimit}]
      OrdersAccess:
        Type: AWS::IAM::ManagedPolicy
        Properties:
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:Query]
                Resource: !GetAtt Orders.Arn
    Outputs:
      OrdersTableName: {Value: !Ref Orders}
      OrdersAccessPolicy: {Value: !Ref OrdersAccess}
    """
)
ALARM_TOPIC = textwrap.dedent(
    """\
    {
      "Parameters": {"System": {"Type": "String"}, "KmsKeyArn": {"Type": "String"}},
      "Resources": {
        "Alarms": {"Type": "AWS::SNS::Topic", "Properties": {
          "KmsMasterKeyId": {"Ref": "KmsKeyArn"}, "TopicName": {"Fn::Sub": "${System}-alarms"}
        }}
      },
      "Outputs": {"AlarmTopicArn": {"Value": {"Ref": "Alarms"}}}
    }
    """
)


def write_params(tmp_path: Path, service_addons=("addons/orders.yaml",), env_addons=(), files=None) -> Path:
    """params/acme/dev.yaml (base_spec) listing the addons, and the addon files (path relative to params/acme)."""
    folder = tmp_path / "params" / "acme"
    (folder / "addons").mkdir(parents=True)
    data = base_spec()
    if service_addons:
        data["services"]["api"]["addons"] = list(service_addons)
    if env_addons:
        data["addons"] = list(env_addons)
    (folder / "dev.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    for name, text in (files if files is not None else {"addons/orders.yaml": ORDERS}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder / "dev.yaml"


def built(path: Path) -> dict[str, dict]:
    return {name: json.loads(body) for name, body in compiler.compile_environment(load_spec(path)).files.items()}


def test_a_service_addon_is_a_nested_stack_wired_by_convention(tmp_path):
    # GIVEN api with an addon (YAML, short-form intrinsics) declaring System, Environment, ServiceName, KmsKeyArn
    # and a parameter of its own with a Default
    files = built(write_params(tmp_path))
    # WHEN built THEN the addon is its own file, listed among the nested stacks of the manifest
    assert files["manifest.json"]["nested_stacks"]["AddonApiOrders"] == "addon-api-orders.json"
    addon = files["addon-api-orders.json"]
    # AND its template is the author's, intrinsics in long form, the region's lint metadata added
    table = only(addon, "AWS::DynamoDB::Table")
    assert table["Properties"]["TableName"] == {"Fn::Sub": "${System}-${Environment}-${ServiceName}-orders"}
    assert table["DeletionPolicy"] == "Retain"
    assert addon["Metadata"]["cfn-lint"]["config"]["regions"] == ["eu-central-1"]
    assert addon["AWSTemplateFormatVersion"] == "2010-09-09"
    # AND the root passes the documented parameters: build-time names as written, the key from the network stack;
    # the addon's own parameter keeps its Default
    resources = files["root.json"]["Resources"]
    stack = resources["AddonApiOrders"]
    assert stack["Type"] == "AWS::CloudFormation::Stack"
    assert stack["Properties"]["TemplateURL"] == "addon-api-orders.json"
    assert stack["Properties"]["Parameters"] == {
        "System": "acme",
        "Environment": "dev",
        "ServiceName": "api",
        "KmsKeyArn": {"Fn::GetAtt": ["Network", "Outputs.EnvironmentKeyArn"]},
    }


def test_the_addon_outputs_reach_the_task_role_and_the_container(tmp_path):
    files = built(write_params(tmp_path))
    service = files["service-api.json"]
    root = files["root.json"]["Resources"]["ServiceApi"]["Properties"]["Parameters"]
    # THEN the managed policy output is attached to the task role, through a parameter fed from the addon
    role = service["Resources"]["TaskRole"]["Properties"]
    assert role["ManagedPolicyArns"] == [{"Ref": "AddonApiOrdersOrdersAccessPolicy"}]
    assert root["AddonApiOrdersOrdersAccessPolicy"] == {"Fn::GetAtt": ["AddonApiOrders", "Outputs.OrdersAccessPolicy"]}
    # AND every other output is an environment variable of the container, named in UPPER_SNAKE
    (container,) = only(service, "AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"]
    variables = {item["Name"]: item["Value"] for item in container["Environment"]}
    assert variables["ORDERS_TABLE_NAME"] == {"Ref": "AddonApiOrdersOrdersTableName"}
    assert "ORDERS_ACCESS_POLICY" not in variables
    assert root["AddonApiOrdersOrdersTableName"] == {"Fn::GetAtt": ["AddonApiOrders", "Outputs.OrdersTableName"]}


def test_addon_templates_are_lint_clean(tmp_path):
    # GIVEN an environment with a service addon (YAML) and an environment addon (JSON) WHEN cfn-lint reads every
    # emitted template THEN none has a finding
    path = write_params(
        tmp_path,
        env_addons=["addons/alarms.json"],
        files={"addons/orders.yaml": ORDERS, "addons/alarms.json": ALARM_TOPIC},
    )
    build = compiler.compile_environment(load_spec(path))
    out = tmp_path / "out"
    out.mkdir()
    for name, body in build.files.items():
        (out / name).write_text(body, encoding="utf-8")
    templates = [out / name for name in build.manifest.nested_stacks.values()] + [out / "root.json"]
    assert any(path.name == "addon-alarms.json" for path in templates)
    assert {path.name: found for path, found in lint_files(templates).items() if found} == {}


def test_an_environment_addon_gets_the_environment_parameters_and_no_service_reads_it(tmp_path):
    path = write_params(
        tmp_path, service_addons=(), env_addons=["addons/alarms.json"], files={"addons/alarms.json": ALARM_TOPIC}
    )
    files = built(path)
    stack = files["root.json"]["Resources"]["AddonAlarms"]["Properties"]
    assert stack["Parameters"] == {
        "System": "acme",
        "KmsKeyArn": {"Fn::GetAtt": ["Network", "Outputs.EnvironmentKeyArn"]},
    }
    assert "AlarmTopicArn" in files["addon-alarms.json"]["Outputs"]
    assert "ALARM_TOPIC_ARN" not in json.dumps(files["service-api.json"])


def test_a_path_is_relative_to_the_layer_that_lists_it(tmp_path):
    # GIVEN the service's addon listed in params/acme/_defaults.yaml, the environment's in params/_defaults.yaml,
    # each as a path next to its own layer
    path = write_params(tmp_path, service_addons=())
    (path.parent / "_defaults.yaml").write_text(
        yaml.safe_dump({"services": {"api": {"addons": ["addons/orders.yaml"]}}}), encoding="utf-8"
    )
    (path.parent.parent / "shared").mkdir()
    (path.parent.parent / "shared" / "alarms.json").write_text(ALARM_TOPIC, encoding="utf-8")
    (path.parent.parent / "_defaults.yaml").write_text(yaml.safe_dump({"addons": ["shared/alarms.json"]}))
    spec = load_spec(path)
    # THEN each resolves from its layer's folder, keyed by its place in the params folder
    assert spec.services["api"].addons == ["acme/addons/orders.yaml"]
    assert spec.addons == ["shared/alarms.json"]
    assert "Orders" in spec.addon_templates["acme/addons/orders.yaml"]["Resources"]
    assert "Alarms" in spec.addon_templates["shared/alarms.json"]["Resources"]


def test_an_addon_that_takes_the_task_role_is_deployed_after_the_service():
    document = {
        "Parameters": {"TaskRoleName": {"Type": "String"}, "SecurityGroupId": {"Type": "String"}},
        "Resources": {
            "Extra": {
                "Type": "AWS::IAM::RolePolicy",
                "Properties": {
                    "RoleName": {"Ref": "TaskRoleName"},
                    "PolicyName": "extra",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}],
                    },
                },
            }
        },
    }
    data = base_spec(addon_templates={"role.yaml": document})
    data["services"]["api"]["addons"] = ["role.yaml"]
    files = compile_dict(data)
    resources = files["root.json"]["Resources"]
    assert resources["AddonApiRole"]["Properties"]["Parameters"] == {
        "TaskRoleName": {"Fn::GetAtt": ["ServiceApi", "Outputs.TaskRoleName"]},
        "SecurityGroupId": {"Fn::GetAtt": ["SecurityGroups", "Outputs.ServiceApiSecurityGroupId"]},
    }
    # (CloudFormation creates the addon after the service: its parameter reads the service stack's output)
    assert files["service-api.json"]["Outputs"]["TaskRoleName"]["Value"] == {"Ref": "TaskRole"}
    # AND such an addon cannot also hand outputs back (the service stack would depend on it)
    with_output = copy.deepcopy(document)
    with_output["Outputs"] = {"Thing": {"Value": "x"}}
    data["addon_templates"] = {"role.yaml": with_output}
    with pytest.raises(SpecInvalid, match="takes TaskRoleName"):
        parse(data)


def test_an_undeclared_parameter_without_a_default_names_the_file_and_the_parameter(tmp_path):
    path = write_params(tmp_path, files={"addons/orders.yaml": ORDERS.replace("Default: 5", "MinValue: 1")})
    with pytest.raises(SpecError) as error:
        load_spec(path)
    message = str(error.value)
    assert "dev.yaml" in message and "services.api.addons.0" in message
    assert "acme/addons/orders.yaml: parameter ReadLimit is not one stackloom passes and has no Default" in message
    assert "ServiceName, SecurityGroupId, TaskRoleName" in message


def test_a_template_that_does_not_parse_is_an_error_naming_the_file_and_line(tmp_path):
    broken = ORDERS.replace("Resource: !GetAtt Orders.Arn", "Resource: [!GetAtt Orders.Arn")
    path = write_params(tmp_path, files={"addons/orders.yaml": broken})
    with pytest.raises(SpecError, match=r"addons/orders.yaml: line \d+, column \d+: not a CloudFormation template"):
        load_spec(path)


@pytest.mark.parametrize(
    "entry, problem",
    [
        ("addons/missing.yaml", "cannot read"),
        ("../../outside.yaml", "outside the params folder"),
    ],
)
def test_a_missing_or_outside_file_is_an_error(tmp_path, entry, problem):
    (tmp_path / "outside.yaml").write_text(ORDERS, encoding="utf-8")
    with pytest.raises(SpecError, match=problem):
        load_spec(write_params(tmp_path, service_addons=[entry]))


def test_not_a_template_and_a_clashing_variable_are_refused():
    data = base_spec(addon_templates={"a.yaml": {"Outputs": {}}})
    data["services"]["api"]["addons"] = ["a.yaml"]
    with pytest.raises(SpecInvalid, match="needs a Resources mapping"):
        parse(data)
    data["addon_templates"] = {
        "a.yaml": {"Resources": {"T": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"Url": {"Value": "x"}}}
    }
    data["services"]["api"]["environment"] = {"URL": "https://example.com"}
    with pytest.raises(SpecInvalid, match="becomes the environment variable URL"):
        parse(data)


def test_output_names_become_upper_snake():
    assert variable_name("OrdersTableName") == "ORDERS_TABLE_NAME"
    assert variable_name("DDBTableArn") == "DDB_TABLE_ARN"
    assert variable_name("Queue2Url") == "QUEUE2_URL"


def test_compiling_the_same_spec_twice_gives_the_same_bytes(tmp_path):
    spec = load_spec(write_params(tmp_path))
    first = compiler.compile_environment(spec).files
    second = compiler.compile_environment(spec).files
    assert first == second


def test_the_diagram_draws_the_addon_and_the_cost_lists_it_as_not_priced(tmp_path):
    folder = write(compiler.compile_environment(load_spec(write_params(tmp_path))), tmp_path / "out")
    found = inventory(Built(folder))
    drawing = mermaid(found)
    assert (
        'ADDON_AddonApiOrders["addon api-orders<br/>1 × AWS::DynamoDB::Table<br/>1 × AWS::IAM::ManagedPolicy"]'
        in drawing
    )
    assert 'ADDON_AddonApiOrders -.->|"outputs: policy, variables"| SVC_api' in drawing
    # AND the task role names the addon's policy by its logical ID and addon, not as an unresolved reference
    (api,) = found.services
    assert api.roles["task"] == ["OrdersAccess (addon api-orders)"]
    assert 'ROLE_api_task(["task role · api<br/>OrdersAccess (addon api-orders)"])' in drawing
    assert "${" not in drawing and "#123;" not in drawing
    estimate = cost.estimate(found, PRICES, HOURS)
    assert any(item.startswith("addon addon-api-orders.json: 1 AWS::DynamoDB::Table") for item in estimate.unpriced)


# ---- a grouped environment (services in ServicesNN stacks, templates/root.py group_services) ----------------

TASK_ROLE_ADDON = {
    "Parameters": {"TaskRoleName": {"Type": "String"}},
    "Resources": {
        "Extra": {
            "Type": "AWS::IAM::RolePolicy",
            "Properties": {
                "RoleName": {"Ref": "TaskRoleName"},
                "PolicyName": "extra",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}],
                },
            },
        }
    },
}


@pytest.fixture(scope="module")
def grouped(tmp_path_factory) -> tuple[compiler.Build, dict[str, dict]]:
    """synthetic 100 services (past 200 root parameters: grouped), svc-001 with an addon that takes its task role
    and one that hands back a policy and a variable (the orders table), loaded from a params folder."""
    path = synthetic.write(tmp_path_factory.mktemp("grouped") / "params", 100)
    data = yaml.safe_load(path.read_text())
    data["services"]["svc-001"]["addons"] = ["addons/role.json", "addons/orders.yaml"]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    (path.parent / "addons").mkdir()
    (path.parent / "addons" / "role.json").write_text(json.dumps(TASK_ROLE_ADDON), encoding="utf-8")
    (path.parent / "addons" / "orders.yaml").write_text(ORDERS, encoding="utf-8")
    build = compiler.compile_environment(load_spec(path))
    return build, {name: json.loads(body) for name, body in build.files.items()}


def test_an_addon_taking_a_grouped_services_task_role_reads_it_through_the_group(grouped):
    build, files = grouped
    group = files["manifest.json"]["services"]["svc-001"]["group"]
    assert group.startswith("Services")
    root = files["root.json"]["Resources"]
    # THEN the root passes the addon the group's forward of the service's TaskRoleName output
    assert root["AddonSvc001Role"]["Properties"]["Parameters"] == {
        "TaskRoleName": {"Fn::GetAtt": [group, "Outputs.ServiceSvc001TaskRoleName"]}
    }
    group_template = files[files["manifest.json"]["nested_stacks"][group]]
    assert group_template["Outputs"]["ServiceSvc001TaskRoleName"]["Value"] == {
        "Fn::GetAtt": ["ServiceSvc001", "Outputs.TaskRoleName"]
    }
    # AND the addon handing outputs back feeds the service through its group
    assert root[group]["Properties"]["Parameters"]["AddonSvc001OrdersOrdersAccessPolicy"] == {
        "Fn::GetAtt": ["AddonSvc001Orders", "Outputs.OrdersAccessPolicy"]
    }
    member = group_template["Resources"]["ServiceSvc001"]["Properties"]["Parameters"]
    assert member["AddonSvc001OrdersOrdersAccessPolicy"] == {"Ref": "AddonSvc001OrdersOrdersAccessPolicy"}
    # AND the nested stacks are listed, the addon after the group whose output it reads
    stacks = list(build.manifest.nested_stacks)
    assert stacks.index(group) < stacks.index("AddonSvc001Role")
    assert "ServiceSvc001TaskRoleName" not in json.dumps(
        {name: body for name, body in files.items() if name.startswith("services-") and body is not group_template}
    )


def test_a_grouped_environments_addons_are_lint_clean_and_drawn(grouped, tmp_path):
    build, files = grouped
    folder = write(build, tmp_path / "out")
    group_file = build.manifest.nested_stacks[files["manifest.json"]["services"]["svc-001"]["group"]]
    checked = [
        folder / name for name in ("root.json", group_file, "addon-svc-001-role.json", "addon-svc-001-orders.json")
    ]
    assert {path.name: found for path, found in lint_files(checked).items() if found} == {}
    drawing = mermaid(inventory(Built(folder)))
    # THEN the diagram follows the wiring through the group to the service, both ways
    assert 'ADDON_AddonSvc001Orders -.->|"outputs: policy, variables"| SVC_svc_001' in drawing
    assert 'SVC_svc_001 -.->|"task role"| ADDON_AddonSvc001Role' in drawing


# ---- addon_templates is the loader's ---------------------------------------------------------------------


def test_addon_templates_written_in_a_params_file_is_a_spec_error(tmp_path):
    path = write_params(tmp_path)
    data = yaml.safe_load(path.read_text())
    data["addon_templates"] = {"addons/orders.yaml": {"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(SpecError) as error:
        load_spec(path)
    message = str(error.value)
    assert "dev.yaml: invalid spec" in message
    assert "addon_templates: filled from addons:, not written by hand" in message and "(line " in message


def test_addon_templates_written_in_a_defaults_layer_names_that_layer(tmp_path):
    path = write_params(tmp_path)
    (path.parent / "_defaults.yaml").write_text(yaml.safe_dump({"addon_templates": {}}), encoding="utf-8")
    with pytest.raises(SpecError, match=r"addon_templates: filled from addons:, not written by hand .*_defaults.yaml"):
        load_spec(path)


def test_the_json_schema_offers_addons_but_not_addon_templates(capsys):
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    environment = printed["$defs"]["EnvironmentSpec"]["properties"]
    assert "addons" in environment and "addon_templates" not in environment
    assert "addons" in printed["$defs"]["ServiceSpec"]["properties"]
    assert params_schema() == printed
