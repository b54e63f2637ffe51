"""`audit [TARGET ...]`: cfn-lint, checkov and cfn-guard over the emitted templates (engine: stackloom.audit)."""

from __future__ import annotations

from pathlib import Path

from stackloom.audit import lint
from stackloom.audit.audit import SECURITY_FILE, AuditToolMissing, audit, summary_table, write_figures
from stackloom.build import compile_all
from stackloom.cli.common import add_common
from stackloom.errors import UserError
from stackloom.output import write_all
from stackloom.params import select
from templates.spec_sidecars import exec_notes


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("audit", help="run cfn-lint, checkov and cfn-guard (Control Tower rules) on output/")
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="system/env or system (default: all)")
    parser.add_argument(
        "--write-security-md", action="store_true", help="rewrite the figures in SECURITY.md from this run"
    )
    add_common(parser)
    parser.set_defaults(handler=command)


def command(args) -> int:
    builds = compile_all(select(args.params, args.targets))
    write_all(builds, args.output, args.params)
    env_dirs = [args.output / build.spec.system / build.spec.environment for build in builds]
    try:
        reports = audit(env_dirs)
    except AuditToolMissing as error:
        raise UserError(str(error)) from None
    templates = sum(len(lint.template_files(env_dir)) for env_dir in env_dirs)
    print(summary_table(reports, templates))
    for build in builds:  # documented opt-ins the scanners have no rule for: said here, not failed
        for note in exec_notes(build.spec):
            print(f"NOTE {build.target}: {note}")
    for report in reports:
        for finding in report.failed:
            print(f"FAILED {finding.tool} {finding.rule} {finding.file} {finding.resource}: {finding.message}")
    if args.write_security_md:
        write_figures(Path(SECURITY_FILE), reports, templates, [build.target for build in builds])
        print(f"figures written to {SECURITY_FILE}")
    return 1 if any(report.failed for report in reports) else 0
