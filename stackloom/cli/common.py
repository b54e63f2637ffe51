"""What every command's options share."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_PARAMS = Path("params")
DEFAULT_OUTPUT = Path("output")
EXIT_USAGE = 2


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--params",
        type=Path,
        default=DEFAULT_PARAMS,
        metavar="DIR",
        help="folder of <system>/<env>.yaml spec files (default: params)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="DIR",
        help="folder to write output/<system>/<env>/ into (default: output)",
    )
