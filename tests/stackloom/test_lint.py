"""cfn-lint (Python API, pinned) reports nothing on any emitted template."""

from __future__ import annotations

import json

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
