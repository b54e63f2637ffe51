"""The output writer under faults: an environment is replaced as a whole or not at all (kill -9, a full disk,
a failed swap), one build writes an output folder at a time, and the build touches only what it wrote."""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bench import synthetic
from stackloom import output
from stackloom.cli.main import main
from stackloom.params import merged_spec

from ..helpers import PARAMS, PROJECT

ENVIRONMENTS = ("bet2wealth/dev", "synth/n60")


def _params(folder: Path, revision: str) -> Path:
    """A params folder with bet2wealth/dev and a 60-service system, every template tagged Revision=<revision>."""
    (folder / "bet2wealth").mkdir(parents=True, exist_ok=True)
    dev = merged_spec(PARAMS / "bet2wealth" / "dev.yaml").data  # its layers merged: one self-contained file
    dev["tags"] = {**dev.get("tags", {}), "Revision": revision}
    (folder / "bet2wealth" / "dev.yaml").write_text(yaml.safe_dump(dev, sort_keys=False))
    big = synthetic.spec(60) | {"tags": {"Revision": revision}}
    (folder / "synth").mkdir(exist_ok=True)
    (folder / "synth" / "n60.yaml").write_text(yaml.safe_dump(big, sort_keys=False))
    return folder


def _build(params: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(PROJECT / "build.py"), "-q", "--params", str(params), "--output", str(out)],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _revisions(folder: Path) -> set[str]:
    """The Revision tag values found in an environment folder's templates ({"a"}, {"b"}, or a mix)."""
    found = set()
    for path in folder.glob("*.json"):
        if path.name in ("manifest.json", "parameters.json", "overrides.json"):
            continue
        text = path.read_text()
        found |= {value for value in ("rev-a", "rev-b") if f'"{value}"' in text}
    return found


def _leftovers(out: Path) -> list[str]:
    return sorted(
        str(path.relative_to(out))
        for path in out.rglob("*")
        if path.name.startswith((output.STAGING, output.PREVIOUS)) or path.name.endswith(".tmp")
    )


def _kill_in_the_write_phase(process: subprocess.Popen, out: Path, delay: float, timeout: float) -> None:
    """SIGKILL `delay` seconds after the first staging folder appears (the write phase has begun)."""
    deadline = time.monotonic() + timeout
    while not any(out.glob(f"*/{output.STAGING}*")):
        assert process.poll() is None, "the build ended before its write phase was seen"
        assert time.monotonic() < deadline
        time.sleep(0.0005)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_kill_9_during_the_write_phase_leaves_each_environment_old_or_new_and_the_next_build_cleans_up(tmp_path):
    out = tmp_path / "out"
    versions = {name: _params(tmp_path / name, name) for name in ("rev-a", "rev-b")}
    started = time.monotonic()
    assert _build(versions["rev-a"], out).wait() == 0
    duration = time.monotonic() - started
    files = {target: sorted(path.name for path in (out / target).iterdir()) for target in ENVIRONMENTS}
    rng = random.Random(20261201)
    current = "rev-a"
    for attempt in range(8):
        # GIVEN a complete tree of one revision WHEN a build of the other is killed at a random point
        other = "rev-b" if current == "rev-a" else "rev-a"
        process = _build(versions[other], out)
        _kill_in_the_write_phase(process, out, rng.uniform(0, 0.1), timeout=30 * duration)
        # THEN every environment is entirely one revision, with the files of a whole build
        for target in ENVIRONMENTS:
            folder = out / target
            if not folder.exists():  # the documented window between the two renames: the old tree is aside
                (aside,) = folder.parent.glob(f"{output.PREVIOUS}{folder.name}-*")
                assert _revisions(aside) == {current}, (attempt, target)
                continue
            assert _revisions(folder) in ({"rev-a"}, {"rev-b"}), (attempt, target, _revisions(folder))
            assert sorted(path.name for path in folder.iterdir()) == files[target], (attempt, target)
        # AND the next build completes it and leaves nothing behind
        assert _build(versions[other], out).wait() == 0
        assert _leftovers(out) == [] and not (out / output.LOCK_FILE).exists()
        assert all(_revisions(out / target) == {other} for target in ENVIRONMENTS)
        current = other


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def built_twice(tmp_path):
    """An output folder of revision a, and the params of revision b to build over it."""
    out = tmp_path / "out"
    assert main(["-q", "--params", str(_params(tmp_path / "a", "rev-a")), "--output", str(out)]) == 0
    return out, _params(tmp_path / "b", "rev-b")


def test_a_full_disk_replaces_nothing_and_names_the_file(built_twice, monkeypatch, capsys):
    out, params = built_twice
    before = _snapshot(out)
    calls = {"n": 0}
    real = output._write_file

    def fill_up(path, data):
        calls["n"] += 1
        if calls["n"] == 40:  # while staging the second environment: the first is staged, not yet swapped
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, data)

    monkeypatch.setattr(output, "_write_file", fill_up)
    # WHEN the disk fills up during the write phase
    assert main(["-q", "--params", str(params), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    # THEN one line names the file and says nothing was replaced; the tree is as it was, no staging left
    assert "no space left on device; nothing was replaced" in err and ".json" in err and "Traceback" not in err
    assert _snapshot(out) == before and _leftovers(out) == []


def test_a_failed_swap_says_which_environments_were_updated(built_twice, monkeypatch, capsys):
    out, params = built_twice
    real = output._swap

    def refuse_second(target, staging):
        if target.parent.name == "synth":
            raise PermissionError(errno.EACCES, "Permission denied", str(target))
        real(target, staging)

    monkeypatch.setattr(output, "_swap", refuse_second)
    assert main(["-q", "--params", str(params), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "updated: " + str(out / "bet2wealth" / "dev") in err
    assert "not updated (old files kept): " + str(out / "synth" / "n60") in err
    assert _revisions(out / "bet2wealth" / "dev") == {"rev-b"} and _revisions(out / "synth" / "n60") == {"rev-a"}
    assert _leftovers(out) == []


def test_an_unchanged_build_rewrites_nothing(built_twice):
    out, _ = built_twice
    stamps = {path: path.stat().st_mtime_ns for path in out.rglob("*.json")}
    time.sleep(0.01)
    assert main(["-q", "--params", str(out.parent / "a"), "--output", str(out)]) == 0
    assert {path: path.stat().st_mtime_ns for path in out.rglob("*.json")} == stamps


def test_files_have_the_mode_of_a_checkout(built_twice):
    out, _ = built_twice
    umask = os.umask(0)
    os.umask(umask)
    assert {oct(path.stat().st_mode & 0o777) for path in out.rglob("*.json")} == {oct(0o666 & ~umask)}


def test_a_second_build_waits_for_the_lock_holder(built_twice):
    out, params = built_twice
    # GIVEN this process holds the output folder's lock
    with output.lock(out):
        assert (out / output.LOCK_FILE).read_text().strip() == str(os.getpid())
        process = _build(params, out)
        time.sleep(2.0)
        # THEN the other build waits, saying for whom, and has written nothing
        assert process.poll() is None
        assert _revisions(out / "bet2wealth" / "dev") == {"rev-a"}
    # AND once the lock is released it completes
    assert process.wait(timeout=120) == 0
    assert f"waiting for the build of pid {os.getpid()}" in process.stderr.read()
    assert _revisions(out / "bet2wealth" / "dev") == {"rev-b"} and not (out / output.LOCK_FILE).exists()


def test_an_environment_folder_that_is_a_symlink_is_refused_and_its_target_untouched(built_twice, tmp_path, capsys):
    out, params = built_twice
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.json").write_text('{"keep": true}')
    shutil.rmtree(out / "bet2wealth" / "dev")
    (out / "bet2wealth" / "dev").symlink_to(elsewhere)
    assert main(["-q", "--params", str(params), "--output", str(out)]) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    assert [path.name for path in elsewhere.iterdir()] == ["precious.json"]
    assert _revisions(out / "synth" / "n60") == {"rev-a"}  # refused before any environment was written


@pytest.mark.parametrize("where", ["root", "params", "holder"])
def test_output_folders_that_hold_other_things_are_refused(tmp_path, where, capsys):
    params = tmp_path / "project" / "params"
    shutil.copytree(PARAMS, params)
    chosen = {"root": Path("/"), "params": params, "holder": params.parent}[where]
    before = _snapshot(params.parent)
    assert main(["-q", "--params", str(params), "--output", str(chosen)]) == 2
    err = capsys.readouterr().err
    assert "refusing to write" in err and "Traceback" not in err
    assert _snapshot(params.parent) == before


# ---- hostile params files -------------------------------------------------------------------------


@pytest.fixture
def params(tmp_path):
    copy = tmp_path / "params"
    shutil.copytree(PARAMS, copy)
    return copy


def _run(params: Path, out: Path, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PROJECT / "build.py"), "-q", "--params", str(params), "--output", str(out)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_fifo_is_refused_at_once(params, tmp_path):
    os.mkfifo(params / "bet2wealth" / "qa.yaml")
    result = _run(params, tmp_path / "out", timeout=20)  # the old reader blocked forever on open
    assert result.returncode == 2 and "a FIFO, not a regular file" in result.stderr and "Traceback" not in result.stderr


def test_a_symlink_to_dev_zero_is_refused_without_reading(params, tmp_path):
    (params / "bet2wealth" / "qa.yaml").symlink_to("/dev/zero")
    result = _run(params, tmp_path / "out", timeout=20)  # the old reader grew by ~1 GB/s until killed
    assert result.returncode == 2 and "out of the params folder" in result.stderr


def test_a_symlink_out_of_the_params_folder_is_refused_and_its_keys_not_echoed(params, tmp_path):
    outside = tmp_path / "secret.yaml"
    outside.write_text("aws_secret_access_key_of_someone: 1\n")
    (params / "bet2wealth" / "qa.yaml").symlink_to(outside)
    result = _run(params, tmp_path / "out")
    assert result.returncode == 2 and "out of the params folder" in result.stderr
    assert "aws_secret_access_key_of_someone" not in result.stderr


def test_a_system_folder_linked_out_of_the_params_folder_is_refused(params, tmp_path):
    # GIVEN params/shop -> a folder elsewhere holding a spec (the file itself is no link)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "dev.yaml").write_text((params / "bet2wealth" / "dev.yaml").read_text().replace("bet2wealth", "shop"))
    (params / "shop").symlink_to(elsewhere, target_is_directory=True)
    result = _run(params, tmp_path / "out")
    # THEN it is refused as the linked file is, and nothing is built
    assert result.returncode == 2 and "out of the params folder" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists() or not (tmp_path / "out" / "shop").exists()


def test_a_symlink_within_the_params_folder_is_followed(params, tmp_path):
    source = params / "bet2wealth" / "qa-source.txt"  # not a params file itself (no .yaml suffix)
    source.write_text((params / "bet2wealth" / "dev.yaml").read_text().replace("dev", "qa"))
    (params / "bet2wealth" / "qa.yaml").symlink_to(source)
    result = _run(params, tmp_path / "out", timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "out" / "bet2wealth" / "qa" / "manifest.json").read_text())["environment"] == "qa"


def test_a_control_character_in_a_file_name_is_quoted(params, tmp_path):
    (params / "bet2wealth" / "q\nok: forged.yaml").write_text("system: [")
    result = _run(params, tmp_path / "out")
    assert result.returncode == 2
    assert "\nok: forged" not in result.stderr and "\\nok: forged" in result.stderr


def test_the_next_run_puts_back_an_environment_cut_between_its_two_renames(built_twice):
    out, _ = built_twice
    dev = out / "bet2wealth" / "dev"
    before = _snapshot(dev)
    # GIVEN a crash between the renames (the old tree aside, no target), a half staging folder, an old temp file
    os.rename(dev, dev.parent / f"{output.PREVIOUS}dev-999")
    (dev.parent / f"{output.STAGING}dev-999").mkdir()
    (dev.parent / f"{output.STAGING}dev-999" / "root.json").write_text("{")
    (out / "synth" / "n60" / ".root.json.x1y2.tmp").write_text("{")
    # WHEN the output is recovered (as every build does first, under the lock)
    with output.lock(out):
        assert output.recover(out) == [f"restored {dev}"]
    # THEN the old environment is back whole and nothing else is left
    assert _snapshot(dev) == before and _leftovers(out) == []
