"""The audit's findings for CI: SARIF 2.1.0 (GitHub code scanning) and JUnit XML (test report viewers).

SARIF: one run per tool (its driver's name, version and the rules that reported, with their documentation where
the tool gives it), each result at its template file (relative to the working folder, the repository root when
run as docs/ci.md says, under `%SRCROOT%`, which code scanning resolves to the checkout) and line. An accepted finding stays in the log with a `suppressions` entry carrying its
reason: `inSource` when the template's Metadata skipped it (the build writes suppressions.yaml's and the spec's
resource-level acceptances there), `external` when the audit accepted it from the spec. Each run has its own
`automationDetails.id`, so code scanning keeps the three tools' runs of one upload apart.

JUnit: one testsuite per tool, one testcase per template, a failure element per unaccepted finding; accepted ones
are listed in the testcase's system-out with their reasons.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from stackloom.audit.audit import Finding, ToolReport

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"
TOOL_URLS = {
    "cfn-lint": "https://github.com/aws-cloudformation/cfn-lint",
    "checkov": "https://www.checkov.io/",
    "cfn-guard": "https://github.com/aws-cloudformation/cloudformation-guard",
}
CFN_LINT_LEVELS = {"E": "error", "W": "warning", "I": "note"}


def tool_name(report: ToolReport) -> str:
    """The tool's own name (cfn-guard's report is titled with the rules it runs)."""
    return report.tool.split(" ", 1)[0]


def sarif(reports: list[ToolReport], root: Path | None = None) -> dict:
    """The SARIF log of an audit's reports; file URIs relative to `root` (default: the working folder)."""
    base = (root or Path.cwd()).resolve()
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [_run(report, base) for report in reports],
    }


def sarif_text(reports: list[ToolReport], root: Path | None = None) -> str:
    return json.dumps(sarif(reports, root), indent=2) + "\n"


def _run(report: ToolReport, base: Path) -> dict:
    name = tool_name(report)
    rule_ids = sorted({finding.rule for finding in report.findings})
    rules = []
    for rule in rule_ids:
        descriptor: dict = {"id": rule, "shortDescription": {"text": report.rule_names.get(rule) or rule}}
        if rule in report.rule_urls:
            descriptor["helpUri"] = report.rule_urls[rule]
        rules.append(descriptor)
    index = {rule: number for number, rule in enumerate(rule_ids)}
    driver = {"name": name, "version": report.version.split(" ")[-1], "rules": rules}
    if name in TOOL_URLS:
        driver["informationUri"] = TOOL_URLS[name]
    results = [_result(report, finding, index[finding.rule], base) for finding in _ordered(report.findings)]
    return {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"stackloom-audit/{name}/"},
        "results": results,
    }


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.file, f.line or 0, f.rule, f.resource, f.message))


def _result(report: ToolReport, finding: Finding, rule_index: int, base: Path) -> dict:
    region = {"startLine": finding.line or 1}
    location: dict = {"physicalLocation": {"artifactLocation": _artifact(report, finding, base), "region": region}}
    if finding.resource:
        location["logicalLocations"] = [{"name": finding.resource, "kind": "resource"}]
    result = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": _level(report, finding),
        "message": {"text": finding.message + (f" ({finding.resource})" if finding.resource else "")},
        "locations": [location],
    }
    if finding.suppressed_because is not None:
        result["suppressions"] = [
            {"kind": "inSource" if finding.in_source else "external", "justification": finding.suppressed_because}
        ]
    return result


def _artifact(report: ToolReport, finding: Finding, base: Path) -> dict:
    path = report.paths.get(finding.file)
    if path is None:
        return {"uri": finding.file}
    absolute = path.resolve()
    if absolute.is_relative_to(base):
        return {"uri": absolute.relative_to(base).as_posix(), "uriBaseId": SRCROOT}
    return {"uri": absolute.as_uri()}


def _level(report: ToolReport, finding: Finding) -> str:
    if tool_name(report) == "cfn-lint":
        return CFN_LINT_LEVELS.get(finding.rule[:1], "warning")
    return "error"


def junit(reports: list[ToolReport], root: Path | None = None) -> str:
    """JUnit XML of an audit's reports: a testsuite per tool, a testcase per template."""
    base = (root or Path.cwd()).resolve()
    suites = ET.Element("testsuites", name="stackloom audit")
    totals = {"tests": 0, "failures": 0}
    for report in reports:
        by_file: dict[str, list[Finding]] = {label: [] for label in report.paths}
        for finding in report.findings:
            by_file.setdefault(finding.file, []).append(finding)
        failures = sum(1 for findings in by_file.values() if any(f.suppressed_because is None for f in findings))
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=report.tool,
            tests=str(len(by_file)),
            failures=str(failures),
            errors="0",
            skipped="0",
        )
        ET.SubElement(ET.SubElement(suite, "properties"), "property", name="version", value=report.version)
        for label, findings in sorted(by_file.items()):
            path = report.paths.get(label)
            case = ET.SubElement(
                suite,
                "testcase",
                classname=tool_name(report),
                name=label,
                file=_relative(path, base) if path else label,
            )
            accepted = []
            for finding in _ordered(findings):
                where = f"{_relative(path, base) if path else label}:{finding.line or 1}"
                text = f"{finding.rule} {finding.resource} {where}: {finding.message}".replace("  ", " ")
                if finding.suppressed_because is None:
                    failure = ET.SubElement(case, "failure", type=finding.rule, message=finding.message)
                    failure.text = text
                else:
                    accepted.append(f"accepted {text} -- {finding.suppressed_because}")
            if accepted:
                ET.SubElement(case, "system-out").text = "\n".join(accepted)
        totals["tests"] += len(by_file)
        totals["failures"] += failures
    suites.set("tests", str(totals["tests"]))
    suites.set("failures", str(totals["failures"]))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _relative(path: Path, base: Path) -> str:
    absolute = path.resolve()
    return absolute.relative_to(base).as_posix() if absolute.is_relative_to(base) else os.fspath(absolute)
