"""The linters' result cache (stackloom/audit/cache.py): a changed template is always checked again, a broken
cache is ignored, and a cached result is exactly the tool's."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from stackloom.audit import audit, cache, lint, tools

STATEFUL = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def _template(path: Path, *, policies: bool = True, groups: int = 1) -> Path:
    """A template of log groups: clean with their policies, an I3011 finding (mandatory) without."""
    resources = {
        f"Logs{index}": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"RetentionInDays": 7},
            **(STATEFUL if policies else {}),
        }
        for index in range(groups)
    }
    path.write_text(json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}, indent=2))
    return path


def _no_linting(*args, **kwargs):
    raise AssertionError("linted although the template's result is cached")


@pytest.fixture
def own_cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.DIR_VARIABLE, str(folder))
    return folder


# ---- the key ------------------------------------------------------------------------------------------


def test_the_key_changes_with_the_bytes_the_version_the_configuration_and_the_region(tmp_path):
    store = cache.Cache(tmp_path, "cfn-lint", "1.0", {"ignore_checks": ["W3002"]})
    key = store.key(b"{}", "eu-central-1")
    assert key == store.key(b"{}", "eu-central-1")
    assert key != store.key(b"{ }", "eu-central-1")
    assert key != store.key(b"{}", "us-east-1")
    assert key != cache.Cache(tmp_path, "cfn-lint", "1.1", {"ignore_checks": ["W3002"]}).key(b"{}", "eu-central-1")
    assert key != cache.Cache(tmp_path, "cfn-lint", "1.0", {"ignore_checks": []}).key(b"{}", "eu-central-1")
    assert key != cache.Cache(tmp_path, "checkov", "1.0", {"ignore_checks": ["W3002"]}).key(b"{}", "eu-central-1")


def test_a_stored_value_is_read_back_and_another_version_misses(tmp_path):
    store = cache.Cache(tmp_path, "checkov", "3.3.30")
    store.put(b"template", {"failed_checks": [1]})
    assert store.get(b"template") == {"failed_checks": [1]}
    assert cache.Cache(tmp_path, "checkov", "3.3.31").get(b"template") is None
    assert store.get(b"other template") is None
    assert not list(tmp_path.rglob(".tmp-*"))  # written through a temporary file, renamed into place


def test_a_corrupt_or_foreign_entry_is_a_miss_and_is_replaced(tmp_path):
    store = cache.Cache(tmp_path, "cfn-lint", "1.58.0")
    store.put(b"t", [])
    (entry,) = tmp_path.rglob("*.json")
    for broken in ("{not json", "[]", json.dumps({"format": cache.FORMAT + 1, "key": entry.stem, "value": []})):
        entry.write_text(broken)
        assert store.get(b"t") is None
    store.put(b"t", ["again"])
    assert store.get(b"t") == ["again"]


def test_an_unwritable_cache_folder_is_no_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would be")
    store = cache.Cache(blocker / "cache", "cfn-lint", "1.58.0")
    store.put(b"t", [])  # nothing raised
    assert store.get(b"t") is None


def test_the_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(cache.DIR_VARIABLE, raising=False)
    monkeypatch.delenv(cache.OFF_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.folder() == tmp_path / "xdg" / "stackloom"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.folder() == Path.home() / ".cache" / "stackloom"
    monkeypatch.setenv(cache.DIR_VARIABLE, str(tmp_path / "ci"))
    assert cache.folder() == tmp_path / "ci"
    assert cache.folder(enabled=False) is None
    monkeypatch.setenv(cache.OFF_VARIABLE, "1")
    assert cache.folder() is None


# ---- cfn-lint -----------------------------------------------------------------------------------------


def test_a_finding_introduced_into_a_cached_clean_template_is_reported(own_cache, tmp_path, monkeypatch):
    # GIVEN a clean template, linted once (so its key is cached clean)
    path = _template(tmp_path / "t.json")
    assert lint.lint_files([path]) == {path: []}
    monkeypatch.setattr(lint, "_lint_one", _no_linting)
    assert lint.lint_files([path]) == {path: []}  # the second time from the cache
    monkeypatch.undo()
    # WHEN a stateful resource loses its policies (same file name, same folder, same cache)
    _template(path, policies=False)
    # THEN the template is linted again and the mandatory finding is reported
    (found,) = lint.lint_files([path]).values()
    assert sorted(item.split(" ")[0] for item in found) == ["I3011", "I3011"]


def test_a_cached_finding_is_the_finding_cfn_lint_reports(own_cache, tmp_path, monkeypatch):
    path = _template(tmp_path / "t.json", policies=False)
    fresh = lint.findings({path: "eu-central-1"})
    assert {item["rule"] for item in fresh[path]} == {"I3011"}
    monkeypatch.setattr(lint, "_lint_one", _no_linting)
    assert lint.findings({path: "eu-central-1"}) == fresh


def test_each_region_has_its_own_entry(own_cache, tmp_path, monkeypatch):
    path = _template(tmp_path / "t.json")
    lint.findings({path: "eu-central-1"})
    calls = []
    monkeypatch.setattr(lint, "_lint_one", lambda path, region: calls.append(region) or [])
    lint.findings({path: "eu-central-1"})
    lint.findings({path: "us-west-2"})
    assert calls == ["us-west-2"]


def test_no_cache_lints_again_and_keeps_nothing(own_cache, tmp_path, monkeypatch):
    path = _template(tmp_path / "t.json")
    calls = []
    monkeypatch.setattr(lint, "_lint_one", lambda path, region: calls.append(path) or [])
    lint.findings({path: "eu-central-1"}, cached=False)
    lint.findings({path: "eu-central-1"}, cached=False)
    assert calls == [path, path] and not own_cache.exists()


def test_worker_processes_report_what_one_process_reports(own_cache, tmp_path):
    # GIVEN enough templates to use workers, every other one with a finding
    paths = [
        _template(tmp_path / f"t{index}.json", policies=index % 2 == 0, groups=index + 1)
        for index in range(lint.PARALLEL_FROM)
    ]
    regions = dict.fromkeys(paths, "eu-central-1")
    # WHEN linted in two workers and in this process THEN the findings are the same, in the order given
    parallel = lint.findings(regions, cached=False, workers=2)
    assert parallel == lint.findings(regions, cached=False, workers=1)
    assert list(parallel) == paths
    assert [bool(parallel[path]) for path in paths] == [index % 2 == 1 for index in range(len(paths))]


# ---- checkov and cfn-guard ----------------------------------------------------------------------------

BUCKET = {"Type": "AWS::S3::Bucket", "Properties": {}, **STATEFUL}


def _bucket_template(path: Path, names: list[str]) -> Path:
    body = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {name: BUCKET for name in names}}
    path.write_text(json.dumps(body, indent=2))
    return path


def _failed(report) -> set[tuple[str, str]]:
    return {(finding.rule, finding.resource) for finding in report.failed}


def test_checkov_and_cfn_guard_results_are_cached_and_a_changed_template_is_checked_again(
    own_cache, tmp_path, monkeypatch
):
    # GIVEN a template with a bare bucket, checked once
    (tmp_path / "acme" / "dev").mkdir(parents=True)  # findings are labelled <system>/<env>/<file>
    path = _bucket_template(tmp_path / "acme" / "dev" / "t.json", ["Plain"])
    checkov, guard = audit.run_checkov([path]), audit.run_guard([path])
    assert ("CKV_AWS_18", "Plain") in _failed(checkov)  # access logging
    assert any(resource == "Plain" for _, resource in _failed(guard))
    # WHEN checked again THEN neither tool runs and the reports are the same
    monkeypatch.setattr(tools, "run_checkov", _no_linting)
    monkeypatch.setattr(tools, "run_guard", _no_linting)
    assert _failed(audit.run_checkov([path])) == _failed(checkov)
    assert audit.run_checkov([path]).passed == checkov.passed
    assert _failed(audit.run_guard([path])) == _failed(guard)
    monkeypatch.undo()
    # WHEN a second bare bucket is added THEN both tools run again and report it
    _bucket_template(path, ["Plain", "Another"])
    assert ("CKV_AWS_18", "Another") in _failed(audit.run_checkov([path]))
    assert any(resource == "Another" for _, resource in _failed(audit.run_guard([path])))


def test_checkov_and_cfn_guard_report_a_template_alone_as_they_do_among_others(tmp_path):
    # what makes a per-template cache exact: one run over two templates = one run over each
    first = _bucket_template(tmp_path / "a.json", ["Plain"])
    second = _template(tmp_path / "b.json")
    binary = Path(sys.executable).with_name("checkov")
    together = tools.run_checkov(binary, [first, second])
    assert together == {**tools.run_checkov(binary, [first]), **tools.run_checkov(binary, [second])}
    guard, rules, _ = audit.guard_tools()
    together = tools.run_guard(guard, rules, [first, second])
    assert together == {**tools.run_guard(guard, rules, [first]), **tools.run_guard(guard, rules, [second])}
    assert together[first]["not_compliant"] and together[first] != together[second]


def test_the_rules_are_loaded_once_per_process_not_once_per_template(tmp_path, monkeypatch):
    # GIVEN cfn-lint's rule loader counted (it reads ~300 rule modules: ~0.4 s a time)
    from cfnlint.rules import _rules

    loads = []
    original = _rules.Rules.create_from_directory.__func__

    def counted(cls, *args, **kwargs):
        loads.append(args)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(_rules.Rules, "create_from_directory", classmethod(counted))
    lint._rules()  # whatever the process loaded before
    loads.clear()
    # WHEN three templates, one with a finding, are linted in this process without the cache
    paths = [_template(tmp_path / f"t{index}.json", policies=index != 1) for index in range(3)]
    found = lint.lint_files(paths, cached=False)
    # THEN the findings are cfn-lint's and no rule was loaded again for any template
    assert [bool(found[path]) for path in paths] == [False, True, False]
    assert found[paths[1]][0].startswith("I3011 ")
    assert loads == []
