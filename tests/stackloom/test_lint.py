"""cfn-lint (Python API, pinned) reports nothing on any emitted template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stackloom import manifest as manifests
from stackloom.audit import lint

from ..helpers import PROJECT, TARGETS, base_spec, compile_dict


@pytest.mark.parametrize("target", TARGETS)
def test_every_emitted_template_is_lint_clean(built, target):
    files = lint.template_files(built / target)
    assert len(files) >= 7
    region = manifests.load(built / target).region  # each environment for its own region
    findings = {path.name: found for path, found in lint.lint_files(files, region).items() if found}
    assert findings == {}


def test_lint_reports_a_broken_template(tmp_path):
    # GIVEN a template with a stateful resource lacking policies WHEN linted THEN the mandatory rule fires
    path = tmp_path / "t.json"
    path.write_text(
        '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"Q": {"Type": "AWS::Logs::LogGroup",'
        ' "Properties": {"RetentionInDays": 7}}}}'
    )
    (found,) = lint.lint_files([path]).values()
    assert any(item.startswith("I3011") for item in found)


def test_variants_lint_clean(tmp_path):
    # GIVEN switches the seeds don't use (per-AZ NAT, no NAT, autoscaling, EC2, database on, TLS with a given cert)
    data = base_spec(
        network={"cidr": "10.30.0.0/16", "availability_zones": 3, "nat": "per-az"},
        load_balancer={"certificate_arn": "arn:aws:acm:eu-central-1:123456789012:certificate/abc-1"},
        cluster={"ec2_capacity": {}},
        database={"enabled": True, "instances": 2},
        cache={"nodes": 3},
        production=True,
    )
    data["services"]["api"].update(
        connects_to=["cache", "database", "worker"],
        autoscaling={"min_capacity": 1, "max_capacity": 3, "memory_target_percent": 70},
    )
    data["services"]["worker"] = {
        "compute": "ec2",
        "port": 9000,
        "image": {"uri": "public.ecr.aws/acme/worker"},
        "readonly_root_filesystem": True,
        "user": "1000",
        "health_check_command": ["true"],
    }
    built = compile_dict(data)
    paths = []
    for name, template in built.items():
        if isinstance(template, dict) and "Resources" in template:
            path = tmp_path / name
            path.write_text(json.dumps(template))
            paths.append(path)
    findings = {path.name: found for path, found in lint.lint_files(paths).items() if found}
    assert findings == {}


def test_cfnlintrc_matches_the_api_configuration():
    config = yaml.safe_load((PROJECT / ".cfnlintrc").read_text())
    assert config["include_checks"] == list(lint.INCLUDE_CHECKS)
    assert config["mandatory_checks"] == list(lint.MANDATORY_CHECKS)
    assert config["ignore_checks"] == list(lint.IGNORE_CHECKS)


def test_each_template_names_its_region_so_plain_cfn_lint_checks_it_there(tmp_path):
    # GIVEN an environment in us-west-2 on an instance type us-west-2 offers and eu-central-1 does not
    import json as json_module
    import subprocess
    import sys
    from pathlib import Path

    from stackloom import build as compiler
    from templates.spec import parse

    from ..helpers import base_spec

    data = base_spec(region="us-west-2")
    data["cluster"] = {"ec2_capacity": {"instance_type": "c7gn.large", "min_size": 1, "max_size": 2}}
    data["services"]["api"].update(compute="ec2", cpu=512, memory=1024)
    for name, body in compiler.compile_environment(parse(data)).files.items():
        (tmp_path / name).write_text(body)
    cluster = json_module.loads((tmp_path / "cluster.json").read_text())
    assert cluster["Metadata"] == {"cfn-lint": {"config": {"regions": ["us-west-2"]}}}
    # WHEN cfn-lint runs with a config file that names another region (as .cfnlintrc once did)
    (tmp_path / "config.yaml").write_text("regions:\n  - eu-central-1\n")
    executable = str(Path(sys.executable).with_name("cfn-lint"))  # the CLI a user runs, from this virtualenv
    cli = [executable, "--config-file", "config.yaml", "--format", "parseable", "--"]
    kept = subprocess.run([*cli, "cluster.json"], cwd=tmp_path, capture_output=True, text=True)
    # THEN the template's own region wins: clean
    assert kept.returncode == 0, kept.stdout[:2000]
    # AND without it the same template is linted for eu-central-1, where the type does not exist
    del cluster["Metadata"]
    (tmp_path / "stripped.json").write_text(json_module.dumps(cluster))
    stripped = subprocess.run([*cli, "stripped.json"], cwd=tmp_path, capture_output=True, text=True)
    assert stripped.returncode != 0 and "E3628" in stripped.stdout


def test_cfnlintrc_names_no_region_of_its_own():
    # a region in .cfnlintrc would be the fallback for templates without one; every emitted template has one
    config = yaml.safe_load((PROJECT / ".cfnlintrc").read_text())
    assert "regions" not in config
    for path in sorted((PROJECT / "output").glob("*/*/*.json")):
        if path.name not in ("parameters.json", "overrides.json", "manifest.json"):
            assert '"cfn-lint"' in path.read_text(), path


# ---- `build.py lint` ----------------------------------------------------------------------------------


def _lint_command(capsys, *args) -> tuple[int, str, str]:
    from stackloom.cli.main import main

    code = main(["lint", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def broken_output(built, tmp_path) -> Path:
    """A copy of the built bet2wealth/dev whose cluster stack gained a log group without policies (I3011)."""
    import shutil

    output = tmp_path / "output"
    shutil.copytree(built / "bet2wealth" / "dev", output / "bet2wealth" / "dev")
    path = output / "bet2wealth" / "dev" / "cluster.json"
    template = json.loads(path.read_text())
    template["Resources"]["Unprotected"] = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}}
    path.write_text(json.dumps(template, indent=1))
    return output


def test_lint_command_is_clean_on_the_built_environments_and_exits_0(built, capsys):
    code, out, err = _lint_command(capsys, "--output", built)
    assert (code, out, err) == (0, "", "")


def test_lint_command_prints_findings_as_bare_cfn_lint_does_and_exits_2(broken_output, capsys):
    import subprocess
    import sys

    # GIVEN an environment with one template that has findings WHEN `build.py lint` runs over it
    code, out, _ = _lint_command(capsys, "--output", broken_output)
    # THEN it exits 2 and prints exactly what the cfn-lint CLI prints for those templates (project settings)
    assert code == 2 and "I3011" in out and "cluster.json:" in out
    files = [str(path) for path in lint.template_files(broken_output / "bet2wealth" / "dev")]
    bare = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--", *sorted(files)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    assert bare.returncode != 0 and out == bare.stdout


def test_lint_command_writes_sarif_with_rule_ids_and_line_numbers(broken_output, capsys):
    code, out, _ = _lint_command(capsys, "--output", broken_output, "--format", "sarif", "bet2wealth")
    log = json.loads(out)
    assert code == 2 and log["version"] == "2.1.0"
    (run,) = log["runs"]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} == {"I3011"}
    locations = [result["locations"][0]["physicalLocation"] for result in run["results"]]
    assert {result["ruleId"] for result in run["results"]} == {"I3011"}
    assert all(place["artifactLocation"]["uri"].endswith("bet2wealth/dev/cluster.json") for place in locations)
    assert all(place["region"]["startLine"] > 1 for place in locations)


def test_lint_command_json_and_a_clean_sarif(built, broken_output, capsys):
    code, out, _ = _lint_command(capsys, "--output", broken_output, "--format", "json")
    assert code == 2 and {item["Rule"]["Id"] for item in json.loads(out)} == {"I3011"}
    code, out, _ = _lint_command(capsys, "--output", built, "--format", "sarif", "vanity-market/preprod")
    assert code == 0 and json.loads(out)["runs"][0]["results"] == []


def test_lint_command_without_a_build_or_with_an_unknown_target_exits_1(built, tmp_path, capsys):
    code, out, err = _lint_command(capsys, "--output", tmp_path / "nothing")
    assert code == 1 and "holds no built environment" in err and "Traceback" not in err
    code, _, err = _lint_command(capsys, "--output", built, "bet2wealth/nope")
    assert code == 1 and "'bet2wealth/nope' is not built" in err and "bet2wealth/dev" in err


def test_lint_command_with_a_template_missing_exits_1(broken_output, capsys):
    (broken_output / "bet2wealth" / "dev" / "network.json").unlink()
    code, _, err = _lint_command(capsys, "--output", broken_output, "--no-cache")
    assert code == 1 and "network.json" in err
