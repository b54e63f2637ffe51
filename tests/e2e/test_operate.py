"""`build.py status`, `logs`, `drift` and the report of a failed rollout, end to end against the local endpoint
(127.0.0.1 only). acme/dev (a service `api` behind the load balancer and a job `migrate`) is deployed, then read
back: log events are written with boto3 and read with `logs`, a log group's retention is changed out of band and
found by `drift`, and a rollout whose tasks exit 1 trips the circuit breaker (the endpoint's stand-in,
stackloom/local/rollouts.py) so that `deploy` says why before the rollback summary."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
import yaml

from stackloom.cli.main import main
from stackloom.deploy.aws import Aws
from stackloom.deploy.changeset import Console
from stackloom.manifest import load
from stackloom.operate import failure
from stackloom.operate import logs as logs_engine

from ..helpers import base_spec
from .local_endpoint import REGION, aws, local_endpoint, local_endpoint_server  # noqa: F401

STACK = "acme-dev"
LOG_GROUP = "/ecs/acme-dev-api"


def acme_spec() -> dict:
    spec = base_spec()
    spec["services"]["api"]["desired_count"] = 2
    spec["jobs"] = {"migrate": {"image": {"repository": "api", "tag": "v1"}, "command": ["migrate"]}}
    return spec


def write_spec(params: Path, spec: dict) -> None:
    (params / "acme").mkdir(parents=True, exist_ok=True)
    (params / "acme" / "dev.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


@pytest.fixture
def cli(local_endpoint, tmp_path, capsys):
    """Run a command on acme/dev's folders and the local endpoint; (exit code, stdout, stderr)."""

    def invoke(*argv: str) -> tuple[int, str, str]:
        extra = ["--endpoint-url", local_endpoint.url, "--poll", "0.05"]
        code = main([*argv, *extra, "--params", str(tmp_path / "params"), "--output", str(tmp_path / "output")])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


@pytest.fixture
def deployed(cli, tmp_path):
    write_spec(tmp_path / "params", acme_spec())
    code, out, err = cli("deploy", "acme/dev", "--yes")
    assert code == 0, out + err
    return load(tmp_path / "output" / "acme" / "dev")


def _service_stack(aws) -> dict:
    resources = aws("cloudformation").list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    (stack_id,) = [item["PhysicalResourceId"] for item in resources if item["LogicalResourceId"] == "ServiceApi"]
    return aws("cloudformation").describe_stacks(StackName=stack_id)["Stacks"][0]


def _outputs(stack: dict) -> dict:
    return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}


# ---------------------------------------------------------------------------------------------- status


def test_status_json_lists_the_stacks_services_and_outputs_as_deployed(cli, deployed, aws):
    # WHEN the status of acme/dev is asked for as JSON
    code, out, err = cli("status", "acme/dev", "--json")
    # THEN it is a list of one environment, read from the deployed stacks
    assert code == 0, err
    (environment,) = json.loads(out)
    assert environment["target"] == "acme/dev" and environment["status"] == "CREATE_COMPLETE"
    # every nested stack of the manifest is there, with its status
    assert {stack["path"] for stack in environment["stacks"]} == {"", *deployed.nested_stacks}
    assert {stack["status"] for stack in environment["stacks"]} == {"CREATE_COMPLETE"}
    # the service as ECS has it: counts, the task definition revision and image the stack deployed
    (service,) = environment["services"]
    service_outputs = _outputs(_service_stack(aws))
    described = aws("ecs").describe_task_definition(taskDefinition=service_outputs["TaskDefinitionArn"])
    definition = described["taskDefinition"]
    assert service["name"] == "api" and service["status"] == "ACTIVE"
    assert (service["desired"], service["running"] + service["pending"]) == (2, 2)
    assert service["task_definition"] == f"{definition['family']}:{definition['revision']}"
    assert service["images"] == [definition["containerDefinitions"][0]["image"]]
    assert service["images"][0].endswith("/acme-api:v1")
    assert service["rollout"]["state"] in ("IN_PROGRESS", "COMPLETED")
    assert service["log_group"] == LOG_GROUP == service_outputs["LogGroupName"]
    assert service["targets"] == []  # no task registered behind the load balancer on the local endpoint
    # and the root outputs (URLs)
    root_outputs = _outputs(aws("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0])
    assert environment["outputs"] == dict(sorted(root_outputs.items()))
    assert environment["outputs"]["BaseUrl"].startswith("http://")


def test_status_text_shows_unhealthy_targets_with_elbs_reason(cli, deployed, aws):
    # GIVEN a target registered in the service's target group, which fails its health checks
    (group,) = [
        item["PhysicalResourceId"]
        for item in aws("cloudformation").list_stack_resources(StackName=_service_stack(aws)["StackId"])[
            "StackResourceSummaries"
        ]
        if item["ResourceType"] == "AWS::ElasticLoadBalancingV2::TargetGroup"
    ]
    aws("elbv2").register_targets(TargetGroupArn=group, Targets=[{"Id": "10.20.1.5", "Port": 8080}])
    # WHEN the status is printed
    code, out, err = cli("status", "acme")
    # THEN the stacks, the service line, the target with its state and the outputs are there
    assert code == 0, err
    assert "acme/dev" in out and "ServiceApi" in out and "CREATE_COMPLETE" in out
    assert "api  ACTIVE  desired 2" in out
    target = next(line for line in out.splitlines() if "10.20.1.5:8080" in line)
    health = aws("elbv2").describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"][0]["TargetHealth"]
    assert health["State"] in target
    assert "outputs:" in out and "BaseUrl" in out


def test_status_of_an_environment_that_is_not_deployed(cli, tmp_path):
    write_spec(tmp_path / "params", acme_spec())
    code, out, _ = cli("status", "acme/dev", "--json")
    assert code == 0
    assert json.loads(out) == [
        {
            "target": "acme/dev",
            "region": REGION,
            "stack": STACK,
            "status": "NOT_DEPLOYED",
            "reason": "",
            "updated": None,
            "stacks": [],
            "services": [],
            "outputs": {},
        }
    ]


# ---------------------------------------------------------------------------------------------- logs


def _put(aws, group: str, stream: str, messages: list[str], at_ms: int) -> None:
    logs = aws("logs")
    if stream not in [item["logStreamName"] for item in logs.describe_log_streams(logGroupName=group)["logStreams"]]:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    events = [{"timestamp": at_ms + index, "message": message} for index, message in enumerate(messages)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def test_logs_reads_back_the_services_events_with_since_and_filter(cli, deployed, aws):
    # GIVEN events written into the api's log group: two recent ones, one from three hours ago
    now = int(time.time() * 1000)
    _put(aws, LOG_GROUP, "api/api/task1", ["GET /health 200", "ERROR db timeout"], now - 60_000)
    _put(aws, LOG_GROUP, "api/api/task0", ["old ERROR"], now - 3 * 3600_000)
    # WHEN the logs of the last hour are read
    code, out, err = cli("logs", "acme/dev", "api", "--since", "1h")
    # THEN the recent events are printed in order with their stream, the old one is not
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split("  ", 2)[1:] for line in lines] == [
        ["api/api/task1", "GET /health 200"],
        ["api/api/task1", "ERROR db timeout"],
    ]
    # AND --filter and a longer --since select by pattern and time, --json gives one object per event
    code, out, err = cli("logs", "acme/dev", "api", "--since", "1d", "--filter", "ERROR", "--json")
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert [record["message"] for record in records] == ["old ERROR", "ERROR db timeout"]
    assert set(records[0]) == {"time", "timestamp", "source", "log_group", "stream", "message", "event_id"}
    assert records[1]["source"] == "api" and records[1]["log_group"] == LOG_GROUP
    assert records[1]["timestamp"] == now - 60_000 + 1 and records[1]["time"].endswith("Z")
    # AND nothing found says where it looked
    code, out, err = cli("logs", "acme/dev", "api", "--filter", "PANIC")
    assert (code, out) == (0, "")
    assert err.strip() == "no events matching 'PANIC' in /ecs/acme-dev-api since 10m"


def test_logs_of_a_job_reads_its_log_group_and_streams(cli, deployed, aws):
    group = deployed.jobs["migrate"].log_group
    _put(aws, group, "migrate/migrate/abc", ["migrated 3 tables"], int(time.time() * 1000) - 1000)
    code, out, err = cli("logs", "acme/dev", "migrate")
    assert code == 0, err
    assert out.strip().endswith("migrate/migrate/abc  migrated 3 tables")


def test_logs_follow_prints_new_events_until_interrupted(cli, deployed, aws, monkeypatch):
    # GIVEN one event, and a second written while --follow waits between polls
    now = int(time.time() * 1000)
    _put(aws, LOG_GROUP, "api/api/task1", ["first"], now - 1000)
    polls = []

    def pause(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 1:
            _put(aws, LOG_GROUP, "api/api/task2", ["second"], int(time.time() * 1000))
        else:
            raise KeyboardInterrupt  # Ctrl-C

    monkeypatch.setattr(logs_engine, "pause", pause)
    # WHEN the logs are followed
    code, out, err = cli("logs", "acme/dev", "api", "--follow")
    # THEN both events are printed once each, and Ctrl-C ends it with exit 0
    assert code == 0, err
    assert [line.rsplit("  ", 1)[1] for line in out.splitlines()] == ["first", "second"]
    assert len(polls) == 2 and "following /ecs/acme-dev-api" in err


def test_logs_of_an_unknown_name_lists_the_services_and_jobs(cli, deployed):
    code, out, err = cli("logs", "acme/dev", "worker")
    assert code == 2 and out == ""
    assert "acme/dev has no service or job 'worker'; services: api; jobs: migrate" in err
    assert "Traceback" not in err
    code, _, err = cli("logs", "acme/dev", "api", "--since", "yesterday")
    assert code == 2 and "--since 'yesterday': expected a duration" in err


# ---------------------------------------------------------------------------------------------- drift


def test_drift_finds_a_retention_changed_out_of_band(cli, deployed, aws):
    # GIVEN the environment as deployed: no drift, exit 0
    code, out, err = cli("drift", "acme/dev")
    assert code == 0, out + err
    assert f"{len(deployed.nested_stacks) + 1} stack(s) checked" in out and "no drifted resources" in out
    # WHEN the api's log retention is changed with boto3, outside CloudFormation
    template = aws("cloudformation").get_template(StackName=_service_stack(aws)["StackId"])["TemplateBody"]
    retention = template["Resources"]["LogGroup"]["Properties"]["RetentionInDays"]
    assert retention != 1
    aws("logs").put_retention_policy(logGroupName=LOG_GROUP, retentionInDays=1)
    code, out, err = cli("drift", "acme/dev")
    # THEN drift names the resource and its expected -> actual value, exit 2
    assert code == 2, out + err
    assert f"ServiceApi/LogGroup (AWS::Logs::LogGroup) {LOG_GROUP}  MODIFIED" in out
    assert f"/RetentionInDays: {retention} -> 1  (NOT_EQUAL)" in out
    assert [line.split()[:2] for line in out.splitlines() if "DRIFTED" in line] == [["ServiceApi", "DRIFTED"]]
    # AND the JSON carries the same
    code, out, _ = cli("drift", "acme/dev", "--json")
    assert code == 2
    (report,) = json.loads(out)  # a list of environments, as every --json
    assert report["drifted"] is True
    (stack,) = [item for item in report["stacks"] if item["status"] == "DRIFTED"]
    assert stack["path"] == "ServiceApi" and stack["drifted"] == 1
    assert stack["resources"][0]["differences"] == [
        {"path": "/RetentionInDays", "expected": str(retention), "actual": "1", "kind": "NOT_EQUAL"}
    ]


def test_drift_of_an_environment_that_is_not_deployed_is_an_error(cli, tmp_path):
    write_spec(tmp_path / "params", acme_spec())
    code, _, err = cli("drift", "acme/dev")
    assert code == 1 and "stack acme-dev is not deployed" in err
    code, _, err = cli("drift", "acme/nope")
    assert code == 1 and "unknown target" in err


# ---------------------------------------------------------------------------------------------- failed rollout


def test_a_rollout_that_trips_the_circuit_breaker_says_why_before_the_rollback(cli, deployed, aws, tmp_path):
    # GIVEN a new image whose container exits 1 on start (the local endpoint's tasks exit with this code)
    spec = acme_spec()
    spec["services"]["api"]["environment"] = {"STACKLOOM_LOCAL_EXIT_CODE": "1"}
    write_spec(tmp_path / "params", spec)
    # WHEN it is deployed
    code, out, err = cli("deploy", "acme/dev", "--yes", "--image", "api=v2")
    printed = out + err
    # THEN the deploy fails at the service, and says why, from ECS and the container's logs
    assert code == 1, printed
    failed_at = printed.index("deploy failed at ServiceApi/Service (AWS::ECS::Service)")
    assert "ECS Deployment Circuit Breaker was triggered" in printed[failed_at:]
    why = printed.index("why api did not roll out:")
    assert "stopped: Essential container in task exited (EssentialContainerExited)" in printed[why:]
    assert "container api: exit code 1" in printed[why:]
    assert "deployment failed: tasks failed to start." in printed[why:]
    assert "the task stopped with exit code 1" in printed[why:]  # the container's last log line
    # AND all of it comes before the rollback summary, and the stack is back on the old image
    assert failed_at < why < printed.index("acme-dev is UPDATE_ROLLBACK_COMPLETE")
    stack = aws("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["ApiImageTag"] == "v1"


def test_the_failure_report_shows_the_reason_of_the_services_stopped_task(deployed, aws, local_endpoint):
    # GIVEN a task of the api service stopped with a reason through the endpoint's ECS
    ecs = aws("ecs")
    outputs = _outputs(_service_stack(aws))
    cluster = _outputs(aws("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0])["ClusterName"]
    subnet = aws("ec2").describe_subnets()["Subnets"][0]
    group = aws("ec2").describe_security_groups()["SecurityGroups"][0]["GroupId"]
    network = {"awsvpcConfiguration": {"subnets": [subnet["SubnetId"]], "securityGroups": [group]}}
    placement = {"launchType": "FARGATE", "networkConfiguration": network}
    (task,) = ecs.run_task(
        cluster=cluster,
        taskDefinition=outputs["TaskDefinitionArn"],
        group=f"service:{outputs['ServiceName']}",
        **placement,
    )["tasks"]
    reason = "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-central-1:1:tg/x/1)"
    ecs.stop_task(cluster=cluster, task=task["taskArn"], reason=reason)
    # AND a task of another group that must not be shown
    (other,) = ecs.run_task(cluster=cluster, taskDefinition=outputs["TaskDefinitionArn"], **placement)["tasks"]
    ecs.stop_task(cluster=cluster, task=other["taskArn"], reason="someone else's")
    # AND a target of the service's target group that ELB does not route to (an instance that was stopped)
    ec2 = aws("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    (instance,) = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet["SubnetId"])["Instances"]
    (target_group,) = [
        item["PhysicalResourceId"]
        for item in aws("cloudformation").list_stack_resources(StackName=_service_stack(aws)["StackId"])[
            "StackResourceSummaries"
        ]
        if item["ResourceType"] == "AWS::ElasticLoadBalancingV2::TargetGroup"
    ]
    aws("elbv2").register_targets(TargetGroupArn=target_group, Targets=[{"Id": instance["InstanceId"], "Port": 8080}])
    ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
    printed = io.StringIO()
    # WHEN the report is made for the service
    failure.explain_service(Aws(REGION, local_endpoint.url), deployed, "api", Console(printed, color=False))
    text = printed.getvalue()
    # THEN the stopped task's reason and stop code are there, and only that task
    assert f"task {task['taskArn'].rsplit('/', 1)[-1]} stopped: {reason} (UserInitiated)" in text
    assert "someone else's" not in text
    # AND the target with ELB's state and reason
    expected = f"target {instance['InstanceId']}:8080 unused: Target.InvalidState, Target is in the stopped state"
    assert expected in text


def test_a_first_deploy_whose_rollout_fails_says_what_is_left_to_read(cli, aws, tmp_path):
    # GIVEN a first deploy whose service's container exits 1: the rollback deletes the cluster with the service
    spec = acme_spec()
    spec["services"]["api"]["environment"] = {"STACKLOOM_LOCAL_EXIT_CODE": "1"}
    write_spec(tmp_path / "params", spec)
    code, out, err = cli("deploy", "acme/dev", "--yes")
    printed = out + err
    # THEN the failure and the report's heading come before the rollback summary, and no traceback
    assert code == 1, printed
    assert "Traceback" not in printed
    failed_at = printed.index("deploy failed at ServiceApi/Service (AWS::ECS::Service)")
    why = printed.index(
        "why api did not roll out:\n  its ECS service is gone (rolled back); see the stack events above"
    )
    assert failed_at < why < printed.index("acme-dev is ROLLBACK_COMPLETE")
    assert "could not read" not in printed
    # AND status says what is left: the root stack, rolled back, and no service
    code, out, _ = cli("status", "acme/dev", "--json")
    (environment,) = json.loads(out)
    assert environment["status"] == "ROLLBACK_COMPLETE" and [stack["path"] for stack in environment["stacks"]] == [""]
    assert [(service["name"], service["status"]) for service in environment["services"]] == [("api", "NOT_DEPLOYED")]


def test_the_local_drift_stand_in_answers_in_cloudformations_shapes(aws):
    # GIVEN a stack with an SSM parameter, two log groups and a queue (a type the stand-in does not check)
    template = {
        "Resources": {
            "Setting": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": "/acme/flag", "Type": "String", "Value": "on"},
            },
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/acme/a", "RetentionInDays": 7}},
            "Gone": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/acme/b", "RetentionInDays": 7}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        }
    }
    cloudformation = aws("cloudformation")
    stack_id = cloudformation.create_stack(StackName="drifty", TemplateBody=json.dumps(template))["StackId"]
    # WHEN the parameter's value is changed and a log group deleted out of band
    aws("ssm").put_parameter(Name="/acme/flag", Value="off", Type="String", Overwrite=True)
    aws("logs").delete_log_group(logGroupName="/acme/b")
    detection = cloudformation.detect_stack_drift(StackName="drifty")["StackDriftDetectionId"]
    # THEN the detection runs (seen in progress once), then completes as DRIFTED with 2 resources
    first = cloudformation.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
    assert first["DetectionStatus"] == "DETECTION_IN_PROGRESS"
    done = cloudformation.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
    assert (done["DetectionStatus"], done["StackDriftStatus"], done["DriftedStackResourceCount"]) == (
        "DETECTION_COMPLETE",
        "DRIFTED",
        2,
    )
    assert done["StackId"] == stack_id
    # AND every resource has its status, one page at a time
    pages = cloudformation.describe_stack_resource_drifts(StackName="drifty", MaxResults=3)
    assert len(pages["StackResourceDrifts"]) == 3 and pages["NextToken"]
    rest = cloudformation.describe_stack_resource_drifts(StackName="drifty", NextToken=pages["NextToken"])
    drifts = {item["LogicalResourceId"]: item for item in pages["StackResourceDrifts"] + rest["StackResourceDrifts"]}
    assert {name: item["StackResourceDriftStatus"] for name, item in drifts.items()} == {
        "Setting": "MODIFIED",
        "Logs": "IN_SYNC",
        "Gone": "DELETED",
        "Queue": "NOT_CHECKED",
    }
    assert drifts["Setting"]["PropertyDifferences"] == [
        {"PropertyPath": "/Value", "ExpectedValue": "on", "ActualValue": "off", "DifferenceType": "NOT_EQUAL"}
    ]
    assert json.loads(drifts["Setting"]["ActualProperties"])["Value"] == "off"
    assert json.loads(drifts["Setting"]["ExpectedProperties"]) == template["Resources"]["Setting"]["Properties"]
    assert drifts["Setting"]["PhysicalResourceId"] == "/acme/flag"
    # AND the filter returns only the drifted ones
    drifted = cloudformation.describe_stack_resource_drifts(
        StackName="drifty", StackResourceDriftStatusFilters=["MODIFIED", "DELETED"]
    )["StackResourceDrifts"]
    assert sorted(item["LogicalResourceId"] for item in drifted) == ["Gone", "Setting"]
