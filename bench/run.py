#!/usr/bin/env python3
"""Benchmark of the compiler, as whole processes: `.venv/bin/python bench/run.py` (about a minute).

Measures, each over several runs after one warm-up run (the median is reported; peak RSS is the child's
own `ru_maxrss` from wait4; the cases of a group run in turn, one run of each per round, so a drift of a
shared VM's speed slows all of them alike instead of skewing the ratios between them):
  * the floor: a bare `import troposphere, awacs` (and, for context, the interpreter alone and the
    troposphere/awacs modules a build really imports);
  * `python build.py` for every environment under params/, one process each, and all of them in one;
  * synthetic systems of N services (bench/synthetic.py, N = 10, 50, 100, 200) generated into a
    temporary params folder and built with `build.py --params`;
  * for context, the same builds in-process (compile only, no interpreter start or imports).
Then checks the targets of issue 5 (each environment, one process each, and `build.py` with all of them in
one: < 0.5 s, < 100 MB and within 2.5x of each floor, the bare import and the build's troposphere/awacs
imports, every ratio reported in `floor_ratios`; 100 services < 3 s; time linear in services; every emitted
template within CloudFormation's quotas), prints a table and writes
bench/results.json (machine, Python, medians, peak RSS, per-template resources, parameters, outputs, bytes).

It reports, it does not fail on noise: the exit status is 0 unless a build fails (a quota error is a
failure). Bytecode is cached in a temporary folder (PYTHONPYCACHEPREFIX), so the warm runs measure what a
developer or a CI job pays on every build after its first; `cold` is one fresh-cache run of each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench import synthetic  # noqa: E402

TARGET_SECONDS = 0.5
TARGET_MB = 100
TARGET_FLOOR_RATIO = 2.5
TARGET_100_SECONDS = 3.0
LINEAR_TOLERANCE = 1.5  # the cost of one more service may grow this much from the smallest to the largest sizes
SIZES = (10, 50, 100, 200)
ALL = "all"  # `python build.py`: every environment in one process (the literal command)
FLOORS = {  # results["floor_ratios"] key -> (case under cases.floor, how it is named in the targets)
    "bare_import": ("floor", "the bare import floor (import troposphere, awacs)"),
    "build_imports": ("floor_build_modules", "the build's troposphere/awacs imports"),
}


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    python = options.python or sys.executable
    sizes = tuple(sorted({int(size) for size in options.sizes.split(",")}))
    work = Path(tempfile.mkdtemp(prefix="stackforge-bench-"))
    try:
        command = " ".join(["python bench/run.py", *(sys.argv[1:] if argv is None else argv)])
        return run(python, options.runs, sizes, options.params, options.results, work, options.cold, command)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs per case after one warm-up (default 7)")
    parser.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="synthetic system sizes (default 10,50,100,200)"
    )
    parser.add_argument(
        "--params", type=Path, default=PROJECT / "params", help="params folder of the real environments"
    )
    parser.add_argument(
        "--results", type=Path, default=PROJECT / "bench" / "results.json", help="where to write the results"
    )
    parser.add_argument("--python", help="interpreter to run builds with (default: this one)")
    parser.add_argument("--cold", type=int, default=3, help="runs with an empty bytecode cache (default 3; 0 skips)")
    return parser


# ------------------------------------------------------------------------------------------ measuring


def measure(argv: list[str], runs: int, env: dict, warm_up: bool = True) -> dict:
    """Median wall time and peak RSS of `argv` as a fresh process, over `runs` runs."""
    return measure_together({"case": argv}, runs, env, warm_up)["case"]


def measure_together(cases: dict[str, list[str]], runs: int, env: dict, warm_up: bool = True) -> dict[str, dict]:
    """`measure` for several commands, run in turn (round `i` runs every case once): the speed of a shared VM
    drifts over a minute, and a floor measured first and a build measured last would each see another machine.
    Interleaved, a drift slows every case of a round alike and the ratios between them stay honest."""
    if warm_up:
        for argv in cases.values():
            _run(argv, env)
    walls: dict[str, list[float]] = {name: [] for name in cases}
    peaks: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, argv in cases.items():
            wall, peak = _run(argv, env)
            walls[name].append(wall)
            peaks[name].append(peak)
    return {
        name: {
            "seconds": round(statistics.median(walls[name]), 4),
            "seconds_min": round(min(walls[name]), 4),
            "seconds_max": round(max(walls[name]), 4),
            "peak_rss_mb": round(statistics.median(peaks[name]), 1),
            "peak_rss_mb_max": round(max(peaks[name]), 1),
            "runs": runs,
            "command": _shown(argv),
        }
        for name, argv in cases.items()
    }


def _run(argv: list[str], env: dict) -> tuple[float, float]:
    """Wall time and the child's own peak RSS (MB). Its stderr goes to a temporary file, not a pipe: a pipe
    nobody reads while wait4 blocks fills at ~64 KiB and the child would then block on write for ever (a
    build with many warnings, a traceback). wait4 reaps the child itself, so `ru_maxrss` is its own, not
    the maximum over every child of this process that RUSAGE_CHILDREN would give."""
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            stderr.seek(0)
            error = stderr.read().decode("utf-8", "replace")
            raise BuildFailed(f"{_shown(argv)} exited {process.returncode}:\n{error}")
    return wall, usage.ru_maxrss / 1024  # KiB on Linux


class BuildFailed(Exception):
    pass


_WORK: list[Path] = []  # the run's temporary folder, shown as <tmp>


def _shown(argv: list[str]) -> str:
    """The command as a reader would type it: `python`, paths relative to the project, <tmp> for the scratch folder."""
    parts = []
    for part in argv:
        part = str(part)
        if part == sys.executable or part.endswith("/python") or part.endswith("/python3"):
            part = "python"
        for work in _WORK:
            part = part.replace(str(work), "<tmp>")
        part = part.replace(str(PROJECT) + "/", "")
        parts.append(part if " " not in part and ";" not in part else repr(part))
    return " ".join(parts)


def environment(pycache: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _targets_of(python: str, env: dict, params: Path) -> list[str]:
    """The environments under `params`, asked of a child: a child's peak RSS (wait4's ru_maxrss) includes its
    parent's RSS when it was spawned (Linux carries the old address space's high-water mark across exec), so
    this process must not import the compiler (~15 MB) before the measurements are done."""
    return json.loads(
        _in_child(
            python,
            env,
            "from stackloom import params; " "print(json.dumps(sorted(params.discover(Path(sys.argv[1])))))",
            params,
        )
    )


def _own_peak_mb() -> float:
    """This process's own high-water RSS: VmHWM of its address space (what a child spawned now would inherit).
    Not getrusage: its ru_maxrss also keeps the size of whatever spawned this process (pytest, a shell)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _in_child(python: str, env: dict, code: str, *args) -> str:
    """Run `code` (json, sys and Path imported) in a fresh interpreter; its stdout."""
    result = subprocess.run(
        [python, "-c", "import json, sys\nfrom pathlib import Path\n" + code, *map(str, args)],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def build_modules(python: str, env: dict, params: Path, work: Path) -> list[str]:
    """The troposphere and awacs modules a real build imports (the floor of any troposphere compiler)."""
    code = (
        "from stackloom.cli.main import main; main(['build', '-q', '--params', sys.argv[1], '--output', sys.argv[2]]);"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('troposphere', 'awacs'))))"
    )
    return _in_child(python, env, code, params, work / "modules").split()


def in_process(python: str, env: dict, params: Path, runs: int) -> dict[str, float]:
    """Median compile time of each environment in one process (imports already paid), by system/env."""
    code = f"""
import json, statistics, sys, time
from stackloom import build as compiler
from stackloom.params import load_spec
from stackloom.params import discover
found = {{}}
for target, path in sorted(discover(__import__('pathlib').Path(sys.argv[1])).items()):
    spec = load_spec(path)
    compiler.compile_environment(spec)
    times = []
    for _ in range({runs}):
        started = time.perf_counter(); compiler.compile_environment(spec); times.append(time.perf_counter() - started)
    found[target] = round(statistics.median(times), 4)
print(json.dumps(found))
"""
    result = subprocess.run(
        [python, "-c", code, str(params)], cwd=PROJECT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def templates_of(params: Path) -> dict[str, dict]:
    """Per environment: every emitted template's resources, parameters, outputs, mappings and bytes."""
    from stackloom import build as compiler
    from stackloom.params import discover, load_spec

    found = {}
    for target, path in sorted(discover(params).items()):
        build = compiler.compile_environment(load_spec(path))
        manifest = json.loads(build.files[compiler.MANIFEST_FILE])
        errors = [error for usage in build.usages for error in usage.findings()[0]]
        found[target] = {
            "templates": {
                usage.file_name: {
                    "resources": usage.resources,
                    "parameters": usage.parameters,
                    "outputs": usage.outputs,
                    "mappings": usage.mappings,
                    "bytes": usage.bytes,
                    **({"inline": True} if usage.inline else {}),
                }
                for usage in build.usages
            },
            "services": len(build.spec.services),
            "grouped": "packed_parameters" in manifest,
            "split": sorted({name.split("-part-")[0] + ".json" for name in build.files if "-part-" in name}),
            "largest": _largest(build.usages),
            "quota_errors": errors,
            "warnings": build.warnings,
        }
    return found


def _largest(usages) -> dict:
    """The highest use of each quota over all templates: {quota: [used, limit, file]}."""
    from templates import quotas

    result = {}
    for key in quotas.LIMITS:
        usage = max(usages, key=lambda item: getattr(item, key) / item.limit(key))
        result[key] = [getattr(usage, key), usage.limit(key), usage.file_name]
    return result


# ------------------------------------------------------------------------------------------ the run


def run(
    python: str,
    runs: int,
    sizes: tuple[int, ...],
    params: Path,
    results_file: Path,
    work: Path,
    cold_runs: int,
    command: str = "python bench/run.py",
) -> int:
    _WORK[:] = [work]
    env = environment(work / "pycache")
    build = [python, "build.py"]
    print(
        f"stackforge benchmark: {runs} runs per case after a warm-up, medians; {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        flush=True,
    )

    modules = build_modules(python, env, params, work)
    floors = {
        "interpreter": [python, "-c", "pass"],
        "floor": [python, "-c", "import troposphere, awacs"],
        "floor_build_modules": [python, "-c", "import " + ", ".join(modules)],
    }

    targets = _targets_of(python, env, params)
    builds = {
        target: build + ["build", target, "-q", "--params", params, "--output", work / "out"] for target in targets
    }
    builds[ALL] = build + ["-q", "--params", params, "--output", work / "out"]
    measured = measure_together({**floors, **builds}, runs, env)  # floors and builds interleaved: same machine
    cases = {name: measured[name] for name in floors}
    cases["floor_build_modules"]["command"] = (
        f"python -c 'import <the {len(modules)} troposphere/awacs modules a build imports>'"
    )
    environments = {name: measured[name] for name in builds}
    environments[ALL]["command"] += "  (every environment in one process)"
    cold = {}
    for index in range(cold_runs):
        cold_env = environment(work / f"pycache-cold-{index}")
        cold.setdefault("runs", []).append(measure(builds[ALL], 1, cold_env, warm_up=False))
    if cold:
        cold = {
            "seconds": round(statistics.median(run["seconds"] for run in cold["runs"]), 4),
            "peak_rss_mb": round(statistics.median(run["peak_rss_mb"] for run in cold["runs"]), 1),
            "runs": cold_runs,
            "command": cold["runs"][0]["command"] + "  (empty bytecode cache)",
        }

    synthetic_params = work / "synthetic"
    systems: dict[int, dict] = {}
    growing = {}
    for size in sizes:
        folder = synthetic_params / f"n{size}"
        _in_child(
            python,
            env,
            "from bench import synthetic; synthetic.write(Path(sys.argv[1]), int(sys.argv[2]))",
            folder,
            size,
        )  # in a child: PyYAML stays out of this process (see _targets_of)
        argv = build + ["-q", "--params", folder, "--output", work / f"out-{size}"]
        try:
            _run(argv, env)
            growing[size] = argv
        except BuildFailed as error:
            systems[size] = {"failed": str(error).strip().splitlines()[-1], "command": _shown(argv)}
    systems.update(measure_together(growing, runs, env, warm_up=False))  # the check run above was the warm-up
    systems = dict(sorted(systems.items()))
    parent_mb = _own_peak_mb()  # a lower bound of each peak above

    compile_real = in_process(python, env, params, runs)
    compile_synthetic = (
        in_process(python, env, synthetic_params / "all", runs) if _merge(synthetic_params, sizes) else {}
    )

    templates = {**templates_of(params), **templates_of(synthetic_params / "all")}
    results = {
        "command": command,
        "measured_on": time.strftime("%Y-%m-%d", time.gmtime()),
        "machine": _machine(),
        "python": platform.python_version(),
        "packages": _versions(),
        "cases": {
            "floor": cases,
            "environments": environments,
            "cold_all_environments": cold,
            "synthetic": {str(size): value for size, value in systems.items()},
        },
        "compile_only_seconds": {**compile_real, **compile_synthetic},
        "linearity": _linearity(systems, compile_synthetic),
        "bench_process_peak_rss_mb": parent_mb,
        "templates": templates,
    }
    results["floor_ratios"] = _floor_ratios(results, targets)
    results["targets"] = _targets(results, targets, sizes)
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    _print(results, targets, sizes)
    print(f"\nwritten: {results_file.relative_to(PROJECT) if results_file.is_relative_to(PROJECT) else results_file}")
    failed = any("failed" in value for value in systems.values()) or any(
        system["quota_errors"] for system in templates.values()
    )
    return 1 if failed else 0


def _merge(folder: Path, sizes) -> bool:
    """All synthetic systems in one params folder (for the in-process and per-template figures)."""
    target = folder / "all" / synthetic.SYSTEM
    target.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        source = folder / f"n{size}" / synthetic.SYSTEM / f"{synthetic.environment_name(size)}.yaml"
        shutil.copy(source, target / source.name)
    return True


def _linearity(systems: dict, compile_only: dict) -> dict:
    """Cost per added service between consecutive sizes, for whole processes and for compile only."""

    def slopes(points: list[tuple[int, float]]) -> list[dict]:
        return [
            {"from": a, "to": b, "ms_per_service": round((tb - ta) * 1000 / (b - a), 2)}
            for (a, ta), (b, tb) in zip(points, points[1:])
        ]

    process = [(size, value["seconds"]) for size, value in sorted(systems.items()) if "seconds" in value]
    compiled = sorted(
        (int(key.split("/n")[1]), value)
        for key, value in compile_only.items()
        if key.startswith(f"{synthetic.SYSTEM}/n")
    )
    result = {"process": slopes(process), "compile_only": slopes(compiled)}
    for key in ("process", "compile_only"):
        values = [slope["ms_per_service"] for slope in result[key]]
        if len(values) >= 2 and values[0] > 0:
            result[f"{key}_growth"] = round(values[-1] / values[0], 2)
    return result


def _floor_ratios(results: dict, targets: list[str]) -> dict:
    """Each environment (one process each) and `build.py` (all in one) against both floors: median / floor
    median, met when at most TARGET_FLOOR_RATIO."""
    floors = results["cases"]["floor"]
    environments = results["cases"]["environments"]
    found = {
        "target_ratio": TARGET_FLOOR_RATIO,
        "floors": {
            key: {"seconds": floors[case]["seconds"], "command": floors[case]["command"]}
            for key, (case, _) in FLOORS.items()
        },
        "cases": {},
    }
    for target in [*targets, ALL]:
        seconds = environments[target]["seconds"]
        entry = {"seconds": seconds, "command": environments[target]["command"]}
        for key, (case, _) in FLOORS.items():
            floor = floors[case]["seconds"]
            entry[f"vs_{key}"] = {"ratio": round(seconds / floor, 2), "met": seconds <= TARGET_FLOOR_RATIO * floor}
        found["cases"][target] = entry
    return found


def _targets(results: dict, targets: list[str], sizes) -> dict:
    environments = results["cases"]["environments"]
    ratios = results["floor_ratios"]["cases"]
    slowest = max(environments[target]["seconds"] for target in targets)
    heaviest = max(environments[target]["peak_rss_mb_max"] for target in targets)
    every, together = "every environment (one process each)", "python build.py (every environment in one process)"
    found = {
        f"{every} < 0.5 s": {"value": slowest, "met": slowest < TARGET_SECONDS},
        f"{together} < 0.5 s": {
            "value": environments[ALL]["seconds"],
            "met": environments[ALL]["seconds"] < TARGET_SECONDS,
        },
        f"{every} < 100 MB": {"value": heaviest, "met": heaviest < TARGET_MB},
        f"{together} < 100 MB": {
            "value": environments[ALL]["peak_rss_mb_max"],
            "met": environments[ALL]["peak_rss_mb_max"] < TARGET_MB,
        },
    }
    for key, (_, floor_name) in FLOORS.items():
        worst = max(targets, key=lambda target: ratios[target][f"vs_{key}"]["ratio"])
        found[f"{every} within {TARGET_FLOOR_RATIO}x of {floor_name}"] = {
            "value": ratios[worst][f"vs_{key}"]["ratio"],
            "slowest": worst,
            "met": all(ratios[target][f"vs_{key}"]["met"] for target in targets),
        }
        found[f"{together} within {TARGET_FLOOR_RATIO}x of {floor_name}"] = {
            "value": ratios[ALL][f"vs_{key}"]["ratio"],
            "met": ratios[ALL][f"vs_{key}"]["met"],
        }
    synthetic_cases = results["cases"]["synthetic"]
    if "100" in synthetic_cases:
        value = synthetic_cases["100"].get("seconds")
        found["100 services < 3 s"] = {"value": value, "met": value is not None and value < TARGET_100_SECONDS}
    growth = results["linearity"].get("compile_only_growth")
    if growth is not None:
        found["time linear in services (compile-only cost per service, largest/smallest sizes)"] = {
            "value": growth,
            "met": growth <= LINEAR_TOLERANCE,
        }
    systems = results["templates"]
    errors = {target: system["quota_errors"] for target, system in systems.items() if system["quota_errors"]}
    found["every emitted template within CloudFormation quotas"] = {
        "value": errors or f"{sum(len(system['templates']) for system in systems.values())} templates checked",
        "met": not errors and not any("failed" in value for value in synthetic_cases.values()),
    }
    return found


def _machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "cpu": model or platform.processor(),
    }


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("troposphere", "awacs", "msgspec", "PyYAML"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


# ------------------------------------------------------------------------------------------ report


def _print(results: dict, targets: list[str], sizes) -> None:
    cases = results["cases"]
    rows = [("case", "median s", "min s", "peak RSS MB", "command")]

    def row(name, value):
        if "failed" in value:
            rows.append((name, "FAILED", "", "", value["failed"]))
        else:
            rows.append(
                (
                    name,
                    f"{value['seconds']:.3f}",
                    f"{value.get('seconds_min', value['seconds']):.3f}",
                    f"{value['peak_rss_mb']:.1f}",
                    value["command"],
                )
            )

    for name, value in cases["floor"].items():
        row(name, value)
    for name, value in cases["environments"].items():
        row(name, value)
    if cases["cold_all_environments"]:
        row("all (cold)", cases["cold_all_environments"])
    for size, value in cases["synthetic"].items():
        row(f"synthetic {size}", value)
    _table(rows)

    print("\nper system (in-process compile; largest use of each quota over its templates):")
    rows = [("system", "services", "templates", "compile s", "resources", "parameters", "outputs", "bytes", "layout")]
    for target, system in sorted(
        results["templates"].items(), key=lambda item: (item[0].split("/")[0], item[1]["services"])
    ):
        largest = system["largest"]
        layout = ("grouped" if system["grouped"] else "flat") + (
            f", split {', '.join(system['split'])}" if system["split"] else ""
        )
        rows.append(
            (
                target,
                str(system["services"]),
                str(len(system["templates"])),
                f"{results['compile_only_seconds'].get(target, 0):.3f}",
                *[
                    f"{largest[key][0]:,}/{largest[key][1]:,}"
                    for key in ("resources", "parameters", "outputs", "bytes")
                ],
                layout,
            )
        )
    _table(rows)

    linearity = results["linearity"]
    print(
        "\ncost per added service (ms):",
        "process " + ", ".join(f"{s['from']}->{s['to']}: {s['ms_per_service']}" for s in linearity["process"]) + ";",
        "compile only "
        + ", ".join(f"{s['from']}->{s['to']}: {s['ms_per_service']}" for s in linearity["compile_only"]),
    )
    ratios = results["floor_ratios"]
    floors = ratios["floors"]
    print(
        f"\neach environment and build.py (all) against both floors (median / floor median; target <= "
        f"{ratios['target_ratio']}x):"
    )
    within = f"<= {ratios['target_ratio']}x"
    rows = [
        (
            "case",
            "median s",
            f"x bare import ({floors['bare_import']['seconds']:.3f} s)",
            within,
            f"x build's troposphere/awacs imports ({floors['build_imports']['seconds']:.3f} s)",
            within,
        )
    ]
    for target, entry in ratios["cases"].items():
        rows.append(
            (
                f"{target} (python build.py)" if target == ALL else target,
                f"{entry['seconds']:.3f}",
                *[
                    cell
                    for key in FLOORS
                    for cell in (f"{entry[f'vs_{key}']['ratio']:.2f}", "met" if entry[f"vs_{key}"]["met"] else "MISSED")
                ],
            )
        )
    _table(rows)
    print("\ntargets:")
    for name, target in results["targets"].items():
        worst = f" ({target['slowest']})" if "slowest" in target else ""
        print(f"  {'met   ' if target['met'] else 'MISSED'}  {name}: {target['value']}{worst}")


def _table(rows: list[tuple]) -> None:
    widths = [max(len(str(row[index])) for row in rows) for index in range(len(rows[0]))]
    for number, row in enumerate(rows):
        print(
            "  ".join(
                str(cell).ljust(width) if index in (0, len(row) - 1) else str(cell).rjust(width)
                for index, (cell, width) in enumerate(zip(row, widths))
            ).rstrip()
        )
        if number == 0:
            print("  ".join("-" * width for width in widths))


if __name__ == "__main__":
    sys.exit(main())
