from __future__ import annotations

import os
from pathlib import Path

import pytest

from stackloom import build as compiler
from stackloom.audit import cache
from stackloom.output import write
from stackloom.params import select

from .helpers import PARAMS


@pytest.fixture(scope="session", autouse=True)
def lint_cache(tmp_path_factory) -> Path:
    """One result cache of cfn-lint, checkov and cfn-guard for the whole run (stackloom/audit/cache.py), in the
    session's temporary folder, never the user's: a template body that many tests emit alike (the seeds, the
    small base spec) is linted once per run. Set in the environment, so `build.py` children share it too.
    Tests about the cache itself use folders of their own."""
    folder = tmp_path_factory.mktemp("lint-cache")
    saved = {name: os.environ.get(name) for name in (cache.DIR_VARIABLE, cache.OFF_VARIABLE)}
    os.environ[cache.DIR_VARIABLE] = str(folder)
    os.environ.pop(cache.OFF_VARIABLE, None)
    yield folder
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """Every params file built once into a fresh output folder for the session; returns that folder."""
    output = tmp_path_factory.mktemp("output")
    for build in compiler.compile_all(select(PARAMS, [])):
        write(build, output)
    return output
