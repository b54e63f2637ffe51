from __future__ import annotations

from pathlib import Path

import pytest

from stackloom import build as compiler
from stackloom.output import write
from stackloom.params import select

from .helpers import PARAMS


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """Every params file built once into a fresh output folder for the session; returns that folder."""
    output = tmp_path_factory.mktemp("output")
    for build in compiler.compile_all(select(PARAMS, [])):
        write(build, output)
    return output
