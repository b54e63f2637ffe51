#!/usr/bin/env python3
"""The benchmark figures of docs/performance.md, written from bench/results.json: `python bench/readme.py` after a run.

The figures block sits between `<!-- bench:figures -->` and `<!-- /bench:figures -->` in docs/performance.md; a test
fails when it is not what this script writes from the committed results, so the page never shows
figures other than the latest measured ones.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DOCS = PROJECT / "docs" / "performance.md"  # the page holding both blocks
RESULTS = PROJECT / "bench" / "results.json"
BLOCK = re.compile(r"(<!-- bench:figures -->\n)(.*?)(<!-- /bench:figures -->)", re.DOTALL)
LINT_RESULTS = PROJECT / "bench" / "lint-results.json"
LINT_BLOCK = re.compile(r"(<!-- bench:lint -->\n)(.*?)(<!-- /bench:lint -->)", re.DOTALL)
LINT_CASES = {  # bench/lint.py's cases, in the order and the words of the table
    "build": "`build.py` (every environment)",
    "bare_cfn_lint": "bare `cfn-lint` over every template (one process)",
    "lint_cold": "`build.py lint`, empty cache",
    "build_one": "`build.py SYSTEM/ENV` after one service changed",
    "lint_warm_one_changed": "`build.py lint`, warm cache, that environment changed",
    "import_cfn_lint": "`python -c 'import cfnlint.api'`",
    "audit_cold": "`build.py audit`, empty cache",
    "audit_warm_one_changed": "`build.py audit`, warm cache, that environment changed",
    "audit_warm": "`build.py audit`, warm cache, nothing changed",
}
NAMES = {
    "interpreter": "`python -c pass`",
    "floor": "floor: `import troposphere, awacs`",
    "all": "`build.py` (all three in one process)",
}


def figures(results: dict) -> str:
    """The Markdown block: where and how it was measured, the table, the per-service cost, the targets."""
    packages = ", ".join(f"{name} {version}" for name, version in sorted(results["packages"].items()))
    machine = results["machine"]
    lines = [
        f"Latest figures (`.venv/bin/{results['command']}`, {results['measured_on']}; {machine['cpus']} CPUs, "
        f"{machine['cpu']}, Python {results['python']}, {packages}):",
        "",
        "| case | median s | peak RSS MB | × bare import | × the build's troposphere/awacs imports |",
        "|---|---:|---:|---:|---:|",
    ]
    cases, ratios = results["cases"], results["floor_ratios"]["cases"]
    for name in ("interpreter", "floor", "floor_build_modules"):  # results.json sorts its keys
        marks = {"floor": ("1", ""), "floor_build_modules": ("", "1")}.get(name, ("", ""))
        lines.append(_row(NAMES.get(name, _command(cases["floor"][name])), cases["floor"][name], *marks))
    for name in sorted(cases["environments"], key=lambda name: (name == "all", name)):
        case, ratio = cases["environments"][name], ratios[name]
        lines.append(
            _row(
                NAMES.get(name, f"`build.py build {name}`"),
                case,
                f"{ratio['vs_bare_import']['ratio']:.2f}",
                f"{ratio['vs_build_imports']['ratio']:.2f}",
            )
        )
    if cases["cold_all_environments"]:
        lines.append(_row("`build.py`, empty bytecode cache", cases["cold_all_environments"]))
    for size, case in sorted(cases["synthetic"].items(), key=lambda item: int(item[0])):
        templates = results["templates"].get(f"synth/n{size}", {}).get("templates", {})
        lines.append(_row(f"synthetic, {size} services ({len(templates)} templates)", case))
    linearity = results["linearity"]
    steps = " / ".join(f"{step['ms_per_service']:.1f}" for step in linearity["compile_only"])
    spans = " / ".join(f"{step['from']}→{step['to']}" for step in linearity["compile_only"])
    lines += [
        "",
        f"Compile time of one more service ({spans}): {steps} ms, "
        f"the largest {linearity['compile_only_growth']:.2f}× the smallest. "
        f"The benchmark's own peak RSS after measuring: {results['bench_process_peak_rss_mb']:.1f} MB; a child's "
        "figure includes the benchmark's size when the child started, so one close to it (the bare "
        "interpreter's) is an upper bound.",
        "",
        "Targets:",
        "",
    ]
    for name, target in results["targets"].items():
        slowest = f" ({target['slowest']})" if "slowest" in target else ""
        lines.append(f"- {'met' if target['met'] else '**missed**'}: {name}: {target['value']}{slowest}")
    return "\n".join(lines) + "\n"


def lint_figures(results: dict) -> str:
    """The Markdown block of bench/lint.py's results: the cases of both params folders side by side, the targets."""
    packages = ", ".join(f"{name} {version}" for name, version in sorted(results["packages"].items()))
    machine = results["machine"]
    folders = list(results["cases"])
    heads = [
        f"{name} ({results['templates'][name]['environments']} env., {results['templates'][name]['templates']} templates)"
        for name in folders
    ]
    lines = [
        f"Latest figures (`.venv/bin/{results['command']}`, {results['measured_on']}; {machine['cpus']} CPUs, "
        f"{machine['cpu']}, Python {results['python']}, {packages}; medians of "
        f"{results['cases'][folders[0]]['build']['runs']} rounds, whole processes):",
        "",
        "| case | " + " | ".join(f"{head} s" for head in heads) + " |",
        "|---|" + "---:|" * len(folders),
    ]
    for case, words in LINT_CASES.items():
        cells = [
            f"{results['cases'][name][case]['seconds']:.2f}" if case in results["cases"][name] else ""
            for name in folders
        ]
        if any(cells):
            lines.append(f"| {words} | " + " | ".join(cells) + " |")
    lines += ["", "Targets:", ""]
    for name, target in results["targets"].items():
        lines.append(f"- {'met' if target['met'] else '**missed**'}: {name}: {target['value']}")
    return "\n".join(lines) + "\n"


def _row(name: str, case: dict, bare: str = "", build: str = "") -> str:
    if "failed" in case:
        return f"| {name} | failed | | | |"
    return f"| {name} | {case['seconds']:.3f} | {case['peak_rss_mb']:.1f} | {bare} | {build} |"


def _command(case: dict) -> str:
    return case["command"].replace("python -c 'import <the ", "the ").replace(" a build imports>'", " a build imports")


def main() -> int:
    text = DOCS.read_text(encoding="utf-8")
    if not BLOCK.search(text):
        print(f"error: {DOCS}: no <!-- bench:figures --> ... <!-- /bench:figures --> block", file=sys.stderr)
        return 2
    block = figures(json.loads(RESULTS.read_text(encoding="utf-8")))
    text = BLOCK.sub(lambda match: match[1] + block + match[3], text)
    if LINT_RESULTS.is_file() and LINT_BLOCK.search(text):
        lint_block = lint_figures(json.loads(LINT_RESULTS.read_text(encoding="utf-8")))
        text = LINT_BLOCK.sub(lambda match: match[1] + lint_block + match[3], text)
    DOCS.write_text(text, encoding="utf-8")
    print(f"{DOCS}: benchmark figures written from {RESULTS.relative_to(PROJECT)} and {LINT_RESULTS.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
