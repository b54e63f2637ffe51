"""`build.py plan` / `deploy --plan` / `deploy --plan-file` against the local CloudFormation endpoint (127.0.0.1
only), and the endpoint's DescribeChangeSet with IncludePropertyValues that the plan prints from."""

from __future__ import annotations

import json
import re
from pathlib import Path

from stackloom.cli.main import main

from .local_endpoint import aws, hosted_zone, local_endpoint, local_endpoint_server, params_copy, run  # noqa: F401

CACHE = "AWS::ElastiCache::ReplicationGroup"

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


# ---------------------------------------------------------------------------------------------- plan


def stack(aws, name: str) -> dict | None:
    found = aws("cloudformation").list_stacks()["StackSummaries"]
    return next(
        (item for item in found if item["StackName"] == name and item["StackStatus"] != "DELETE_COMPLETE"), None
    )


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_plan_of_an_empty_account_adds_everything_then_the_plan_file_deploys_it(run, aws, hosted_zone, tmp_path):
    # GIVEN an account where nothing of bet2wealth/dev is deployed
    plan_file = tmp_path / "plan.json"
    # WHEN it is planned
    code, out = run("plan", "bet2wealth/dev", "--out", str(plan_file))
    # THEN every resource is to be added, the cost goes from nothing to the estimate, and the exit code is 2
    assert code == 2, out
    assert "bet2wealth-dev-bootstrap (new stack)" in out and "bet2wealth-dev (new stack)" in out
    assert "+ Data/CacheReplicationGroup" in out
    assert re.search(r"cost change: \$0\.00 -> \$[\d,]+\.\d\d per month \(\+\$", out), out
    document = read(plan_file)
    assert (document["exit_code"], document["verdict"], document["target"]) == (2, "changes", "bet2wealth/dev")
    bootstrap, environment = document["stacks"]
    assert bootstrap["change_set_type"] == "CREATE" and bootstrap["change_set_id"]
    assert environment["deferred"] and environment["stack"] is None
    assert {"path": "Data/CacheReplicationGroup", "action": "Add", "type": CACHE, "stateful": True} in (
        environment["changes"]
    )
    # AND nothing was deployed: the bootstrap stack only holds its unexecuted change set
    assert stack(aws, "bet2wealth-dev-bootstrap")["StackStatus"] == "REVIEW_IN_PROGRESS"
    assert stack(aws, "bet2wealth-dev") is None
    # WHEN the plan file is deployed (no --yes needed: the plan is the approval)
    code, out = run("deploy", "bet2wealth/dev", "--plan-file", str(plan_file))
    # THEN the bootstrap stack and then the environment are created
    assert code == 0, out
    assert stack(aws, "bet2wealth-dev-bootstrap")["StackStatus"] == "CREATE_COMPLETE"
    assert stack(aws, "bet2wealth-dev")["StackStatus"] == "CREATE_COMPLETE"
    assert "BaseUrl" in out


def test_plan_without_changes_exits_0_and_its_plan_executes_nothing(run, aws, hosted_zone, tmp_path):
    # GIVEN bet2wealth/dev deployed as built
    assert run("deploy", "bet2wealth/dev", "--yes")[0] == 0
    updated = aws("cloudformation").describe_stacks(StackName="bet2wealth-dev")["Stacks"][0].get("LastUpdatedTime")
    plan_file = tmp_path / "plan.json"
    # WHEN it is planned, through `deploy --plan` as well
    code, out = run("plan", "bet2wealth/dev", "--out", str(plan_file))
    assert run("deploy", "bet2wealth/dev", "--plan", "--out", str(tmp_path / "again.json"))[0] == 0
    # THEN no changes, exit 0, no change set left behind, and the cost is unchanged
    assert code == 0, out
    assert "bet2wealth-dev: no changes" in out and "plan: no changes (exit 0)" in out
    assert re.search(r"cost change: (\$[\d,.]+) -> \1 per month \(\+\$0\.00\)", out), out
    document = read(plan_file)
    assert document["exit_code"] == 0 and all(entry["change_set_id"] is None for entry in document["stacks"])
    assert aws("cloudformation").list_change_sets(StackName="bet2wealth-dev")["Summaries"] == []
    # AND deploying that plan executes nothing and says so
    code, out = run("deploy", "bet2wealth/dev", "--plan-file", str(plan_file))
    assert code == 0 and "the plan has no changes: nothing to execute" in out, out
    assert (
        aws("cloudformation").describe_stacks(StackName="bet2wealth-dev")["Stacks"][0].get("LastUpdatedTime") == updated
    )


def test_a_redis_node_type_change_is_shown_before_and_after_and_exits_2(run, aws, hosted_zone, params_copy, tmp_path):
    # GIVEN bet2wealth/dev deployed, then its cache node type changed (an in-place modification)
    assert run("deploy", "bet2wealth/dev", "--yes", params=params_copy)[0] == 0
    _edit(params_copy / "bet2wealth" / "dev.yaml", "node_type: cache.t4g.micro", "node_type: cache.t4g.small")
    plan_file = tmp_path / "plan.json"
    # WHEN it is planned
    code, out = run("plan", "bet2wealth/dev", "--out", str(plan_file), params=params_copy)
    # THEN the replication group is modified in place, with the value before and after: exit 2
    assert code == 2, out
    assert re.search(r"~ CacheReplicationGroup .*\n +CacheNodeType: cache\.t4g\.micro -> cache\.t4g\.small\n", out), out
    assert "cost change: $" in out
    (environment,) = [entry for entry in read(plan_file)["stacks"] if entry["role"] == "environment"]
    assert {"path": "Data/CacheReplicationGroup", "action": "Modify", "type": CACHE, "stateful": True} in (
        environment["changes"]
    )
    # AND the plan file executes exactly that change set
    code, out = run("deploy", "bet2wealth/dev", "--plan-file", str(plan_file), params=params_copy)
    assert code == 0, out
    assert _deployed_cache(aws)["CacheNodeType"] == "cache.t4g.small"


def test_removing_redis_is_a_stateful_change_exit_3_and_needs_allow_replace(
    run, aws, hosted_zone, params_copy, tmp_path
):
    # GIVEN bet2wealth/dev deployed, then its cache removed (and the service's connection to it)
    assert run("deploy", "bet2wealth/dev", "--yes", params=params_copy)[0] == 0
    _edit(params_copy / "bet2wealth" / "dev.yaml", "cache:\n  node_type: cache.t4g.micro\n", "cache: null\n")
    _edit(
        params_copy / "bet2wealth" / "dev.yaml",
        "    log_retention_days: 14\n",
        "    log_retention_days: 14\n    connects_to: []\n",
    )
    plan_file = tmp_path / "plan.json"
    # WHEN it is planned
    code, out = run("plan", "bet2wealth/dev", "--out", str(plan_file), params=params_copy)
    # THEN the verdict is a stateful removal: exit 3, named in the plan file
    assert code == 3, out
    assert "stateful resource replaced or removed: Data/CacheReplicationGroup" in out
    document = read(plan_file)
    assert document["verdict"] == "stateful" and document["exit_code"] == 3
    assert any(
        "Data/CacheReplicationGroup" in item
        for entry in document["stacks"]
        for item in entry["stateful_replace_or_remove"]
    )
    # AND executing it without --allow-replace is refused, the change set kept for an approved retry
    code, out = run("deploy", "bet2wealth/dev", "--plan-file", str(plan_file), params=params_copy)
    assert code == 1 and "rerun with --allow-replace" in out, out
    assert _deployed_cache(aws)


def test_a_stale_plan_file_is_refused_and_nothing_is_executed(run, aws, hosted_zone, params_copy, tmp_path):
    # GIVEN bet2wealth/dev deployed and a plan of a new image tag
    assert run("deploy", "bet2wealth/dev", "--yes", params=params_copy)[0] == 0
    plan_file = tmp_path / "plan.json"
    assert run("plan", "bet2wealth/dev", "--image", "backend=v2", "--out", str(plan_file), params=params_copy)[0] == 2
    # WHEN the stack is updated by another deploy before the plan is applied
    assert run("deploy", "bet2wealth/dev", "--yes", "--param", "BackendDesiredCount=3", params=params_copy)[0] == 0
    code, out = run("deploy", "bet2wealth/dev", "--plan-file", str(plan_file), params=params_copy)
    # THEN the plan is refused, saying what changed, and the image tag is not deployed
    assert code == 1, out
    assert "refusing to execute the plan, nothing was executed" in out
    assert "bet2wealth-dev changed since the plan" in out
    parameters = aws("cloudformation").describe_stacks(StackName="bet2wealth-dev")["Stacks"][0]["Parameters"]
    assert {item["ParameterKey"]: item["ParameterValue"] for item in parameters}["BackendImageTag"] != "v2"


def test_a_plan_whose_templates_changed_since_is_refused(run, aws, hosted_zone, params_copy, tmp_path):
    # GIVEN a plan of bet2wealth/dev, then a spec edit that changes the templates
    assert run("deploy", "bet2wealth/dev", "--yes", params=params_copy)[0] == 0
    plan_file = tmp_path / "plan.json"
    assert run("plan", "bet2wealth/dev", "--image", "backend=v2", "--out", str(plan_file), params=params_copy)[0] == 2
    _edit(params_copy / "bet2wealth" / "dev.yaml", "node_type: cache.t4g.micro", "node_type: cache.t4g.small")
    # WHEN the plan is applied
    code, out = run("deploy", "bet2wealth/dev", "--plan-file", str(plan_file), params=params_copy)
    # THEN it is refused: what would be executed is not what the plan shows
    assert code == 1 and "templates built and packaged now differ from the planned ones" in out, out


def test_plan_errors_exit_1(run, tmp_path):
    # GIVEN a bad parameter WHEN planned THEN exit 1 (a comparing command's error), no traceback
    code, out = run("plan", "bet2wealth/dev", "--param", "Nope=1")
    assert code == 1 and "--param Nope: not a deploy-time parameter" in out and "Traceback" not in out
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    code, out = run("deploy", "bet2wealth/dev", "--plan-file", str(tmp_path / "bad.json"))
    assert code == 2 and "bad.json: not a plan file" in out  # deploy's bad input, as README says


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def _deployed_cache(aws) -> dict:
    """The replication group's properties in the deployed Data stack's template ({} when it has none)."""
    cloudformation = aws("cloudformation")
    data = cloudformation.describe_stack_resource(StackName="bet2wealth-dev", LogicalResourceId="Data")
    template = cloudformation.get_template(StackName=data["StackResourceDetail"]["PhysicalResourceId"])["TemplateBody"]
    template = json.loads(template) if isinstance(template, str) else template
    return template["Resources"].get("CacheReplicationGroup", {}).get("Properties", {})


def test_plan_after_bootstrap_only_creates_the_environment_change_set_and_deploys_it(run, aws, hosted_zone, tmp_path):
    # GIVEN only the bootstrap stack (artifacts bucket, repositories) deployed
    assert run("deploy", "bet2wealth/dev", "--yes", "--bootstrap-only")[0] == 0
    plan_file = tmp_path / "plan.json"
    # WHEN planned
    code, out = run("plan", "bet2wealth/dev", "--out", str(plan_file))
    # THEN the environment's own CREATE change set is made now (nothing deferred), waiting unexecuted
    assert code == 2, out
    bootstrap, environment = read(plan_file)["stacks"]
    assert bootstrap["change_set_id"] is None and bootstrap["stack"]["status"] == "CREATE_COMPLETE"
    assert environment["change_set_type"] == "CREATE" and not environment["deferred"]
    assert environment["stack"]["status"] == "REVIEW_IN_PROGRESS"
    # AND deploying the plan creates the environment from exactly that change set
    code, out = run("deploy", "bet2wealth/dev", "--plan-file", str(plan_file))
    assert code == 0, out
    assert stack(aws, "bet2wealth-dev")["StackStatus"] == "CREATE_COMPLETE"
    # AND the same plan file again is stale: its change set was executed
    code, out = run("deploy", "bet2wealth/dev", "--plan-file", str(plan_file))
    assert code == 1 and "bet2wealth-dev changed since the plan" in out, out


def test_plan_on_an_embedded_local_endpoint(local_endpoint, tmp_path, capsys):
    # GIVEN no endpoint but the one --local starts WHEN vanity-market/preprod is planned on it
    plan_file = tmp_path / "plan.json"
    argv = ["plan", "vanity-market/preprod", "--local", "--poll", "0.05", "--out", str(plan_file)]
    code = main(argv + ["--output", str(tmp_path / "output")])
    out = capsys.readouterr().out
    # THEN everything is added (exit 2), and the plan file says where it was made
    assert code == 2, out
    assert read(plan_file)["endpoint"] == "local" and "for reading, not deploying" in out


def test_a_production_plan_file_deploy_protects_every_stack(run, aws, hosted_zone, tmp_path):
    # GIVEN an empty account and a plan of bet2wealth/production (a plan itself changes nothing)
    plan_file = tmp_path / "plan.json"
    assert run("plan", "bet2wealth/production", "--out", str(plan_file))[0] == 2
    # WHEN the plan file is deployed
    code, out = run("deploy", "bet2wealth/production", "--plan-file", str(plan_file))
    # THEN as a production deploy: termination protection and a stack policy on the root and the bootstrap stack
    assert code == 0, out
    cloudformation = aws("cloudformation")
    for name in ("bet2wealth-production", "bet2wealth-production-bootstrap"):
        described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        assert described["EnableTerminationProtection"] is True
        policy = json.loads(cloudformation.get_stack_policy(StackName=name)["StackPolicyBody"])
        assert any(item["Effect"] == "Deny" for item in policy["Statement"])
