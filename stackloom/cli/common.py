"""What every command's options share."""

from __future__ import annotations

import argparse
from pathlib import Path

from stackloom.errors import UserError

# Relative to the current directory, as Terraform reads *.tf and Sceptre config/ there: `stackloom` in a project
# folder reads its params/ and writes its output/ (and the repository's build.py run from its root, the same).
DEFAULT_PARAMS = Path("params")
DEFAULT_OUTPUT = Path("output")
EXIT_USAGE = 2


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
