"""manifest.json: one typed definition that the build writes and every reader (the CI workflow too) reads."""

from __future__ import annotations

import re

import pytest

from stackloom import manifest as manifests
from stackloom import render
from stackloom.cli.main import main
from stackloom.errors import UserError

from ..helpers import PROJECT, TARGETS


@pytest.mark.parametrize("target", TARGETS)
def test_every_emitted_manifest_reads_through_the_type_and_writes_back_byte_for_byte(target):
    # GIVEN a committed manifest WHEN read through the Struct and written as the build writes it THEN the same bytes
    folder = PROJECT / "output" / target
    manifest = manifests.load(folder)
    assert manifest.target == target
    assert render.as_json(manifests.as_dict(manifest)) == (folder / "manifest.json").read_text()


def test_a_manifest_of_another_shape_is_a_user_error(tmp_path):
    (tmp_path / "manifest.json").write_text('{"system": "x"}')
    with pytest.raises(UserError, match="not a manifest of this version"):
        manifests.load(tmp_path)


def test_the_manifest_command_prints_one_field_for_scripts(capsys):
    # WHEN the workflow's question is asked THEN the bare repository name, exit 0
    assert main(["manifest", "bet2wealth/dev", "services.backend.repository", "--output", str(PROJECT / "output")]) == 0
    assert capsys.readouterr().out == "bet2wealth-backend-dev\n"
    # AND an unknown field is a one-line error naming what is there, exit 2
    assert main(["manifest", "bet2wealth/dev", "services.nope", "--output", str(PROJECT / "output")]) == 2
    err = capsys.readouterr().err
    assert "no field 'services.nope'" in err and "known: backend" in err


def test_the_deploy_workflow_reads_the_manifest_through_the_command():
    workflow = (PROJECT / ".github" / "workflows" / "deploy.yml").read_text()
    assert re.search(r'build\.py manifest "\$TARGET" "services\.\$SERVICE\.repository"', workflow)
    assert "manifest.json" not in workflow
