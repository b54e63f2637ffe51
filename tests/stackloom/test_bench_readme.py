"""docs/performance.md shows the benchmark's latest figures: the block bench/readme.py writes from bench/results.json."""

from __future__ import annotations

import json

from bench import readme

from ..helpers import PROJECT


def test_the_readme_figures_are_those_of_the_committed_results():
    # GIVEN the committed bench/results.json WHEN its README block is rendered THEN the README holds exactly it
    # (after a benchmark run: `python bench/readme.py`)
    results = json.loads((PROJECT / "bench" / "results.json").read_text(encoding="utf-8"))
    block = readme.BLOCK.search(readme.DOCS.read_text(encoding="utf-8"))
    assert block, "docs/performance.md has no <!-- bench:figures --> block"
    assert block[2] == readme.figures(results)


def test_the_block_names_every_case_and_each_target_as_met_or_missed():
    # GIVEN results with one missed target WHEN rendered THEN every case has a row and the miss is marked
    results = json.loads((PROJECT / "bench" / "results.json").read_text(encoding="utf-8"))
    name = next(iter(results["targets"]))
    results["targets"][name] = {**results["targets"][name], "met": False}
    block = readme.figures(results)
    for target in results["cases"]["environments"]:
        assert f"`build.py build {target}`" in block or target == "all"
    assert f"- **missed**: {name}:" in block
    assert sum(line.startswith("- met: ") for line in block.splitlines()) == len(results["targets"]) - 1


def test_the_readme_lint_figures_are_those_of_the_committed_lint_results():
    # GIVEN the committed bench/lint-results.json WHEN its README block is rendered THEN the README holds exactly it
    results = json.loads(readme.LINT_RESULTS.read_text(encoding="utf-8"))
    block = readme.LINT_BLOCK.search(readme.DOCS.read_text(encoding="utf-8"))
    assert block, "docs/performance.md has no <!-- bench:lint --> block"
    assert block[2] == readme.lint_figures(results)
    for folder in results["cases"].values():  # every case measured has its row
        assert len(folder) >= 6
    assert block[2].count("\n- ") == len(results["targets"]) == 4


def test_the_writer_rewrites_both_blocks_of_the_performance_page(tmp_path, monkeypatch, capsys):
    # GIVEN a copy of docs/performance.md with both blocks emptied WHEN `python bench/readme.py` runs on it
    # THEN it is the committed page again (the script writes the page the blocks live on, from the results)
    committed = readme.DOCS.read_text(encoding="utf-8")
    emptied = readme.LINT_BLOCK.sub(r"\1\3", readme.BLOCK.sub(r"\1\3", committed))
    assert emptied != committed
    page = tmp_path / "performance.md"
    page.write_text(emptied, encoding="utf-8")
    monkeypatch.setattr(readme, "DOCS", page)
    assert readme.main() == 0
    assert page.read_text(encoding="utf-8") == committed and "benchmark figures written" in capsys.readouterr().out
