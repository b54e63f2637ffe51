"""`lint [TARGET ...]`: cfn-lint over the emitted templates of output/ (engine: stackloom.audit.lint).

It lints what is built, it does not build (`python build.py && python build.py lint` is the CI step). Each
environment is linted for its own region; results come from the cache where a template's bytes were linted
before with the same cfn-lint version and configuration; the rest are linted in worker processes. Findings
are printed by cfn-lint's own formatters. Exit 0 clean, 2 findings, 1 error (nothing built, unknown target).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cfnlint import formatters

from stackloom import manifest as manifests
from stackloom.audit import lint
from stackloom.cli.common import DEFAULT_OUTPUT
from stackloom.errors import UserError, os_problem

FORMATTERS = {
    "text": formatters.Formatter,
    "parseable": formatters.ParseableFormatter,
    "json": formatters.JsonFormatter,
    "sarif": formatters.SARIFFormatter,
}
EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS = 0, 1, 2


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("lint", help="cfn-lint every emitted template under output/ (cached, in parallel)")
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="system/env or system (default: all built)")
    parser.add_argument(
        "--format",
        choices=sorted(FORMATTERS),
        default="text",
        help="text (cfn-lint's default), parseable, json or sarif (SARIF 2.1.0); default text",
    )
    parser.add_argument("--no-cache", action="store_true", help="lint every template again; neither read nor write")
    parser.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: one per core)")
    parser.add_argument("--params", type=Path, help=argparse.SUPPRESS)  # every command takes it; lint reads output/
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="DIR",
        help="folder of built output/<system>/<env>/ (default: output)",
    )
    parser.set_defaults(handler=command)


def command(args) -> int:
    try:
        env_dirs = lint.environments(args.output, args.targets)
        regions = {
            path: manifests.load(env_dir).region for env_dir in env_dirs for path in lint.template_files(env_dir)
        }
        found = lint.findings(regions, cached=not args.no_cache, workers=args.jobs)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as error:  # a template the manifest names is missing or unreadable
        print(f"error: {os_problem(error)}; run `stackloom build` again", file=sys.stderr)
        return EXIT_ERROR
    matches = lint.matches(found)
    rules = {match.rule.id: match.rule for match in matches}
    text = FORMATTERS[args.format]().print_matches(matches, rules, config=None)
    if text is not None:
        print(text)
    return EXIT_FINDINGS if matches else EXIT_CLEAN
