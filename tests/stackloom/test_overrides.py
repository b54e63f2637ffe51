"""`overrides:`: JSON-Patch operations on the emitted templates, applied after the build renders them and before
quotas; a path or template that does not exist is a build error naming the params file and the override, the
build prints what it applied, and `diff` sees the patched templates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stackloom import build as compiler
from stackloom.cli.main import main
from stackloom.overrides import OverrideError
from templates.spec import parse

from ..helpers import base_spec, compile_dict, load


def _params(folder: Path, spec: dict) -> Path:
    path = folder / "params" / spec["system"] / f"{spec['environment']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return folder / "params"


def _build(tmp_path: Path, overrides: list[dict], capsys) -> tuple[int, str, Path]:
    params = _params(tmp_path, base_spec(overrides=overrides))
    output = tmp_path / "output"
    code = main(["build", "--params", str(params), "--output", str(output), "-q"])
    return code, capsys.readouterr().err, output


REPLACE_EXEC = {
    "template": "service-api.json",
    "op": "replace",
    "path": "/Resources/Service/Properties/EnableExecuteCommand",
    "value": True,
}


def test_a_replace_changes_the_emitted_property_and_the_build_prints_it(tmp_path, capsys):
    # GIVEN a spec whose override turns ECS Exec on in the api service's stack
    # WHEN it is built
    code, err, output = _build(tmp_path, [REPLACE_EXEC], capsys)
    # THEN the emitted service has the new value, and the build said so on stderr, one line for the override
    assert code == 0
    service = load(output / "acme/dev/service-api.json")["Resources"]["Service"]
    assert service["Type"] == "AWS::ECS::Service"
    assert service["Properties"]["EnableExecuteCommand"] is True
    lines = [line for line in err.splitlines() if line.startswith("override applied:")]
    assert lines == [
        "override applied: acme/dev: service-api.json: overrides.0: replace "
        "/Resources/Service/Properties/EnableExecuteCommand = true"
    ]


def test_without_the_override_the_property_is_the_compilers(tmp_path):
    # the replace above must be what changed it: the compiler's own value is false
    service = compile_dict(base_spec())["service-api.json"]["Resources"]["Service"]
    assert service["Properties"]["EnableExecuteCommand"] is False


def test_add_appends_to_an_array_and_creates_a_key_and_remove_deletes_one():
    # GIVEN an add to the end of the service's tags (`-`), an add of a new key (with CloudFormation syntax in the
    # value: an override is raw CloudFormation), an escaped key (~1 is /) and a remove
    spec = base_spec(
        overrides=[
            {
                "template": "service-api.json",
                "op": "add",
                "path": "/Resources/Service/Properties/Tags/-",
                "value": {"Key": "Team", "Value": "payments"},
            },
            {
                "template": "service-api.json",
                "op": "add",
                "path": "/Resources/Service/Properties/HealthCheckGracePeriodSeconds",
                "value": 120,
            },
            {"template": "service-api.json", "op": "remove", "path": "/Resources/Service/Properties/PropagateTags"},
            {
                "template": "network.json",
                "op": "add",
                "path": "/Metadata",
                "value": {"a/b": {"Fn::Sub": "${AWS::Region}"}},
            },
            {"template": "network.json", "op": "replace", "path": "/Metadata/a~1b", "value": "patched"},
        ]
    )
    # WHEN it is built
    build = compiler.compile_environment(parse(spec))
    service = json.loads(build.files["service-api.json"])["Resources"]["Service"]["Properties"]
    # THEN each operation is in the emitted JSON
    assert service["Tags"][-1] == {"Key": "Team", "Value": "payments"}
    assert (
        len(service["Tags"])
        == len(compile_dict(base_spec())["service-api.json"]["Resources"]["Service"]["Properties"]["Tags"]) + 1
    )
    assert service["HealthCheckGracePeriodSeconds"] == 120
    assert "PropagateTags" not in service
    assert json.loads(build.files["network.json"])["Metadata"] == {"a/b": "patched"}
    assert len(build.overrides) == 5
    # AND the patched file is rendered like every other: sorted keys, two-space indent, final newline, and the
    # quota usage counts the patched document
    body = build.files["service-api.json"]
    assert body == json.dumps(json.loads(body), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    usage = next(u for u in build.usages if u.file_name == "service-api.json")
    assert usage.bytes == len(body.encode("utf-8"))


def test_an_override_that_adds_a_resource_is_counted_and_deterministic():
    spec = base_spec(
        overrides=[
            {
                "template": "service-api.json",
                "op": "add",
                "path": "/Resources/ExtraTopic",
                "value": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": "alias/aws/sns"}},
            }
        ]
    )
    first, second = (compiler.compile_environment(parse(spec)) for _ in range(2))
    assert first.files == second.files
    template = json.loads(first.files["service-api.json"])
    assert template["Resources"]["ExtraTopic"]["Type"] == "AWS::SNS::Topic"
    usage = next(u for u in first.usages if u.file_name == "service-api.json")
    assert usage.resources == len(template["Resources"])


@pytest.mark.parametrize(
    ("override", "words"),
    [
        (
            {"template": "service-api.json", "op": "replace", "path": "/Resources/Servic/Properties/X", "value": 1},
            [
                "overrides.0.path",
                "/Resources/Servic/Properties/X",
                "does not exist in service-api.json",
                "/Resources has no 'Servic'",
                "Service",
                "TaskDefinition",
            ],
        ),
        (
            {"template": "service-api.json", "op": "remove", "path": "/Resources/Service/Properties/Nope"},
            ["overrides.0.path", "/Resources/Service/Properties has no 'Nope'", "DesiredCount"],
        ),
        (
            {"template": "service-api.json", "op": "add", "path": "/Resources/Missing/Properties", "value": {}},
            ["overrides.0.path", "/Resources has no 'Missing'", "add creates a key only where its parent exists"],
        ),
        (
            {"template": "service-api.json", "op": "add", "path": "/Resources/Service/Properties/Tags/99", "value": 1},
            ["overrides.0.path", "is a list of", "'99' is not an index of it", "or - to append"],
        ),
        (
            {"template": "service-apx.json", "op": "remove", "path": "/Resources/Service"},
            [
                "overrides.0.template",
                "service-apx.json is not a template of this build",
                "templates:",
                "service-api.json",
                "root.json",
                "bootstrap.json",
            ],
        ),
    ],
    ids=["replace-missing", "remove-missing", "add-without-parent", "add-past-the-end", "unknown-template"],
)
def test_a_bad_override_is_a_build_error_naming_file_and_field_and_writes_nothing(tmp_path, capsys, override, words):
    # GIVEN a spec with one override that cannot be applied WHEN it is built
    code, err, output = _build(tmp_path, [override], capsys)
    # THEN exit 2, one error naming the params file, the override's field and what is there; nothing written
    assert code == 2
    assert err.startswith("error: ") and "Traceback" not in err
    assert str(tmp_path / "params" / "acme" / "dev.yaml") in err
    for word in words:
        assert word in err, (word, err)
    assert not output.exists()


def test_the_engine_raises_a_user_error_without_the_file():
    spec = base_spec(overrides=[{"template": "nope.json", "op": "remove", "path": "/Resources"}])
    with pytest.raises(OverrideError, match="overrides.0.template: nope.json is not a template"):
        compiler.compile_environment(parse(spec))


@pytest.mark.parametrize(
    ("override", "words"),
    [
        (
            {"template": "service-api.json", "op": "remove", "path": "/Resources/Service", "value": 1},
            "remove takes no value",
        ),
        ({"template": "service-api.json", "op": "replace", "path": "/Resources/Service"}, "replace needs a value"),
        ({"template": "service-api.json", "op": "move", "path": "/Resources/Service", "value": 1}, "op"),
        ({"template": "service-api.json", "op": "remove", "path": "Resources/Service"}, "JSON Pointer"),
        ({"template": "service-api.json", "op": "remove", "path": "/Resources/a~2b"}, "JSON Pointer"),
        ({"template": "../x.json", "op": "remove", "path": "/Resources"}, "file name"),
    ],
)
def test_a_malformed_override_is_a_spec_error(tmp_path, capsys, override, words):
    code, err, output = _build(tmp_path, [override], capsys)
    assert code == 2 and "overrides.0" in err and words in err, err
    assert not output.exists()


def test_diff_sees_the_patched_template(tmp_path, capsys):
    # GIVEN a baseline built without overrides, then the same spec with one that changes the service
    baseline = tmp_path / "baseline"
    params = _params(tmp_path, base_spec())
    assert main(["build", "--params", str(params), "--output", str(baseline), "-q"]) == 0
    _params(tmp_path, base_spec(overrides=[REPLACE_EXEC]))
    capsys.readouterr()
    # WHEN diff compares a fresh build with it
    code = main(["diff", "acme/dev", "--baseline", str(baseline), "--params", str(params)])
    out, err = capsys.readouterr()
    # THEN the change is the override's, and diff printed it applied
    assert code == 2  # changes (none stateful)
    assert "EnableExecuteCommand" in out and "Service" in out
    assert "override applied: acme/dev: service-api.json: overrides.0: replace" in err


def test_only_an_overrides_value_may_hold_cloudformation_syntax(tmp_path, capsys):
    # GIVEN an override whose value is a Fn::Sub of a pseudo parameter (refused anywhere else in a spec)
    tag = {"Key": "Region", "Value": {"Fn::Sub": "${AWS::Region}"}}
    add = {"template": "service-api.json", "op": "add", "path": "/Resources/Service/Properties/Tags/-", "value": tag}
    code, err, output = _build(tmp_path, [add], capsys)
    # THEN it builds and the tag is emitted as written
    assert code == 0, err
    assert load(output / "acme/dev/service-api.json")["Resources"]["Service"]["Properties"]["Tags"][-1] == tag
    # AND the same text in an override's path, or in any other field, is still refused
    bad = {**add, "path": "/Resources/${AWS::Region}"}
    code, err, _ = _build(tmp_path / "again", [bad], capsys)
    assert code == 2 and "CloudFormation syntax" in err, err
