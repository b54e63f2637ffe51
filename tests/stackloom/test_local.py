"""The local endpoint package without moto: `stackloom.local` imports none, and `require()` (and
`python -m stackloom.local`) tell the user how to install it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stackloom import local
from stackloom.errors import UserError

from ..helpers import PROJECT

# A fresh interpreter in which moto cannot be imported: `sys.modules["moto"] = None` makes `import moto`
# fail and `importlib.util.find_spec("moto")` answer None, as when it is not installed.
WITHOUT_MOTO = "import runpy, sys; sys.modules['moto'] = None; "


def test_require_passes_when_moto_is_installed():
    # GIVEN moto is installed (the test extra has it)
    # WHEN the local endpoint's requirements are checked
    # THEN nothing is raised
    assert local.require() is None


def test_require_says_how_to_install_moto_when_it_is_missing(monkeypatch):
    # GIVEN moto is missing (find_spec finds no module)
    monkeypatch.setitem(sys.modules, "moto", None)
    # WHEN the local endpoint's requirements are checked
    # THEN a user error names the extra to install
    with pytest.raises(UserError, match=r"needs moto: pip install 'stackloom\[local\]'"):
        local.require()


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=120)


def test_the_package_imports_without_moto():
    # GIVEN an interpreter without moto
    # WHEN stackloom.local is imported
    result = run(
        WITHOUT_MOTO + "import stackloom.local; print('moto' in sys.modules and sys.modules['moto'] is not None)"
    )
    # THEN it imports and loads no moto
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_serving_without_moto_is_a_user_error():
    # GIVEN an interpreter without moto
    # WHEN `python -m stackloom.local` runs
    result = run(
        WITHOUT_MOTO + "sys.argv = ['stackloom.local']; runpy.run_module('stackloom.local', run_name='__main__')"
    )
    # THEN it stops with the install hint (exit 2, as the CLI's user errors), no traceback
    assert result.returncode == 2
    assert "error: the local endpoint needs moto: pip install 'stackloom[local]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_deploy_local_without_moto_says_how_to_get_it(tmp_path):
    # GIVEN an interpreter without moto
    # WHEN `build.py deploy --local` runs
    code = (
        WITHOUT_MOTO + "from stackloom.cli.main import main; "
        f"sys.exit(main(['deploy', 'vanity-market/preprod', '--local', '--yes', '--output', {str(tmp_path)!r}]))"
    )
    result = run(code)
    # THEN it stops before anything is sent with the install hint, exit 2, and no traceback
    assert result.returncode == 2, result.stderr
    assert "error: the local endpoint needs moto: pip install 'stackloom[local]'" in result.stderr
    assert "Traceback" not in result.stderr
