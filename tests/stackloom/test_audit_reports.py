"""`audit --format sarif|junit`: the findings of all three tools at their template lines, accepted ones kept with
their reasons (stackloom/audit/reports.py)."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from stackloom.audit import accepted, audit, lint, reports
from stackloom.cli.main import main
from templates.spec_escapes import AcceptedRiskSpec

from ..helpers import PARAMS

GUARD_RULE = "ecs_containers_readonly_access_check"
BAD = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},  # I3011: no DeletionPolicy
        "OpenSsh": {  # checkov CKV_AWS_24 fails
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "x",
                "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}],
            },
        },
        "Skipped": {  # the same check, skipped in the template's Metadata: an in-source suppression
            "Type": "AWS::EC2::SecurityGroup",
            "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_24", "comment": "bastion, on purpose"}]}},
            "Properties": {
                "GroupDescription": "y",
                "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}],
            },
        },
        "Task": {  # Control Tower rules fail it; the environment accepts the read-only one without a resource
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "ContainerDefinitions": [{"Name": "x", "Image": "x", "Privileged": True, "User": "root", "Memory": 512}]
            },
        },
    },
}


def _line_of(text: str, resource: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line == f'    "{resource}": {{')


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    root = tmp_path_factory.mktemp("repo")
    path = root / "out" / "acme" / "dev" / "bad.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(BAD, indent=2, sort_keys=True) + "\n")  # as the build writes templates
    found = [audit.run_cfnlint([path], "eu-central-1"), audit.run_checkov([path]), audit.run_guard([path])]
    risk = AcceptedRiskSpec(check=GUARD_RULE, reason="read-only root file system comes later")
    _, problems = accepted.accept(found, [accepted.Environment("acme/dev", "acme/dev.yaml", path.parent, [risk])])
    assert problems == []
    return root, path, found


def test_sarif_has_one_run_per_tool_with_rules_and_lines(audited):
    root, path, found = audited
    text = path.read_text()
    log = json.loads(reports.sarif_text(found, root))
    # THEN it is a SARIF 2.1.0 log with one run per tool, each told apart for code scanning
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    drivers = [run["tool"]["driver"] for run in log["runs"]]
    assert [driver["name"] for driver in drivers] == ["cfn-lint", "checkov", "cfn-guard"]
    assert all(driver["version"][0].isdigit() for driver in drivers)
    assert len({run["automationDetails"]["id"] for run in log["runs"]}) == 3
    for run in log["runs"]:
        rules = run["tool"]["driver"]["rules"]
        assert run["results"], run["tool"]["driver"]["name"]
        for result in run["results"]:
            # AND each result names its rule (by id and index), a level, and the template file and line
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            assert result["level"] in ("error", "warning", "note") and result["message"]["text"]
            (location,) = result["locations"]
            artifact = location["physicalLocation"]["artifactLocation"]
            assert artifact == {"uri": "out/acme/dev/bad.json", "uriBaseId": "%SRCROOT%"}
            line = location["physicalLocation"]["region"]["startLine"]
            if "logicalLocations" in location:
                assert line == _line_of(text, location["logicalLocations"][0]["name"])
    by_rule = {(run["tool"]["driver"]["name"], r["ruleId"]): r for run in log["runs"] for r in run["results"]}
    i3011 = by_rule[("cfn-lint", "I3011")]
    assert i3011["level"] == "note" and "suppressions" not in i3011
    assert _line_of(text, "Logs") <= i3011["locations"][0]["physicalLocation"]["region"]["startLine"]
    cfn_lint_rules = {rule["id"]: rule for rule in drivers[0]["rules"]}
    assert cfn_lint_rules["I3011"]["helpUri"].startswith("https://")


def test_sarif_keeps_accepted_findings_as_suppressions_with_their_reasons(audited):
    root, _, found = audited
    log = reports.sarif(found, root)
    checkov = [r for r in log["runs"][1]["results"] if r["ruleId"] == "CKV_AWS_24"]
    by_resource = {r["locations"][0]["logicalLocations"][0]["name"]: r for r in checkov}
    # THEN the open group fails, the skipped one is there, suppressed in source with its reason
    assert "suppressions" not in by_resource["OpenSsh"] and by_resource["OpenSsh"]["level"] == "error"
    (suppression,) = by_resource["Skipped"]["suppressions"]
    assert suppression["kind"] == "inSource" and suppression["justification"] == audit.NOT_RECORDED
    # AND the environment's accepted risk suppresses the guard rule externally, with the spec's reason
    guard = [r for r in log["runs"][2]["results"] if r["ruleId"] == GUARD_RULE]
    assert guard and all(
        r["suppressions"] == [{"kind": "external", "justification": "read-only root file system comes later"}]
        for r in guard
    )
    assert any("suppressions" not in r for r in log["runs"][2]["results"])  # the other failures stay failures


def test_junit_has_a_suite_per_tool_and_a_failure_per_finding(audited):
    root, _, found = audited
    suites = ET.fromstring(reports.junit(found, root))
    assert [suite.get("name") for suite in suites] == [report.tool for report in found]
    for suite, report in zip(suites, found):
        (case,) = suite.findall("testcase")  # one template
        assert case.get("name") == "acme/dev/bad.json" and case.get("file") == "out/acme/dev/bad.json"
        failures = case.findall("failure")
        assert sorted(f.get("type") for f in failures) == sorted(f.rule for f in report.failed)
        assert all("out/acme/dev/bad.json:" in f.text for f in failures)
        assert suite.get("tests") == "1" and suite.get("failures") == "1"
        if report.suppressed:
            assert all(f.suppressed_because in case.find("system-out").text for f in report.suppressed)
    assert suites.get("failures") == "3"


def test_audit_command_prints_sarif_of_the_built_templates(tmp_path, monkeypatch):
    # GIVEN vanity-market/preprod built by `audit` into out/ WHEN it prints SARIF
    monkeypatch.chdir(tmp_path)
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        code = main(["audit", "--params", str(PARAMS), "--output", "out", "--format", "sarif", "vanity-market"])
    # THEN the exit code is the markdown run's (clean), and stdout is nothing but the log
    assert code == 0
    log = json.loads(stdout.getvalue())
    results = [result for run in log["runs"] for result in run["results"]]
    assert results and all(result["suppressions"][0]["justification"] for result in results)  # all accepted
    for result in results:
        location = result["locations"][0]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("out/vanity-market/preprod/") and uri.endswith(".json")
        if "logicalLocations" in location:  # AND the line is the resource's in the emitted file
            line = location["physicalLocation"]["region"]["startLine"]
            resource = location["logicalLocations"][0]["name"]
            assert Path(uri).read_text().splitlines()[line - 1] == f'    "{resource}": {{'


def test_audit_command_prints_junit(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["audit", "--params", str(PARAMS), "--output", "out", "--format", "junit", "vanity-market"])
    suites = ET.fromstring(capsys.readouterr().out)
    assert code == 0 and len(suites) == 3 and suites.get("failures") == "0"
    templates = lint.template_files(Path("out/vanity-market/preprod"))
    for suite in suites:  # THEN each tool has a testcase for each template of the environment, all passing
        cases = suite.findall("testcase")
        assert sorted(case.get("file") for case in cases) == sorted(path.as_posix() for path in templates)
        assert not [case for case in cases if case.find("failure") is not None]
