"""Security audit of emitted templates: cfn-lint, checkov and the AWS Control Tower proactive rules
(cfn-guard 3), with every accepted finding traced to its reason in suppressions.yaml.

cfn-guard and the Control Tower rules ship inside the PyPI wheel `cdklabs-cdk-validator-cfnguard`
(installed with --no-deps: only its bundled binary and rules are used). The Control Tower rules do not
read suppression Metadata themselves, so a failure is counted as suppressed here only when the failing
resource's `Metadata.guard.SuppressedRules` names the rule.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import re
import shutil
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from stackloom import manifest as manifests
from stackloom.audit import cache, lint, tools
from stackloom.audit.tools import AuditToolMissing
from templates.suppressions import built_in

GUARD_PACKAGE = "cdklabs.cdk_validator_cfnguard"
RESOURCE_PATH = re.compile(r"/Resources/([A-Za-z0-9]+)")
NOT_RECORDED = "NOT IN suppressions.yaml"
RESOURCE_LINE = re.compile(r'"([A-Za-z0-9]+)": \{')
CONTROL_TOWER_URL = "https://docs.aws.amazon.com/controltower/latest/controlreference/proactive-controls.html"


@dataclass
class Finding:
    tool: str
    rule: str
    file: str
    resource: str
    message: str
    suppressed_because: str | None = None
    line: int | None = None  # 1-based, in the emitted template (the resource's line where the tool gives none)
    in_source: bool = False  # the tool itself skipped it, for the template's Metadata (else accepted by the audit)


@dataclass
class ToolReport:
    tool: str
    version: str
    rules: int = 0
    passed: int = 0
    findings: list[Finding] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)  # each audited template: its label -> its file
    rule_names: dict[str, str] = field(default_factory=dict)  # rule id -> its short description, where known
    rule_urls: dict[str, str] = field(default_factory=dict)  # rule id -> its documentation, where known

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.suppressed_because is None]

    @property
    def suppressed(self) -> list[Finding]:
        return [f for f in self.findings if f.suppressed_because is not None]


# ---- cfn-lint ---------------------------------------------------------------------------------------


def run_cfnlint(files: list[Path], region: str | dict[Path, str], cached: bool = True) -> ToolReport:
    """cfn-lint over the files, each for its environment's region (`region`: one for all, or per file)."""
    report = ToolReport("cfn-lint", lint.CFN_LINT_VERSION, paths=_paths(files))
    report.rules = lint.rule_count(cached)
    regions = region if isinstance(region, dict) else dict.fromkeys(files, region)
    results = lint.findings({path: regions[path] for path in files}, cached=cached)
    for path, found in ((path, results[path]) for path in files):
        if not found:
            report.passed += 1
        for item in found:
            message = f"{item['message']} (line {item['line']})"
            report.findings.append(Finding("cfn-lint", item["rule"], _label(path), "", message, line=item["line"]))
            report.rule_names[item["rule"]] = item["shortdesc"]
            if item["source_url"]:
                report.rule_urls[item["rule"]] = item["source_url"]
    return report


# ---- checkov ----------------------------------------------------------------------------------------


def run_checkov(files: list[Path], cached: bool = True) -> ToolReport:
    binary = Path(sys.executable).with_name("checkov")
    if not binary.exists():
        found = shutil.which("checkov")
        if found is None:
            raise AuditToolMissing("checkov is not installed; run `./run setup`")
        binary = Path(found)
    version = tools.checkov_version(binary)
    store = cache.Cache(cache.folder(cached), "checkov", version, tools.CHECKOV_OPTIONS)
    runs = tools.checkov_runs(cache.per_file(store, files, lambda todo: tools.run_checkov(binary, todo)))
    report = ToolReport("checkov", version, paths=_paths(files))
    lines = _ResourceLines()
    rules = set()
    for run in runs:
        if "results" not in run:  # "no resources found" summary
            continue
        results = run["results"]
        report.passed += len(results["passed_checks"])
        for status, items in (("failed", results["failed_checks"]), ("skipped", results["skipped_checks"])):
            for item in items:
                resource = item["resource"].split(".")[-1]
                label = _label(Path(item["file_abs_path"]))
                report.rule_names[item["check_id"]] = item["check_name"]
                report.findings.append(
                    Finding(
                        "checkov",
                        item["check_id"],
                        label,
                        resource,
                        item["check_name"],
                        suppressed_because=_reason(item["check_id"], resource, label) if status == "skipped" else None,
                        line=lines.of(Path(item["file_abs_path"]), resource),
                        in_source=status == "skipped",
                    )
                )
        rules.update(
            item["check_id"] for key in ("passed_checks", "failed_checks", "skipped_checks") for item in results[key]
        )
    report.rules = len(rules)
    return report


# ---- cfn-guard + Control Tower rules ----------------------------------------------------------------


def guard_tools() -> tuple[Path, Path, str]:
    """(binary, rules folder, version), unpacked once from the installed wheel into the environment."""
    spec = importlib.util.find_spec("cdklabs")
    locations = list(spec.submodule_search_locations or []) if spec else []
    archives = [
        archive
        for location in locations
        for archive in sorted((Path(location) / "cdk_validator_cfnguard" / "_jsii").glob("*.tgz"))
    ]
    if not archives:
        raise AuditToolMissing(
            "the cfn-guard rules wheel is not installed; run `./run setup` "
            "(pip install --no-deps cdklabs-cdk-validator-cfnguard)"
        )
    archive = archives[-1]
    target = Path(sys.prefix) / "share" / f"stackforge-{archive.stem}"
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}[
        platform.machine().lower()
    ]
    binary = target / "package" / "bin" / "ubuntu" / machine / "cfn-guard"
    if not binary.exists():
        with tarfile.open(archive) as bundle:
            members = [
                m
                for m in bundle.getmembers()
                if m.name.startswith(("package/rules/control-tower/", "package/guard-version.json"))
                or m.name == f"package/bin/ubuntu/{machine}/cfn-guard"
            ]
            bundle.extractall(target, members=members, filter="data")
        binary.chmod(0o755)
    version = json.loads((target / "package" / "guard-version.json").read_text())["version"]
    return binary, target / "package" / "rules" / "control-tower" / "cfn-guard", version


def run_guard(files: list[Path], cached: bool = True) -> ToolReport:
    binary, rules, version = guard_tools()
    store = cache.Cache(cache.folder(cached), "cfn-guard", version, [rules.parents[3].name, *tools.GUARD_OPTIONS])
    outcomes = cache.per_file(store, files, lambda todo: tools.run_guard(binary, rules, todo))
    report = ToolReport("cfn-guard (AWS Control Tower proactive rules)", f"cfn-guard {version}", paths=_paths(files))
    lines = _ResourceLines()
    names = set()
    templates = {path.resolve(): json.loads(path.read_text()) for path in files}
    for outcome in (dict(outcome, name=str(path)) for path, outcome in outcomes.items()):
        names.update(outcome["compliant"])
        names.update(outcome["not_applicable"])
        report.passed += len(outcome["compliant"])
        template = templates.get(Path(outcome["name"]).resolve())
        for failure in outcome["not_compliant"]:
            rule = failure["Rule"]["name"]
            names.add(rule)
            resources = sorted(set(RESOURCE_PATH.findall(json.dumps(failure)))) or [""]
            for resource in resources:
                metadata = (template or {}).get("Resources", {}).get(resource, {}).get("Metadata", {})
                suppressed = rule in metadata.get("guard", {}).get("SuppressedRules", [])
                label = _label(Path(outcome["name"]))
                message = _guard_message(failure)
                report.rule_names[rule] = message
                report.rule_urls[rule] = CONTROL_TOWER_URL
                report.findings.append(
                    Finding(
                        "cfn-guard",
                        rule,
                        label,
                        resource,
                        message,
                        suppressed_because=_reason(rule, resource, label) if suppressed else None,
                        line=lines.of(Path(outcome["name"]), resource),
                        in_source=suppressed,
                    )
                )
    report.rules = len(names)
    return report


def _guard_message(failure: dict) -> str:
    text = json.dumps(failure)
    match = re.search(r"\[(CT\.[A-Z0-9.]+)\]: ([^\\]+)", text)
    return f"{match.group(1)}: {match.group(2).strip()}" if match else failure["Rule"]["name"]


def _paths(files: list[Path]) -> dict[str, Path]:
    return {_label(path): path for path in files}


def resource_lines(text: str) -> dict[str, int]:
    """Each resource's 1-based line in an emitted template: the `"<LogicalId>": {` lines one level under
    `"Resources"` (the output is indented JSON with sorted keys, stackloom/render.py)."""
    found: dict[str, int] = {}
    inside = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if inside is None:
            if stripped.startswith('"Resources": {'):
                inside = indent
            continue
        if indent <= inside:
            break
        match = RESOURCE_LINE.match(stripped)
        if match and indent == inside + 2:
            found[match.group(1)] = number
    return found


class _ResourceLines:
    """`resource_lines` of each template read once per report."""

    def __init__(self) -> None:
        self._files: dict[Path, dict[str, int]] = {}

    def of(self, path: Path, resource: str) -> int | None:
        if path not in self._files:
            try:
                self._files[path] = resource_lines(path.read_text(encoding="utf-8"))
            except OSError:
                self._files[path] = {}
        return self._files[path].get(resource)


def _label(path: Path) -> str:
    """`<system>/<env>/<file>`: templates of different environments share file names."""
    return "/".join(path.resolve().parts[-3:])


def _reason(rule: str, resource: str, label: str) -> str:
    """The reason recorded in suppressions.yaml or by a documented opt-in (a skip recorded by neither says so;
    `accept` gives a spec's own accepted risks their reasons)."""
    system, env, file_name = label.split("/")
    found = built_in(rule, f"{system}/{env}", file_name, resource)
    return found.reason if found is not None else NOT_RECORDED


# ---- the whole audit --------------------------------------------------------------------------------


def audit(env_dirs: list[Path], cached: bool = True) -> list[ToolReport]:
    """cfn-lint (each environment for its own region, from its manifest), checkov and cfn-guard; each template's
    results from the cache where its bytes were checked before by the same tool version (stackloom/audit/cache)."""
    regions = {path: manifests.load(env_dir).region for env_dir in env_dirs for path in lint.template_files(env_dir)}
    files = list(regions)
    return [run_cfnlint(files, regions, cached), run_checkov(files, cached), run_guard(files, cached)]


def summary_table(reports: list[ToolReport], templates: int) -> str:
    lines = ["| tool | version | rules run | passed | failed | suppressed |", "|---|---|---|---|---|---|"]
    for report in reports:
        passed = f"{report.passed} templates clean of {templates}" if report.tool == "cfn-lint" else str(report.passed)
        lines.append(
            f"| {report.tool} | {report.version} | {report.rules} | {passed} | {len(report.failed)} | "
            f"{len(report.suppressed)} |"
        )
    return "\n".join(lines)


def suppression_table(reports: list[ToolReport]) -> str:
    rows = {}
    for report in reports:
        for finding in report.suppressed:
            rows.setdefault((finding.tool, finding.rule, finding.resource, finding.suppressed_because), set()).add(
                finding.file
            )
    lines = ["| tool | rule | resource | files | reason |", "|---|---|---|---|---|"]
    for (tool, rule, resource, reason), files in sorted(rows.items()):
        lines.append(f"| {tool} | {rule} | {resource} | {len(files)} | {reason} |")
    return "\n".join(lines)


# ---- command line -----------------------------------------------------------------------------------

SECURITY_FILE = "SECURITY.md"
START, END = "<!-- audit:start -->", "<!-- audit:end -->"


def figures(reports: list[ToolReport], templates: int, targets: list[str]) -> str:
    return (
        f"Last run over {templates} templates of {', '.join(targets)} "
        "(`python build.py audit --write-security-md`):\n\n"
        + summary_table(reports, templates)
        + "\n\nSuppressed findings and their reasons "
        "(from `templates/suppressions.yaml`):\n\n" + suppression_table(reports)
    )


def write_figures(path: Path, reports: list[ToolReport], templates: int, targets: list[str]) -> None:
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{START}\n{figures(reports, templates, targets)}\n{END}{tail}", encoding="utf-8")
