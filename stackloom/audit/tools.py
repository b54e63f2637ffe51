"""The checkov and cfn-guard processes, with their results split per template: what the cache keeps
(stackloom/audit/cache.py) and what audit.py reads. One process runs over all the templates not cached.

checkov's and cfn-guard's results for a template do not depend on the other files of the run (checkov's
CloudFormation checks and graph are per template; each Control Tower rule reads one data file), so a template
checked alone or with others gives the same result; tests/stackloom/test_lint_cache.py compares the two.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

CHECKOV_OPTIONS = ("--framework", "cloudformation", "--skip-download", "--output", "json")
CHECKOV_KEYS = ("passed_checks", "failed_checks", "skipped_checks")
CHECKOV_FIELDS = ("check_id", "check_name", "resource")
GUARD_OPTIONS = ("validate", "--structured", "--show-summary", "none", "--output-format", "json")
GUARD_KEYS = ("compliant", "not_applicable", "not_compliant")


class AuditToolMissing(Exception):
    """checkov or the cfn-guard wheel is not installed (`./run setup` installs both)."""


def checkov_version(binary: Path) -> str:
    """checkov's version: from this environment's metadata when it is this environment's checkov (its
    `--version` takes a few seconds to start), else from the binary."""
    if binary == Path(sys.executable).with_name("checkov"):
        try:
            return version("checkov")
        except PackageNotFoundError:
            pass
    return subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.strip()


def run_checkov(binary: Path, files: list[Path]) -> dict[Path, dict[str, list[dict]]]:
    """Per file: its passed, failed and skipped checks (check_id, check_name, resource)."""
    command = [str(binary), *CHECKOV_OPTIONS, *[arg for path in files for arg in ("--file", str(path))]]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode not in (0, 1):
        raise AuditToolMissing(f"checkov failed ({result.returncode}): {result.stderr.strip()[:500]}")
    data = json.loads(result.stdout or "[]")
    found = {path.resolve(): {key: [] for key in CHECKOV_KEYS} for path in files}
    for run in data if isinstance(data, list) else [data]:
        if "results" not in run:  # "no resources found" summary
            continue
        for key in CHECKOV_KEYS:
            for item in run["results"][key]:
                entry = {name: item[name] for name in CHECKOV_FIELDS}
                found[Path(item["file_abs_path"]).resolve()][key].append(entry)
    return {path: found[path.resolve()] for path in files}


def checkov_runs(results: dict[Path, dict[str, list[dict]]]) -> list[dict]:
    """The per-file results as the one checkov run over all of them would report them (`file_abs_path` set)."""
    merged = {
        key: [dict(item, file_abs_path=str(path.resolve())) for path, found in results.items() for item in found[key]]
        for key in CHECKOV_KEYS
    }
    return [{"results": merged}]


def run_guard(binary: Path, rules: Path, files: list[Path]) -> dict[Path, dict[str, list]]:
    """Per file: cfn-guard's outcome (compliant, not_applicable, not_compliant) of the rules over it."""
    command = [
        str(binary),
        GUARD_OPTIONS[0],
        "--rules",
        str(rules),
        *GUARD_OPTIONS[1:],
        *[arg for path in files for arg in ("--data", str(path))],
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if not result.stdout.strip().startswith("["):
        raise AuditToolMissing(f"cfn-guard failed ({result.returncode}): {result.stderr.strip()[:500]}")
    found = {path.resolve(): {key: [] for key in GUARD_KEYS} for path in files}
    for outcome in json.loads(result.stdout):
        found[Path(outcome["name"]).resolve()] = {key: outcome[key] for key in GUARD_KEYS}
    return {path: found[path.resolve()] for path in files}
