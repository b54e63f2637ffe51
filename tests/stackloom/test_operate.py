"""stackloom/operate without an endpoint: --since parsing, the logs' JSON and text lines, the drift waiter and
paginator (botocore's Stubber on a real client: no network), drift's exit codes and table, status' text, and which
failed resources the rollout report explains."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.stub import Stubber

from stackloom.cli.main import main
from stackloom.deploy.changeset import Console
from stackloom.deploy.events import Event
from stackloom.manifest import from_dict
from stackloom.operate import drift, failure, logs, status
from stackloom.operate.resources import Stack, cluster_of, find_stack

from ..helpers import PROJECT

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
STAMP = int(NOW.timestamp() * 1000) + 123
STACK_ID = "arn:aws:cloudformation:eu-central-1:111122223333:stack/acme-dev/1"


def manifest():
    return from_dict(json.loads((PROJECT / "output" / "bet2wealth" / "dev" / "manifest.json").read_text()))


def cloudformation():
    return boto3.client("cloudformation", region_name="eu-central-1", aws_access_key_id="x", aws_secret_access_key="x")


# ---------------------------------------------------------------------------------------------- --since


@pytest.mark.parametrize(
    "text, expected",
    [
        ("30s", NOW - timedelta(seconds=30)),
        ("10m", NOW - timedelta(minutes=10)),
        ("2h", NOW - timedelta(hours=2)),
        ("1d", NOW - timedelta(days=1)),
        ("1w", NOW - timedelta(weeks=1)),
        ("2026-12-02T10:00:00Z", datetime(2026, 12, 2, 10, tzinfo=timezone.utc)),
        ("2026-12-02T10:00:00", datetime(2026, 12, 2, 10, tzinfo=timezone.utc)),  # no zone: UTC
        ("2026-12-02T11:30:00+01:00", datetime(2026, 12, 2, 10, 30, tzinfo=timezone.utc)),
    ],
)
def test_since_takes_a_duration_or_an_iso_time(text, expected):
    assert logs.parse_since(text, NOW) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("yesterday", "expected a duration (30s, 10m, 2h, 1d, 1w) or an ISO 8601 time"),
        ("10 m", "expected a duration"),
        ("-5m", "expected a duration"),
        ("2026-12-03T00:00:00Z", "that is in the future"),
    ],
)
def test_since_refuses_anything_else_saying_what_is_allowed(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        logs.parse_since(text, NOW)


def test_a_log_event_as_json_and_as_a_line():
    where = logs.Source(name="backend", kind="service", log_group="/ecs/backend-logs-dev")
    event = {
        "timestamp": STAMP,
        "logStreamName": "backend/backend/abc",
        "message": "GET / 200\n",
        "eventId": "7",
    }
    record = logs.as_record(where, event)
    assert record == {
        "time": "2026-12-02T12:00:00.123Z",
        "timestamp": STAMP,
        "source": "backend",
        "log_group": "/ecs/backend-logs-dev",
        "stream": "backend/backend/abc",
        "message": "GET / 200",
        "event_id": "7",
    }
    assert logs.as_line(record) == "2026-12-02T12:00:00.123Z  backend/backend/abc  GET / 200"


# ---------------------------------------------------------------------------------------------- drift


def test_the_drift_waiter_polls_until_detection_completes_or_fails():
    client = cloudformation()
    with Stubber(client) as stub:
        for state in ("DETECTION_IN_PROGRESS", "DETECTION_IN_PROGRESS", "DETECTION_COMPLETE"):
            stub.add_response(
                "describe_stack_drift_detection_status",
                {"StackId": STACK_ID, "StackDriftDetectionId": "d", "DetectionStatus": state, "Timestamp": NOW},
                {"StackDriftDetectionId": "d"},
            )
        drift.waiter(client).wait(StackDriftDetectionId="d", WaiterConfig={"Delay": 0, "MaxAttempts": 5})
        stub.assert_no_pending_responses()
        stub.add_response(
            "describe_stack_drift_detection_status",
            {
                "StackId": STACK_ID,
                "StackDriftDetectionId": "d",
                "DetectionStatus": "DETECTION_FAILED",
                "Timestamp": NOW,
            },
            {"StackDriftDetectionId": "d"},
        )
        drift.waiter(client).wait(StackDriftDetectionId="d", WaiterConfig={"Delay": 0, "MaxAttempts": 5})


def test_resource_drifts_follow_next_token_across_pages():
    client = cloudformation()

    def item(name: str) -> dict:
        return {
            "StackId": STACK_ID,
            "LogicalResourceId": name,
            "ResourceType": "AWS::Logs::LogGroup",
            "StackResourceDriftStatus": "MODIFIED",
            "Timestamp": NOW,
        }

    request = {"StackName": STACK_ID, "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]}
    with Stubber(client) as stub:
        stub.add_response(
            "describe_stack_resource_drifts", {"StackResourceDrifts": [item("A")], "NextToken": "2"}, request
        )
        stub.add_response(
            "describe_stack_resource_drifts", {"StackResourceDrifts": [item("B")]}, {**request, "NextToken": "2"}
        )
        found = drift.resource_drifts(client, STACK_ID)
    assert [entry["LogicalResourceId"] for entry in found] == ["A", "B"]


def _report(*stacks: drift.StackDrift) -> drift.Report:
    return drift.Report(target="bet2wealth/dev", stacks=list(stacks))


def _stack(path: str, status: str = "IN_SYNC", detection: str = "DETECTION_COMPLETE", resources=()) -> drift.StackDrift:
    return drift.StackDrift(path, path or "root", status, detection, "", len(resources), list(resources))


def test_drift_exit_codes_are_0_none_2_drifted_1_not_everything_checked():
    modified = drift.ResourceDrift(
        "ServiceBackend/LogGroup",
        "AWS::Logs::LogGroup",
        "/ecs/backend-logs-dev",
        "MODIFIED",
        [drift.Difference("/RetentionInDays", "14", "30", "NOT_EQUAL")],
    )
    assert drift.exit_code(_report(_stack(""), _stack("Network"))) == 0
    assert drift.exit_code(_report(_stack(""), _stack("ServiceBackend", "DRIFTED", resources=[modified]))) == 2
    assert drift.exit_code(_report(_stack(""), _stack("Data", "UNKNOWN", "DETECTION_FAILED"))) == 1
    failed_but_drifted = _report(
        _stack("Data", "UNKNOWN", "DETECTION_FAILED"), _stack("S", "DRIFTED", resources=[modified])
    )
    assert drift.exit_code(failed_but_drifted) == 2
    printed = io.StringIO()
    drift.render(
        _report(_stack(""), _stack("ServiceBackend", "DRIFTED", resources=[modified])), Console(printed, False)
    )
    assert printed.getvalue().splitlines() == [
        "drift of bet2wealth/dev: 2 stack(s) checked",
        "  (root)          IN_SYNC",
        "  ServiceBackend  DRIFTED (1 resource(s))",
        "drifted resources (expected -> actual):",
        "  ServiceBackend/LogGroup (AWS::Logs::LogGroup) /ecs/backend-logs-dev  MODIFIED",
        "    /RetentionInDays: 14 -> 30  (NOT_EQUAL)",
    ]


def test_long_drift_values_are_cut_and_say_their_length():
    value = json.dumps([{"Key": f"k{index}", "Value": "v" * 10} for index in range(20)])
    short = drift._short(value)
    assert short.endswith(f"... ({len(json.dumps(json.loads(value), sort_keys=True))} characters)")
    assert drift._short("") == "" and drift._short("14") == "14"


# ---------------------------------------------------------------------------------------------- status


def test_status_text_names_what_is_short_and_unhealthy():
    environment = {
        "target": "bet2wealth/dev",
        "region": "eu-central-1",
        "stack": "bet2wealth-dev",
        "status": "UPDATE_COMPLETE",
        "reason": "",
        "updated": "2026-12-02T12:00:00+00:00",
        "stacks": [
            {"path": "", "name": "bet2wealth-dev", "status": "UPDATE_COMPLETE", "reason": "", "updated": None},
            {
                "path": "ServiceBackend",
                "name": "x",
                "status": "UPDATE_ROLLBACK_COMPLETE",
                "reason": "a",
                "updated": None,
            },
        ],
        "services": [
            {
                "name": "backend",
                "stack": "ServiceBackend",
                "ecs_service": "arn:aws:ecs:eu-central-1:1:service/c/backend",
                "status": "ACTIVE",
                "desired": 2,
                "running": 1,
                "pending": 1,
                "task_definition": "bet2wealth-backend:7",
                "revision": 7,
                "images": ["1.dkr.ecr.eu-central-1.amazonaws.com/bet2wealth-backend-dev:v7"],
                "rollout": {"state": "IN_PROGRESS", "reason": "ECS deployment ecs-svc/1 in progress."},
                "deployments": 2,
                "events": [{"at": "2026-12-02T11:59:00+00:00", "message": "(service backend) has started 1 tasks"}],
                "targets": [
                    {
                        "target_group": "arn:tg",
                        "id": "10.0.1.5",
                        "port": 8080,
                        "state": "unhealthy",
                        "reason": "Target.ResponseCodeMismatch",
                        "description": "Health checks failed with these codes: [502]",
                    }
                ],
                "log_group": "/ecs/backend-logs-dev",
            }
        ],
        "outputs": {"BaseUrl": "https://api.dev.bet2wealth.co"},
    }
    printed = io.StringIO()
    status.render(environment, Console(printed, False))
    assert printed.getvalue().splitlines() == [
        "bet2wealth/dev  bet2wealth-dev (eu-central-1)  UPDATE_COMPLETE  2026-12-02T12:00:00+00:00",
        "stacks:",
        "  (root)          UPDATE_COMPLETE",
        "  ServiceBackend  UPDATE_ROLLBACK_COMPLETE  a",
        "services:",
        "  backend  ACTIVE  desired 2  running 1  pending 1  bet2wealth-backend:7",
        "    image     1.dkr.ecr.eu-central-1.amazonaws.com/bet2wealth-backend-dev:v7",
        "    rollout   IN_PROGRESS  ECS deployment ecs-svc/1 in progress.",
        "    target    10.0.1.5:8080  unhealthy  Target.ResponseCodeMismatch, Health checks failed with these codes: [502]",
        "    event     2026-12-02T11:59:00+00:00  (service backend) has started 1 tasks",
        "    logs      /ecs/backend-logs-dev",
        "outputs:",
        "  BaseUrl  https://api.dev.bet2wealth.co",
    ]


# ---------------------------------------------------------------------------------------------- failed rollout


def _event(path: str, resource_type: str) -> Event:
    return Event(STACK_ID, path, path.rpartition("/")[2], resource_type, "UPDATE_FAILED", "x", "arn:x", NOW, False)


def test_only_a_failed_ecs_service_is_explained():
    assert failure.failed_services(manifest(), _event("ServiceBackend/Service", "AWS::ECS::Service")) == ["backend"]
    assert failure.failed_services(manifest(), _event("ServiceBackend/LogGroup", "AWS::Logs::LogGroup")) == []
    assert failure.failed_services(manifest(), _event("Data/Cluster", "AWS::ECS::Service")) == []
    assert failure.failed_services(manifest(), None) == []


def test_the_logs_shown_are_the_container_that_exited_non_zero():
    task = {"containers": [{"name": "proxy", "exitCode": 0}, {"name": "app", "exitCode": 137}]}
    assert failure.failing_container(task) == "app"
    assert failure.failing_container({"containers": [{"name": "app"}]}) == "app"
    assert failure.failing_container({"containers": []}) is None


def test_a_grouped_services_stack_is_found_at_any_depth_and_the_cluster_from_the_root_or_the_arn():
    tree = [
        Stack("", "root-id", "acme-prod", "UPDATE_COMPLETE", "", None, {"ClusterName": "acme-prod"}),
        Stack("Services01", "g-id", "g", "UPDATE_COMPLETE", "", None),
        Stack("Services01/ServiceApi", "s-id", "s", "UPDATE_COMPLETE", "", None),
    ]
    assert find_stack(tree, "ServiceApi").stack_id == "s-id"
    assert find_stack(tree, "ServiceWeb") is None
    assert cluster_of(tree) == "acme-prod"
    assert cluster_of(tree[1:], "arn:aws:ecs:eu-central-1:1:service/other/api") == "other"
    grouped = _event("Services01/ServiceBackend/Service", "AWS::ECS::Service")
    assert failure.failed_services(manifest(), grouped) == ["backend"]


def test_drift_usage_errors_exit_1_because_2_means_drifted(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["drift"])
    assert stopped.value.code == 1
    assert "drift: error: the following arguments are required: SYSTEM/ENV" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        main(["drift", "bet2wealth/dev", "--poll", "0"])
    assert stopped.value.code == 1
    assert main(["drift", "bet2wealth"]) == 1
    assert "drift takes one environment as SYSTEM/ENV, got 'bet2wealth'" in capsys.readouterr().err
