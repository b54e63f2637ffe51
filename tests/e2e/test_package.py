"""`pip install stackloom` gives a working command (issue 17 point 1): the wheel built from the source by
`pip wheel` (PEP 517, isolated), installed with its dependencies (from the configured package index) into a
fresh virtualenv that sees nothing of this project or its .venv, runs `stackloom --version`, and builds a copy
of params/ in a temporary directory into output/ there, the same bytes as the committed output/.

Measured here (2 cores shared, load ~7): the wheel ~5 s, the install 33-45 s (cfn-lint's and boto3's
dependencies, from pip's cache), each command 1-5 s: 45-75 s in all. A .pth onto the project's site-packages
would save the install but also put the project's editable install on the path, which this test must not see."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from stackloom import __version__

from ..helpers import PARAMS, PROJECT, TARGETS

SOURCE = ("setup.cfg", "pyproject.toml", "README.md", "stackloom", "templates")


def _clean_environment() -> dict[str, str]:
    """The caller's environment without what would put this project on the installed command's path."""
    return {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def _run(*argv, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(part) for part in argv], cwd=cwd, env=_clean_environment(), capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{argv}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ folder of a fresh virtualenv holding the wheel built from the project's source."""
    root = tmp_path_factory.mktemp("package")
    source = root / "source"  # a copy, so the build leaves no build/ or egg-info in the working tree
    source.mkdir()
    for name in SOURCE:
        if (PROJECT / name).is_dir():
            shutil.copytree(PROJECT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(PROJECT / name, source / name)
    # `pip wheel` rather than `python -m build --wheel`: the same PEP 517 build in an isolated environment with
    # pyproject.toml's setuptools, ~5 s instead of ~20 s (build makes a virtualenv for the backend first)
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", root / "dist", source, cwd=root)
    (wheel,) = (root / "dist").glob("stackloom-*.whl")
    venv = root / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=root)  # --system-site-packages off: nothing leaks in
    # --no-compile: byte-compiling botocore and sympy at install is a third of the install; imports compile lazily
    _run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-compile", wheel, cwd=root, timeout=600)
    return venv / "bin"


def test_the_wheel_holds_the_packages_their_data_and_the_console_script(installed):
    (wheel,) = installed.parent.parent.glob("dist/stackloom-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "stackloom/report/prices/eu-west-1.json" in names and "templates/suppressions.yaml" in names
    assert "templates/ec2_instance_types.json" in names
    entry_points = zipfile.ZipFile(wheel).read(f"stackloom-{__version__}.dist-info/entry_points.txt").decode()
    assert "stackloom = stackloom.cli.main:run" in entry_points


def test_installed_command_reports_its_version_and_comes_from_the_venv(installed, tmp_path):
    assert _run(installed / "stackloom", "--version", cwd=tmp_path).stdout == f"stackloom {__version__}\n"
    where = _run(
        installed / "python",
        "-c",
        "import stackloom, templates; print(stackloom.__file__, templates.__file__)",
        cwd=tmp_path,
    ).stdout.split()
    assert all(path.startswith(str(installed.parent)) for path in where), where


def test_installed_command_builds_the_params_folder_of_the_current_directory(installed, tmp_path):
    # GIVEN a directory holding only a copy of params/
    shutil.copytree(PARAMS, tmp_path / "params")
    # WHEN `stackloom` runs there with no argument
    done = _run(installed / "stackloom", cwd=tmp_path)
    # THEN output/ is written there, byte for byte the committed output/, and the summary says where
    built = sorted(path.relative_to(tmp_path / "output") for path in (tmp_path / "output").rglob("*") if path.is_file())
    assert {f"{path.parts[0]}/{path.parts[1]}" for path in built} == set(TARGETS)
    assert all((tmp_path / "output" / path).read_bytes() == (PROJECT / "output" / path).read_bytes() for path in built)
    assert done.stdout.rstrip().endswith("templates written to output/")
    # AND the installed data files serve the other commands: the cost report, shell completion
    cost = _run(installed / "stackloom", "cost", "vanity-market/preprod", "--no-build", "--json", cwd=tmp_path)
    assert '"target": "vanity-market/preprod"' in cost.stdout
    assert "_shtab_stackloom" in _run(installed / "stackloom", "completion", "bash", cwd=tmp_path).stdout


def test_installed_command_says_where_it_looked_for_params(installed, tmp_path):
    done = subprocess.run(
        [str(installed / "stackloom")], cwd=tmp_path, env=_clean_environment(), capture_output=True, text=True
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"no params/ folder in the current directory ({tmp_path})" in done.stderr
