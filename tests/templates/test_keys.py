"""keys.py: the environment's KMS key (log groups and generated secrets), emitted in network.json."""

from __future__ import annotations

import pytest

from ..helpers import base_spec, compile_dict, only, resources


def test_environment_key_rotates_automatically():
    # GIVEN any environment
    # WHEN it is compiled
    key = only(compile_dict(base_spec())["network.json"], "AWS::KMS::Key")
    # THEN the environment key has automatic key rotation turned on
    assert key["Properties"]["EnableKeyRotation"] is True


@pytest.mark.parametrize("extra", [{}, {"production": True}, {"cache": {}, "database": {"enabled": True}}])
def test_every_kms_key_emitted_rotates(extra):
    # GIVEN an environment (plain, production, with data stores)
    # WHEN it is compiled
    built = compile_dict(base_spec(**extra))
    keys = {
        (name, key): resource
        for name, template in built.items()
        if name.endswith(".json") and "Resources" in template
        for key, resource in resources(template, "AWS::KMS::Key").items()
    }
    # THEN every customer managed key in any template rotates
    assert keys and {where: key["Properties"].get("EnableKeyRotation") for where, key in keys.items()} == {
        where: True for where in keys
    }
