"""The pieces of the deploy path that need no endpoint: parameter overrides, image references, where clients
point, stack policies, the replacement gate and failure finding."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from stackloom.cli.main import UserError
from stackloom.deploy import stack_policy
from stackloom.deploy.aws import Aws
from stackloom.deploy.changeset import Change, Plan, value_lines
from stackloom.deploy.deploy import image_tag, parameter_overrides, protected_removals
from stackloom.deploy.events import Event, first_failure
from stackloom.manifest import ServiceEntry, from_dict

from ..helpers import load

ECR = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
BACKEND = ServiceEntry("ServiceBackend", "BackendImageTag", "BackendDesiredCount", "bet2wealth-backend-dev", None)


@pytest.fixture(scope="module")
def manifest(built):
    return from_dict(load(built / "bet2wealth" / "dev" / "manifest.json"))


def test_image_tag_accepts_a_plain_tag():
    assert image_tag("backend", BACKEND, "2f1c9e0") == "2f1c9e0"


def test_image_tag_takes_the_tag_of_a_uri_of_the_services_repository():
    value = f"{ECR}/bet2wealth-backend-dev:release-1.2"
    assert image_tag("backend", BACKEND, value) == "release-1.2"


@pytest.mark.parametrize(
    "value, message",
    [
        (f"{ECR}/other-repo:v1", "runs images of bet2wealth-backend-dev"),
        (f"{ECR}/bet2wealth-backend-dev", "no tag"),
        (f"{ECR}/bet2wealth-backend-dev@sha256:abc", "digests are not supported"),
    ],
)
def test_image_tag_rejects_what_the_template_cannot_deploy(value, message):
    with pytest.raises(UserError, match=message):
        image_tag("backend", BACKEND, value)


def test_image_of_an_external_repository_must_match_it():
    info = ServiceEntry("ServiceYagna", "YagnaImageTag", "YagnaDesiredCount", None, "public.ecr.aws/golem/yagna")
    assert image_tag("yagna", info, "public.ecr.aws/golem/yagna:v0.17") == "v0.17"
    with pytest.raises(UserError):
        image_tag("yagna", info, "docker.io/golem/yagna:v0.17")


def test_overrides_map_services_to_their_image_parameter(manifest):
    overrides = parameter_overrides(manifest, ["backend=abc"], ["BackendDesiredCount=4", "HostedZoneId=Z1"])
    assert overrides == {"BackendImageTag": "abc", "BackendDesiredCount": "4", "HostedZoneId": "Z1"}


@pytest.mark.parametrize(
    "images, params, message",
    [
        (["frontend=abc"], [], "has no service 'frontend'; services: backend"),
        (["backend"], [], "expected SERVICE=TAG"),
        ([], ["Nope=1"], "not a deploy-time parameter"),
        ([], ["BackendDesiredCount"], "expected KEY=VALUE"),
    ],
)
def test_overrides_reject_unknown_names_in_plain_words(manifest, images, params, message):
    with pytest.raises(UserError, match=message):
        parameter_overrides(manifest, images, params)


def test_clients_ignore_endpoints_configured_in_the_environment(monkeypatch):
    # GIVEN an endpoint configured in the environment (it would redirect every boto3 client)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://192.0.2.1:9999")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # THEN without --endpoint-url the target is AWS itself, and with one exactly that endpoint
    assert (
        Aws("eu-central-1").client("cloudformation").meta.endpoint_url
        == "https://cloudformation.eu-central-1.amazonaws.com"
    )
    local = Aws("eu-central-1", "http://127.0.0.1:5123").client("cloudformation")
    assert local.meta.endpoint_url == "http://127.0.0.1:5123"


def test_bad_endpoint_url_is_a_user_error_before_anything_happens(tmp_path, capsys):
    from stackloom.cli.main import main

    assert main(["deploy", "vanity-market/preprod", "--endpoint-url", "ftp://x", "--output", str(tmp_path)]) == 2
    assert "--endpoint-url 'ftp://x': expected http(s)://HOST[:PORT]" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_data_stack_policy_denies_replacing_or_deleting_cache_and_secret(built):
    folder = built / "bet2wealth" / "production"
    policies = stack_policy.environment_policies(stack_policy.folder_reader(folder), "root.json")
    deny = [s for s in policies[("Data",)]["Statement"] if s["Effect"] == "Deny"]
    assert deny == [
        {
            "Effect": "Deny",
            "Action": ["Update:Replace", "Update:Delete"],
            "Principal": "*",
            "Resource": ["LogicalResourceId/CacheAuthToken", "LogicalResourceId/CacheReplicationGroup"],
        }
    ]


def test_root_policy_protects_only_nested_stacks_that_hold_data(built):
    policies = stack_policy.environment_policies(
        stack_policy.folder_reader(built / "bet2wealth" / "production"), "root.json"
    )
    protected = next(s for s in policies[()]["Statement"] if s["Effect"] == "Deny")["Resource"]
    assert "LogicalResourceId/Data" in protected and "LogicalResourceId/ServiceBackend" in protected
    assert "LogicalResourceId/SecurityGroups" not in protected and "LogicalResourceId/Cluster" not in protected
    assert set(policies) == {
        (),
        *[(key,) for key in load(built / "bet2wealth" / "production" / "manifest.json")["nested_stacks"]],
    }


def test_every_policy_allows_ordinary_updates(built):
    for document in stack_policy.environment_policies(
        stack_policy.folder_reader(built / "vanity-market" / "preprod"), "root.json"
    ).values():
        assert document["Statement"][0] == {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}
        json.dumps(document)


def test_gate_stops_on_stateful_replacements_and_removals_only():
    # GIVEN a change set that replaces and removes stateful and stateless resources
    plan = Plan(
        "s",
        "id",
        "UPDATE",
        [
            Change("ServiceBackend/TaskDefinition", "Modify", "AWS::ECS::TaskDefinition", "True"),
            Change("Data/CacheReplicationGroup", "Modify", "AWS::ElastiCache::ReplicationGroup", "Conditional"),
            Change("Data/CacheAuthToken", "Modify", "AWS::SecretsManager::Secret", "False"),
            Change("ServiceBackend/LogGroup", "Remove", "AWS::Logs::LogGroup", None),
            Change("ServiceOld/TaskDefinition", "Remove", "AWS::ECS::TaskDefinition", None),
        ],
    )
    # THEN the gate stops on the replaced cache and the removed log group, not on the stateless changes
    assert [change.path for change in plan.dangerous] == ["Data/CacheReplicationGroup", "ServiceBackend/LogGroup"]
    assert plan.counts() == {"Add": 0, "Modify": 1, "Replace": 2, "Remove": 2}


def _event(path, status, reason="", resource_type="AWS::Logs::LogGroup", seconds=0, is_stack=False):
    return Event(
        stack_id="s",
        path=path,
        logical_id=path.split("/")[-1],
        resource_type=resource_type,
        status=status,
        reason=reason,
        physical_id="",
        is_stack=is_stack,
        timestamp=datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds),
    )


def test_first_failure_is_the_cause_not_the_nested_stack_or_cancelled_siblings():
    events = [
        _event("ServiceBackend/Service", "CREATE_FAILED", "Resource creation cancelled", "AWS::ECS::Service", 3),
        _event(
            "ServiceBackend",
            "CREATE_FAILED",
            "Embedded stack arn:... was not successfully created",
            "AWS::CloudFormation::Stack",
            4,
        ),
        _event("ServiceBackend/LogGroup", "CREATE_FAILED", "already exists", seconds=2),
        _event("Data/CacheReplicationGroup", "CREATE_FAILED", "quota", "AWS::ElastiCache::ReplicationGroup", 5),
    ]
    assert first_failure(events).path == "ServiceBackend/LogGroup"


def test_first_failure_falls_back_to_what_there_is():
    events = [
        _event("", "ROLLBACK_COMPLETE", is_stack=True),
        _event("Network", "CREATE_FAILED", "Embedded stack x", "AWS::CloudFormation::Stack"),
    ]
    assert first_failure(events).path == "Network"
    assert first_failure([_event("", "CREATE_COMPLETE", is_stack=True)]) is None


def test_removing_a_deletion_protected_cluster_is_found_through_nested_stacks():
    # GIVEN deployed templates where Data's cluster has deletion protection and Other's has none
    deployed = {
        "root.json": {
            "Resources": {
                "Data": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "data.json"}},
                "Other": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "other.json"}},
            }
        },
        "data.json": {"Resources": {"DatabaseCluster": {"Properties": {"DeletionProtection": True}}}},
        "other.json": {"Resources": {"DatabaseCluster": {"Properties": {"DeletionProtection": False}}}},
    }
    plan = Plan(
        "s",
        "id",
        "UPDATE",
        [
            Change("Data/DatabaseCluster", "Remove", "AWS::RDS::DBCluster", None),
            Change("Other/DatabaseCluster", "Remove", "AWS::RDS::DBCluster", None),
            Change("Data/DatabaseSubnetGroup", "Remove", "AWS::RDS::DBSubnetGroup", None),
        ],
    )
    # WHEN the plan is checked THEN only the protected cluster is named
    assert protected_removals(plan, deployed, "root.json") == ["Data/DatabaseCluster (AWS::RDS::DBCluster)"]
    # AND a modification of the protected cluster is not a removal
    modify = Plan("s", "id", "UPDATE", [Change("Data/DatabaseCluster", "Modify", "AWS::RDS::DBCluster", "False")])
    assert protected_removals(modify, deployed, "root.json") == []


def _deployed_cluster(deletion_protection) -> dict:
    """Deployed templates with one Aurora cluster in the Data stack, its DeletionProtection as given."""
    return {
        "root.json": {
            "Resources": {"Data": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "data.json"}}}
        },
        "data.json": {
            "Resources": {
                "DatabaseCluster": {
                    "Type": "AWS::RDS::DBCluster",
                    "Properties": {"DeletionProtection": deletion_protection},
                }
            }
        },
    }


_REMOVE_CLUSTER = Plan("s", "id", "UPDATE", [Change("Data/DatabaseCluster", "Remove", "AWS::RDS::DBCluster", None)])


@pytest.mark.parametrize("spelled", ["true", "True"])
def test_deletion_protection_spelled_as_a_string_still_stops_the_removal(spelled):
    # GIVEN a deployed template (written by another tool or by hand) whose cluster has "DeletionProtection": "<spelled>"
    deployed = _deployed_cluster(spelled)
    # WHEN a change set removing that cluster is checked
    # THEN the removal is named, as with the JSON boolean true
    assert protected_removals(_REMOVE_CLUSTER, deployed, "root.json") == ["Data/DatabaseCluster (AWS::RDS::DBCluster)"]


def test_deletion_protection_spelled_false_does_not_stop_the_removal():
    # GIVEN a deployed cluster with "DeletionProtection": "false" (a non-empty string, but off)
    deployed = _deployed_cluster("false")
    # WHEN a change set removing that cluster is checked THEN nothing stops it
    assert protected_removals(_REMOVE_CLUSTER, deployed, "root.json") == []


def test_an_unreachable_endpoint_says_what_is_retried_and_gives_up_in_seconds(tmp_path, monkeypatch, capsys):
    # GIVEN an endpoint on a port nothing listens on (dummy credentials; nothing leaves 127.0.0.1)
    import socket
    import time

    from stackloom.cli.main import main

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    started = time.monotonic()
    # WHEN a deploy runs against it
    code = main(
        [
            "deploy",
            "bet2wealth/dev",
            "--yes",
            "--endpoint-url",
            f"http://127.0.0.1:{port}",
            "--output",
            str(tmp_path / "out"),
        ]
    )
    # THEN each retry is announced, it gives up well inside a minute, with one error line and exit 1
    err = capsys.readouterr().err
    assert code == 1 and time.monotonic() - started < 40
    assert "retrying DescribeStacks (attempt 2 of 4)" in err and "Could not connect to the endpoint URL" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("value", ["-1", "0", "soon", "1e9"])
def test_a_bad_poll_interval_is_a_usage_error(value, capsys):
    from stackloom.cli.main import main

    with pytest.raises(SystemExit) as stopped:
        main(["deploy", "bet2wealth/dev", "--yes", "--poll", value])
    assert stopped.value.code == 2 and "--poll" in capsys.readouterr().err


def test_values_of_a_change_come_from_its_details_each_property_once():
    # GIVEN a change whose details carry IncludePropertyValues' Path / BeforeValue / AfterValue
    target = {"Attribute": "Properties", "Name": "CacheNodeType", "Path": "/Properties/CacheNodeType"}
    details = [
        {"Target": {**target, "BeforeValue": "cache.t4g.micro", "AfterValue": "cache.t4g.small"}},
        {"Target": {**target, "BeforeValue": "cache.t4g.micro", "AfterValue": "cache.t4g.small"}},
        {"Target": {"Attribute": "Properties", "Name": "Port"}},  # described without values
    ]
    change = Change("Data/Cache", "Modify", "AWS::ElastiCache::ReplicationGroup", "False", details)
    # THEN one (path, before, after) per property that has values
    assert change.values() == [("/Properties/CacheNodeType", "cache.t4g.micro", "cache.t4g.small")]


def test_structured_values_are_shown_per_changed_leaf():
    before = json.dumps([{"Image": {"Fn::Join": [":", ["repo", "latest"]]}, "Cpu": 256, "Name": "app"}])
    after = json.dumps([{"Image": {"Fn::Join": [":", ["repo", "v7"]]}, "Cpu": 512, "Name": "app"}])
    assert value_lines("ContainerDefinitions", before, after) == [
        "ContainerDefinitions[0].Cpu: 256 -> 512",
        "ContainerDefinitions[0].Image.Fn::Join[1][1]: latest -> v7",
    ]
    assert value_lines("CacheNodeType", "cache.t4g.micro", None) == ["CacheNodeType: cache.t4g.micro -> (none)"]
    assert value_lines("TaskDefinition", '{"Ref":"T"}', '{"Ref":"T"}') == [
        'TaskDefinition: {"Ref":"T"} (unchanged expression: its value changes on deploy)'
    ]
