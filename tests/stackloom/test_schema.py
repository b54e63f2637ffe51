"""The committed JSON Schema of params files (schema/spec.schema.json) and the modeline every params file starts with."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import yaml

from stackloom.cli.build import schema_text
from stackloom.cli.main import main
from stackloom.params import SCHEMA_FILE, SCHEMA_ID, modeline

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / SCHEMA_FILE
PARAMS_FILES = sorted((ROOT / "params").rglob("*.yaml"))


def _committed() -> dict:
    return json.loads(COMMITTED.read_text(encoding="utf-8"))


def test_the_committed_schema_is_what_the_spec_gives():
    # GIVEN the committed schema WHEN it is compared with what `schema --write` writes today
    # THEN it is byte for byte the same (a spec change without `build.py schema --write` fails here)
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), "run: python build.py schema --write"


def test_schema_write_writes_the_committed_file(tmp_path, monkeypatch):
    # GIVEN an empty folder WHEN `schema --write` runs there THEN it writes schema/spec.schema.json, as committed
    monkeypatch.chdir(tmp_path)
    assert main(["schema", "--write"]) == 0
    assert (tmp_path / SCHEMA_FILE).read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8")


def test_the_schema_is_valid_draft_2020_12_with_its_identity():
    schema = _committed()
    # THEN the metaschema accepts it, and it says what it is for editors
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID == "urn:stackloom:schema:spec"
    assert schema["title"] and schema["description"]
    assert schema["$ref"] == "#/$defs/EnvironmentSpec"
    # AND every part has a description, which names what the merged spec requires
    for name, definition in schema["$defs"].items():
        assert definition.get("description", "").strip(), name
    described = schema["$defs"]["EnvironmentSpec"]["description"]
    assert "Required once the layers are merged: `network`, `services`." in described


def test_every_params_file_starts_with_the_modeline_to_the_committed_schema():
    assert len(PARAMS_FILES) >= 7
    for path in PARAMS_FILES:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        # THEN the YAML language server finds the schema from the file's own folder
        assert first == modeline(path, COMMITTED) == "# yaml-language-server: $schema=../../schema/spec.schema.json"
        target = first.split("$schema=", 1)[1]
        assert (path.parent / target).resolve() == COMMITTED.resolve()


def test_every_params_file_as_written_validates_including_partial_layers():
    # GIVEN each params file alone (a _defaults.yaml layer, an env file that only overrides), as an editor sees it
    validator = jsonschema.Draft202012Validator(_committed())
    partial = [path for path in PARAMS_FILES if "services" not in (yaml.safe_load(path.read_text()) or {})]
    assert partial, "the examples include files that only override"
    for path in PARAMS_FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        # THEN none is flagged, though they are partial and their texts hold ${environment}
        assert [error.json_path for error in validator.iter_errors(data)] == [], path


def test_the_schema_still_flags_what_the_build_refuses():
    validator = jsonschema.Draft202012Validator(_committed())
    data = yaml.safe_load((ROOT / "params/ledger/production.yaml").read_text(encoding="utf-8"))
    # GIVEN a quoted port, a misspelt key, a wrong enum and a bad repository name without a placeholder
    bad = copy.deepcopy(data)
    bad["services"]["api"]["port"] = "4000"
    assert [error.json_path for error in validator.iter_errors(bad)] == ["$.services.api.port"]
    assert not validator.is_valid({**data, "network": {**data["network"], "nat_gateways": 2}})
    assert not validator.is_valid({**data, "network": {**data["network"], "nat": "sometimes"}})
    assert not validator.is_valid({"repositories": {"api": {"name": "Ledger/API"}}})
    # AND a placeholder text is left to the check after substitution
    assert validator.is_valid({"repositories": {"api": {"name": "ledger-${environment}/api"}}})
