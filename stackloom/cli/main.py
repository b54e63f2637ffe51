"""Command line: `python build.py [build] [TARGET ...]` and the other subcommands.

User errors (bad params, unknown targets, quota overruns) print one paragraph and exit 2, never a traceback.
Each subcommand lives in its own module with `add_parser(subparsers)`; this file only dispatches.
"""

from __future__ import annotations

import argparse
import gc
import sys

from stackloom.cli.common import DEFAULT_OUTPUT, DEFAULT_PARAMS, EXIT_USAGE  # noqa: F401
from stackloom.errors import SpecError, UserError, os_problem
from templates.errors import QuotaError, WiringError

# Subcommand -> the module that registers and runs it (only the one a command needs is imported).
COMMAND_MODULES = {
    "build": "stackloom.cli.build",
    "schema": "stackloom.cli.build",
    "audit": "stackloom.cli.audit",
    "cost": "stackloom.cli.report",
    "deploy": "stackloom.cli.deploy",
    "destroy": "stackloom.cli.deploy",
    "diagram": "stackloom.cli.report",
    "diff": "stackloom.cli.diff",
    "drift": "stackloom.cli.operate",
    "lint": "stackloom.cli.lint",
    "logs": "stackloom.cli.operate",
    "manifest": "stackloom.cli.manifest",
    "run": "stackloom.cli.run",
    "spec": "stackloom.cli.spec",
    "stack-policy": "stackloom.cli.deploy",
    "status": "stackloom.cli.operate",
}
BUILT_IN = ("build", "schema")


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `command`, only that command's module is imported (`build` must stay fast)."""
    main = argparse.ArgumentParser(prog="build.py", description="Compile platform specs into CloudFormation templates.")
    commands = main.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules(command):
        module.add_parser(commands)
    return main


def _command_modules(command: str | None = None) -> list:
    """The modules of the other subcommands: all of them (for help), or only the one `command` needs."""
    import importlib

    if command in COMMAND_MODULES:
        names = [COMMAND_MODULES[command]]
    else:  # `build` and `schema` first, as in `--help` before
        names = sorted(set(COMMAND_MODULES.values()), key=lambda name: (name != COMMAND_MODULES["build"], name))
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
    args = parser(argv[0]).parse_args(argv)
    if argv[0] not in BUILT_IN and not gc.isenabled():
        # build.py turns the collector off for the short build; deploy & co. run long enough to need it. Back on
        # only after the command's imports (cfn-lint, boto3), which it would walk again and again for nothing:
        # those modules live as long as the process, so they are frozen out of every later collection.
        gc.freeze()
        gc.enable()
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
