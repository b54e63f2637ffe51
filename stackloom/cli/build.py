"""`build [TARGET ...]` (the default command) and `schema`: compile params files into output/.

Kept apart from stackloom/cli/main.py so that the commands that never build (lint, status, ...) do not import
the compiler and troposphere.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stackloom import build as compiler
from stackloom.cli.common import add_common
from stackloom.output import write_all
from stackloom.params import SCHEMA_FILE, schema, select
from stackloom.schema_docs import reference


def add_parser(commands) -> None:
    build = commands.add_parser("build", help="build environments (default command; all when no TARGET is given)")
    build.add_argument("targets", nargs="*", metavar="TARGET", help="system/env (e.g. vanity-market/preprod) or system")
    build.add_argument("-q", "--quiet", action="store_true", help="print no summary table")
    add_common(build)
    build.set_defaults(handler=build_command)
    schema_parser = commands.add_parser("schema", help="print the JSON Schema of params files (for editor validation)")
    schema_parser.add_argument(
        "--write",
        action="store_true",
        help=f"write it to {SCHEMA_FILE} (committed; every params file's modeline points at it) instead",
    )
    schema_parser.add_argument(
        "--docs",
        metavar="FILE",
        type=Path,
        help="write the spec reference page (Markdown, docs/spec-reference.md is committed) to FILE instead",
    )
    schema_parser.set_defaults(handler=schema_command)


def build_command(args: argparse.Namespace) -> int:
    builds = compiler.compile_all(select(args.params, args.targets))
    write_all(builds, args.output, args.params)
    if not args.quiet:
        print_summary(builds, args.output)
    print_notes(builds)
    return 0


def print_notes(builds: list[compiler.Build]) -> None:
    """On stderr, every command that builds: each override applied, then the warnings."""
    for build in builds:
        for line in build.overrides:
            print(f"override applied: {line}", file=sys.stderr)
        for warning in build.warnings:
            print(f"warning: {warning}", file=sys.stderr)


def schema_command(args: argparse.Namespace) -> int:
    if args.docs:
        args.docs.parent.mkdir(parents=True, exist_ok=True)
        args.docs.write_text(reference(schema()), encoding="utf-8")
        print(f"wrote {args.docs}", file=sys.stderr)
        return 0
    text = schema_text()
    if not args.write:
        print(text, end="")
        return 0
    SCHEMA_FILE.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}", file=sys.stderr)
    return 0


def schema_text() -> str:
    """The committed file's exact bytes (tests/stackloom/test_schema.py compares them)."""
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


def print_summary(builds: list[compiler.Build], output_dir: Path) -> None:
    rows = [("environment", "template", "resources", "params", "outputs", "bytes")]
    for build in builds:
        for usage in build.usages:
            rows.append(
                (
                    build.target,
                    usage.file_name,
                    str(usage.resources),
                    str(usage.parameters),
                    str(usage.outputs),
                    f"{usage.bytes:,}",
                )
            )
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    for number, row in enumerate(rows):
        print(
            "  ".join(
                cell.ljust(width) if index < 2 else cell.rjust(width)
                for index, (cell, width) in enumerate(zip(row, widths))
            )
        )
        if number == 0:
            print("  ".join("-" * width for width in widths))
    stacks = sum(len(build.usages) for build in builds)
    print(f"\n{len(builds)} environment(s), {stacks} templates written to {output_dir}/")
