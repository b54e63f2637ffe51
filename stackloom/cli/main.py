"""Command line: `python build.py [build] [TARGET ...]` and the other subcommands.

User errors (bad params, unknown targets, quota overruns) print one paragraph and exit 2, never a traceback.
Each subcommand lives in its own module with `add_parser(subparsers)`; this file only dispatches.
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from stackloom import build as compiler
from stackloom.cli.common import DEFAULT_OUTPUT, DEFAULT_PARAMS, EXIT_USAGE, add_common  # noqa: F401
from stackloom.errors import UserError, os_problem
from stackloom.output import write_all
from stackloom.params import SpecError, select
from templates.quotas import QuotaError
from templates.root import WiringError


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
    import json

    from stackloom.params import schema

    print(json.dumps(schema(), indent=2, sort_keys=True))
    return 0


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


# Subcommands beyond `build` and `schema` -> the module that registers and runs them.
COMMAND_MODULES = {
    "audit": "stackloom.cli.audit",
    "cost": "stackloom.cli.report",
    "deploy": "stackloom.cli.deploy",
    "destroy": "stackloom.cli.deploy",
    "diagram": "stackloom.cli.report",
    "diff": "stackloom.cli.diff",
    "lint": "stackloom.cli.lint",
    "manifest": "stackloom.cli.manifest",
    "run": "stackloom.cli.run",
    "spec": "stackloom.cli.spec",
    "stack-policy": "stackloom.cli.deploy",
}
BUILT_IN = ("build", "schema")


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `command`, only that command's module is imported (`build` must stay fast)."""
    main = argparse.ArgumentParser(prog="build.py", description="Compile platform specs into CloudFormation templates.")
    commands = main.add_subparsers(dest="command", metavar="COMMAND")
    build = commands.add_parser("build", help="build environments (default command; all when no TARGET is given)")
    build.add_argument("targets", nargs="*", metavar="TARGET", help="system/env (e.g. vanity-market/preprod) or system")
    build.add_argument("-q", "--quiet", action="store_true", help="print no summary table")
    add_common(build)
    build.set_defaults(handler=build_command)
    schema = commands.add_parser("schema", help="print the JSON Schema of params files (for editor validation)")
    schema.set_defaults(handler=schema_command)
    for module in _command_modules(command):
        module.add_parser(commands)
    return main


def _command_modules(command: str | None = None) -> list:
    """The modules of the other subcommands: all of them (for help), or only the one `command` needs."""
    import importlib

    if command in BUILT_IN:
        return []
    names = [COMMAND_MODULES[command]] if command in COMMAND_MODULES else sorted(set(COMMAND_MODULES.values()))
    return [importlib.import_module(name) for name in names]


VALUED_COMMON_OPTIONS = ("--params", "--output")  # the options of add_common: each takes the next word


def _command_first(argv: list[str]) -> list[str]:
    """The subcommand in front: `build.py --output X deploy T` is `deploy --output X T`, and anything without
    one is a build (`build.py`, `build.py -q`, `build.py vanity-market/preprod`)."""
    commands = (*BUILT_IN, *COMMAND_MODULES)
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        if argv[index] in ("-h", "--help"):
            return argv
        index += 2 if argv[index] in VALUED_COMMON_OPTIONS else 1
    if index < len(argv) and argv[index] in commands:
        return [argv[index], *argv[:index], *argv[index + 1 :]]
    return ["build", *argv]


def main(argv: list[str] | None = None) -> int:
    argv = _command_first(list(sys.argv[1:] if argv is None else argv))
    if argv[0] not in BUILT_IN:
        gc.enable()  # build.py turns it off for the short build; deploy & co. run long enough to need it
    args = parser(argv[0]).parse_args(argv)
    try:
        return args.handler(args)
    except OSError as error:  # an output folder that is a file, a read-only disk: the user's to fix
        print(f"error: {os_problem(error)}", file=sys.stderr)
        return EXIT_USAGE
    except (SpecError, QuotaError, UserError, WiringError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
