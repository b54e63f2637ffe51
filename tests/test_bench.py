"""The benchmark's synthetic systems and its command (figures are reported, never asserted: no timing here)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import synthetic
from templates import compiler
from templates.spec import EnvironmentSpec

from .helpers import PROJECT, TARGETS


@pytest.mark.parametrize("n", [1, 10, 50, 100, 200])
def test_synthetic_systems_are_valid_specs_of_n_services(n):
    spec = EnvironmentSpec.model_validate(synthetic.spec(n))
    assert len(spec.services) == n
    assert len(spec.repositories) == n // 10


def test_synthetic_systems_are_deterministic(tmp_path):
    first = synthetic.write(tmp_path / "a", 50).read_bytes()
    assert first == synthetic.write(tmp_path / "b", 50).read_bytes()


def test_a_written_synthetic_system_builds_from_a_params_folder(tmp_path):
    path = synthetic.write(tmp_path, 10)
    assert path == tmp_path / "synth" / "n10.yaml"
    assert [build.target for build in compiler.compile_all(compiler.select(tmp_path, []))] == ["synth/n10"]


def test_the_build_path_imports_neither_boto3_nor_cfn_lint(tmp_path):
    # GIVEN a fresh interpreter WHEN the compiler builds every environment THEN no AWS SDK and no linter was loaded
    code = ("import sys; from templates import compiler;"
            "[compiler.write(b, __import__('pathlib').Path(sys.argv[1])) for b in compiler.compile_all(compiler.select("
            "__import__('pathlib').Path('params'), []))];"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'cfnlint', 'checkov', 'moto'}))")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=PROJECT, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_bench_run_writes_results_with_every_figure(tmp_path):
    # GIVEN a quick benchmark (1 run, one small system) WHEN run THEN it exits 0 and writes every figure
    results = tmp_path / "results.json"
    subprocess.run([sys.executable, "bench/run.py", "--runs", "1", "--sizes", "10", "--cold", "0", "--results", str(results)],
                   cwd=PROJECT, capture_output=True, text=True, check=True, timeout=600)
    data = json.loads(results.read_text())
    assert {"machine", "python", "packages", "cases", "templates", "targets", "linearity", "command"} <= set(data)
    assert set(data["cases"]["environments"]) == {*TARGETS, "all"}
    for case in [*data["cases"]["floor"].values(), *data["cases"]["environments"].values(), data["cases"]["synthetic"]["10"]]:
        assert case["seconds"] > 0 and case["peak_rss_mb"] > 0
    assert data["templates"]["synth/n10"]["templates"]["root.json"]["bytes"] > 0
    assert data["targets"]["every emitted template within CloudFormation quotas"]["met"] is True
