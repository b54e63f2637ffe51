#!/usr/bin/env python3
"""Benchmark of the CI step, build + lint and build + audit, as whole processes: `.venv/bin/python bench/lint.py`.

Two params folders, each copied or generated into a temporary folder (nothing under params/ or output/ is
touched):
  * `examples`: the project's params/ (every environment of the example systems);
  * `fleet`: 60 environments generated with bench/synthetic.py (2 to 6 services each, about 660 templates).
For each, side by side in one run (round i runs every case once, so a drift of a shared VM's speed slows all
cases of a round alike; the median over the rounds is reported):
  * `build`: `python build.py -q` of every environment;
  * `bare_cfn_lint`: the `cfn-lint` CLI over every emitted template in one process (it lints one template
    after another), with the project's settings (.cfnlintrc's checks; each template names its own region);
  * `lint_cold`: `python build.py lint` with an empty result cache (workers: one per core);
  * `build_one`: `python build.py -q SYSTEM/ENV` after one service's environment variable changed (a new value
    every round, so the changed template is never in the cache);
  * `lint_warm_one_changed`: `python build.py lint` over every environment with the cache warm except for
    that changed one;
  * `import_cfn_lint`: `python -c "import cfnlint.api"`, the floor of anything that runs cfn-lint;
  * examples only: `audit_cold` (empty cache), `audit_warm_one_changed` (right after the change) and
    `audit_warm` (nothing changed since the last audit).
Targets (issue 18): fleet `lint_cold` at most 0.6x `bare_cfn_lint`; `build_one` + `lint_warm_one_changed` at
most 2x (`build_one` + `import_cfn_lint`); examples `audit_warm` under 3 s. Writes bench/lint-results.json;
`python bench/readme.py` then writes the table of docs/performance.md. It reports, it does not fail on a missed target.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench import run as bench_run  # noqa: E402
from bench import synthetic  # noqa: E402

RESULTS = PROJECT / "bench" / "lint-results.json"
FLEET = 60
EXAMPLE_CHANGE = ("vanity-market/preprod", "backend")  # the environment and the service whose variable changes
COLD_LINT_RATIO = 0.6
WARM_RATIO = 2.0
AUDIT_WARM_SECONDS = 3.0
# .cfnlintrc's settings, on the command line: the bare CLI runs from the scratch folder, not the project
CFN_LINT_SETTINGS = [
    "--include-checks",
    "I3011",
    "I3013",
    "--mandatory-checks",
    "I3011",
    "I3013",
    "W3011",
    "--ignore-checks",
    "W3002",
]
NOT_TEMPLATES = ("parameters.json", "overrides.json", "manifest.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="measured rounds (default 3)")
    parser.add_argument("--fleet", type=int, default=FLEET, help=f"environments of the fleet (default {FLEET})")
    parser.add_argument("--no-audit", action="store_true", help="skip the audit cases (checkov is slow)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the results")
    options = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="stackloom-bench-lint-"))
    try:
        command = " ".join(["python bench/lint.py", *(sys.argv[1:] if argv is None else argv)])
        results = run(sys.executable, options, work, command)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    options.results.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    _print(results)
    print(f"\nresults written to {options.results}")
    return 0


def fleet(folder: Path, count: int) -> tuple[Path, str, str]:
    """`count` synthetic environments `synth/e01`... under `folder`; returns the folder, the environment and the
    service whose variable the warm case changes."""
    import yaml

    for index in range(1, count + 1):
        size = 2 + index % 5
        spec = synthetic.spec(size)
        name = f"e{index:02d}"
        spec["environment"] = name
        for service in spec["services"].values():
            for secret in service.get("secrets", {}).values():
                secret["ssm"] = secret["ssm"].replace(f"/{synthetic.environment_name(size)}/", f"/{name}/")
        path = folder / synthetic.SYSTEM / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return folder, f"{synthetic.SYSTEM}/e{min(7, count):02d}", synthetic.service_name(1)


def change(params: Path, target: str, service: str, value: str) -> None:
    """Set `BENCH_CHANGE=value` in one service's environment, in the environment's own params file."""
    import yaml

    path = params / f"{target}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.setdefault("services", {}).setdefault(service, {}).setdefault("environment", {})["BENCH_CHANGE"] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def templates(output: Path) -> list[str]:
    return sorted(str(path) for path in output.glob("*/*/*.json") if path.name not in NOT_TEMPLATES)


def run(python: str, options, work: Path, command: str) -> dict:
    bench_run._WORK[:] = [work]
    base = bench_run.environment(work / "pycache")
    base.pop("STACKLOOM_NO_CACHE", None)
    folders = {"examples": (_copy_params(work / "examples-params"), *EXAMPLE_CHANGE)}
    folders["fleet"] = fleet(work / "fleet-params", options.fleet)
    cfn_lint = str(Path(python).with_name("cfn-lint"))
    results = {"cases": {}, "templates": {}}
    for name, (params, target, service) in folders.items():
        output = work / f"{name}-output"
        warm_cache, audit_cache = work / f"{name}-cache", work / f"{name}-audit-cache"
        build = [python, "build.py", "-q", "--params", str(params), "--output", str(output)]
        bench_run._run(build, base)  # the templates exist before anything lints them
        files = templates(output)
        results["templates"][name] = {"environments": len(list(params.glob("*/[!_]*.yaml"))), "templates": len(files)}
        print(f"{name}: {results['templates'][name]['environments']} environments, {len(files)} templates", flush=True)
        lint = [python, "build.py", "lint", "--output", str(output)]
        cases = {
            "build": (build, None),
            "bare_cfn_lint": ([cfn_lint, *CFN_LINT_SETTINGS, "--", *files], None),
            "lint_cold": (lint, "cold"),
            "build_one": ([*build, target], "change"),
            "lint_warm_one_changed": (lint, warm_cache),
            "import_cfn_lint": ([python, "-c", "import cfnlint.api"], None),
        }
        if name == "examples" and not options.no_audit:
            audit = [python, "build.py", "audit", "--params", str(params), "--output", str(output)]
            cases["audit_cold"] = (audit, "cold")
            cases["audit_warm_one_changed"] = (audit, audit_cache)
            cases["audit_warm"] = (audit, audit_cache)
        # warm-up: the warm caches filled with the current templates (bytecode is compiled by the first build;
        # the bare and cold cases, a minute each on the fleet, need no warm-up of their own)
        for case, (argv, cache) in cases.items():
            if isinstance(cache, Path):
                _measure(argv, cache, base, work)
        walls: dict[str, list[float]] = {case: [] for case in cases}
        for round_number in range(options.runs):
            for case, (argv, cache) in cases.items():
                if cache == "change":
                    change(params, target, service, f"round-{round_number}-{os.getpid()}")
                walls[case].append(_measure(argv, cache, base, work))
        results["cases"][name] = {
            case: {
                "seconds": round(statistics.median(walls[case]), 3),
                "seconds_min": round(min(walls[case]), 3),
                "seconds_max": round(max(walls[case]), 3),
                "runs": options.runs,
                "command": bench_run._shown(argv)
                if len(argv) < 20
                else bench_run._shown([*argv[: argv.index("--") + 1], f"<{len(files)} templates>"]),
            }
            for case, (argv, _) in cases.items()
        }
        results["cases"][name]["build_one"]["target"] = target
    results["targets"] = _targets(results["cases"])
    results.update(
        command=command,
        measured_on=date.today().isoformat(),
        machine=bench_run._machine(),
        python=platform.python_version(),
        packages=_versions(),
    )
    return results


def _measure(argv: list[str], cache: str | Path | None, base: dict, work: Path) -> float:
    env = dict(base)
    fresh = None
    if cache == "cold":
        fresh = Path(tempfile.mkdtemp(prefix="cold-cache-", dir=work))
        env["STACKLOOM_CACHE_DIR"] = str(fresh)
    elif isinstance(cache, Path):
        env["STACKLOOM_CACHE_DIR"] = str(cache)
    try:
        wall, _ = bench_run._run(argv, env)
    finally:
        if fresh is not None:
            shutil.rmtree(fresh, ignore_errors=True)
    return wall


def _copy_params(folder: Path) -> Path:
    shutil.copytree(PROJECT / "params", folder)
    return folder


def _targets(cases: dict) -> dict:
    fleet, examples = cases["fleet"], cases["examples"]
    cold = fleet["lint_cold"]["seconds"] / fleet["bare_cfn_lint"]["seconds"]
    targets = {
        f"fleet: cold `lint` at most {COLD_LINT_RATIO}x sequential bare cfn-lint": {
            "value": f"{cold:.2f}x ({fleet['lint_cold']['seconds']:.1f} s vs {fleet['bare_cfn_lint']['seconds']:.1f} s)",
            "met": cold <= COLD_LINT_RATIO,
        }
    }
    for name, group in (("examples", examples), ("fleet", fleet)):
        warm = group["build_one"]["seconds"] + group["lint_warm_one_changed"]["seconds"]
        floor = group["build_one"]["seconds"] + group["import_cfn_lint"]["seconds"]
        targets[
            f"{name}: build + `lint` with one environment changed at most {WARM_RATIO}x (its build + cfn-lint's import)"
        ] = {
            "value": f"{warm / floor:.2f}x ({warm:.2f} s vs {floor:.2f} s)",
            "met": warm / floor <= WARM_RATIO,
        }
    if "audit_warm" in examples:
        seconds = examples["audit_warm"]["seconds"]
        targets[f"examples: `audit` warm under {AUDIT_WARM_SECONDS:.0f} s"] = {
            "value": f"{seconds:.2f} s",
            "met": seconds < AUDIT_WARM_SECONDS,
        }
    return targets


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("cfn-lint", "checkov", "troposphere"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def _print(results: dict) -> None:
    for name, cases in results["cases"].items():
        print(f"\n{name} ({results['templates'][name]['templates']} templates)")
        for case, figures in cases.items():
            print(f"  {case:<24} {figures['seconds']:>8.3f} s   {figures['command']}")
    print()
    for name, target in results["targets"].items():
        print(f"{'met' if target['met'] else 'MISSED'}: {name}: {target['value']}")


if __name__ == "__main__":
    sys.exit(main())
