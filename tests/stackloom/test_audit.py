"""checkov and the Control Tower rules (cfn-guard) find nothing unsuppressed; every suppression is reviewed."""

from __future__ import annotations

import json

import pytest

from stackloom import build as compiler
from stackloom.audit import accepted, audit, lint
from stackloom.params import select
from templates import bootstrap, root, suppressions
from templates.spec import parse

from ..helpers import PARAMS, PROJECT, TARGETS, jobs_spec, options_spec, private_storage_spec


@pytest.fixture(scope="module")
def reports(built):
    found = audit.audit([built / target for target in TARGETS])
    # as `build.py audit` does: each environment's own accepted_risks give their findings a reason
    specs = {build.target: build.spec for build in compiler.compile_all(select(PARAMS, TARGETS))}
    environments = [
        accepted.Environment(target, target, built / target, list(specs[target].accepted_risks)) for target in TARGETS
    ]
    _, problems = accepted.accept(found, environments)
    assert problems == []
    return found


@pytest.mark.parametrize("tool", ["cfn-lint", "checkov", "cfn-guard"])
def test_no_unsuppressed_findings(reports, tool):
    (report,) = [r for r in reports if r.tool.startswith(tool)]
    assert report.rules > 40 and report.passed > 0
    assert [(f.rule, f.file, f.resource, f.message) for f in report.failed] == []


def test_every_suppressed_finding_has_its_recorded_reason(reports):
    reasons = {s.reason for s in suppressions.known()}
    for build in compiler.compile_all(select(PARAMS, TARGETS)):  # and each environment's own accepted_risks
        reasons.update(" ".join(risk.reason.split()) for risk in build.spec.accepted_risks)
    for report in reports:
        for finding in report.suppressed:
            assert finding.suppressed_because in reasons, (finding.rule, finding.file, finding.resource)


def test_every_suppression_has_a_reason_and_is_used():
    used = set()
    for build in compiler.compile_all(select(PARAMS, [])):
        templates = {stack.file_name: stack.template for stack in root.children(build.spec)}
        templates[bootstrap.FILE_NAME] = bootstrap.build(build.spec).template
        used.update(id(s) for s, _ in suppressions.apply(build.target, templates))
    # the storage and job stacks' entries and the network load balancer's (public_ports): no seed has them
    for extra in (private_storage_spec(), jobs_spec(), options_spec()):
        used.update(
            id(s)
            for s, _ in suppressions.apply("acme/dev", {t.file_name: t.template for t in root.children(parse(extra))})
        )
    for entry in suppressions.load():
        assert len(entry.reason) > 30, entry
        assert id(entry) in used, f"suppression matches nothing (stale): {entry}"


def test_suppressions_are_written_into_metadata(built):
    security = json.loads((built / "bet2wealth/dev/security.json").read_text())
    skips = security["Resources"]["LoadBalancerSecurityGroup"]["Metadata"]["checkov"]["skip"]
    assert skips[0]["id"] == "CKV_AWS_260" and "redirect" in skips[0]["comment"]


def test_guard_catches_a_privileged_root_container(tmp_path):
    # GIVEN a task definition that is privileged, root and writable WHEN the Control Tower rules run THEN they fail it
    system = tmp_path / "acme" / "dev"
    system.mkdir(parents=True)
    path = system / "bad.json"
    path.write_text(
        json.dumps(
            {
                "AWSTemplateFormatVersion": "2010-09-09",
                "Resources": {
                    "Task": {
                        "Type": "AWS::ECS::TaskDefinition",
                        "Properties": {
                            "ContainerDefinitions": [
                                {"Name": "x", "Image": "x", "Privileged": True, "User": "root", "Memory": 512}
                            ]
                        },
                    }
                },
            }
        )
    )
    failed = {f.rule for f in audit.run_guard([path]).failed}
    assert {"ecs_task_definition_nonroot_user_check", "ecs_containers_readonly_access_check"} <= failed
    assert any("privileged" in rule for rule in failed)


def test_checkov_catches_an_open_security_group(tmp_path):
    path = tmp_path / "acme" / "dev" / "bad.json"
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "AWSTemplateFormatVersion": "2010-09-09",
                "Resources": {
                    "Sg": {
                        "Type": "AWS::EC2::SecurityGroup",
                        "Properties": {
                            "GroupDescription": "x",
                            "SecurityGroupIngress": [
                                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}
                            ],
                        },
                    }
                },
            }
        )
    )
    assert "CKV_AWS_24" in {f.rule for f in audit.run_checkov([path]).failed}


def test_security_md_figures_are_current(reports, built):
    templates = sum(len(lint.template_files(built / target)) for target in TARGETS)
    text = (PROJECT / "SECURITY.md").read_text()
    expected = audit.figures(reports, templates, list(TARGETS))
    assert expected in text, "SECURITY.md is stale: run `python build.py audit --write-security-md`"


def test_an_environment_of_every_storage_kind_audits_clean(tmp_path):
    # GIVEN a private environment with a bucket, a queue with a dead-letter queue, a topic delivering to it and a
    # table, granted to a service
    from stackloom.output import write

    write(compiler.compile_environment(parse(private_storage_spec())), tmp_path)
    # WHEN cfn-lint, checkov and the Control Tower rules run on it
    reports = audit.audit([tmp_path / "acme" / "dev"])
    # THEN nothing fails unsuppressed, and the storage stack's accepted findings carry their recorded reasons
    for report in reports:
        assert [(f.rule, f.file, f.resource) for f in report.failed] == [], report.tool
    suppressed = {
        (f.rule, f.resource) for report in reports for f in report.suppressed if f.file.endswith("storage.json")
    }
    assert ("CKV_AWS_18", "UploadsBucket") in suppressed
    assert ("sqs_dlq_check", "JobsDeadLetterQueue") in suppressed
    reasons = {s.reason for s in suppressions.known()}
    for build in compiler.compile_all(select(PARAMS, TARGETS)):  # and each environment's own accepted_risks
        reasons.update(" ".join(risk.reason.split()) for risk in build.spec.accepted_risks)
    assert all(f.suppressed_because in reasons for report in reports for f in report.suppressed)


def test_an_environment_with_jobs_audits_clean(tmp_path):
    # GIVEN a private environment with a scheduled job (schedule, its role and dead-letter queue) and an unscheduled one
    from stackloom.output import write

    write(compiler.compile_environment(parse(jobs_spec())), tmp_path)
    # WHEN cfn-lint, checkov and the Control Tower rules run on it
    reports = audit.audit([tmp_path / "acme" / "dev"])
    # THEN nothing fails unsuppressed, and the job stacks' accepted findings are the recorded ones
    for report in reports:
        assert [(f.rule, f.file, f.resource) for f in report.failed] == [], report.tool
    suppressed = {
        (f.rule, f.file.rsplit("/", 1)[-1], f.resource)
        for report in reports
        for f in report.suppressed
        if "job-" in f.file
    }
    assert ("sqs_dlq_check", "job-report.json", "DeadLetterQueue") in suppressed
    assert {resource for _, _, resource in suppressed} <= {"LogGroup", "DeadLetterQueue"}
