"""`build.py diff`: per resource add / modify / replace / remove from createOnly properties, replacements
followed through Ref / GetAtt / Sub and across nested stacks; exit 0 no changes, 1 error, 2 changes, 3 stateful resources at risk."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from stackloom import diff
from stackloom.cfn import model
from stackloom.cli.main import main
from stackloom.deploy.stack_policy import STATEFUL_TYPES

from ..helpers import PARAMS

REGION = "eu-central-1"


def template(**resources) -> dict:
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def resource(type_: str, **properties) -> dict:
    return {"Type": type_, "Properties": properties}


def actions(changes) -> dict[str, str]:
    return {change.path: diff.label(change) for change in changes}


def by_id(changes, logical_id: str, template_name: str | None = None):
    found = [c for c in changes if c.logical_id == logical_id and template_name in (None, c.template)]
    assert len(found) == 1, f"{logical_id}: {found}"
    return found[0]


# ---- one template ---------------------------------------------------------------------------------

LOGS = "AWS::Logs::LogGroup"


def test_identical_templates_have_no_changes():
    # GIVEN the same template on both sides WHEN compared THEN nothing changes
    old = {"t.json": template(Logs=resource(LOGS, LogGroupName="/a", RetentionInDays=7))}
    assert diff.compare(old, copy.deepcopy(old), REGION) == []
    assert diff.render([]) == "no changes"


def test_added_and_removed_resources():
    # GIVEN a resource only in the old and one only in the new template
    old = {"t.json": template(Gone=resource("AWS::SNS::Topic"))}
    new = {"t.json": template(Fresh=resource("AWS::SNS::Topic"))}
    # WHEN compared THEN one is removed and one added
    assert actions(diff.compare(old, new, REGION)) == {"Gone": "remove", "Fresh": "add"}


def test_changing_an_updatable_property_modifies():
    # GIVEN a log group whose retention (not createOnly) changes
    old = {"t.json": template(Logs=resource(LOGS, LogGroupName="/a", RetentionInDays=7))}
    new = {"t.json": template(Logs=resource(LOGS, LogGroupName="/a", RetentionInDays=30))}
    change = by_id(diff.compare(old, new, REGION), "Logs")
    # THEN it is modified in place, which is no risk
    assert (change.action, change.details) == ("modify", ("RetentionInDays",))
    assert diff.stateful_risks([change]) == []


def test_changing_a_create_only_property_replaces():
    # GIVEN a log group whose name (createOnly) changes
    old = {"t.json": template(Logs=resource(LOGS, LogGroupName="/a"))}
    new = {"t.json": template(Logs=resource(LOGS, LogGroupName="/b"))}
    change = by_id(diff.compare(old, new, REGION), "Logs")
    # THEN it is replaced, and being stateful that is a risk
    assert change.action == "replace" and change.details == ("LogGroupName changed",)
    assert diff.stateful_risks([change]) == [change]


def test_adding_a_create_only_property_replaces():
    # GIVEN a bucket that gets an explicit name it did not have
    old = {"t.json": template(Bucket=resource("AWS::S3::Bucket"))}
    new = {"t.json": template(Bucket=resource("AWS::S3::Bucket", BucketName="x"))}
    # THEN it is replaced
    assert by_id(diff.compare(old, new, REGION), "Bucket").action == "replace"


def test_changing_the_type_replaces():
    # GIVEN the same logical ID with another type
    old = {"t.json": template(Thing=resource("AWS::SNS::Topic"))}
    new = {"t.json": template(Thing=resource("AWS::SQS::Queue"))}
    change = by_id(diff.compare(old, new, REGION), "Thing")
    assert (change.action, change.old_type, change.resource_type) == ("replace", "AWS::SNS::Topic", "AWS::SQS::Queue")


def test_a_type_change_away_from_a_stateful_type_is_a_risk():
    old = {"t.json": template(Thing=resource("AWS::S3::Bucket"))}
    new = {"t.json": template(Thing=resource("AWS::SNS::Topic"))}
    assert diff.stateful_risks(diff.compare(old, new, REGION))


def test_nested_create_only_path_replaces_only_for_that_sub_property():
    # GIVEN an ECS capacity provider: AutoScalingGroupProvider/AutoScalingGroupArn is createOnly, ManagedScaling is not
    def provider(arn: str, target: int) -> dict:
        return {
            "t.json": template(
                Provider=resource(
                    "AWS::ECS::CapacityProvider",
                    AutoScalingGroupProvider={
                        "AutoScalingGroupArn": arn,
                        "ManagedScaling": {"Status": "ENABLED", "TargetCapacity": target},
                    },
                )
            )
        }

    # WHEN only the scaling target changes THEN it is modified; WHEN the ASG changes THEN it is replaced
    assert by_id(diff.compare(provider("a", 100), provider("a", 90), REGION), "Provider").action == "modify"
    replaced = by_id(diff.compare(provider("a", 100), provider("b", 100), REGION), "Provider")
    assert replaced.action == "replace" and replaced.details == (
        "AutoScalingGroupProvider/AutoScalingGroupArn changed",
    )


def test_list_wildcard_create_only_path():
    # GIVEN a type whose createOnly path goes through a list (`.../BgpConfigurations/*/PeerAsn`)
    def peer(asn: int, address: str = "10.0.0.1") -> dict:
        return {
            "t.json": template(
                Peer=resource(
                    "AWS::EC2::TransitGatewayConnectPeer",
                    TransitGatewayAttachmentId="a",
                    ConnectPeerConfiguration={
                        "PeerAddress": address,
                        "InsideCidrBlocks": ["169.254.0.0/29"],
                        "BgpConfigurations": [{"PeerAsn": asn}],
                    },
                )
            )
        }

    assert (
        "ConnectPeerConfiguration/BgpConfigurations/*/PeerAsn changed"
        in by_id(diff.compare(peer(65000), peer(65001), REGION), "Peer").details
    )


def test_projection_follows_paths_and_stops_at_intrinsics():
    value = {"A": {"B": 1, "C": 2}, "L": [{"X": 1}, {"X": 2}], "F": {"Fn::If": ["c", {"B": 1}, {"B": 2}]}}
    assert model.project(value, ("A", "B")) == 1
    assert model.project(value, ("L", "*", "X")) == [1, 2]
    assert model.project(value, ("F", "B")) == value["F"]  # the whole If: either branch may apply
    assert model.project(value, ("A", "Missing")) == model.MISSING


def test_conditional_create_only_property_may_replace():
    # GIVEN a DB cluster whose MasterUsername (conditionalCreateOnly) changes
    def cluster(user: str) -> dict:
        return {"t.json": template(Db=resource("AWS::RDS::DBCluster", Engine="aurora-postgresql", MasterUsername=user))}

    change = by_id(diff.compare(cluster("a"), cluster("b"), REGION), "Db")
    # THEN it is a possible replacement, shown as `replace?` and counted as a risk
    assert change.action == "replace" and change.conditional and diff.label(change) == "replace?"
    assert diff.stateful_risks([change]) == [change]


def test_a_region_cfn_lint_does_not_know_falls_back_to_us_east_1():
    old = {"t.json": template(Logs=resource(LOGS, LogGroupName="/a"))}
    new = {"t.json": template(Logs=resource(LOGS, LogGroupName="/b"))}
    assert by_id(diff.compare(old, new, "xx-nowhere-1"), "Logs").action == "replace"


def test_unknown_types_are_modified_not_replaced():
    old = {"t.json": template(Custom=resource("Custom::Thing", ServiceToken="arn", Value=1))}
    new = {"t.json": template(Custom=resource("Custom::Thing", ServiceToken="arn", Value=2))}
    assert by_id(diff.compare(old, new, REGION), "Custom").action == "modify"


def test_resource_attributes_count_as_modifications():
    old = {"t.json": template(Logs={**resource(LOGS, LogGroupName="/a"), "DeletionPolicy": "Retain"})}
    new = {"t.json": template(Logs={**resource(LOGS, LogGroupName="/a"), "DeletionPolicy": "Delete"})}
    assert by_id(diff.compare(old, new, REGION), "Logs").details == ("DeletionPolicy",)


# ---- cascades inside a template -------------------------------------------------------------------


def database(subnet_group_name: str, reference: dict | None = None) -> dict:
    return {
        "t.json": template(
            SubnetGroup=resource(
                "AWS::RDS::DBSubnetGroup",
                DBSubnetGroupName=subnet_group_name,
                DBSubnetGroupDescription="d",
                SubnetIds=["s-1"],
            ),
            Cluster=resource(
                "AWS::RDS::DBCluster", Engine="aurora-postgresql", DBSubnetGroupName=reference or {"Ref": "SubnetGroup"}
            ),
            Alarm=resource(
                "AWS::CloudWatch::Alarm", Dimensions=[{"Name": "DBClusterIdentifier", "Value": {"Ref": "Cluster"}}]
            ),
        )
    }


def test_replaced_subnet_group_replaces_the_cluster_through_ref():
    # GIVEN a renamed DB subnet group (createOnly name) referenced by the cluster's createOnly DBSubnetGroupName
    changes = diff.compare(database("a"), database("b"), REGION)
    cluster = by_id(changes, "Cluster")
    # THEN the subnet group is replaced, the cluster too (a risk), and the alarm that refers to it is modified
    assert by_id(changes, "SubnetGroup").action == "replace"
    assert cluster.action == "replace" and cluster.details == ("DBSubnetGroupName uses SubnetGroup (replaced)",)
    assert by_id(changes, "Alarm").details == ("Dimensions uses Cluster (replaced)",)
    assert diff.stateful_risks(changes) == [cluster]


@pytest.mark.parametrize(
    "reference",
    [
        {"Fn::GetAtt": ["SubnetGroup", "Name"]},
        {"Fn::GetAtt": "SubnetGroup.Name"},
        {"Fn::Sub": "${SubnetGroup}"},
        {"Fn::Sub": ["${Name}", {"Name": {"Ref": "SubnetGroup"}}]},
        {"Fn::If": ["Cond", {"Ref": "SubnetGroup"}, {"Ref": "AWS::NoValue"}]},
        {"Fn::Join": ["", [{"Fn::GetAtt": ["SubnetGroup", "Name"]}]]},
    ],
)
def test_cascade_follows_getatt_sub_and_nested_functions(reference):
    changes = diff.compare(database("a", reference), database("b", reference), REGION)
    assert by_id(changes, "Cluster").action == "replace"


@pytest.mark.parametrize("text", ["${!SubnetGroup}", "${AWS::Region}-x"])
def test_sub_literals_and_pseudo_parameters_are_not_references(text):
    assert diff.references({"Fn::Sub": text}) == set()


def test_a_reference_in_an_updatable_property_modifies():
    # GIVEN a replaced topic referenced from a queue's (updatable) policy
    def queue(topic_name: str) -> dict:
        return {
            "t.json": template(
                Topic=resource("AWS::SNS::Topic", TopicName=topic_name),
                Queue=resource("AWS::SQS::Queue", Tags=[{"Key": "t", "Value": {"Ref": "Topic"}}]),
            )
        }

    changes = diff.compare(queue("a"), queue("b"), REGION)
    assert actions(changes) == {"Topic": "replace", "Queue": "modify"}


# ---- across nested stacks -------------------------------------------------------------------------


def nested(key_type: str = "AWS::KMS::Key", retention: int = 7) -> dict[str, dict]:
    """root -> Keys (key.json, outputs KeyArn) -> Data (data.json, parameter KeyArn into a createOnly KmsKeyId)."""
    stack = "AWS::CloudFormation::Stack"
    return {
        "root.json": template(
            Keys=resource(stack, TemplateURL="keys.json"),
            Data=resource(
                stack,
                TemplateURL="data.json",
                Parameters={"KeyArn": {"Fn::GetAtt": ["Keys", "Outputs.KeyArn"]}, "Retention": "7"},
            ),
        ),
        "keys.json": {
            **template(Key=resource(key_type), Other=resource(LOGS, RetentionInDays=retention)),
            "Outputs": {"KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}, "OtherName": {"Value": {"Ref": "Other"}}},
        },
        "data.json": {
            **template(
                Db=resource(
                    "AWS::RDS::DBCluster", Engine="aurora-postgresql", StorageEncrypted=True, KmsKeyId={"Ref": "KeyArn"}
                ),
                Logs=resource(LOGS, RetentionInDays={"Ref": "Retention"}),
            ),
            "Parameters": {"KeyArn": {"Type": "String"}, "Retention": {"Type": "Number"}},
        },
    }


def test_a_replacement_crosses_nested_stacks_through_outputs_and_parameters():
    # GIVEN a key in one nested stack replaced (its type changes); its ARN reaches another stack's cluster KmsKeyId
    changes = diff.compare(nested(), nested(key_type="AWS::KMS::ReplicaKey"), REGION)
    # THEN the cluster in the other stack is replaced, with the stack path shown; both nested stacks are modified
    cluster = by_id(changes, "Db")
    assert cluster.action == "replace" and cluster.path == "Data/Db"
    assert cluster.details == ("KmsKeyId uses KeyArn (changed)",)
    assert by_id(changes, "Data").details == (
        "Parameters uses Keys.Outputs.KeyArn (changed)",
        "nested template data.json changes",
    )
    assert actions(changes) == {"Keys": "modify", "Data": "modify", "Keys/Key": "replace", "Data/Db": "replace"}
    assert [c.path for c in diff.stateful_risks(changes)] == ["Data/Db", "Keys/Key"]  # a KMS key is stateful too


def test_an_unrelated_change_in_a_child_does_not_cascade():
    # GIVEN only an updatable property changes in the key stack
    changes = diff.compare(nested(), nested(retention=14), REGION)
    # THEN that resource is modified, its stack too, and nothing in the data stack changes
    assert actions(changes) == {"Keys": "modify", "Keys/Other": "modify"}


def test_a_changed_top_level_parameter_default_reaches_create_only_properties():
    # GIVEN a root parameter (image tag) whose default changes, passed to a task definition in a child
    def env(tag: str) -> dict[str, dict]:
        return {
            "root.json": {
                **template(
                    Svc=resource(
                        "AWS::CloudFormation::Stack", TemplateURL="svc.json", Parameters={"Tag": {"Ref": "ImageTag"}}
                    )
                ),
                "Parameters": {"ImageTag": {"Type": "String", "Default": tag}},
            },
            "svc.json": {
                **template(
                    Task=resource(
                        "AWS::ECS::TaskDefinition",
                        ContainerDefinitions=[{"Name": "a", "Image": {"Fn::Sub": "repo:${Tag}"}}],
                    ),
                    Service=resource("AWS::ECS::Service", TaskDefinition={"Ref": "Task"}),
                ),
                "Parameters": {"Tag": {"Type": "String"}},
            },
        }

    changes = diff.compare(env("v1"), env("v2"), REGION)
    # THEN the task definition is replaced (new revision) and the service only modified: no risk
    assert actions(changes) == {"Svc": "modify", "Svc/Task": "replace", "Svc/Service": "modify"}
    assert diff.stateful_risks(changes) == []


def test_a_removed_nested_template_removes_its_resources():
    old = nested()
    new = copy.deepcopy(old)
    del new["data.json"]
    del new["root.json"]["Resources"]["Data"]
    changes = diff.compare(old, new, REGION)
    assert actions(changes) == {"Data": "remove", "Data/Db": "remove", "Data/Logs": "remove"}
    assert {c.logical_id for c in diff.stateful_risks(changes)} == {"Db", "Logs"}


def test_render_lists_every_change_and_the_risks():
    text = diff.render(diff.compare(database("a"), database("b"), REGION))
    lines = text.splitlines()
    assert lines[0].split() == ["action", "template", "logical", "id", "type", "details"]
    assert any(line.startswith("replace") and "Cluster" in line and "STATEFUL" in line for line in lines)
    assert "0 to add, 1 to modify, 2 to replace, 0 to remove" in text
    assert "1 stateful resource(s) would be replaced or removed:" in text


def test_the_stateful_list_covers_the_data_stores():
    # the one list the deploy gate, the stack policy and diff share
    assert {
        "AWS::RDS::DBCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::S3::Bucket",
        "AWS::ECR::Repository",
        "AWS::Logs::LogGroup",
        "AWS::SecretsManager::Secret",
    } <= set(STATEFUL_TYPES)


# ---- the command ----------------------------------------------------------------------------------


@pytest.fixture
def params(tmp_path) -> Path:
    copy_ = tmp_path / "params"
    shutil.copytree(PARAMS, copy_)
    return copy_


@pytest.fixture
def baseline(built) -> Path:
    return built


def edit(params: Path, target: str, old: str, new: str) -> None:
    path = params / f"{target}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["diff", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_command_reports_no_changes_against_the_same_build(capsys, params, baseline):
    code, out, _ = run(capsys, "vanity-market/preprod", "--baseline", str(baseline), "--params", str(params))
    assert code == 0 and "no changes" in out


def test_command_accepts_the_environment_folder_as_baseline(capsys, params, baseline):
    code, out, _ = run(
        capsys, "bet2wealth/dev", "--baseline", str(baseline / "bet2wealth" / "dev"), "--params", str(params)
    )
    assert code == 0 and "no changes" in out


def test_command_exits_2_for_a_safe_change(capsys, params, baseline):
    # GIVEN a new default image tag WHEN diffed THEN the task definition is replaced, the service modified: exit 2
    # (changes, none of them to a stateful resource)
    edit(params, "bet2wealth/_defaults", "tag: latest", "tag: v2")  # the shared layer under dev
    code, out, _ = run(capsys, "bet2wealth/dev", "--baseline", str(baseline), "--params", str(params))
    assert code == 2
    rows = {tuple(line.split()[:3]) for line in out.splitlines()}
    assert ("replace", "service-backend.json", "TaskDefinition") in rows
    assert ("modify", "service-backend.json", "Service") in rows
    assert "stateful" not in out


def test_command_exits_3_when_the_database_would_be_replaced(capsys, params, baseline):
    # GIVEN a new initial database name (createOnly on the Aurora cluster)
    edit(params, "vanity-market/preprod", "database_name: vanity", "database_name: vanity2")
    code, out, _ = run(capsys, "vanity-market/preprod", "--baseline", str(baseline), "--params", str(params))
    # THEN the cluster (and its instance, by reference) is replaced and the command exits 3
    assert code == 3
    assert "replace data.json DatabaseCluster (AWS::RDS::DBCluster, UpdateReplacePolicy Snapshot)" in out
    rows = {tuple(line.split()[:3]) for line in out.splitlines()}
    assert ("replace", "data.json", "DatabaseInstance1") in rows


def test_command_exits_3_when_the_cache_would_be_removed(capsys, params, baseline):
    # GIVEN dev removing the shared layer's cache (an explicit null) and its service's connection to it
    edit(params, "bet2wealth/dev", "cache:\n  node_type: cache.t4g.micro\n", "cache: null\n")
    edit(params, "bet2wealth/dev", "    log_retention_days: 14\n", "    log_retention_days: 14\n    connects_to: []\n")
    code, out, _ = run(capsys, "bet2wealth/dev", "--baseline", str(baseline), "--params", str(params))
    assert code == 3
    assert "remove data.json CacheReplicationGroup" in out


def test_command_without_a_baseline_build_is_a_clear_error(capsys, params, tmp_path):
    code, out, err = run(capsys, "bet2wealth/dev", "--baseline", str(tmp_path / "nothing"), "--params", str(params))
    assert code == 1 and "no earlier build of bet2wealth/dev" in err and "Traceback" not in err


def test_command_usage_errors_exit_1_not_2_which_means_changes(capsys, params, baseline):
    # GIVEN diff without its required --baseline, or with two environments
    with pytest.raises(SystemExit) as raised:
        main(["diff", "bet2wealth/dev", "--params", str(params)])
    # THEN argparse's usage error is exit 1 (2 would read as "changes")
    assert raised.value.code == 1 and "--baseline" in capsys.readouterr().err
    code, _, err = run(capsys, "bet2wealth", "--baseline", str(baseline), "--params", str(params))
    assert code == 1 and "one environment as SYSTEM/ENV" in err


def test_command_help_states_the_exit_code_convention(capsys):
    with pytest.raises(SystemExit):
        main(["diff", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "0 no changes, 1 error" in text and "2 changes, 3 changes that replace or remove a stateful" in text


def test_command_refuses_another_environments_folder(capsys, params, baseline):
    code, _, err = run(
        capsys, "bet2wealth/dev", "--baseline", str(baseline / "bet2wealth" / "production"), "--params", str(params)
    )
    assert code == 1 and "baseline is bet2wealth/production, not bet2wealth/dev" in err


def test_command_needs_one_environment(capsys, params, baseline):
    code, _, err = run(capsys, "bet2wealth", "--baseline", str(baseline), "--params", str(params))
    assert code == 1 and "SYSTEM/ENV" in err


# ---- what is deployed -----------------------------------------------------------------------------


class FakeCloudFormation:
    """get_template / describe_stack_resources over a dict of stacks (name or ARN -> (template, nested))."""

    def __init__(self, stacks: dict[str, tuple[dict, dict[str, str]]]):
        self.stacks = stacks

    def get_template(self, StackName):
        if StackName not in self.stacks:
            from botocore.exceptions import ClientError

            raise ClientError(
                {"Error": {"Code": "ValidationError", "Message": f"Stack with id {StackName} does not exist"}},
                "GetTemplate",
            )
        return {"TemplateBody": self.stacks[StackName][0]}

    def describe_stack_resources(self, StackName):
        template, nested = self.stacks[StackName]
        template = json.loads(template) if isinstance(template, str) else template
        return {
            "StackResources": [
                {
                    "LogicalResourceId": logical_id,
                    "ResourceType": resource["Type"],
                    "PhysicalResourceId": nested.get(logical_id, f"physical-{logical_id}"),
                }
                for logical_id, resource in template["Resources"].items()
            ]
        }


def test_deployed_templates_pair_nested_stacks_by_logical_id():
    # GIVEN a deployed root whose nested stacks point at S3 (as after `package`) and a new build with file names
    local = nested()
    deployed = copy.deepcopy(local)
    for resource in deployed["root.json"]["Resources"].values():
        resource["Properties"]["TemplateURL"] = "https://s3.amazonaws.com/bucket/abc123.template"
    client = FakeCloudFormation(
        {
            "acme-dev": (deployed["root.json"], {"Keys": "arn:keys", "Data": "arn:data"}),
            "arn:keys": (json.dumps(deployed["keys.json"]), {}),  # a body may come back as text
            "arn:data": (deployed["data.json"], {}),
        }
    )
    # WHEN the deployed templates are read and compared with the local build
    old = diff.deployed_templates(client, "acme-dev", local)
    # THEN they are keyed by the new file names, URLs rewritten, and nothing differs
    assert sorted(old) == ["data.json", "keys.json", "root.json"]
    assert diff.compare(old, local, REGION) == []
    assert diff.deployed_templates(client, "other", local) == {}


def test_a_garbled_baseline_does_not_crash_the_comparison():
    # GIVEN a hand-edited baseline: a resource without Type, Properties as a list, Outputs/Parameters not mappings
    old = {
        "root.json": {
            "Resources": {"A": {"Properties": ["x"]}, "B": "not a resource"},
            "Outputs": [],
            "Parameters": "x",
        }
    }
    new = {"root.json": template(A=resource("AWS::SNS::Topic"), B=resource("AWS::SNS::Topic"))}
    # WHEN compared THEN the differences are listed, nothing raises
    assert actions(diff.compare(old, new, REGION)) == {"A": "replace", "B": "add"}


def test_command_reports_an_unreadable_baseline_file(capsys, params, tmp_path):
    env = tmp_path / "base" / "bet2wealth" / "dev"
    env.mkdir(parents=True)
    (env / "root.json").write_text("{ not json", encoding="utf-8")
    code, _, err = run(capsys, "bet2wealth/dev", "--baseline", str(tmp_path / "base"), "--params", str(params))
    assert code == 1 and "root.json: cannot read the baseline template" in err


@pytest.mark.parametrize(
    "argv, code",
    [
        (["plan"], 1),  # no SYSTEM/ENV
        (["plan", "bet2wealth/dev", "--poll", "x"], 1),
        (["deploy", "bet2wealth/dev", "--plan", "--poll", "x"], 1),  # deploy --plan compares: exit 1
        (["deploy", "bet2wealth/dev", "--poll", "x"], 2),  # a plain deploy keeps its usage exit 2
    ],
)
def test_every_comparing_command_exits_1_on_a_usage_error(capsys, argv, code):
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == code and "error:" in capsys.readouterr().err


def test_plan_help_states_the_exit_code_convention(capsys):
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "0 no changes, 1 error" in text and "3 changes that replace or remove a stateful resource" in text
    assert "plan-<system>-<env>.json" in text


def test_the_exit_code_convention():
    assert diff.exit_code(changed=False, risky=False) == 0
    assert diff.exit_code(changed=True, risky=False) == 2
    assert diff.exit_code(changed=True, risky=True) == 3
    assert diff.EXIT_ERROR == 1
