"""What every command's options share."""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from stackloom.errors import SpecError, UserError, os_problem
from templates.errors import QuotaError, WiringError

# Relative to the current directory, as Terraform reads *.tf and Sceptre config/ there: `stackloom` in a project
# folder reads its params/ and writes its output/ (and the repository's build.py run from its root, the same).
DEFAULT_PARAMS = Path("params")
DEFAULT_OUTPUT = Path("output")
EXIT_USAGE = 2
EXIT_COMPARE_ERROR = 1  # commands that compare (diff, plan) keep 2 and 3 for "changes" (stackloom.diff)


def add_params(parser: argparse.ArgumentParser) -> None:
    """--params: where the specs are read from."""
    parser.add_argument(
        "--params",
        type=Path,
        default=DEFAULT_PARAMS,
        metavar="DIR",
        help="folder of <system>/<env>.yaml spec files (default: params/ in the current directory)",
    )


def add_common(parser: argparse.ArgumentParser) -> None:
    """--params and --output: the folders a command that builds reads and writes."""
    add_params(parser)
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="DIR",
        help="folder to write output/<system>/<env>/ into (default: output/ in the current directory)",
    )


def one_target(target: str, command: str) -> str:
    """`SYSTEM/ENV` as a command that works on exactly one environment takes it, or a UserError."""
    cleaned = target.strip("/")
    if cleaned.count("/") != 1:
        raise UserError(f"{command} takes one environment as SYSTEM/ENV, got {target!r}")
    return cleaned


def comparing_with(parser: argparse.ArgumentParser, flag: str) -> None:
    """A command that compares only with `flag` (deploy --plan): its usage errors exit 1 then, 2 otherwise."""
    parse = parser.parse_known_args
    seen = {"flag": False}

    def parse_known_args(args=None, namespace=None):
        seen["flag"] = flag in (args or [])
        return parse(args, namespace)

    def usage_error(message: str):
        parser.print_usage(sys.stderr)
        code = EXIT_COMPARE_ERROR if seen["flag"] else EXIT_USAGE
        parser.exit(code, f"{parser.prog}: error: {message}\n")

    parser.parse_known_args = parse_known_args
    parser.error = usage_error


def comparing(parser: argparse.ArgumentParser, handler):
    """A command that compares (diff, plan): every error is exit 1 (a usage error too, which argparse would
    make 2), since 2 and 3 mean "changes" there. Returns the wrapped handler for `set_defaults`."""

    def usage_error(message: str):
        parser.print_usage(sys.stderr)
        parser.exit(EXIT_COMPARE_ERROR, f"{parser.prog}: error: {message}\n")

    parser.error = usage_error
    return comparing_errors(handler)


def comparing_errors(handler):
    """The handler of a comparing command, with every error it meets as exit 1."""

    @functools.wraps(handler)
    def run(args) -> int:
        try:
            return handler(args)
        except OSError as error:
            print(f"error: {os_problem(error)}", file=sys.stderr)
        except (SpecError, QuotaError, UserError, WiringError) as error:
            print(f"error: {error}", file=sys.stderr)
        return EXIT_COMPARE_ERROR

    return run
