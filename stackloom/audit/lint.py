"""cfn-lint over emitted templates through its Python API, with the project's one lint configuration.

I3011 (DeletionPolicy/UpdateReplacePolicy on stateful resources), I3013 (backup retention) and W3011 are
mandatory. W3002 ("may only work with `package`") is ignored: relative TemplateURLs are the point of nested
templates that `aws cloudformation package` uploads. `.cfnlintrc` carries the same settings for the CLI.

Speed: cfn-lint's rules are loaded once per process and handed to `cfnlint.runner.run_template_by_data`.
(`cfnlint.api.lint` loads all ~300 of them again for every template, about 0.4 s each time: its `rules`
argument is honoured only for the legacy `RulesCollection` class, not the `Rules` its own Runner builds, so it
is not used here); each template's findings are cached by its
bytes, the cfn-lint version, this configuration and the region (stackloom/audit/cache.py); the templates
not in the cache are linted in worker processes, one per core, when there are enough of them to pay for it.
"""

from __future__ import annotations

import functools
import gc
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version
from multiprocessing import get_context
from pathlib import Path

from cfnlint.config import ConfigMixIn
from cfnlint.core import get_rules
from cfnlint.decode.decode import decode_str
from cfnlint.match import Match
from cfnlint.runner import run_template_by_data
from cfnlint.runner.cli import Runner

from stackloom import manifest as manifests
from stackloom.audit import cache as caches
from stackloom.errors import UserError

INCLUDE_CHECKS = ("I3011", "I3013")
MANDATORY_CHECKS = ("I3011", "I3013", "W3011")
IGNORE_CHECKS = ("W3002",)
CONFIG = {"include_checks": INCLUDE_CHECKS, "mandatory_checks": MANDATORY_CHECKS, "ignore_checks": IGNORE_CHECKS}
CFN_LINT_VERSION = version("cfn-lint")
# Below this many templates to lint, forking workers costs more than it saves (bench/lint.py measures it).
PARALLEL_FROM = 6


def template_files(env_dir: Path) -> list[Path]:
    """The CloudFormation templates of one built environment, from its manifest (not parameter files)."""
    manifest = manifests.load(env_dir)
    names = [manifest.root_template, manifest.bootstrap_template, *manifest.nested_stacks.values()]
    return [env_dir / name for name in names]


def environments(output: Path, targets: list[str]) -> list[Path]:
    """The built environment folders under `output` that `targets` name (`system/env` or `system`; none: all)."""
    built = sorted(path.parent for path in output.glob(f"*/*/{manifests.FILE_NAME}"))
    if not built:
        raise UserError(f"{output}/ holds no built environment; run `stackloom build` first, or pass --output DIR")
    if not targets:
        return built
    chosen = []
    for target in targets:
        name = target.strip("/")
        found = [path for path in built if f"{path.parent.name}/{path.name}" == name or path.parent.name == name]
        if not found:
            known = ", ".join(f"{path.parent.name}/{path.name}" for path in built)
            raise UserError(f"{target!r} is not built under {output}/ (built: {known}); run `stackloom build` first")
        chosen += [path for path in found if path not in chosen]
    return chosen


@dataclass(frozen=True)
class Rule:
    """What cfn-lint's formatters read of a rule, kept with each cached finding."""

    id: str
    severity: str
    shortdesc: str
    description: str
    source_url: str

    def __str__(self) -> str:
        return f"{self.id}: {self.shortdesc}"


def lint_files(paths: list[Path], region: str = "eu-central-1", cached: bool = True) -> dict[Path, list[str]]:
    """Path -> findings as `RULE message (line)`; an empty list means clean."""
    found = findings(dict.fromkeys(paths, region), cached=cached, workers=1)
    return {path: [f"{item['rule']} {item['message']} (line {item['line']})" for item in found[path]] for path in paths}


def findings(regions: dict[Path, str], cached: bool = True, workers: int | None = None) -> dict[Path, list[dict]]:
    """Each template's findings (dicts: rule, message, line, column, line_end, column_end, path, and the rule's
    severity, shortdesc, description, source_url), each linted for its region; `workers` None: one per core."""
    result: dict[Path, list[dict]] = {}
    root = caches.folder(cached)
    for region in sorted(set(regions.values())):
        files = [path for path in regions if regions[path] == region]
        store = caches.Cache(root, "cfn-lint", CFN_LINT_VERSION, {**CONFIG, "region": region})
        result.update(caches.per_file(store, files, functools.partial(_lint_all, region=region, workers=workers)))
    return {path: result[path] for path in regions}


def rule_count(cached: bool = True) -> int:
    """How many rules this configuration runs (the audit's figure), kept in the cache: loading them takes ~0.5 s."""
    store = caches.Cache(caches.folder(cached), "cfn-lint-rules", CFN_LINT_VERSION, CONFIG)
    count = store.get(b"")
    if count is None:
        count = len(get_rules([], list(IGNORE_CHECKS), list(INCLUDE_CHECKS), False))
        store.put(b"", count)
    return count


def matches(found: dict[Path, list[dict]]) -> list[Match]:
    """cfn-lint Match objects of cached findings (for cfn-lint's own formatters), sorted as its CLI sorts them."""
    result = []
    for path, items in found.items():
        for item in items:
            rule = Rule(item["rule"], item["severity"], item["shortdesc"], item["description"], item["source_url"])
            match = Match(
                item["message"],
                rule,
                str(path),
                item["line"],
                item["column"],
                item["line_end"],
                item["column_end"],
            )
            object.__setattr__(match, "path", item["path"])
            result.append(match)
    return sorted(result, key=lambda match: (match.filename, match.linenumber, match.rule.id))


def _lint_all(paths: list[Path], region: str, workers: int | None) -> dict[Path, list[dict]]:
    workers = min(workers or os.cpu_count() or 1, len(paths))
    if workers < 2 or len(paths) < PARALLEL_FROM or sys.platform != "linux":
        return {path: _lint_one(path, region) for path in paths}
    _rules()  # loaded before the fork: every worker inherits them instead of loading its own
    biggest_first = sorted(paths, key=lambda path: -path.stat().st_size)
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        done = dict(zip(biggest_first, pool.map(_lint_one, biggest_first, [region] * len(paths))))
    return {path: done[path] for path in paths}


def _lint_one(path: Path, region: str) -> list[dict]:
    """What `cfnlint.api.lint` does for one template (decode, then run the rules), with the rules loaded once."""
    template, errors = decode_str(path.read_text(encoding="utf-8"))
    if errors:
        return [_finding(match) for match in errors]
    if template is None:
        return []
    config = ConfigMixIn(
        regions=[region],
        include_checks=list(INCLUDE_CHECKS),  # fresh lists each time: cfn-lint extends the lists it is given
        mandatory_checks=list(MANDATORY_CHECKS),
        ignore_checks=list(IGNORE_CHECKS),
    )
    return [_finding(match) for match in run_template_by_data(template, config, _rules())]


def _finding(match: Match) -> dict:
    rule = match.rule
    return {
        "rule": rule.id,
        "message": match.message,
        "line": match.linenumber,
        "column": match.columnnumber,
        "line_end": match.linenumberend,
        "column_end": match.columnnumberend,
        "path": [str(part) if not isinstance(part, int) else part for part in getattr(match, "path", None) or []]
        or None,
        "severity": rule.severity,
        "shortdesc": rule.shortdesc,
        "description": rule.description,
        "source_url": rule.source_url,
    }


@functools.cache
def _rules():
    """cfn-lint's rule collection, as its Runner builds it. Loaded with the cyclic collector paused (the ~300
    rule objects and their data live as long as the process; collecting while they are made is ~30 % of the
    0.4 s it takes), then frozen out of later collections."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        rules = Runner(ConfigMixIn()).rules
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    return rules
