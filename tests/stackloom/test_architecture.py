"""The package structure holds (docs/architecture.md): `templates/` is the compiler and imports nothing of the
tool; in `stackloom/` arrows point one way, cli -> engines -> core -> templates; imports sit at module top
(only the CLI imports a command's module when it runs); no module grows past 700 lines; ruff is clean."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..helpers import PROJECT

PACKAGES = ("templates", "stackloom")
FORBIDDEN_IN_TEMPLATES = {"boto3", "botocore", "argparse", "moto", "subprocess", "checkov", "cfnlint", "stackloom"}
# layers of stackloom, lowest first: a module may import its own layer and the ones below, never above
CORE = (
    "stackloom",
    "stackloom.errors",
    "stackloom.terminal",
    "stackloom.kinds",
    "stackloom.render",
    "stackloom.manifest",
    "stackloom.layers",
    "stackloom.addons",
    "stackloom.params",
    "stackloom.schema_docs",
    "stackloom.overrides",
    "stackloom.build",
    "stackloom.output",
    "stackloom.cfn",
)
ENGINES = (
    "stackloom.diff",
    "stackloom.deploy",
    "stackloom.audit",
    "stackloom.report",
    "stackloom.local",
    "stackloom.operate",
)
MAX_LINES = 700
# the one import deliberately inside a function outside the CLI, with why: cfn-lint costs more to import than a
# whole build, and only a spec with addons needs its YAML decoder (test_bench keeps the build path free of it)
LAZY_IMPORTS = {("stackloom.addons", "cfnlint.decode.decode_str")}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((PROJECT / package).rglob("*.py")):
            parts = path.relative_to(PROJECT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def layer(module: str) -> int:
    if module == "templates" or module.startswith("templates."):
        return 0
    if module == "stackloom.cli" or module.startswith("stackloom.cli."):
        return 3
    if any(module == engine or module.startswith(engine + ".") for engine in ENGINES):
        return 2
    if module in CORE or any(module.startswith(core + ".") for core in CORE if core != "stackloom"):
        return 1
    raise AssertionError(f"{module}: not placed in a layer of tests/stackloom/test_architecture.py")


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module top?) for every import statement of a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(function)
    }
    top = {id(node) for node in ast.walk(tree) if id(node) not in inner}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found += [(name, node.lineno, id(node) in top) for name in names]
    return found


def _owner(name: str, known: dict[str, Path]) -> str | None:
    """The project module an imported name belongs to (`stackloom.cfn.model.references` -> stackloom.cfn.model)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def test_templates_imports_nothing_of_the_tool_and_no_aws_or_process_library():
    problems = [
        f"{module}:{line} imports {name}"
        for module, path in modules().items()
        if layer(module) == 0
        for name, line, _ in imports(path)
        if name.split(".")[0] in FORBIDDEN_IN_TEMPLATES
    ]
    assert problems == []


def test_arrows_point_down_only():
    # GIVEN every import between the project's modules WHEN placed in layers THEN none points to a higher layer,
    # and nothing outside the CLI imports the CLI
    known = modules()
    problems = []
    for module, path in known.items():
        for name, line, _ in imports(path):
            target = _owner(name, known)
            if target is None or target == module:
                continue
            if layer(target) > layer(module):
                problems.append(f"{module}:{line} imports {target} (layer {layer(target)} above {layer(module)})")
    assert problems == []


def test_imports_sit_at_module_top_outside_the_cli():
    problems = [
        f"{module}:{line} imports {name} inside a function"
        for module, path in modules().items()
        if layer(module) != 3
        for name, line, top in imports(path)
        if not top and (module, name) not in LAZY_IMPORTS
    ]
    assert problems == []


def test_no_module_is_over_700_lines():
    long = {
        module: lines
        for module, path in modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_build_imports_no_command_engine():
    # GIVEN a fresh interpreter WHEN the CLI's build path is imported THEN no engine module is loaded with it
    code = (
        "import sys; import stackloom.cli.main;"
        "print(sorted(m for m in sys.modules if m.startswith(('stackloom.deploy', 'stackloom.report',"
        " 'stackloom.audit', 'stackloom.local.', 'stackloom.diff', 'stackloom.cfn'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


@pytest.mark.skipif(RUFF is None, reason="ruff is part of the test extra")
def test_ruff_lint_is_clean():
    result = subprocess.run([RUFF, "check", "--no-cache", "."], cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(RUFF is None, reason="ruff is part of the test extra")
def test_ruff_format_is_clean():
    result = subprocess.run([RUFF, "format", "--check", "--no-cache", "."], cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
