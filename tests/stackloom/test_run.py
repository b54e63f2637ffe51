"""The units of `build.py run`: the exit code a task's end maps to, the log events printed page by page, the
RunTask request built from the job stack's outputs, and the one-line errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from stackloom import build as compiler
from stackloom.deploy import run
from stackloom.errors import UserError
from templates.spec import parse

from ..helpers import jobs_spec


@pytest.fixture(scope="module")
def manifest():
    return compiler.compile_environment(parse(jobs_spec())).manifest


def _outcome(code):
    return run.Outcome("arn:aws:ecs:eu-central-1:1:task/c/abc", code, "", "/g", "s")


@pytest.mark.parametrize(("code", "status"), [(0, 0), (1, 1), (3, 3), (125, 125), (126, 1), (137, 1), (-1, 1)])
def test_the_command_exits_with_the_containers_code_within_1_to_125(code, status):
    assert run.exit_status(_outcome(code)) == status


def test_a_container_that_never_ran_exits_1_and_keeps_ecs_reason():
    task = {
        "taskArn": "arn:aws:ecs:r:1:task/c/abc",
        "stoppedReason": "CannotPullContainerError: nope",
        "containers": [],
    }
    entry = compiler.compile_environment(parse(jobs_spec())).manifest.jobs["migrate"]
    result = run.outcome(task, entry, "/ecs/acme-dev-job-migrate")
    assert result.exit_code is None and result.reason.startswith("CannotPullContainerError")
    assert result.log_stream == "migrate/migrate/abc"
    assert run.exit_status(result) == 1


class _Logs:
    """GetLogEvents as CloudWatch answers it: pages of events, and at the end the same forward token again."""

    def __init__(self, pages, missing=False):
        self.pages, self.missing, self.calls = pages, missing, []

    def get_log_events(self, **request):
        self.calls.append(request)
        if self.missing:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "x"}}, "GetLogEvents")
        index = int(request.get("nextToken", "f0")[1:])
        if index >= len(self.pages):
            return {"events": [], "nextForwardToken": request.get("nextToken")}
        return {"events": [{"message": text} for text in self.pages[index]], "nextForwardToken": f"f{index + 1}"}


def test_log_events_are_read_from_the_head_page_by_page_until_the_token_repeats():
    logs = _Logs([["one", "two"], ["three"]])
    assert list(run.log_events(logs, "/g", "p/c/t")) == ["one", "two", "three"]
    assert logs.calls[0] == {"logGroupName": "/g", "logStreamName": "p/c/t", "startFromHead": True}
    assert [call.get("nextToken") for call in logs.calls] == [None, "f1", "f2"]


def test_a_stream_that_does_not_exist_prints_nothing():
    assert list(run.log_events(_Logs([], missing=True), "/g", "s")) == []


def test_the_run_request_is_the_schedules_target(manifest):
    outputs = {
        "TaskDefinitionArn": "arn:td:1",
        "ClusterName": "acme-dev",
        "SubnetIds": "subnet-a,subnet-b",
        "SecurityGroupId": "sg-1",
        "CapacityProvider": "FARGATE",
    }
    request = run.run_request(manifest.jobs["report"], outputs)
    assert request == {
        "cluster": "acme-dev",
        "taskDefinition": "arn:td:1",
        "count": 1,
        "startedBy": "stackloom-run",
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}],
        "platformVersion": "LATEST",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-a", "subnet-b"],
                "securityGroups": ["sg-1"],
                "assignPublicIp": "DISABLED",
            }
        },
        "enableECSManagedTags": True,
        "propagateTags": "TASK_DEFINITION",
    }
    with pytest.raises(UserError, match="has no outputs SubnetIds"):
        run.run_request(manifest.jobs["report"], {key: value for key, value in outputs.items() if key != "SubnetIds"})


def test_an_unknown_job_lists_the_known_ones(manifest):
    with pytest.raises(UserError, match="acme/dev has no job 'nightly'; its jobs: migrate, report"):
        run.job_entry(manifest, "nightly")


class _CloudFormation:
    def describe_stack_resource(self, **_):
        raise ClientError(
            {"Error": {"Code": "ValidationError", "Message": "Stack with id acme-dev does not exist"}},
            "DescribeStackResource",
        )


def test_an_environment_not_deployed_is_a_user_error(manifest):
    with pytest.raises(UserError, match="stack acme-dev is not deployed .* python build.py deploy acme/dev"):
        run.stack_outputs(_CloudFormation(), manifest, "JobReport")


class _Ecs:
    """describe_tasks answering RUNNING twice, then STOPPED; the tasks_stopped waiter over it is botocore's own."""

    def __init__(self):
        import boto3

        self.client = boto3.client("ecs", region_name="eu-central-1", aws_access_key_id="x", aws_secret_access_key="y")
        self.states = ["RUNNING", "RUNNING", "RUNNING", "STOPPED", "STOPPED", "STOPPED"]
        self.client.meta.events.register("before-call.ecs.DescribeTasks", self._answer)

    def _answer(self, **_):
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        from types import SimpleNamespace

        return (
            SimpleNamespace(status_code=200, headers={}),
            {"tasks": [{"taskArn": "arn:aws:ecs:r:1:task/c/abc", "lastStatus": state}]},
        )


def test_waiting_prints_each_new_state_once():
    said = []
    task = run.wait_stopped(_Ecs().client, "c", "arn:aws:ecs:r:1:task/c/abc", 0.01, said.append)
    assert task["lastStatus"] == "STOPPED"
    assert said == ["task abc: RUNNING", "task abc: STOPPED"]
