"""The command line: build all / one / custom folders; bad input gives one clear paragraph, exit 2, no traceback,
and leaves output/ exactly as it was."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stackloom.cli.main import main

from ..helpers import PARAMS, PROJECT, TARGETS, load


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def params(tmp_path):
    copy = tmp_path / "params"
    shutil.copytree(PARAMS, copy)
    return copy


@pytest.fixture
def output(tmp_path, params):
    folder = tmp_path / "output"
    assert main(["--params", str(params), "--output", str(folder), "-q"]) == 0
    return folder


def test_build_without_arguments_builds_every_environment(tmp_path, params, capsys):
    folder = tmp_path / "out"
    assert main(["--params", str(params), "--output", str(folder)]) == 0
    for target in TARGETS:
        names = {p.name for p in (folder / target).iterdir()}
        assert {"root.json", "network.json", "parameters.json", "overrides.json", "bootstrap.json"} <= names
    table = capsys.readouterr().out
    assert "vanity-market/preprod" in table and "service-yagna.json" in table and "resources" in table
    assert f"{len(TARGETS)} environment(s)" in table


def test_build_one_target(tmp_path, params):
    folder = tmp_path / "out"
    assert main(["build", "vanity-market/preprod", "--params", str(params), "--output", str(folder), "-q"]) == 0
    assert [p.name for p in folder.iterdir()] == ["vanity-market"]


def test_parameter_files_in_both_formats(output):
    parameters = load(output / "bet2wealth" / "dev" / "parameters.json")
    assert {"ParameterKey": "BackendImageTag", "ParameterValue": "latest"} in parameters
    assert {"ParameterKey": "BackendDesiredCount", "ParameterValue": "2"} in parameters
    overrides = load(output / "bet2wealth" / "dev" / "overrides.json")
    assert overrides == [f"{p['ParameterKey']}={p['ParameterValue']}" for p in parameters]


BAD_INPUTS = {
    "malformed yaml": ("network: [unclosed\n", "invalid YAML"),
    "unknown key": (None, "network.nat_gateways: unknown field (check the spelling); allowed: cidr, vpc_name,"),
    "wrong type": (None, "services.backend.port: expected an integer, got a string: 'four-thousand'"),
    "quoted number": (None, "services.backend.port: expected an integer, got a string: '4000'"),
    "boolean for a number": (None, "services.backend.desired_count: expected an integer, got a boolean: True"),
    "text for a boolean": (None, "cache.multi_az: expected a boolean (true or false), got a string: 'yes'"),
    "invalid cidr": (None, "network.cidr: '10.0.0.0/99' is not a valid IPv4 CIDR"),
    "overlapping subnets": (None, "overlaps"),
    "duplicate key": ("system: bet2wealth\nsystem: bet2wealth\n", "duplicate key 'system'"),
    "alias bomb": ("a: &a [x, x]\nb: [*a, *a]\n", "aliases"),
    "not a mapping": ("- just\n- a list\n", "the top level must be a mapping"),
}


def _bad_file(kind: str, original: str) -> str:
    text, _ = BAD_INPUTS[kind]
    if text is not None:
        return text
    if kind == "unknown key":
        return original.replace("  nat: single", "  nat: single\n  nat_gateways: 2")
    if kind == "wrong type":
        return original.replace("port: 4000", "port: four-thousand")
    if kind == "quoted number":  # types are strict: YAML said string, the spec wants a number
        return original.replace("port: 4000", 'port: "4000"')
    if kind == "boolean for a number":
        return original.replace("desired_count: 2", "desired_count: true")
    if kind == "text for a boolean":
        return original.replace("multi_az: true", 'multi_az: "yes"')
    if kind == "invalid cidr":
        return original.replace("cidr: 10.0.0.0/16", "cidr: 10.0.0.0/99")
    return original.replace(
        "  nat: single",
        "  nat: single\n  public_subnets: [10.0.0.0/24, 10.0.1.0/24]\n"
        "  private_subnets: [10.0.0.128/25, 10.0.3.0/24]",
    )


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_is_one_clear_error_and_output_is_untouched(kind, params, output, capsys):
    # GIVEN a built output folder and then a broken params file (or shared layer, where the value lives)
    path = params / "bet2wealth" / "dev.yaml"
    if BAD_INPUTS[kind][0] is None:
        for layer in (path, params / "bet2wealth" / "_defaults.yaml"):
            layer.write_text(_bad_file(kind, layer.read_text()))
    else:
        path.write_text(_bad_file(kind, path.read_text()))
    before = _snapshot(output)
    capsys.readouterr()
    # WHEN everything is built again
    code = main(["--params", str(params), "--output", str(output)])
    # THEN exit 2, one message naming the file and field, no traceback, output unchanged
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: {path}")
    assert BAD_INPUTS[kind][1] in err
    assert "Traceback" not in err
    assert _snapshot(output) == before


def test_unknown_target_lists_the_known_ones(params, output, capsys):
    before = _snapshot(output)
    assert main(["build", "bet2wealth/staging", "--params", str(params), "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert "unknown target 'bet2wealth/staging'" in err and "vanity-market/preprod" in err
    assert _snapshot(output) == before


def test_unknown_system_lists_the_known_ones(params, output, capsys):
    # GIVEN a built output folder WHEN a system that has no params folder is asked for
    before = _snapshot(output)
    assert main(["build", "bet3wealth", "--params", str(params), "--output", str(output)]) == 2
    # THEN one line names it and the targets that exist, and nothing was written
    err = capsys.readouterr().err
    assert "unknown target 'bet3wealth'" in err and "bet2wealth/dev" in err and "Traceback" not in err
    assert _snapshot(output) == before


def test_options_may_come_before_the_command(params, tmp_path):
    # GIVEN the folder options first, as in `build.py --output DIR build TARGET`
    folder = tmp_path / "out"
    # WHEN it runs THEN the command is still `build` of that one target
    assert main(["--params", str(params), "--output", str(folder), "build", "vanity-market/preprod", "-q"]) == 0
    assert [p.name for p in folder.iterdir()] == ["vanity-market"]


def test_an_output_path_that_is_a_file_is_a_clear_error(params, tmp_path, capsys):
    # GIVEN --output naming a regular file WHEN building THEN exit 2 with the path and the reason, no traceback
    target = tmp_path / "a-file"
    target.write_text("not a folder")
    assert main(["--params", str(params), "--output", str(target), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {target}") and "Not a directory" in err and "Traceback" not in err
    assert target.read_text() == "not a folder"


def test_file_location_must_match_its_content(params, tmp_path, capsys):
    (params / "bet2wealth" / "dev.yaml").rename(params / "bet2wealth" / "staging.yaml")
    assert main(["--params", str(params), "--output", str(tmp_path / "o")]) == 2
    assert "must match" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_stale_templates_are_removed_but_other_files_kept(params, output):
    # GIVEN a previous build whose manifest lists a nested template this build no longer makes, and files of
    # the user's beside it (a JSON file among them)
    env = output / "bet2wealth" / "dev"
    (env / "service-old.json").write_text("{}")
    manifest = load(env / "manifest.json")
    manifest["nested_stacks"]["ServiceOld"] = "service-old.json"
    (env / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    (env / "ARCHITECTURE.md").write_text("# kept")
    (env / "notes.json").write_text("{}")
    # WHEN it is built again
    assert main(["--params", str(params), "--output", str(output), "-q"]) == 0
    # THEN only what the previous manifest listed is gone; what the build never wrote is kept
    assert not (env / "service-old.json").exists()
    assert (env / "ARCHITECTURE.md").read_text() == "# kept" and (env / "notes.json").read_text() == "{}"


def test_real_process_bad_input_has_no_traceback(tmp_path, params):
    path = params / "vanity-market" / "preprod.yaml"
    path.write_text(path.read_text().replace("cpu: 512", "cpu: 500"))
    result = subprocess.run(
        [sys.executable, str(PROJECT / "build.py"), "--params", str(params), "--output", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "services.backend.cpu: 500 is not a Fargate size" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "o").exists()


def test_the_readme_bad_input_example_is_what_a_build_prints(tmp_path, params, monkeypatch, capsys):
    # GIVEN the README's example edits of bet2wealth's shared layer: port: four, nat: double, a misspelt flow_log
    path = params / "bet2wealth" / "_defaults.yaml"
    text = path.read_text().replace("    port: 4000", "    port: four")
    path.write_text(re.sub(r"(?m)^  nat: single.*$", "  nat: double\n  flow_log: false", text))
    # WHEN it is built from the folder holding params/, as the README's command would be
    monkeypatch.chdir(tmp_path)
    assert main(["build", "bet2wealth/dev", "--output", "out"]) == 2
    # THEN stderr is the README's block, line for line
    block = re.search(
        r"```\n(error: params/bet2wealth/dev.yaml: invalid spec:\n.*?)```",
        (PROJECT / "docs" / "cli.md").read_text(),
        re.DOTALL,
    )
    assert block, "docs/cli.md has no bad-input example block"
    assert capsys.readouterr().err == block[1]


def test_a_real_process_ends_with_all_of_its_output_and_its_exit_code(tmp_path, params):
    # GIVEN build.py, which ends its process without interpreter teardown (os._exit) once a command returns
    # WHEN a command with a long output writes to a pipe (block-buffered: PYTHONUNBUFFERED is not inherited)
    # and a failing one runs
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(PROJECT / "build.py"), *argv], capture_output=True, text=True, cwd=tmp_path, env=env
        )

    schema = run("schema")
    built = run("--params", str(params), "--output", str(tmp_path / "o"))
    unknown = run("build", "nope", "--params", str(params))
    # THEN every byte of stdout arrived (the whole JSON Schema parses, the summary's last line is there)
    assert schema.returncode == 0 and "EnvironmentSpec" in json.loads(schema.stdout)["$defs"]
    assert built.returncode == 0 and built.stdout.rstrip().endswith(f"49 templates written to {tmp_path / 'o'}/")
    assert "HostedZoneId" in built.stderr
    # AND a failure keeps its exit code and its message
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: unknown target 'nope'")
