"""Container options of a task: `platform: arm64` (Graviton, priced at Fargate's ARM rates), Fargate
`ephemeral_storage`, and a service's ECS Exec (`exec: true`) with its task-role permissions and warning."""

from __future__ import annotations

import json

import pytest

from stackloom import build as compiler
from stackloom.audit import lint
from stackloom.cfn.evaluate import Built
from stackloom.output import write
from stackloom.report import cost
from stackloom.report.inventory import inventory
from templates import endpoints
from templates.spec import SpecInvalid, parse

from ..helpers import base_spec, compile_dict, jobs_spec, only, resources


def _spec(**service) -> dict:
    data = base_spec()
    data["services"]["api"].update(cpu=512, memory=1024, **service)
    return data


def _task(data: dict, file: str = "service-api.json") -> dict:
    return only(compile_dict(data)[file], "AWS::ECS::TaskDefinition")["Properties"]


def _refused(data: dict) -> str:
    with pytest.raises(SpecInvalid) as error:
        parse(data)
    return str(error.value)


def test_platform_arm64_sets_the_runtime_platform_and_x86_64_stays_the_default():
    assert _task(_spec(platform="arm64"))["RuntimePlatform"] == {
        "CpuArchitecture": "ARM64",
        "OperatingSystemFamily": "LINUX",
    }
    assert _task(_spec())["RuntimePlatform"] == {"CpuArchitecture": "X86_64", "OperatingSystemFamily": "LINUX"}


def test_a_job_takes_platform_and_ephemeral_storage():
    data = jobs_spec()
    data["jobs"]["report"].update(platform="arm64", ephemeral_storage=40)
    task = _task(data, "job-report.json")
    assert task["RuntimePlatform"]["CpuArchitecture"] == "ARM64" and task["EphemeralStorage"] == {"SizeInGiB": 40}


def test_arm64_is_refused_on_fargate_spot_and_on_x86_ec2_capacity():
    assert "arm64 does not run on Fargate Spot" in _refused(_spec(platform="arm64", compute="fargate-spot"))
    data = _spec(platform="arm64", compute="ec2")
    data["cluster"] = {"ec2_capacity": {"instance_type": "t3.medium"}}
    assert "services.api.platform: arm64 but the EC2 capacity's t3.medium is x86_64" in _refused(data)


def test_arm64_on_graviton_ec2_capacity_is_accepted():
    data = _spec(platform="arm64", compute="ec2")
    data["cluster"] = {"ec2_capacity": {"instance_type": "t4g.medium"}}
    assert _task(data)["RuntimePlatform"]["CpuArchitecture"] == "ARM64"


def test_without_platform_an_ec2_task_takes_its_capacitys_architecture():
    # GIVEN EC2 services on Graviton and on x86 capacity, neither naming a platform
    data = _spec(compute="ec2")
    data["cluster"] = {"ec2_capacity": {"instance_type": "t4g.medium"}}
    # THEN the task matches the instances it is placed on (an X86_64 task would never place on t4g)
    assert _task(data)["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
    data["cluster"] = {"ec2_capacity": {"instance_type": "t3.medium"}}
    assert _task(data)["RuntimePlatform"]["CpuArchitecture"] == "X86_64"
    # AND an explicit platform against the capacity is refused in words
    data = _spec(compute="ec2", platform="x86_64")
    data["cluster"] = {"ec2_capacity": {"instance_type": "t4g.medium"}}
    assert "services.api.platform: x86_64 but the EC2 capacity's t4g.medium is arm64" in _refused(data)


def test_ephemeral_storage_on_fargate_and_its_bounds():
    assert _task(_spec(ephemeral_storage=100))["EphemeralStorage"] == {"SizeInGiB": 100}
    assert "EphemeralStorage" not in _task(_spec())
    assert "services.api.ephemeral_storage" in _refused(_spec(ephemeral_storage=20))
    assert "services.api.ephemeral_storage" in _refused(_spec(ephemeral_storage=201))


def test_ephemeral_storage_is_refused_on_ec2():
    data = _spec(ephemeral_storage=50, compute="ec2")
    data["cluster"] = {"ec2_capacity": {}}
    assert "ephemeral_storage: applies to Fargate only" in _refused(data)


def test_exec_turns_on_execute_command_and_gives_the_task_role_the_ssmmessages_channels():
    template = compile_dict(_spec(exec=True))["service-api.json"]
    assert only(template, "AWS::ECS::Service")["Properties"]["EnableExecuteCommand"] is True
    role = resources(template, "AWS::IAM::Role")["TaskRole"]["Properties"]
    (policy,) = [item for item in role["Policies"] if item["PolicyName"] == "ecs-exec"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == [
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    ]
    assert statement["Effect"] == "Allow" and statement["Resource"] == ["*"]


def test_exec_is_off_by_default_with_no_exec_policy():
    template = compile_dict(_spec())["service-api.json"]
    assert only(template, "AWS::ECS::Service")["Properties"]["EnableExecuteCommand"] is False
    assert "Policies" not in resources(template, "AWS::IAM::Role")["TaskRole"]["Properties"]


def test_exec_keeps_the_grants_policy_beside_its_own():
    from ..helpers import storage_spec

    data = storage_spec()
    data["services"]["api"]["exec"] = True
    role = resources(compile_dict(data)["service-api.json"], "AWS::IAM::Role")["TaskRole"]["Properties"]
    assert [policy["PolicyName"] for policy in role["Policies"]] == ["grants", "ecs-exec"]


def test_exec_warns_at_build():
    build = compiler.compile_environment(parse(_spec(exec=True)))
    assert any("services.api: ECS Exec is on (exec: true)" in warning for warning in build.warnings)
    assert not any("ECS Exec" in warning for warning in compiler.compile_environment(parse(_spec())).warnings)


def test_exec_without_nat_adds_the_ssmmessages_endpoint():
    data = _spec(exec=True)
    data["network"]["nat"] = "none"
    assert "ssmmessages" in endpoints.needed_endpoints(parse(data))
    built = compile_dict(data)
    assert any(
        resource["Properties"].get("ServiceName") == {"Fn::Sub": "com.amazonaws.${AWS::Region}.ssmmessages"}
        for template in built.values()
        if isinstance(template, dict)
        for resource in resources(template, "AWS::EC2::VPCEndpoint").values()
    )
    data["services"]["api"]["exec"] = False
    assert "ssmmessages" not in endpoints.needed_endpoints(parse(data))


def test_every_option_together_is_lint_clean(tmp_path):
    data = _spec(platform="arm64", ephemeral_storage=60, exec=True)
    data["network"]["nat"] = "none"
    paths = []
    for name, template in compile_dict(data).items():
        if isinstance(template, dict) and "Resources" in template:
            path = tmp_path / name
            path.write_text(json.dumps(template))
            paths.append(path)
    findings = {path.name: found for path, found in lint.lint_files(paths).items() if found}
    assert findings == {}


def _estimate(tmp_path, region: str = "us-east-1", **service) -> cost.Estimate:
    data = _spec(**service)
    data["region"] = region
    folder = write(compiler.compile_environment(parse(data)), tmp_path / service.get("platform", "x86"))
    return cost.estimate(inventory(Built(folder)), cost.load_prices(cost.price_file(region)))


def _line(estimate: cost.Estimate, start: str) -> cost.Line:
    (line,) = [line for line in estimate.lines if line.component.startswith(start)]
    return line


def test_arm64_is_priced_at_fargates_arm_rates_below_x86(tmp_path):
    x86 = _line(_estimate(tmp_path), "Fargate api")
    arm = _line(_estimate(tmp_path, platform="arm64"), "Fargate api")
    table = cost.load_prices(cost.price_file("us-east-1"))["prices"]
    hours = 730
    assert arm.prices == ("fargate_arm_vcpu_hour", "fargate_arm_gb_hour")
    assert x86.prices == ("fargate_vcpu_hour", "fargate_gb_hour")
    expected = hours * (0.5 * table["fargate_arm_vcpu_hour"]["usd"] + 1 * table["fargate_arm_gb_hour"]["usd"])
    assert arm.monthly == round(expected, 2)
    assert arm.monthly < x86.monthly and arm.component == "Fargate api (ARM64)"


def test_arm64_in_eu_west_1_is_priced_at_its_sourced_arm_rates(tmp_path):
    # GIVEN eu-west-1, whose table has Fargate's ARM rates from the offer files' EU-Fargate-ARM-* SKUs
    table = cost.load_prices(cost.price_file("eu-west-1"))["prices"]
    assert (table["fargate_arm_vcpu_hour"]["usd"], table["fargate_arm_gb_hour"]["usd"]) == (0.03238, 0.00356)
    arm = _line(_estimate(tmp_path, "eu-west-1", platform="arm64"), "Fargate api")
    x86 = _line(_estimate(tmp_path, "eu-west-1"), "Fargate api")
    # THEN the 0.5 vCPU / 1 GB task is priced at those rates for 730 hours, below the x86 line
    assert arm.prices == ("fargate_arm_vcpu_hour", "fargate_arm_gb_hour")
    assert arm.monthly == round(730 * (0.5 * 0.03238 + 1 * 0.00356), 2) < x86.monthly


def test_arm64_where_the_table_has_no_arm_rate_is_not_priced_rather_than_priced_as_x86(tmp_path):
    # GIVEN eu-central-1 (the examples' region), whose bundled table has Fargate's x86 rates and no sourced ARM
    # ones: no Frankfurt Linux/ARM figure was found in a dated source
    assert "fargate_arm_vcpu_hour" not in cost.load_prices(cost.price_file("eu-central-1"))["prices"]
    estimate = _estimate(tmp_path, "eu-central-1", platform="arm64")
    # THEN the ARM64 task's line is absent and the gap names the missing rate; the x86 rate is not used for it
    assert not [line for line in estimate.lines if line.component.startswith("Fargate api")]
    assert any("fargate_arm_vcpu_hour" in gap for gap in estimate.gaps)
    assert _line(_estimate(tmp_path, "eu-central-1"), "Fargate api").prices == ("fargate_vcpu_hour", "fargate_gb_hour")


def test_ephemeral_storage_above_20_gib_is_priced_per_gb_hour(tmp_path):
    line = _line(_estimate(tmp_path, ephemeral_storage=50), "Fargate ephemeral storage api")
    price = cost.load_prices(cost.price_file("us-east-1"))["prices"]["fargate_ephemeral_gb_hour"]["usd"]
    assert line.monthly == round(30 * 730 * price, 2) and line.prices == ("fargate_ephemeral_gb_hour",)
    assert not [item for item in _estimate(tmp_path).lines if "ephemeral" in item.component]


def test_arm64_with_a_fargate_spot_share_is_refused():
    # GIVEN an arm64 service whose capacity mix puts tasks on Fargate Spot WHEN parsed THEN refused in words
    refused = _refused(_spec(platform="arm64", capacity={"fargate": 1, "fargate-spot": 3, "base": 1}))
    assert "services.api.capacity: fargate-spot must be 0 with platform: arm64" in refused
    assert _task(_spec(platform="arm64", capacity={"fargate": 1, "base": 1}))["RuntimePlatform"]["CpuArchitecture"] == (
        "ARM64"
    )


def test_exec_on_a_job_is_a_spec_error_saying_it_is_a_services_option():
    # GIVEN a job with exec: true (a job's task is started by its schedule or `build.py run`, not kept running)
    data = jobs_spec()
    data["jobs"]["report"]["exec"] = True
    # THEN the spec is refused with why, not with "check the spelling" and not silently ignored
    message = _refused(data)
    assert "jobs.report.exec: ECS Exec (exec: true) is a service's option, not a job's" in message
    assert "check the spelling" not in message
    # AND a misspelt field of a job still gets the usual hint
    data = jobs_spec()
    data["jobs"]["report"]["schedul"] = "rate(1 day)"
    assert "jobs.report.schedul: unknown field (did you mean schedule?)" in _refused(data)


def test_exec_on_a_job_fails_the_build_in_one_line(tmp_path, capsys):
    from stackloom.cli.main import main

    data = jobs_spec()
    data["jobs"]["report"]["exec"] = True
    path = tmp_path / "params" / "acme" / "dev.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    code = main(["build", "acme/dev", "--params", str(tmp_path / "params"), "--output", str(tmp_path / "output")])
    printed = capsys.readouterr()
    assert code != 0
    assert "jobs.report.exec: ECS Exec (exec: true) is a service's option" in printed.err
    assert "Traceback" not in printed.out + printed.err


def test_audit_prints_the_exec_note_for_each_service_with_exec_on(tmp_path, capsys, monkeypatch):
    # GIVEN acme/dev with exec on its api and acme/prod without; the scanners stood in by an empty report (their
    # findings are not what this is about: the NOTE is the audit command's own line, from the spec)
    from stackloom.cli import audit as audit_command
    from stackloom.cli.main import main

    monkeypatch.setattr(audit_command, "audit", lambda env_dirs, **options: [])
    params = tmp_path / "params"
    (params / "acme").mkdir(parents=True)
    (params / "acme" / "dev.yaml").write_text(json.dumps(_spec(exec=True)), encoding="utf-8")
    (params / "acme" / "prod.yaml").write_text(json.dumps(base_spec(environment="prod")), encoding="utf-8")
    # WHEN `audit acme` runs
    code = main(["audit", "acme", "--params", str(params), "--output", str(tmp_path / "output")])
    out = capsys.readouterr().out
    # THEN it prints one NOTE, for acme/dev's api, saying what ECS Exec allows
    notes = [line for line in out.splitlines() if line.startswith("NOTE ")]
    assert notes == [
        "NOTE acme/dev: services.api: ECS Exec is on (exec: true): whoever may call ecs:ExecuteCommand on the "
        "cluster can open a shell in its running containers, as their user; keep it off where nobody needs that "
        "(production)"
    ]
    assert code == 0
