"""`build.py deploy` of an environment with a scheduled job and an on-demand one, then `build.py run` of each,
against the local endpoint (127.0.0.1 only; it runs no containers: its task stand-in stops a task after a moment
with exit code 0, or STACKLOOM_LOCAL_EXIT_CODE, and writes one log line where awslogs would)."""

from __future__ import annotations

import pytest
import yaml

from stackloom.cli.main import main

from ..helpers import jobs_spec
from .local_endpoint import aws, local_endpoint, local_endpoint_server  # noqa: F401

STACK = "acme-dev"


@pytest.fixture
def deployed(local_endpoint, aws, tmp_path, capsys):
    """acme/dev (jobs_spec, `migrate` made to fail with 3 locally) deployed; returns (params folder, endpoint)."""
    spec = jobs_spec()
    spec["jobs"]["migrate"]["environment"] = {"STACKLOOM_LOCAL_EXIT_CODE": "3"}
    params = tmp_path / "params"
    (params / "acme").mkdir(parents=True)
    (params / "acme" / "dev.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    argv = ["deploy", "acme/dev", "--yes", "--endpoint-url", local_endpoint.url, "--poll", "0.05"]
    code = main(argv + ["--params", str(params), "--output", str(tmp_path / "output")])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    return params, local_endpoint.url


def _run(deployed, job: str, capsys) -> tuple[int, str]:
    params, url = deployed
    code = main(["run", "acme/dev", job, "--endpoint-url", url, "--poll", "0.05", "--params", str(params)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_a_scheduled_job_runs_once_and_prints_its_log_line(deployed, aws, capsys):
    # GIVEN acme/dev deployed with the scheduled job `report`: its schedule targets the cluster
    stacks = aws("cloudformation").list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    (job_stack,) = [item["PhysicalResourceId"] for item in stacks if item["LogicalResourceId"] == "JobReport"]
    resources = aws("cloudformation").list_stack_resources(StackName=job_stack)["StackResourceSummaries"]
    assert {"Schedule", "SchedulerRole", "DeadLetterQueue", "TaskDefinition"} <= {
        item["LogicalResourceId"] for item in resources
    }
    # WHEN `build.py run acme/dev report` runs it
    code, printed = _run(deployed, "report", capsys)
    # THEN the task was started, seen stopping, its exit code 0 and its log line printed, and the command exits 0
    assert code == 0, printed
    assert "started task arn:aws:ecs:" in printed and ": STOPPED" in printed
    assert "container report exited with code 0" in printed
    assert "stream report/report/" in printed
    assert "stackloom local endpoint: no container ran (image " in printed and "python -m report" in printed


def test_an_on_demand_job_exits_with_its_containers_code(deployed, capsys):
    # GIVEN the unscheduled job `migrate`, whose container exits 3 on the local endpoint
    # WHEN it is run THEN the command exits 3 and says so
    code, printed = _run(deployed, "migrate", capsys)
    assert code == 3, printed
    assert "container migrate exited with code 3" in printed
    assert "the task stopped with exit code 3" in printed


def test_an_unknown_job_is_one_line_naming_the_known_ones(deployed, capsys):
    code, printed = _run(deployed, "nightly", capsys)
    assert code == 2
    assert "acme/dev has no job 'nightly'; its jobs: migrate, report" in printed
    assert "Traceback" not in printed
