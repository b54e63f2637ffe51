"""`build.py deploy` / `destroy` end to end against the local CloudFormation endpoint (127.0.0.1 only):
first deploy, update, no-op redeploy, failing deploys (rolled back), the stateful-replacement gate,
production protection, destroy, and the self-contained `--local` flow."""

from __future__ import annotations

import json
import re
from pathlib import Path

from stackloom.cli import deploy as deploy_module
from stackloom.cli.main import main

from .local_endpoint import aws, hosted_zone, local_endpoint, local_endpoint_server, params_copy, run  # noqa: F401

ACTIVE = [
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "ROLLBACK_COMPLETE",
    "REVIEW_IN_PROGRESS",
    "CREATE_IN_PROGRESS",
    "UPDATE_IN_PROGRESS",
    "DELETE_FAILED",
]


def stack(aws, name: str) -> dict:
    return aws("cloudformation").describe_stacks(StackName=name)["Stacks"][0]


def active_stacks(aws) -> dict[str, str]:
    summaries = aws("cloudformation").list_stacks(StackStatusFilter=ACTIVE)["StackSummaries"]
    return {summary["StackName"]: summary["StackStatus"] for summary in summaries}


def service_images(aws) -> list[str]:
    ecs = aws("ecs")
    images = []
    for cluster in ecs.list_clusters()["clusterArns"]:
        for service in ecs.list_services(cluster=cluster)["serviceArns"]:
            definition = ecs.describe_services(cluster=cluster, services=[service])["services"][0]["taskDefinition"]
            task = ecs.describe_task_definition(taskDefinition=definition)["taskDefinition"]
            images += [container["image"] for container in task["containerDefinitions"]]
    return images


def test_first_deploy_creates_bootstrap_then_environment_and_prints_outputs(run, aws, hosted_zone):
    # GIVEN an empty account that has the bet2wealth.co hosted zone
    # WHEN bet2wealth/dev is deployed
    code, out = run("deploy", "bet2wealth/dev", "--yes")
    # THEN the bootstrap stack came first, then the environment with every nested stack, outputs printed
    assert code == 0, out
    assert out.index("bet2wealth-dev-bootstrap: CREATE_COMPLETE") < out.index("bet2wealth-dev: CREATE_COMPLETE")
    stacks = active_stacks(aws)
    assert stacks.pop("bet2wealth-dev") == "CREATE_COMPLETE"
    assert stacks.pop("bet2wealth-dev-bootstrap") == "CREATE_COMPLETE"
    assert len(stacks) == 6 and set(stacks.values()) == {"CREATE_COMPLETE"}, stacks
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stack(aws, "bet2wealth-dev")["Outputs"]}
    assert outputs["BaseUrl"] == "https://api.dev.bet2wealth.co"
    assert re.search(r"LoadBalancerDnsName\s+\S+\.elb\.amazonaws\.com", out)
    assert "ServiceBackendUrl" in out and outputs["VpcId"].startswith("vpc-")
    # AND the hosted zone was looked up by name, not given
    assert f"HostedZoneId: {hosted_zone} (bet2wealth.co)" in out
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack(aws, "bet2wealth-dev")["Parameters"]}
    assert parameters["HostedZoneId"] == hosted_zone


def test_bootstrap_only_makes_a_safe_artifacts_bucket_and_the_repositories(run, aws):
    # WHEN only the bootstrap stack is deployed (before any image exists)
    code, out = run("deploy", "vanity-market/preprod", "--yes", "--bootstrap-only")
    assert code == 0, out
    assert list(active_stacks(aws)) == ["vanity-market-preprod-bootstrap"]
    # THEN the artifacts bucket is versioned, encrypted, closed to the public, TLS-only, with old versions expiring
    s3 = aws("s3")
    bucket = next(
        o["OutputValue"]
        for o in stack(aws, "vanity-market-preprod-bootstrap")["Outputs"]
        if o["OutputKey"] == "ArtifactsBucketName"
    )
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert set(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values()) == {True}
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert any("NoncurrentVersionExpiration" in rule for rule in lifecycle)
    # AND the ECR repositories exist, so images can be pushed before the services are deployed
    repositories = {r["repositoryName"] for r in aws("ecr").describe_repositories()["repositories"]}
    assert repositories == {"backend", "yagna"}
    assert re.search(r"BackendRepositoryUri\s+\S+\.dkr\.ecr\.eu-central-1\.amazonaws\.com/backend", out)
    # AND the deployed template makes the bucket TLS-only (the local endpoint stores, not enforces, bucket
    # policies) and retains it when the stack is deleted
    body = aws("cloudformation").get_template(StackName="vanity-market-preprod-bootstrap")["TemplateBody"]
    body = json.loads(body) if isinstance(body, str) else body
    statements = body["Resources"]["ArtifactsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s) for s in statements)
    assert body["Resources"]["ArtifactsBucket"]["DeletionPolicy"] == "RetainExceptOnCreate"


def test_first_deploy_prints_the_change_set_and_progress(run, hosted_zone):
    # WHEN a new environment is deployed
    code, out = run("deploy", "bet2wealth/dev", "--yes")
    # THEN it listed what it adds, then streamed events with a running count up to every resource
    assert code == 0, out
    assert "bet2wealth-dev (new stack): 6 to add, 0 to modify, 0 to replace, 0 to remove" in out
    assert re.search(r"\+ ServiceBackend\s+AWS::CloudFormation::Stack\s+\(\d+ resources\)", out)
    counts = re.findall(r"\[\s*(\d+)/(\d+)\s*\] CREATE_COMPLETE\s+ServiceBackend/Service$", out, re.MULTILINE)
    assert counts and int(counts[0][0]) <= int(counts[0][1])
    assert re.search(r"\[\s*(\d+)/\1\s*\] CREATE_COMPLETE\s+bet2wealth-dev$", out, re.MULTILINE)


PROGRESS = re.compile(r"^\s*\d+s \[\s*(\d+)/(\d+)\s*\] (\S+)(?: \(\S+\))?\s+(\S+)", re.MULTILINE)


def test_progress_shows_each_state_once_aligned_and_counts_resources_on_create_update_and_destroy(
    run, aws, hosted_zone, params_copy
):
    # GIVEN a first deploy, an update (a service's CPU) and a destroy of bet2wealth/dev
    code, created = run("deploy", "bet2wealth/dev", "--yes")
    assert code == 0, created
    path = params_copy / "bet2wealth" / "dev.yaml"
    path.write_text(path.read_text().replace("cpu: 512", "cpu: 1024").replace("memory: 1024", "memory: 2048"))
    code, updated = run("deploy", "bet2wealth/dev", "--yes", params=params_copy)
    assert code == 0, updated
    code, destroyed = run("destroy", "bet2wealth/dev", "--yes")
    assert code == 0, destroyed
    for out in (created, updated, destroyed):
        lines = [line for line in out.splitlines() if PROGRESS.match(line)]
        rows = [PROGRESS.match(line).groups() for line in lines]
        # THEN no resource, nested stack or the root shows the same state twice (no second CREATE_IN_PROGRESS
        # "Resource creation Initiated"), and the path column starts at the same place on every line
        states = [(row[3], row[2]) for row in rows]
        assert len(states) == len(set(states)), [s for s in states if states.count(s) > 1]
        assert not any("Resource creation Initiated" in line for line in lines)
        assert len({PROGRESS.match(line).start(4) for line in lines}) == 1
        # AND the count is of resources: never more done than there are, and all of them done at the end
        assert all(int(done) <= int(total) for done, total, _, _ in rows)
        assert rows[-1][0] == rows[-1][1] and rows[-1][3] == "bet2wealth-dev", rows[-1]
    # the update counts the resources of its change set (the nested stacks and what changes in them)
    update_total = int(PROGRESS.findall(updated)[-1][1])
    create_total = int(PROGRESS.findall(created)[-1][1])
    assert 0 < update_total < create_total
    # the destroy counts every resource of the stack tree, the nested stacks' own included: as many as created
    assert int(PROGRESS.findall(destroyed)[-1][1]) == create_total


def test_templates_are_uploaded_under_content_addressed_keys(run, aws, hosted_zone):
    # GIVEN a deployed environment
    run("deploy", "bet2wealth/dev", "--yes")
    bucket = next(
        o["OutputValue"]
        for o in stack(aws, "bet2wealth-dev-bootstrap")["Outputs"]
        if o["OutputKey"] == "ArtifactsBucketName"
    )
    keys = [item["Key"] for item in aws("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    # THEN every template (root + 6 nested) sits under <stack>/<sha256>.template
    assert len(keys) == 7 and all(re.fullmatch(r"bet2wealth-dev/[0-9a-f]{64}\.template", key) for key in keys)
    # WHEN it is deployed again unchanged
    code, out = run("deploy", "bet2wealth/dev", "--yes")
    # THEN nothing new is uploaded
    assert code == 0 and "(0 new, 7 unchanged)" in out
    assert len(aws("s3").list_objects_v2(Bucket=bucket)["Contents"]) == 7


def test_redeploy_without_changes_is_no_changes_and_exit_0(run, aws, hosted_zone):
    # GIVEN a deployed environment
    run("deploy", "bet2wealth/dev", "--yes")
    before = stack(aws, "bet2wealth-dev")
    # WHEN the same environment is deployed again
    code, out = run("deploy", "bet2wealth/dev", "--yes")
    # THEN both stacks report "no changes", exit 0, no change set is left behind and the stack is untouched
    assert code == 0, out
    assert "bet2wealth-dev-bootstrap: no changes" in out and "bet2wealth-dev: no changes" in out
    assert aws("cloudformation").list_change_sets(StackName="bet2wealth-dev")["Summaries"] == []
    assert stack(aws, "bet2wealth-dev")["StackStatus"] == before["StackStatus"] == "CREATE_COMPLETE"


def test_new_image_updates_only_the_service_and_keeps_other_parameters(run, aws, hosted_zone):
    # GIVEN bet2wealth/dev deployed with 3 tasks
    run("deploy", "bet2wealth/dev", "--yes", "--param", "BackendDesiredCount=3")
    # WHEN CI deploys a new image by URI (seed 002's flow)
    account = aws("sts").get_caller_identity()["Account"]
    uri = f"{account}.dkr.ecr.eu-central-1.amazonaws.com/bet2wealth-backend-dev:2f1c9e0"
    code, out = run("deploy", "bet2wealth/dev", "--yes", "--image", f"backend={uri}")
    # THEN the change set showed the service stack modified and its task definition replaced
    assert code == 0, out
    assert "bet2wealth-dev (update): 0 to add, 1 to modify, 1 to replace, 0 to remove" in out
    assert re.search(r"~ ServiceBackend\s+AWS::CloudFormation::Stack\s+\(nested stack", out)
    assert re.search(r"± TaskDefinition\s+AWS::ECS::TaskDefinition\s+\[ContainerDefinitions\*\]", out)
    # AND the stack is updated, the service runs the new image, and the desired count kept its value
    assert stack(aws, "bet2wealth-dev")["StackStatus"] == "UPDATE_COMPLETE"
    assert service_images(aws) == [uri]
    assert "BackendDesiredCount = 3 (current value)" in out
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack(aws, "bet2wealth-dev")["Parameters"]}
    assert parameters["BackendImageTag"] == "2f1c9e0" and str(parameters["BackendDesiredCount"]) == "3"


def test_rejected_parameter_fails_before_anything_changes(run, aws, hosted_zone):
    # GIVEN a deployed environment
    run("deploy", "bet2wealth/dev", "--yes")
    # WHEN a deploy passes a value the template rejects (MaxValue 1000)
    code, out = run("deploy", "bet2wealth/dev", "--yes", "--param", "BackendDesiredCount=5000")
    # THEN CloudFormation's reason is printed, exit 1, and the stack is as it was
    assert code == 1
    assert "Parameter 'BackendDesiredCount' must be a number not greater than 1000" in out
    assert "Traceback" not in out
    assert stack(aws, "bet2wealth-dev")["StackStatus"] == "CREATE_COMPLETE"


def test_failed_first_deploy_names_the_failing_resource_and_is_rolled_back(run, aws, hosted_zone):
    # GIVEN a log group the service stack wants to create already exists (made outside CloudFormation)
    aws("logs").create_log_group(logGroupName="/ecs/backend-logs-dev")
    # WHEN bet2wealth/dev is deployed
    code, out = run("deploy", "bet2wealth/dev", "--yes")
    # THEN the first failing resource and its reason are reported, exit 1
    assert code == 1
    assert re.search(r"deploy failed at ServiceBackend/LogGroup \(AWS::Logs::LogGroup\): .*already exists", out), out
    # AND it names the resource and says how to get past it: delete it by name, or import it
    assert "/ecs/backend-logs-dev (AWS::Logs::LogGroup) already exists outside this stack" in out
    assert (
        "aws logs delete-log-group --log-group-name /ecs/backend-logs-dev" in out and "--change-set-type IMPORT" in out
    )
    # AND the stack is rolled back: nothing of this deploy remains but the empty ROLLBACK_COMPLETE stack; named
    # resources are RetainExceptOnCreate, so a failed first create keeps nothing (the flow log group is gone)
    assert "bet2wealth-dev is ROLLBACK_COMPLETE: rolled back" in out
    assert "kept by DeletionPolicy" not in out, out
    assert [g["logGroupName"] for g in aws("logs").describe_log_groups()["logGroups"]] == ["/ecs/backend-logs-dev"]
    stacks = active_stacks(aws)
    assert stacks == {"bet2wealth-dev": "ROLLBACK_COMPLETE", "bet2wealth-dev-bootstrap": "CREATE_COMPLETE"}


def test_deploy_after_a_failed_first_deploy_starts_over(run, aws, hosted_zone):
    # GIVEN a first deploy that failed and rolled back
    aws("logs").create_log_group(logGroupName="/ecs/backend-logs-dev")
    assert run("deploy", "bet2wealth/dev", "--yes")[0] == 1
    # WHEN only the cause is removed (the rollback left no named resource behind to collide) and it is deployed again
    aws("logs").delete_log_group(logGroupName="/ecs/backend-logs-dev")
    code, out = run("deploy", "bet2wealth/dev", "--yes")
    # THEN the rolled-back stack is deleted and created anew
    assert code == 0, out
    assert "bet2wealth-dev is ROLLBACK_COMPLETE (nothing deployed in it): deleting it to start over" in out
    assert stack(aws, "bet2wealth-dev")["StackStatus"] == "CREATE_COMPLETE"


def _rename_log_group(params: Path, new_name: str) -> None:
    spec = params / "bet2wealth" / "dev.yaml"  # over the shared layer's /ecs/backend-logs-${environment}
    text = spec.read_text()
    assert "    log_retention_days: 14\n" in text
    spec.write_text(
        text.replace("    log_retention_days: 14\n", f"    log_retention_days: 14\n    log_group: {new_name}\n")
    )


def test_replacing_a_stateful_resource_is_refused_without_allow_replace(run, aws, hosted_zone, params_copy):
    # GIVEN a deployed environment
    run("deploy", "bet2wealth/dev", "--yes", params=params_copy)
    # WHEN the spec renames the service's log group (a new log group replaces the old one and its logs)
    _rename_log_group(params_copy, "/ecs/backend-dev")
    code, out = run("deploy", "bet2wealth/dev", "--yes", params=params_copy)
    # THEN the replacement is highlighted, the deploy refused (exit 1), its change set deleted, nothing changed
    assert code == 1
    assert re.search(r"± LogGroup\s+AWS::Logs::LogGroup.*REPLACES A STATEFUL RESOURCE", out), out
    assert "refusing to replace or remove stateful resources: ServiceBackend/LogGroup (AWS::Logs::LogGroup)" in out
    # AND the deployed templates were compared with the build as `build.py diff` does (the same finding)
    assert re.search(
        r"as `build.py diff` reports\): ServiceBackend/LogGroup \(AWS::Logs::LogGroup, replace\)", out
    ), out
    assert aws("cloudformation").list_change_sets(StackName="bet2wealth-dev")["Summaries"] == []
    assert stack(aws, "bet2wealth-dev")["StackStatus"] == "CREATE_COMPLETE"
    groups = [g["logGroupName"] for g in aws("logs").describe_log_groups(logGroupNamePrefix="/ecs/")["logGroups"]]
    assert groups == ["/ecs/backend-logs-dev"]


def test_allowed_replacement_that_fails_rolls_the_update_back(run, aws, hosted_zone, params_copy):
    # GIVEN a deployed environment, and a log group that already has the name the spec will switch to
    run("deploy", "bet2wealth/dev", "--yes", params=params_copy)
    images_before = service_images(aws)
    aws("logs").create_log_group(logGroupName="/ecs/backend-dev")
    # WHEN the renamed log group (with a new image) is deployed with --allow-replace
    _rename_log_group(params_copy, "/ecs/backend-dev")
    code, out = run("deploy", "bet2wealth/dev", "--yes", "--allow-replace", "--image", "backend=v2", params=params_copy)
    # THEN the failing resource is named, and the stack is back where it was (old image, old parameters)
    assert code == 1
    assert re.search(r"deploy failed at ServiceBackend/LogGroup \(AWS::Logs::LogGroup\): .*already exists", out), out
    assert stack(aws, "bet2wealth-dev")["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert service_images(aws) == images_before
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack(aws, "bet2wealth-dev")["Parameters"]}
    assert parameters["BackendImageTag"] == "latest"


def test_declining_the_prompt_deletes_the_change_set(run, aws, hosted_zone, monkeypatch):
    # GIVEN an operator who answers "no"
    questions = []
    monkeypatch.setattr(deploy_module, "interactive", lambda: True)
    monkeypatch.setattr(deploy_module, "confirm", lambda question: questions.append(question) or False)
    # WHEN a new environment is deployed without --yes
    code, out = run("deploy", "vanity-market/preprod")
    # THEN it asked once, exit 1, and no stack exists (not even the empty one a change set makes)
    assert code == 1 and len(questions) == 1 and "cancelled" in out
    assert active_stacks(aws) == {}


def test_production_deploy_turns_on_termination_protection_and_stack_policies(run, aws, hosted_zone):
    # WHEN the production environment is deployed
    code, out = run("deploy", "bet2wealth/production", "--yes")
    assert code == 0, out
    cloudformation = aws("cloudformation")
    # THEN the root and bootstrap stacks are protected from deletion
    assert stack(aws, "bet2wealth-production")["EnableTerminationProtection"] is True
    assert stack(aws, "bet2wealth-production-bootstrap")["EnableTerminationProtection"] is True
    # AND the stack policies deny replacing or deleting stateful resources, at every level
    root_policy = json.loads(cloudformation.get_stack_policy(StackName="bet2wealth-production")["StackPolicyBody"])
    deny = next(s for s in root_policy["Statement"] if s["Effect"] == "Deny")
    assert deny["Action"] == ["Update:Replace", "Update:Delete"]
    assert {"LogicalResourceId/Data", "LogicalResourceId/ServiceBackend"} <= set(deny["Resource"])
    data = next(
        s["PhysicalResourceId"]
        for s in cloudformation.list_stack_resources(StackName="bet2wealth-production")["StackResourceSummaries"]
        if s["LogicalResourceId"] == "Data"
    )
    data_policy = json.loads(cloudformation.get_stack_policy(StackName=data)["StackPolicyBody"])
    assert (
        "LogicalResourceId/CacheReplicationGroup"
        in next(s for s in data_policy["Statement"] if s["Effect"] == "Deny")["Resource"]
    )
    bootstrap_policy = json.loads(
        cloudformation.get_stack_policy(StackName="bet2wealth-production-bootstrap")["StackPolicyBody"]
    )
    assert "LogicalResourceId/ArtifactsBucket" in bootstrap_policy["Statement"][1]["Resource"]


def test_destroy_refuses_production_without_force(run):
    # WHEN production is destroyed without --force
    code, out = run("destroy", "bet2wealth/production", "--yes")
    # THEN it is refused before anything is contacted, as a user error
    assert code == 2
    assert "bet2wealth/production is a production environment: refusing to destroy it without --force" in out


def test_destroy_with_force_removes_a_protected_production_stack(run, aws, hosted_zone):
    # GIVEN a deployed production environment (termination protection on)
    assert run("deploy", "bet2wealth/production", "--yes")[0] == 0
    # WHEN it is destroyed with --force
    code, out = run("destroy", "bet2wealth/production", "--yes", "--force")
    # THEN protection is turned off and the stack deleted; the bootstrap stack stays
    assert code == 0, out
    assert "termination protection turned off (--force)" in out
    assert active_stacks(aws) == {"bet2wealth-production-bootstrap": "CREATE_COMPLETE"}


def test_destroy_deletes_the_environment_and_keeps_retained_resources(run, aws, hosted_zone):
    # GIVEN a deployed environment
    run("deploy", "bet2wealth/dev", "--yes")
    # WHEN it is destroyed together with its bootstrap stack
    code, out = run("destroy", "bet2wealth/dev", "--yes", "--include-bootstrap")
    # THEN no stack is left, and what DeletionPolicy keeps (the artifacts bucket) still exists
    assert code == 0, out
    assert active_stacks(aws) == {}
    assert "bet2wealth-dev: DELETE_COMPLETE" in out and "bet2wealth-dev-bootstrap: DELETE_COMPLETE" in out
    assert re.search(r"kept by their DeletionPolicy: .*ArtifactsBucket \(retained\)", out)
    buckets = [b["Name"] for b in aws("s3").list_buckets()["Buckets"]]
    assert any(name.startswith("bet2wealth-dev-bootstrap-artifactsbucket") for name in buckets)


def test_destroy_of_an_absent_environment_is_a_no_op(run):
    code, out = run("destroy", "vanity-market/preprod", "--yes")
    assert code == 0 and "nothing to destroy" in out


def test_local_flow_needs_no_account(local_endpoint, tmp_path, capsys):
    # GIVEN no endpoint and no AWS account, only --local
    # WHEN vanity-market/preprod is deployed with --local
    code = main(["deploy", "vanity-market/preprod", "--local", "--yes", "--output", str(tmp_path / "output")])
    out = capsys.readouterr().out
    # THEN an embedded endpoint on 127.0.0.1 took the whole flow and the outputs were printed
    assert code == 0, out
    assert re.search(r"-> local endpoint http://127\.0\.0\.1:\d+ \(embedded", out)
    assert "vanity-market-preprod: CREATE_COMPLETE" in out
    assert re.search(r"BaseUrl\s+http://\S+\.elb\.amazonaws\.com", out)
    assert "docker push" in out


def test_database_switch_adds_and_removes_the_database(run, aws, params_copy):
    # GIVEN vanity-market/preprod deployed with its database off (the seed's count = 0)
    assert run("deploy", "vanity-market/preprod", "--yes")[0] == 0
    assert {o["OutputKey"]: o["OutputValue"] for o in stack(aws, "vanity-market-preprod")["Outputs"]}[
        "DatabaseEndpoint"
    ] == ""
    assert execution_role_policies(aws, "vanity-market-preprod", "ServiceBackend") == ["start-task"]
    # WHEN the database is switched on
    code, out = run("deploy", "vanity-market/preprod", "--yes", "--param", "EnableDatabase=true")
    # THEN the data stack adds the cluster, and its endpoint flows to the root outputs
    assert code == 0, out
    assert re.search(r"\+ DatabaseCluster\s+AWS::RDS::DBCluster", out)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack(aws, "vanity-market-preprod")["Outputs"]}
    assert outputs["DatabaseEndpoint"]
    # AND the backend's execution role may now read the database secret (a policy that exists only while it is on)
    assert "read-secrets-if-DatabaseEnabled" in execution_role_policies(aws, "vanity-market-preprod", "ServiceBackend")
    # WHEN it is switched off again while the cluster has deletion protection (the default)
    code, out = run("deploy", "vanity-market/preprod", "--yes", "--allow-replace", "--param", "EnableDatabase=false")
    # THEN the deploy stops before AWS would fail the delete, naming the way out, and nothing changed
    assert code == 1, out
    assert "cannot remove Data/DatabaseCluster (AWS::RDS::DBCluster): deletion protection is on" in out
    assert aws("cloudformation").list_change_sets(StackName="vanity-market-preprod")["Summaries"] == []
    assert {o["OutputKey"]: o["OutputValue"] for o in stack(aws, "vanity-market-preprod")["Outputs"]}[
        "DatabaseEndpoint"
    ]
    # WHEN deletion protection is turned off in the spec and deployed
    path = params_copy / "vanity-market" / "preprod.yaml"
    path.write_text(
        path.read_text().replace("  database_name: vanity", "  database_name: vanity\n  deletion_protection: false")
    )
    code, out = run("deploy", "vanity-market/preprod", "--yes", params=params_copy)
    assert code == 0, out
    # (its Metadata changes too: the documented opt-in accepts the guard finding it now causes, with its reason)
    assert re.search(r"~ DatabaseCluster\s+AWS::RDS::DBCluster\s+\[DeletionProtection, Metadata\]", out), out
    # AND the switch is turned off without --allow-replace
    code, out = run("deploy", "vanity-market/preprod", "--yes", "--param", "EnableDatabase=false", params=params_copy)
    # THEN the removal of the stateful cluster is called out and refused: nothing changed
    assert code == 1, out
    assert re.search(r"- DatabaseCluster\s+AWS::RDS::DBCluster\s+<-- REMOVES A STATEFUL RESOURCE", out)
    assert "refusing to replace or remove stateful resources: Data/DatabaseCluster (AWS::RDS::DBCluster)" in out
    assert {o["OutputKey"]: o["OutputValue"] for o in stack(aws, "vanity-market-preprod")["Outputs"]}[
        "DatabaseEndpoint"
    ]
    # WHEN it is turned off with --allow-replace
    code, out = run(
        "deploy",
        "vanity-market/preprod",
        "--yes",
        "--allow-replace",
        "--param",
        "EnableDatabase=false",
        params=params_copy,
    )
    # THEN the cluster goes (its DeletionPolicy takes a snapshot) and the role loses the secret's policy
    assert code == 0, out
    assert stack(aws, "vanity-market-preprod")["StackStatus"] == "UPDATE_COMPLETE"
    assert {o["OutputKey"]: o["OutputValue"] for o in stack(aws, "vanity-market-preprod")["Outputs"]}[
        "DatabaseEndpoint"
    ] == ""
    assert execution_role_policies(aws, "vanity-market-preprod", "ServiceBackend") == ["start-task"]


def execution_role_policies(aws, root: str, service_stack: str) -> list[str]:
    nested = aws("cloudformation").describe_stack_resource(StackName=root, LogicalResourceId=service_stack)
    role = aws("cloudformation").describe_stack_resource(
        StackName=nested["StackResourceDetail"]["PhysicalResourceId"], LogicalResourceId="ExecutionRole"
    )
    return aws("iam").list_role_policies(RoleName=role["StackResourceDetail"]["PhysicalResourceId"])["PolicyNames"]


def test_credentials_of_another_account_are_refused_before_anything_changes(run, aws, params_copy):
    # GIVEN a spec that names an account the endpoint's credentials are not for
    path = params_copy / "bet2wealth" / "dev.yaml"
    path.write_text(path.read_text().replace("production: false", 'production: false\naccount_id: "999999999999"'))
    actual = aws("sts").get_caller_identity()["Account"]
    # WHEN it is deployed, or destroyed
    for command in ("deploy", "destroy"):
        code, out = run(command, "bet2wealth/dev", "--yes", params=params_copy)
        # THEN the command stops with both accounts named, and nothing was created
        assert code == 2, out
        assert (
            f"belongs to AWS account 999999999999 (account_id in its spec), but these credentials are for account {actual}"
            in out
        )
    assert active_stacks(aws) == {}


def test_a_region_other_than_the_specs_is_refused(run, aws):
    # WHEN a deploy names another region than the one the templates are built for
    code, out = run("deploy", "bet2wealth/dev", "--yes", "--region", "us-east-1")
    # THEN it stops before contacting anything, naming both regions
    assert code == 2, out
    assert "--region us-east-1: bet2wealth/dev is built for eu-central-1" in out
    assert active_stacks(aws) == {}


def test_the_spec_account_is_checked_and_accepted(run, aws):
    # GIVEN vanity-market's spec names account 402998801060 and the endpoint answers as that account
    assert aws("sts").get_caller_identity()["Account"] == "402998801060"
    # WHEN it is deployed THEN the check passes and the stacks are in that account
    code, out = run("deploy", "vanity-market/preprod", "--yes", "--bootstrap-only")
    assert code == 0, out
    assert (
        ":402998801060:stack/vanity-market-preprod-bootstrap/"
        in stack(aws, "vanity-market-preprod-bootstrap")["StackId"]
    )


def test_without_a_terminal_deploy_needs_yes_before_anything_happens(run, aws):
    # WHEN deploy runs without --yes and without a terminal to ask on (as under pytest, or in CI)
    code, out = run("deploy", "vanity-market/preprod")
    # THEN it stops at once as a user error, and nothing was created
    assert code == 2 and "pass --yes" in out
    assert active_stacks(aws) == {}


def test_ctrl_c_at_the_prompt_deletes_the_change_set_and_says_nothing_changed(run, aws, hosted_zone, monkeypatch):
    # GIVEN an operator who presses Ctrl-C when asked to execute
    def interrupt(question):
        raise KeyboardInterrupt

    monkeypatch.setattr(deploy_module, "interactive", lambda: True)
    monkeypatch.setattr(deploy_module, "confirm", interrupt)
    # WHEN a new environment is deployed without --yes
    code, out = run("deploy", "vanity-market/preprod")
    # THEN exit 130, the change set it made is gone (and the empty stack with it), and it says so
    assert code == 130
    assert "the change set for vanity-market-preprod-bootstrap was deleted before it ran; nothing changed" in out
    assert active_stacks(aws) == {}


def test_ctrl_c_while_a_change_set_runs_says_which_stack_is_in_which_state(run, aws, hosted_zone, monkeypatch):
    # GIVEN Ctrl-C pressed while the first change set executes (the wait for the stack is interrupted)
    from stackloom.deploy import changeset

    def interrupted_wait(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(changeset.stack_events, "wait", interrupted_wait)
    # WHEN the environment is deployed
    code, out = run("deploy", "vanity-market/preprod", "--yes")
    # THEN exit 130, and the message names the stack, its state, that CloudFormation carries on and how to follow it
    assert code == 130
    status = stack(aws, "vanity-market-preprod-bootstrap")["StackStatus"]
    assert f"interrupted: vanity-market-preprod-bootstrap is {status} and CloudFormation carries on" in out
    assert "aws cloudformation describe-stack-events --stack-name vanity-market-preprod-bootstrap" in out
    assert "a first create cannot be cancelled" in out and "Traceback" not in out


def test_an_endpoint_url_with_an_impossible_port_is_a_one_line_error(run):
    code, out = run("deploy", "bet2wealth/dev", "--yes", "--endpoint-url", "http://localhost:99999")
    assert code == 2 and "with a port from 1 to 65535" in out and "Traceback" not in out


def test_cancel_on_interrupt_asks_cloudformation_to_cancel_the_update(run, aws, hosted_zone, monkeypatch):
    # GIVEN a deployed environment, and Ctrl-C while the next update's change set runs, with --cancel-on-interrupt
    assert run("deploy", "bet2wealth/dev", "--yes")[0] == 0
    from stackloom.deploy import changeset

    calls = []
    real = changeset.stack_events.wait

    def interrupted_wait(cloudformation, waiter, stack, *args, **kwargs):
        calls.append(stack)
        if stack == "bet2wealth-dev":
            raise KeyboardInterrupt
        return real(cloudformation, waiter, stack, *args, **kwargs)

    monkeypatch.setattr(changeset.stack_events, "wait", interrupted_wait)
    code, out = run("deploy", "bet2wealth/dev", "--yes", "--cancel-on-interrupt", "--image", "backend=v2")
    # THEN the update's state is reported and CloudFormation was asked to cancel; this endpoint applies updates
    # before it answers, so it refuses as AWS refuses a settled stack, and that answer is shown
    assert code == 130
    assert "interrupted: bet2wealth-dev is UPDATE_COMPLETE and CloudFormation carries on" in out
    assert "could not cancel the update of bet2wealth-dev: CancelUpdateStack cannot be called from current stack "
    "status UPDATE_COMPLETE" in out


def test_a_lost_connection_reports_the_last_known_state_of_each_stack(run, aws, hosted_zone, monkeypatch):
    # GIVEN the endpoint stops answering after the bootstrap stack was deployed, when the root's change set is made
    from botocore.exceptions import EndpointConnectionError

    from stackloom.deploy import changeset

    real = changeset.create

    def connection_lost(cloudformation, request, *args, **kwargs):
        if request.name == "vanity-market-preprod":
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1/")
        return real(cloudformation, request, *args, **kwargs)

    monkeypatch.setattr(changeset, "create", connection_lost)
    monkeypatch.setattr(changeset, "LAST_SEEN", {})
    code, out = run("deploy", "vanity-market/preprod", "--yes")
    # THEN one error line, and what was last seen of each stack
    assert code == 1 and "Could not connect to the endpoint URL" in out
    assert re.search(
        r"last known state: vanity-market-preprod not created \(at [0-9:]+ UTC\), "
        r"vanity-market-preprod-bootstrap CREATE_COMPLETE",
        out,
    ), out
