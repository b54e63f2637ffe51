"""`audit [TARGET ...]`: cfn-lint, checkov and cfn-guard over the emitted templates (engine: stackloom.audit)."""

from __future__ import annotations

import sys
from pathlib import Path

from stackloom.audit import lint
from stackloom.audit.accepted import Environment, accept, accepted_table
from stackloom.audit.audit import SECURITY_FILE, AuditToolMissing, audit, summary_table, write_figures
from stackloom.audit.reports import junit, sarif_text
from stackloom.build import compile_all
from stackloom.cli.build import print_notes
from stackloom.cli.common import EXIT_USAGE, add_common
from stackloom.errors import UserError, display
from stackloom.output import write_all
from stackloom.params import select
from templates.spec_sidecars import exec_notes

FORMATS = ("markdown", "sarif", "junit")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("audit", help="run cfn-lint, checkov and cfn-guard (Control Tower rules) on output/")
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="system/env or system (default: all)")
    parser.add_argument(
        "--write-security-md", action="store_true", help="rewrite the figures in SECURITY.md from this run"
    )
    parser.add_argument("--no-cache", action="store_true", help="run every tool on every template again")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="markdown",
        help="markdown (tables, then each failure; default), sarif (SARIF 2.1.0, one run per tool, for code "
        "scanning) or junit (JUnit XML, a testsuite per tool); sarif and junit print only the document on stdout",
    )
    add_common(parser)
    parser.set_defaults(handler=command)


def command(args) -> int:
    paths = select(args.params, args.targets)
    builds = compile_all(paths)
    print_notes(builds)
    write_all(builds, args.output, args.params)
    env_dirs = [args.output / build.spec.system / build.spec.environment for build in builds]
    try:
        reports = audit(env_dirs, cached=not args.no_cache)
    except AuditToolMissing as error:
        raise UserError(str(error)) from None
    # the specs' own accepted_risks: their reasons, and an error for each that does not fire (stackloom/audit/accepted)
    sources = {build.target: display(paths[build.target]) for build in builds}
    environments = [
        Environment(build.target, sources[build.target], env_dir, list(build.spec.accepted_risks))
        for build, env_dir in zip(builds, env_dirs)
    ]
    origins, problems = accept(reports, environments)
    templates = sum(len(lint.template_files(env_dir)) for env_dir in env_dirs)
    markdown = args.format == "markdown"
    text = sys.stdout if markdown else sys.stderr  # a document format keeps stdout to the document
    if markdown:
        print(summary_table(reports, templates))
        print("\nAccepted findings, where they were accepted and why:\n\n" + accepted_table(reports, origins) + "\n")
    elif args.format == "sarif":
        sys.stdout.write(sarif_text(reports))
    else:
        sys.stdout.write(junit(reports))
    for build in builds:  # documented opt-ins the scanners have no rule for: said here, not failed
        for note in exec_notes(build.spec):
            print(f"NOTE {build.target}: {note}", file=text)
    for report in reports:
        for finding in report.failed:
            print(
                f"FAILED {finding.tool} {finding.rule} {finding.file} {finding.resource}: {finding.message}", file=text
            )
    if args.write_security_md:
        write_figures(Path(SECURITY_FILE), reports, templates, [build.target for build in builds])
        print(f"figures written to {SECURITY_FILE}", file=text)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_USAGE
    return 1 if any(report.failed for report in reports) else 0
