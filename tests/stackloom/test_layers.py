"""Layered params: params/_defaults.yaml and params/<system>/_defaults.yaml under each environment file;
`build.py spec` shows the merged result and `--compare` what two environments differ in."""

from __future__ import annotations

import contextlib
import io
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from stackloom import build as compiler
from stackloom import layers
from stackloom.cli.main import main
from stackloom.params import SpecError, discover, load_spec

from ..helpers import PARAMS, PROJECT, TARGETS


@pytest.fixture
def params(tmp_path) -> Path:
    target = tmp_path / "params"
    shutil.copytree(PARAMS, target)
    return target


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


# ------------------------------------------------------------------------------------------ merging


def layer(data: dict, name: str = "x.yaml") -> layers.Layer:
    return layers.Layer(Path(name), data, {})


def test_mappings_merge_key_by_key_and_anything_else_is_replaced():
    merged = layers.merge(
        [
            layer({"network": {"cidr": "10.0.0.0/16", "nat": "single"}, "tags": {"Team": "a"}, "zones": [1, 2]}),
            layer({"network": {"nat": "per-az"}, "zones": [3]}),
        ]
    ).data
    assert merged == {"network": {"cidr": "10.0.0.0/16", "nat": "per-az"}, "tags": {"Team": "a"}, "zones": [3]}


def test_an_explicit_null_removes_what_lower_layers_set():
    merged = layers.merge([layer({"cache": {"nodes": 2}, "database": {}}), layer({"cache": None})]).data
    assert merged == {"database": {}}


def test_only_system_and_environment_are_substituted():
    data = {"a": "/${system}/${environment}/x", "b": ["${HOME}", "${AWS::Region}", "${other}"], "${system}": 1}
    assert layers.substitute(data, "shop", "dev") == {
        "a": "/shop/dev/x",
        "b": ["${HOME}", "${AWS::Region}", "${other}"],
        "${system}": 1,  # keys stay as written
    }


def test_files_starting_with_an_underscore_are_never_environments(params):
    write(params / "_defaults.yaml", "tags: {CostCenter: platform}\n")
    write(params / "_shared" / "x.yaml", "system: x\n")
    assert sorted(discover(params)) == sorted(TARGETS)


# ------------------------------------------------------------------------------------------ loading


def test_bet2wealth_environments_hold_only_what_differs_and_build_what_they_built_before():
    # the committed output/ is checked byte for byte by test_determinism; here: the files are the small part
    for name in ("dev.yaml", "production.yaml"):
        lines = [line for line in (PARAMS / "bet2wealth" / name).read_text().splitlines() if line.strip()]
        assert len(lines) <= 22, name
    dev = load_spec(PARAMS / "bet2wealth" / "dev.yaml")
    assert dev.network.vpc_name == "bet2wealth-backend-dev"
    assert dev.services["backend"].secrets["JWT_SECRET"].ssm == "/bet2wealth/dev/jwt-secret"
    assert load_spec(PARAMS / "bet2wealth" / "production.yaml").load_balancer.dns.name == "api.production.bet2wealth.co"


def test_the_top_level_defaults_apply_to_every_system(params):
    write(params / "_defaults.yaml", "tags:\n  CostCenter: platform-${system}\n")
    assert load_spec(params / "vanity-market" / "preprod.yaml").tags == {"CostCenter": "platform-vanity-market"}
    assert load_spec(params / "bet2wealth" / "dev.yaml").tags == {"CostCenter": "platform-bet2wealth"}


def test_system_and_environment_default_to_the_files_place(params):
    path = params / "bet2wealth" / "qa.yaml"
    write(
        path, "production: false\nservices: {backend: {cpu: 256, memory: 512}}\ncache: {node_type: cache.t4g.micro}\n"
    )
    spec = load_spec(path)
    assert (spec.system, spec.environment) == ("bet2wealth", "qa")
    assert spec.repositories["backend"].name == "bet2wealth-backend-qa"


def test_an_error_names_the_layer_file_and_line_the_value_came_from(params):
    defaults = params / "bet2wealth" / "_defaults.yaml"
    defaults.write_text(defaults.read_text().replace("    port: 4000", "    port: 99999"))
    with pytest.raises(SpecError) as caught:
        load_spec(params / "bet2wealth" / "dev.yaml")
    line = next(i for i, text in enumerate(defaults.read_text().splitlines(), 1) if "port: 99999" in text)
    assert f"services.backend.port: expected an integer <= 65535 (got 99999) ({defaults}, line {line})" in str(
        caught.value
    )


def test_an_error_in_the_environments_own_file_names_its_line(params):
    path = params / "bet2wealth" / "dev.yaml"
    path.write_text(path.read_text().replace("    cpu: 512", "    cpu: 500"))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    own = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "cpu: 500" in text)
    assert "services.backend.cpu: 500 is not a Fargate size" in str(caught.value)
    assert str(caught.value).endswith(f"(line {own})")


def test_a_name_inside_a_flow_mapping_says_to_quote_it(params):
    write(params / "_defaults.yaml", "tags: {CostCenter: platform-${system}}\n")
    with pytest.raises(SpecError, match=r"quote a value holding \$\{\.\.\.\} inside \{\.\.\.\} or \[\.\.\.\]"):
        load_spec(params / "bet2wealth" / "dev.yaml")


def test_a_defaults_file_that_is_not_a_mapping_is_named(params):
    write(params / "bet2wealth" / "_defaults.yaml", "- a list\n")
    with pytest.raises(SpecError, match=r"_defaults.yaml: the top level must be a mapping"):
        load_spec(params / "bet2wealth" / "dev.yaml")


def test_cloudformation_syntax_from_a_layer_is_refused_naming_it_and_left_unsubstituted(params):
    write(params / "_defaults.yaml", "services: {backend: {command: ['echo', '${environment} ${AWS::Region}']}}\n")
    with pytest.raises(SpecError) as caught:
        load_spec(params / "bet2wealth" / "dev.yaml")
    assert "'dev ${AWS::Region}'" in str(caught.value) and "_defaults.yaml, line 1)" in str(caught.value)


# ------------------------------------------------------------------------------------------ spec command


def test_spec_prints_the_merged_validated_spec_as_yaml(params):
    code, out, _ = run("spec", "bet2wealth/dev", "--params", str(params))
    assert code == 0
    printed = yaml.safe_load(out)
    assert printed["network"]["vpc_name"] == "bet2wealth-backend-dev"
    assert printed["services"]["backend"]["cpu"] == 512 and printed["services"]["backend"]["port"] == 4000
    assert printed["network"]["flow_log_retention_days"] == 30  # defaults filled in


def test_spec_compare_prints_only_what_differs(params):
    code, out, _ = run("spec", "bet2wealth/dev", "--compare", "bet2wealth/production", "--params", str(params))
    assert code == 0
    assert out.splitlines()[0] == "bet2wealth/dev vs bet2wealth/production: 16 fields differ"
    assert "  services.backend.cpu:\n    bet2wealth/dev: 512\n    bet2wealth/production: 1024\n" in out
    assert "services.backend.port" not in out and "network.cidr" not in out
    assert "  services.backend.secrets.PAYMENT_API_KEY:\n    bet2wealth/dev: (not set)\n" in out


def test_spec_of_an_unknown_environment_is_a_one_line_error(params):
    code, _, err = run("spec", "bet2wealth/nope", "--params", str(params))
    assert code == 2 and err.startswith("error: unknown target 'bet2wealth/nope'")


def test_a_build_never_builds_a_defaults_file(params, tmp_path):
    builds = compiler.compile_all({key: path for key, path in discover(params).items()})
    assert sorted(build.target for build in builds) == sorted(TARGETS)


def test_the_readme_shows_the_layers():
    readme = (PROJECT / "docs" / "spec.md").read_text()
    assert "params/bet2wealth/_defaults.yaml" in readme and "--compare" in readme
