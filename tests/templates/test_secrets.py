"""Secrets never appear in emitted templates or command output: the spec only names secrets (SSM parameters,
Secrets Manager secrets); templates carry ARNs and references; generated credentials (Redis AUTH token,
Aurora master password) live in Secrets Manager and are resolved by CloudFormation or managed by RDS."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest
import yaml

from stackloom.cli.main import main
from stackloom.params import SpecError, load_spec

from ..helpers import base_spec, resources, templates_of

CANARY_SSM = "/acme/dev/canary-ssm-7f3a9c"
CANARY_SM = "acme/dev/canary-sm-51d2e8"
CANARIES = ("canary-ssm-7f3a9c", "canary-sm-51d2e8")
SECRET_NAME = re.compile(r"(password|passwd|secret|token|private.?key|api.?key|credential)", re.IGNORECASE)


def canary_spec() -> dict:
    spec = base_spec()
    spec["cache"] = {"nodes": 2}
    spec["database"] = {"enabled": True}
    spec["services"]["api"].update(
        connects_to=["cache", "database"],
        environment={"MODE": "dev"},
        secrets={
            "DB_PASSWORD": {"ssm": CANARY_SSM},
            "API_KEY": {"secrets_manager": CANARY_SM, "json_key": "key"},
            "WHOLE_SECRET": {"secrets_manager": CANARY_SM},
        },
    )
    return spec


@pytest.fixture(scope="module")
def canary_build(tmp_path_factory) -> tuple[Path, str]:
    """The canary spec built through the CLI: (environment folder, everything the command printed)."""
    root = tmp_path_factory.mktemp("secrets")
    params = root / "params" / "acme"
    params.mkdir(parents=True)
    (params / "dev.yaml").write_text(yaml.safe_dump(canary_spec()), encoding="utf-8")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        assert main(["build", "--params", str(root / "params"), "--output", str(root / "output")]) == 0
        assert main(["diff", "acme/dev", "--params", str(root / "params"), "--baseline", str(root / "output")]) == 0
    return root / "output" / "acme" / "dev", printed.getvalue()


def strings(value, path=()):
    """(path, string) for every string in a JSON value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, path + (index,))


def containers(template: dict):
    for logical_id, task in resources(template, "AWS::ECS::TaskDefinition").items():
        for container in task["Properties"]["ContainerDefinitions"]:
            yield logical_id, container


def is_reference(value) -> bool:
    """An ARN expression or a reference to one, never a value."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, argument),) = value.items()
        if key in ("Ref", "Fn::GetAtt"):
            return True
        if key == "Fn::Sub":
            body, variables = (argument, {}) if isinstance(argument, str) else argument
            return (body.startswith("arn:") or body.startswith("${Arn}:")) and all(
                is_reference(v) for v in variables.values()
            )
        if key == "Fn::If":
            return all(is_reference(branch) or branch == {"Ref": "AWS::NoValue"} for branch in argument[1:])
    return isinstance(value, str) and value.startswith("arn:")


# ---- the canary spec ------------------------------------------------------------------------------


def test_secret_names_appear_only_inside_arns(canary_build):
    # GIVEN a spec whose secrets have recognisable names WHEN built THEN every file mentions them only within ARNs
    env_dir, _ = canary_build
    seen = []
    for path in sorted(env_dir.glob("*.json")):
        for where, text in strings(json.loads(path.read_text(encoding="utf-8"))):
            if any(canary in text for canary in CANARIES):
                seen.append((path.name, where))
                assert text.startswith("arn:${AWS::Partition}:ssm:") or text.startswith(
                    "arn:${AWS::Partition}:secretsmanager:"
                ), (path.name, where, text)
    assert seen, "the canary secrets are not referenced at all"


def secret_entries(container: dict) -> list[dict]:
    """The container's secrets, both branches of a conditional one (the database switch) included."""
    entries = []
    for entry in container.get("Secrets", []):
        if "Fn::If" in entry:
            entries += [branch for branch in entry["Fn::If"][1:] if branch != {"Ref": "AWS::NoValue"}]
        else:
            entries.append(entry)
    return entries


def test_spec_secrets_are_injected_as_ecs_secrets_by_reference(canary_build):
    # GIVEN the canary spec WHEN built THEN each secret is an ECS secret with an ARN or reference, none is plain environment
    env_dir, _ = canary_build
    ((_, container),) = containers(templates_of(env_dir)["service-api.json"])
    secrets = {entry["Name"]: entry["ValueFrom"] for entry in secret_entries(container)}
    environment = {entry["Name"] for entry in container.get("Environment", [])}
    assert set(secrets) == {"DB_PASSWORD", "API_KEY", "WHOLE_SECRET", "REDIS_AUTH_TOKEN", "DATABASE_CREDENTIALS"}
    assert not set(secrets) & environment
    for name, value in secrets.items():
        assert is_reference(value), (name, value)


def test_nothing_printed_mentions_a_secret(canary_build):
    # the build summary and the diff table name files and resources, never secret names or values
    _, printed = canary_build
    assert printed and not any(canary in printed for canary in CANARIES)


# ---- every environment ----------------------------------------------------------------------------


def all_templates(built: Path, canary_build) -> dict[str, dict]:
    env_dirs = sorted(path.parent for path in built.glob("*/*/manifest.json")) + [canary_build[0]]
    return {
        f"{env.parent.name}/{env.name}/{name}": template
        for env in env_dirs
        for name, template in templates_of(env).items()
    }


def test_container_secrets_are_references_and_environment_holds_no_secret(built, canary_build):
    for name, template in all_templates(built, canary_build).items():
        for logical_id, container in containers(template):
            for secret in secret_entries(container):
                assert is_reference(secret["ValueFrom"]), (name, logical_id, secret)
            for entry in container.get("Environment", []):
                value = entry["Value"]
                assert not (isinstance(value, str) and "{{resolve:" in value), (name, entry)
                if SECRET_NAME.search(entry["Name"]):
                    # a secret-sounding name in the plain environment must not carry a literal value
                    assert not isinstance(value, str), (name, entry)


def test_dynamic_references_only_for_the_redis_auth_token(built, canary_build):
    # GIVEN every emitted template WHEN searched for `{{resolve:` THEN it occurs only as the Redis AUTH token,
    # resolved from a generated Secrets Manager secret of the same template
    found = 0
    for name, template in all_templates(built, canary_build).items():
        for where, text in strings(template):
            if "{{resolve:" not in text:
                continue
            found += 1
            assert where[0] == "Resources" and where[2:4] == ("Properties", "AuthToken"), (name, where)
            group = template["Resources"][where[1]]
            assert group["Type"] == "AWS::ElastiCache::ReplicationGroup"
            sub = group["Properties"]["AuthToken"]["Fn::Sub"]
            assert sub[0] == "{{resolve:secretsmanager:${Secret}:SecretString}}"
            secret = template["Resources"][sub[1]["Secret"]["Ref"]]
            assert secret["Type"] == "AWS::SecretsManager::Secret"
            assert "GenerateSecretString" in secret["Properties"] and "SecretString" not in secret["Properties"]
    assert found >= 2, "the Redis AUTH token references were not found (bet2wealth has a cache)"


def test_no_literal_secret_values_in_secret_resources_or_databases(built, canary_build):
    for name, template in all_templates(built, canary_build).items():
        for secret in resources(template, "AWS::SecretsManager::Secret").values():
            assert "SecretString" not in secret["Properties"], name
        for cluster in resources(template, "AWS::RDS::DBCluster").values():
            assert cluster["Properties"].get("ManageMasterUserPassword") is True, name
            assert "MasterUserPassword" not in cluster["Properties"], name
        for group in resources(template, "AWS::ElastiCache::ReplicationGroup").values():
            assert "{{resolve:secretsmanager:" in json.dumps(group["Properties"].get("AuthToken")), name


def test_secret_sounding_parameters_are_no_echo(built, canary_build):
    # a template parameter that could carry a secret value must be NoEcho (ARNs and names of secrets are fine)
    for name, template in all_templates(built, canary_build).items():
        for parameter, definition in (template.get("Parameters") or {}).items():
            if SECRET_NAME.search(parameter) and not re.search(r"(Arn|Name|Id)$", parameter):
                assert definition.get("NoEcho") in (True, "true"), (name, parameter)


# ---- the spec refuses plain-text secrets ----------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        (
            ("services", "api", "environment", "DB_PASSWORD"),
            "{{resolve:secretsmanager:acme/dev/db:SecretString:password}}",
        ),
        (("services", "api", "environment", "TOKEN"), "{{resolve:ssm-secure:/acme/dev/token}}"),
        (("services", "api", "command"), ["sh", "-c", "echo {{RESOLVE:ssm:/acme/dev/x}}"]),
        (("tags", "Owner"), "${AWS::AccountId}"),
    ],
)
def test_cloudformation_syntax_in_plain_values_is_refused(tmp_path, field, value):
    # GIVEN a dynamic reference (or pseudo parameter) in a plain value, where CloudFormation would resolve a
    # secret into plain text WHEN loaded THEN the file is refused, naming the field and pointing to `secrets:`
    data = base_spec()
    place = data
    for part in field[:-1]:
        place = place.setdefault(part, {})
    place[field[-1]] = value
    path = tmp_path / "acme" / "dev.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SpecError) as error:
        load_spec(path)
    message = str(error.value)
    assert str(path) in message and ".".join(field) in message and "secrets:" in message


FULL_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme/dev/shared-AbC123"


def _with_full_arn(**secret) -> dict:
    spec = base_spec()
    spec["services"]["api"]["secrets"] = {"SHARED": {"secrets_manager": FULL_ARN, **secret}}
    return spec


def test_a_full_secret_arn_is_referenced_and_granted_exactly():
    # GIVEN a secret of another region named by its full ARN, one JSON key of it
    from ..helpers import compile_dict, only

    templates = compile_dict(_with_full_arn(json_key="password"))
    service = templates["service-api.json"]
    container = only(service, "AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"][0]
    # THEN ECS reads <arn>:<key>:: and the execution role may read exactly that ARN (no -?????? wildcard)
    assert {"Name": "SHARED", "ValueFrom": FULL_ARN + ":password::"} in container["Secrets"]
    role = resources(service, "AWS::IAM::Role")["ExecutionRole"]
    text = json.dumps(role["Properties"]["Policies"])
    assert FULL_ARN in text and "acme/dev/shared-??????" not in text


@pytest.mark.parametrize(
    "value, words",
    [
        (
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other/dev/x-AbC123",
            "must name a secret starting with acme/dev/",
        ),
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme/dev/x", "or its full ARN"),  # no suffix
        ("arn:aws:ssm:eu-west-1:123456789012:parameter/acme/dev/x", "or its full ARN"),
    ],
)
def test_a_bad_secret_arn_is_refused_in_words(value, words):
    from templates.spec import SpecInvalid, parse

    spec = base_spec()
    spec["services"]["api"]["secrets"] = {"SHARED": {"secrets_manager": value}}
    with pytest.raises(SpecInvalid) as caught:
        parse(spec)
    assert any(words in message for _, message in caught.value.problems), caught.value.problems
