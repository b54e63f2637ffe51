"""A spec's `accepted_risks:` applied to an audit's reports, and every accepted finding traced to where it was
accepted: templates/suppressions.yaml, a documented opt-in (templates/suppressions.py) or the spec.

The build wrote the risks that name a resource into its Metadata (checkov and cfn-lint honour them there, and
audit's cfn-guard step reads them); here each risk is matched against the tools' findings, which gives the spec's
ones their reasons, suppresses those without a resource (and those naming a Control Tower control, CT.X.PR.n,
rather than a cfn-guard rule name), and finds a risk whose check does not fire where it says: a stale or mistyped
acceptance, which is an error. cfn-lint leaves out what Metadata ignores, and checkov reports what Metadata skips
as skipped without running the check, so for those the templates that carry such a risk are checked again
without the spec's entries to see the finding fire. A cfn-lint rule the project makes mandatory
(stackloom/audit/lint.py) cannot be accepted.
"""

from __future__ import annotations

import fnmatch
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cfnlint.api import ManualArgs
from cfnlint.api import lint as run_lint

from stackloom import manifest as manifests
from stackloom.audit import lint
from stackloom.audit.audit import NOT_RECORDED, Finding, ToolReport, _label, resource_lines, run_checkov
from templates.spec_escapes import AcceptedRiskSpec
from templates.suppressions import CONTROL_ID, Suppression, built_in


@dataclass
class Environment:
    """One audited environment's own acceptances: `source` is its params file as errors name it."""

    target: str
    source: str
    env_dir: Path
    risks: list[AcceptedRiskSpec]


def accept(reports: list[ToolReport], environments: list[Environment]) -> tuple[dict[int, str], list[str]]:
    """Apply the spec's acceptances to the reports (in place): returns the origin of each finding they accept (by
    `id(finding)`) and the errors (a risk that does not fire, or a mandatory check)."""
    errors, origins, fired = [], {}, set()
    by_target = {environment.target: environment for environment in environments}
    for environment in environments:
        for index, risk in enumerate(environment.risks):
            if risk.check in lint.MANDATORY_CHECKS:
                errors.append(
                    f"{environment.source}: accepted_risks.{index}.check: {risk.check} is mandatory in this project "
                    "(stackloom/audit/lint.py): fix the template (or an override) instead of accepting it"
                )
                fired.add((environment.target, index))
    cfnlint_report = next((report for report in reports if report.tool == "cfn-lint"), None)
    if cfnlint_report is not None:
        cfnlint_report.findings += _ignored_by_metadata(environments)
    fired |= _checkov_fired(environments)
    for report in reports:
        for finding in report.findings:
            system, env, _ = finding.file.split("/")
            environment = by_target.get(f"{system}/{env}")
            for index, risk in enumerate(environment.risks if environment else []):
                if (environment.target, index) in fired and risk.check in lint.MANDATORY_CHECKS:
                    continue
                if _matches(risk, finding):
                    if not _skipped_unseen(risk):
                        fired.add((environment.target, index))
                    if finding.suppressed_because in (None, NOT_RECORDED):
                        finding.suppressed_because = " ".join(risk.reason.split())
                        origins[id(finding)] = f"{environment.source} accepted_risks.{index}"
    for environment in environments:
        for index, risk in enumerate(environment.risks):
            if (environment.target, index) not in fired:
                errors.append(
                    f"{environment.source}: accepted_risks.{index}: {risk.check} does not fire on "
                    f"{risk.resource or 'any resource'} in {risk.template or 'any template'} of {environment.target}"
                    " (audit found no such finding); remove the entry, or correct its check, resource or template"
                )
    return origins, errors


def _matches(risk: AcceptedRiskSpec, finding: Finding) -> bool:
    file_name = finding.file.rsplit("/", 1)[-1]
    if CONTROL_ID.match(risk.check):
        same = finding.tool.startswith("cfn-guard") and finding.message.startswith(f"{risk.check}:")
    else:
        same = finding.rule == risk.check
    return (
        same
        and fnmatch.fnmatch(file_name, risk.template or "*")
        and (risk.resource is None or fnmatch.fnmatchcase(finding.resource, risk.resource))
    )


def _skipped_unseen(risk: AcceptedRiskSpec) -> bool:
    """checkov reports a check its Metadata skips as skipped without running it: whether such a risk fires is
    known only from `_checkov_fired`."""
    return Suppression.is_checkov(risk.check) and risk.resource is not None


def _checkov_fired(environments: list[Environment]) -> set[tuple[str, int]]:
    """The spec's checkov acceptances written into Metadata whose check fails once the skip is taken out: checkov
    runs again over copies of only the templates that have one (most audits run nothing here)."""
    with tempfile.TemporaryDirectory(prefix="stackloom-accepted-") as folder:
        copies: dict[Path, list[tuple[str, int, AcceptedRiskSpec]]] = {}
        for environment in environments:
            risks = [(i, risk) for i, risk in enumerate(environment.risks) if _skipped_unseen(risk)]
            for path in lint.template_files(environment.env_dir) if risks else []:
                mine = [(i, risk) for i, risk in risks if fnmatch.fnmatch(path.name, risk.template or "*")]
                document = json.loads(path.read_text(encoding="utf-8"))
                if mine and _without_skips(document, [risk for _, risk in mine]):
                    copy = Path(folder, *_label(path).split("/"))
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    copy.write_text(json.dumps(document), encoding="utf-8")
                    copies[copy] = [(environment.target, i, risk) for i, risk in mine]
        if not copies:
            return set()
        found = run_checkov(sorted(copies)).failed
    fired = set()
    for copy, risks in copies.items():
        label = "/".join(copy.parts[-3:])
        for finding in (finding for finding in found if finding.file == label):
            fired |= {(target, i) for target, i, risk in risks if _matches(risk, finding)}
    return fired


def _without_skips(document: dict, risks: list[AcceptedRiskSpec]) -> bool:
    """Take the risks' checks out of the `checkov.skip` of the resources they name; whether any was there."""
    changed = False
    for key, resource in (document.get("Resources") or {}).items():
        checkov = (resource.get("Metadata") or {}).get("checkov") or {}
        skips = checkov.get("skip") or []
        drop = {risk.check for risk in risks if fnmatch.fnmatchcase(key, risk.resource or "*")}
        kept = [skip for skip in skips if skip.get("id") not in drop]
        if len(kept) != len(skips):
            checkov["skip"] = kept
            changed = True
    return changed


def _ignored_by_metadata(environments: list[Environment]) -> list[Finding]:
    """The cfn-lint findings the spec's accepted risks hid through Metadata, found by linting those templates again
    without them (only templates that have such a risk: most audits lint nothing here)."""
    found = []
    for environment in environments:
        risks = [risk for risk in environment.risks if Suppression.is_cfnlint(risk.check) and risk.resource]
        risks = [risk for risk in risks if risk.check not in lint.MANDATORY_CHECKS]
        if not risks:
            continue
        region = manifests.load(environment.env_dir).region
        for path in lint.template_files(environment.env_dir):
            mine = [risk for risk in risks if fnmatch.fnmatch(path.name, risk.template or "*")]
            document = json.loads(path.read_text(encoding="utf-8"))
            if not mine or not _without_ignores(document, mine):
                continue
            config = ManualArgs(
                regions=[region],
                include_checks=list(lint.INCLUDE_CHECKS),
                mandatory_checks=list(lint.MANDATORY_CHECKS),
                ignore_checks=list(lint.IGNORE_CHECKS),
            )
            lines = resource_lines(path.read_text(encoding="utf-8"))
            for match in run_lint(json.dumps(document), config=config):
                where = list(getattr(match, "path", None) or [])
                resource = where[1] if len(where) > 1 and where[0] == "Resources" else ""
                for risk in mine:
                    if match.rule.id == risk.check and resource and fnmatch.fnmatchcase(resource, risk.resource):
                        found.append(
                            Finding(
                                "cfn-lint",
                                match.rule.id,
                                _label(path),
                                resource,
                                f"{match.message} (resource line {lines.get(resource)})",
                                line=lines.get(resource),  # the relinted copy is not the file: its lines differ
                                in_source=True,  # Metadata hid it
                            )  # unsuppressed: `accept` matches it to its risk next, which gives reason and origin
                        )
                        break
    return found


def _without_ignores(document: dict, risks: list[AcceptedRiskSpec]) -> bool:
    """Take the risks' rules out of the `cfn-lint` ignores of the resources they name; whether any was there."""
    changed = False
    for key, resource in (document.get("Resources") or {}).items():
        config = ((resource.get("Metadata") or {}).get("cfn-lint") or {}).get("config") or {}
        ignored = config.get("ignore_checks") or []
        drop = {risk.check for risk in risks if fnmatch.fnmatchcase(key, risk.resource or "*")} & set(ignored)
        if drop:
            config["ignore_checks"] = [rule for rule in ignored if rule not in drop]
            changed = True
    return changed


def origin(finding: Finding, origins: dict[int, str]) -> str:
    """Where a suppressed finding was accepted, in words."""
    if id(finding) in origins:
        return origins[id(finding)]
    system, env, file_name = finding.file.split("/")
    entry = built_in(finding.rule, f"{system}/{env}", file_name, finding.resource)
    return entry.origin if entry is not None else "nowhere (Metadata written by hand or an override)"


def accepted_table(reports: list[ToolReport], origins: dict[int, str]) -> str:
    """Every accepted finding with its origin and reason, grouped like SECURITY.md's table (files counted)."""
    rows: dict[tuple[str, str, str, str, str], set[str]] = {}
    for report in reports:
        for finding in report.suppressed:
            key = (origin(finding, origins), finding.tool, finding.rule, finding.resource, finding.suppressed_because)
            rows.setdefault(key, set()).add(finding.file)
    lines = ["| accepted by | tool | rule | resource | files | reason |", "|---|---|---|---|---|---|"]
    for (where, tool, rule, resource, reason), files in sorted(rows.items()):
        lines.append(f"| {where} | {tool} | {rule} | {resource} | {len(files)} | {reason} |")
    return "\n".join(lines)
