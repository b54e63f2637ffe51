"""Accepted risks: documented opt-ins carry their accepted findings, so a NEW environment (one suppressions.yaml
names nowhere) that uses only documented options passes `audit`; the spec's own `accepted_risks:` are applied
with their reasons and origins; one without a reason, or whose check does not fire, is an error.

Audit runs are slow (checkov about 10 s an environment): two run here, shared by the tests through
module-scoped fixtures; everything else is checked on the build alone."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import yaml

from stackloom.cli.main import main
from templates import suppressions

from ..helpers import base_spec, compile_dict

REASON = "The upstream worker image runs as root and writes to its home; tracked in TICKET-7."


def opt_in_spec(environment: str = "sandbox") -> dict:
    """A new environment of documented opt-ins: http_only, a mutable repository, a database without deletion
    protection (not production); its api runs read-only as a non-root user."""
    spec = base_spec(environment=environment)
    spec["repositories"]["api"]["immutable_tags"] = False
    spec["database"] = {"enabled": True, "deletion_protection": False}
    spec["services"]["api"].update(user="1000", readonly_root_filesystem=True, connects_to=["database"])
    return spec


def accepting_spec() -> dict:
    """`opt_in_spec` plus a worker that runs as root on a writable filesystem and a tag an override adds with a
    needless Fn::Sub (cfn-lint W1020), each accepted in `accepted_risks` (a cfn-guard rule name on a resource, a
    Control Tower control on any resource, a cfn-lint rule on a resource, and a checkov check on a resource that an
    override makes fail: ECR scan on push removed)."""
    spec = opt_in_spec("trial")
    spec["repositories"]["api"]["immutable_tags"] = True
    spec["repositories"]["tools"] = {"name": "acme-tools", "immutable_tags": False}
    spec["services"]["worker"] = {"image": {"repository": "api", "tag": "v1"}}
    spec["overrides"] = [
        {
            "template": "service-api.json",
            "op": "add",
            "path": "/Resources/Service/Properties/Tags/-",
            "value": {"Key": "Team", "Value": {"Fn::Sub": "payments"}},
        },
        {
            "template": "bootstrap.json",
            "op": "remove",
            "path": "/Resources/ToolsRepository/Properties/ImageScanningConfiguration",
        },
    ]
    spec["accepted_risks"] = [
        {
            "check": "ecs_task_definition_nonroot_user_check",
            "template": "service-worker.json",
            "resource": "TaskDefinition",
            "reason": REASON,
        },
        {"check": "CT.ECS.PR.6", "template": "service-worker.json", "reason": "Writes its cache to /var/lib."},
        {
            "check": "W1020",
            "template": "service-api.json",
            "resource": "Service",
            "reason": "The Team tag is filled in by a later template revision.",
        },
        {
            "check": "CKV_AWS_163",
            "template": "bootstrap.json",
            "resource": "ToolsRepository",
            "reason": "Tools images are scanned by the registry-wide enhanced scanning instead.",
        },
        {
            "check": "ecr_private_image_scanning_enabled_check",
            "template": "bootstrap.json",
            "resource": "ToolsRepository",
            "reason": "Tools images are scanned by the registry-wide enhanced scanning instead.",
        },
    ]
    return spec


def _write(params: Path, spec: dict) -> Path:
    path = params / spec["system"] / f"{spec['environment']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def params(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("accepted") / "params"
    _write(folder, opt_in_spec())
    _write(folder, accepting_spec())
    stale = base_spec(environment="stale")  # immutable tags: CKV_AWS_51 does not fire on its repository
    stale["services"]["api"].update(user="1000", readonly_root_filesystem=True)
    stale["accepted_risks"] = [
        {"check": "CKV_AWS_51", "resource": "ApiRepository", "reason": "Moving tags are pushed by CI jobs."}
    ]
    _write(folder, stale)
    return folder


@pytest.fixture(scope="module")
def passing(params, tmp_path_factory):
    """`audit` over the two new environments that should pass (one run: checkov and cfn-guard once for both)."""
    output = tmp_path_factory.mktemp("out")
    return _cli("audit", "acme/sandbox", "acme/trial", "--params", str(params), "--output", str(output))


@pytest.fixture(scope="module")
def stale(params, tmp_path_factory):
    output = tmp_path_factory.mktemp("out")
    return _cli("audit", "acme/stale", "--params", str(params), "--output", str(output))


def test_a_new_environment_of_documented_opt_ins_and_accepted_risks_passes_audit(passing):
    code, out, err = passing
    assert "FAILED" not in out, out
    assert "error:" not in err, err
    assert code == 0


def test_the_report_names_each_opt_in_and_spec_risk_with_origin_and_reason(passing, params):
    _, out, _ = passing
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    table = "\n".join(rows)

    def row(origin: str, rule: str, resource: str) -> str:
        found = [line for line in rows if line.startswith(f"| {origin} |") and f"| {rule} | {resource} |" in line]
        assert found, (origin, rule, resource, table)
        return found[0]

    assert "http_only: true is chosen" in row("opt-in load_balancer.http_only: true", "CKV_AWS_2", "HttpListener")
    row("opt-in load_balancer.http_only: true", "alb_http_to_https_redirection_check", "HttpListener")
    row("opt-in repositories.<name>.immutable_tags: false", "CKV_AWS_51", "ApiRepository")  # sandbox's api
    row("opt-in repositories.<name>.immutable_tags: false", "CKV_AWS_51", "ToolsRepository")  # trial's tools
    row(
        "opt-in database.deletion_protection: false outside production",
        "rds_cluster_deletion_protection_enabled_check",
        "DatabaseCluster",
    )
    row(
        "opt-in load_balancer.deletion_protection off outside production (the default)",
        "elbv2_deletion_protection_enabled_check",
        "LoadBalancer",
    )
    trial = str(params / "acme" / "trial.yaml")
    assert REASON in row(f"{trial} accepted_risks.0", "ecs_task_definition_nonroot_user_check", "TaskDefinition")
    assert "/var/lib" in row(f"{trial} accepted_risks.1", "ecs_containers_readonly_access_check", "TaskDefinition")
    assert "later template revision" in row(f"{trial} accepted_risks.2", "W1020", "Service")
    assert "enhanced scanning" in row(f"{trial} accepted_risks.3", "CKV_AWS_163", "ToolsRepository")
    row("templates/suppressions.yaml", "CKV_AWS_260", "LoadBalancerSecurityGroup")


def test_a_risk_whose_check_does_not_fire_is_an_audit_error(stale, params):
    code, out, err = stale
    assert code == 2
    assert (
        f"error: {params / 'acme' / 'stale.yaml'}: accepted_risks.0: CKV_AWS_51 does not fire on ApiRepository" in err
    ), err
    assert "FAILED" not in out


def test_a_risk_without_its_reason_fails_audit_before_any_tool_runs(params, tmp_path):
    # GIVEN the passing environment with the reason of its first accepted risk removed
    spec = accepting_spec()
    del spec["accepted_risks"][0]["reason"]
    folder = tmp_path / "params"
    path = _write(folder, spec)
    # WHEN audit runs THEN it stops with the params file, the entry and the missing field, writing nothing
    code, out, err = _cli("audit", "acme/trial", "--params", str(folder), "--output", str(tmp_path / "out"))
    assert code == 2 and out == ""
    assert f"{path}: invalid spec" in err and "accepted_risks.0.reason: required field missing" in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("reason", ["", "ok", "because I said"])
def test_a_reason_of_too_few_words_is_refused(tmp_path, reason):
    spec = accepting_spec()
    spec["accepted_risks"][0]["reason"] = reason
    path = _write(tmp_path / "params", spec)
    code, _, err = _cli("build", "acme/trial", "--params", str(tmp_path / "params"), "--output", str(tmp_path / "o"))
    assert code == 2 and f"{path}: invalid spec" in err and "accepted_risks.0.reason" in err, err


def test_a_mandatory_cfnlint_check_cannot_be_accepted(tmp_path):
    from stackloom.audit.accepted import Environment, accept
    from templates.spec import parse

    spec = parse(
        base_spec(accepted_risks=[{"check": "I3011", "resource": "X", "reason": "Not needed for tests here."}])
    )
    origins, errors = accept([], [Environment("acme/dev", "dev.yaml", tmp_path, list(spec.accepted_risks))])
    assert origins == {} and len(errors) == 1 and "I3011 is mandatory" in errors[0]


# ---- the build side (no audit run) --------------------------------------------------------------------


def test_documented_opt_ins_write_their_accepted_findings_into_metadata():
    templates = compile_dict(opt_in_spec())

    def metadata(file_name: str, resource: str) -> dict:
        return templates[file_name]["Resources"][resource].get("Metadata", {})

    listener = metadata("loadbalancer.json", "HttpListener")
    assert {skip["id"] for skip in listener["checkov"]["skip"]} == {"CKV_AWS_2", "CKV_AWS_103"}
    assert listener["guard"]["SuppressedRules"] == ["alb_http_to_https_redirection_check"]
    assert metadata("loadbalancer.json", "LoadBalancer")["guard"]["SuppressedRules"] == [
        "elbv2_deletion_protection_enabled_check"
    ]
    assert (
        "ecr_private_tag_immutability_enabled_check"
        in metadata("bootstrap.json", "ApiRepository")["guard"]["SuppressedRules"]
    )
    assert metadata("data.json", "DatabaseCluster")["guard"]["SuppressedRules"] == [
        "rds_cluster_deletion_protection_enabled_check"
    ]


def test_without_the_opt_ins_nothing_is_accepted_for_them():
    # GIVEN TLS through a certificate, immutable tags, a protected database and a production ALB
    spec = base_spec(production=True)
    spec["load_balancer"] = {"certificate_arn": "arn:aws:acm:eu-central-1:123456789012:certificate/abc"}
    spec["database"] = {"enabled": True, "backup_retention_days": 7}
    templates = compile_dict(spec)
    rules = {
        rule
        for template in templates.values()
        if isinstance(template, dict)
        for resource in (template.get("Resources") or {}).values()
        for rule in (resource.get("Metadata") or {}).get("guard", {}).get("SuppressedRules", [])
    }
    assert not rules & {
        "alb_http_to_https_redirection_check",
        "elbv2_deletion_protection_enabled_check",
        "ecr_private_tag_immutability_enabled_check",
        "rds_cluster_deletion_protection_enabled_check",
    }


def test_spec_risks_naming_a_resource_are_written_for_each_tool():
    templates = compile_dict(accepting_spec())
    worker = templates["service-worker.json"]["Resources"]["TaskDefinition"]["Metadata"]
    assert worker["guard"]["SuppressedRules"] == ["ecs_task_definition_nonroot_user_check"]  # not the CT id
    service = templates["service-api.json"]["Resources"]["Service"]["Metadata"]
    assert service["cfn-lint"]["config"]["ignore_checks"] == ["W1020"]


def test_no_opt_in_is_accepted_by_an_environments_list_any_more():
    # the move: suppressions.yaml keeps environments: entries only where the reason is about that environment
    scoped = [entry for entry in suppressions.load() if entry.environments is not None]
    assert all("preprod" in entry.reason or "Yagna" in entry.reason for entry in scoped), scoped
    assert not any("elbv2_deletion_protection_enabled_check" in entry.rules for entry in suppressions.load())
