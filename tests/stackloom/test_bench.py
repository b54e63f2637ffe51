"""The benchmark's synthetic systems and its command (figures are reported, never asserted: no timing here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import synthetic
from stackloom import build as compiler
from stackloom.params import select
from templates import spec as spec_module

from ..helpers import PROJECT, TARGETS


@pytest.mark.parametrize("n", [1, 10, 50, 100, 200])
def test_synthetic_systems_are_valid_specs_of_n_services(n):
    spec = spec_module.parse(synthetic.spec(n))
    assert len(spec.services) == n
    assert len(spec.repositories) == n // 10


def test_synthetic_systems_are_deterministic(tmp_path):
    first = synthetic.write(tmp_path / "a", 50).read_bytes()
    assert first == synthetic.write(tmp_path / "b", 50).read_bytes()


def test_a_written_synthetic_system_builds_from_a_params_folder(tmp_path):
    path = synthetic.write(tmp_path, 10)
    assert path == tmp_path / "synth" / "n10.yaml"
    assert [build.target for build in compiler.compile_all(select(tmp_path, []))] == ["synth/n10"]


def test_the_build_path_imports_neither_boto3_nor_cfn_lint(tmp_path):
    # GIVEN a fresh interpreter WHEN the compiler builds every environment THEN no AWS SDK and no linter was loaded
    code = (
        "import sys; from stackloom import build as compiler, output, params;"
        "[output.write(b, __import__('pathlib').Path(sys.argv[1])) for b in compiler.compile_all(params.select("
        "__import__('pathlib').Path('params'), []))];"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'cfnlint', 'checkov', 'moto'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], cwd=PROJECT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_lint_command_does_not_import_the_compiler(built):
    # GIVEN a fresh interpreter WHEN `lint` runs over built output THEN neither troposphere nor the templates
    # package was imported: a command that never builds does not pay for the compiler (it is ~0.2 s)
    code = (
        "import sys; from stackloom.cli.main import main; code = main(['lint', '--output', sys.argv[1]]);"
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('troposphere', 'awacs')"
        " or m in ('templates.spec', 'templates.root', 'stackloom.build', 'stackloom.params')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(built)], cwd=PROJECT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "0 []"


def test_bench_run_writes_results_with_every_figure(tmp_path):
    # GIVEN a quick benchmark (1 run, one small system) WHEN run THEN it exits 0 and writes every figure
    results = tmp_path / "results.json"
    subprocess.run(
        [sys.executable, "bench/run.py", "--runs", "1", "--sizes", "10", "--cold", "0", "--results", str(results)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    data = json.loads(results.read_text())
    assert {"machine", "python", "packages", "cases", "templates", "targets", "linearity", "command"} <= set(data)
    assert set(data["cases"]["environments"]) == {*TARGETS, "all"}
    for case in [
        *data["cases"]["floor"].values(),
        *data["cases"]["environments"].values(),
        data["cases"]["synthetic"]["10"],
    ]:
        assert case["seconds"] > 0 and case["peak_rss_mb"] > 0
    # AND a peak is the child's own, not the benchmark's: a child's peak includes its parent's size when spawned,
    # so the benchmark stays below the floor's size until it has measured (it once imported the compiler first,
    # and `python -c pass` and the floor then "peaked" at the same 31 MB as a build)
    floors = data["cases"]["floor"]
    assert data["bench_process_peak_rss_mb"] < floors["floor"]["peak_rss_mb"]
    assert (
        floors["interpreter"]["peak_rss_mb"]
        < floors["floor"]["peak_rss_mb"]
        < floors["floor_build_modules"]["peak_rss_mb"]
    )
    assert floors["floor_build_modules"]["peak_rss_mb"] < min(
        case["peak_rss_mb"] for case in data["cases"]["environments"].values()
    )
    assert data["templates"]["synth/n10"]["templates"]["root.json"]["bytes"] > 0
    assert data["targets"]["every emitted template within CloudFormation quotas"]["met"] is True
    ratios = data["floor_ratios"]
    # AND each environment and `build.py` (all in one process) is set against both floors, met or missed
    assert set(ratios["floors"]) == {"bare_import", "build_imports"}
    assert set(ratios["cases"]) == {*TARGETS, "all"}
    for case in ratios["cases"].values():
        for floor in ("bare_import", "build_imports"):
            assert case[f"vs_{floor}"]["ratio"] > 0 and isinstance(case[f"vs_{floor}"]["met"], bool)


# ---- measuring one process --------------------------------------------------------------------------------


def _printed_by(code: str, timeout: float = 120) -> str:
    """What `code` prints, run with bench/run.py imported as `bench_run` in a fresh interpreter that must exit 0
    (a hang ends at `timeout`)."""
    result = subprocess.run(
        [sys.executable, "-c", "from bench import run as bench_run\n" + code],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_child_writing_more_than_a_pipe_holds_to_stderr_is_measured_not_deadlocked():
    # GIVEN a child that writes 1 MiB to stderr (a pipe holds ~64 KiB) and exits 0
    code = (
        "import os, sys\n"
        "wall, peak = bench_run._run([sys.executable, '-c', 'import sys; sys.stderr.write(\"x\" * (1 << 20))'],"
        " dict(os.environ))\n"
        "print(wall > 0 and peak > 0)"
    )
    # WHEN it is measured THEN the measurement returns (instead of waiting for ever on a full pipe)
    assert _printed_by(code) == "True"


def test_a_failing_child_with_a_long_stderr_is_reported_with_its_error():
    # GIVEN a child that writes 1 MiB to stderr, then its error, and exits 3 WHEN measured
    code = (
        "import os, sys\n"
        'child = \'import sys; sys.stderr.write("x" * (1 << 20) + "\\\\nthe real error\\\\n"); sys.exit(3)\'\n'
        "try:\n"
        "    bench_run._run([sys.executable, '-c', child], dict(os.environ))\n"
        "except bench_run.BuildFailed as error:\n"
        "    print(str(error).splitlines()[0].endswith('exited 3:'), str(error).splitlines()[-1])\n"
    )
    # THEN BuildFailed says how it exited and carries the end of its stderr
    assert _printed_by(code) == "True the real error"


def test_peak_rss_is_the_measured_childs_own():
    # GIVEN a child that touches 64 MiB, then a small one WHEN each is measured
    code = (
        "import os, sys\n"
        "env = dict(os.environ)\n"
        "_, big = bench_run._run([sys.executable, '-c', 'b = b\"x\" * (64 << 20)'], env)\n"
        "_, small = bench_run._run([sys.executable, '-c', 'pass'], env)\n"
        "print(big, small)"
    )
    big, small = map(float, _printed_by(code).split())
    # THEN the first peak holds the 64 MiB and the second is not the maximum over earlier children
    assert big >= 64 and small < big - 32


# ---- the floor targets ------------------------------------------------------------------------------------


def _results(environments: dict[str, float], floor: float, floor_build_modules: float) -> dict:
    case = lambda seconds: {"seconds": seconds, "peak_rss_mb_max": 40.0, "command": "python build.py ..."}  # noqa: E731
    return {
        "cases": {
            "floor": {"floor": case(floor), "floor_build_modules": case(floor_build_modules)},
            "environments": {name: case(seconds) for name, seconds in environments.items()},
            "synthetic": {},
        },
        "linearity": {},
        "templates": {},
    }


def test_each_environment_and_the_whole_build_are_checked_against_both_floors():
    from bench import run as bench_run

    # GIVEN floors of 0.1 s (bare import) and 0.2 s (the build's imports); one environment at 2x / 1x of them,
    # one at 3x / 1.5x, and `build.py` with all of them in one process at 6x / 3x
    results = _results({"a/dev": 0.2, "b/prod": 0.3, "all": 0.6}, floor=0.1, floor_build_modules=0.2)
    # WHEN the ratios and the targets are computed
    results["floor_ratios"] = bench_run._floor_ratios(results, ["a/dev", "b/prod"])
    targets = bench_run._targets(results, ["a/dev", "b/prod"], ())
    # THEN every case has its ratio to each floor, with met or missed
    cases = results["floor_ratios"]["cases"]
    assert {name: (case["vs_bare_import"], case["vs_build_imports"]) for name, case in cases.items()} == {
        "a/dev": ({"ratio": 2.0, "met": True}, {"ratio": 1.0, "met": True}),
        "b/prod": ({"ratio": 3.0, "met": False}, {"ratio": 1.5, "met": True}),
        "all": ({"ratio": 6.0, "met": False}, {"ratio": 3.0, "met": False}),
    }
    # AND the targets name the slowest environment and report the whole build on its own, missed where missed
    every, together = "every environment (one process each)", "python build.py (every environment in one process)"
    bare, build_imports = "the bare import floor (import troposphere, awacs)", "the build's troposphere/awacs imports"
    assert targets[f"{every} within 2.5x of {bare}"] == {"value": 3.0, "slowest": "b/prod", "met": False}
    assert targets[f"{every} within 2.5x of {build_imports}"] == {"value": 1.5, "slowest": "b/prod", "met": True}
    assert targets[f"{together} within 2.5x of {bare}"] == {"value": 6.0, "met": False}
    assert targets[f"{together} within 2.5x of {build_imports}"] == {"value": 3.0, "met": False}
    assert targets[f"{together} < 0.5 s"] == {"value": 0.6, "met": False}
    assert targets[f"{every} < 0.5 s"] == {"value": 0.3, "met": True}


# ------------------------------------------------------------------------------------------ bench/lint.py


def test_the_lint_benchmark_fleet_builds_and_its_change_touches_one_template_of_one_environment(tmp_path):
    from bench import lint as lint_bench
    from stackloom.output import write_all

    # GIVEN the benchmark's fleet of 3 environments, built
    params, target, service = lint_bench.fleet(tmp_path / "params", 3)
    assert sorted(path.stem for path in (params / "synth").glob("*.yaml")) == ["e01", "e02", "e03"]
    output = tmp_path / "output"
    write_all(compiler.compile_all(select(params, [])), output, params)
    before = {path: path.read_bytes() for path in map(Path, lint_bench.templates(output))}
    # WHEN one service's variable changes and its environment is built again
    lint_bench.change(params, target, service, "round-1")
    write_all(compiler.compile_all(select(params, [target])), output, params)
    after = {path: path.read_bytes() for path in map(Path, lint_bench.templates(output))}
    # THEN exactly that service's template differs: the warm case lints one template, as a one-service change does
    changed = [path.relative_to(output).as_posix() for path in before if before[path] != after[path]]
    assert changed == [f"{target}/service-{service}.json"]
    assert len(before) == len(after) > 3 * 8


def test_the_lint_benchmark_targets_are_the_issue_s_ratios():
    from bench import lint as lint_bench

    def cases(bare, cold, build_one, warm, floor):
        return {
            "bare_cfn_lint": {"seconds": bare},
            "lint_cold": {"seconds": cold},
            "build_one": {"seconds": build_one},
            "lint_warm_one_changed": {"seconds": warm},
            "import_cfn_lint": {"seconds": floor},
        }

    examples = {**cases(10, 6, 0.2, 0.8, 0.5), "audit_warm": {"seconds": 2.9}}
    met = lint_bench._targets({"examples": examples, "fleet": cases(100, 60, 0.2, 0.9, 0.5)})
    assert [target["met"] for target in met.values()] == [True, True, True, True]
    missed = lint_bench._targets(
        {"examples": {**examples, "audit_warm": {"seconds": 3.0}}, "fleet": cases(100, 61, 0.2, 1.3, 0.5)}
    )
    assert [target["met"] for target in missed.values()] == [False, True, False, False]
    assert "0.61x" in next(iter(missed.values()))["value"]
