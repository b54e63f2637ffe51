"""Same inputs, byte-identical output; and the committed output/ is what the current code emits."""

from __future__ import annotations

import os
import subprocess
import sys

from stackloom import build as compiler
from stackloom.params import select

from ..helpers import PARAMS, PROJECT


def test_two_builds_are_byte_identical():
    first = {build.target: build.files for build in compiler.compile_all(select(PARAMS, []))}
    second = {build.target: build.files for build in compiler.compile_all(select(PARAMS, []))}
    assert first == second


def test_separate_processes_with_different_hash_seeds_agree(tmp_path):
    outputs = []
    for seed in ("1", "4242"):
        folder = tmp_path / seed
        subprocess.run(
            [sys.executable, str(PROJECT / "build.py"), "-q", "--output", str(folder)],
            check=True,
            cwd=PROJECT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
        )
        outputs.append({str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.json"))})
    assert outputs[0] == outputs[1] and len(outputs[0]) > 20


def test_committed_output_is_up_to_date(built):
    """Golden files: output/ is committed so reviewers see template diffs. Regenerate with `python build.py`."""
    committed = PROJECT / "output"
    fresh = {str(p.relative_to(built)): p.read_text() for p in sorted(built.rglob("*.json"))}
    stored = {str(p.relative_to(committed)): p.read_text() for p in sorted(committed.rglob("*.json"))}
    stale = sorted(name for name in fresh.keys() | stored.keys() if fresh.get(name) != stored.get(name))
    assert not stale, f"output/ is stale, run `python build.py` and commit: {stale}"
