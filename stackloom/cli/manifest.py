"""`manifest SYSTEM/ENV [FIELD]`: read a built environment's manifest.json through its typed definition
(the CI workflow asks it for a service's repository instead of parsing the file itself)."""

from __future__ import annotations

import json
from pathlib import Path

from stackloom import manifest as manifests
from stackloom.cli.common import DEFAULT_OUTPUT, one_target


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "manifest",
        help="print a built environment's manifest, or one field of it (for scripts and CI)",
        description="Print output/SYSTEM/ENV/manifest.json as read through its typed definition, or one field by "
        "dotted path: `manifest bet2wealth/dev services.backend.repository` prints the repository name. "
        "Text values print bare, anything else as JSON.",
    )
    parser.add_argument("target", metavar="SYSTEM/ENV", help="a built environment, e.g. bet2wealth/dev")
    parser.add_argument(
        "field",
        nargs="?",
        default="",
        metavar="FIELD",
        help="dotted path of one field, e.g. stack_name or services.backend.repository",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="DIR",
        help="folder the environment was built into (default: output)",
    )
    parser.set_defaults(handler=command)


def command(args) -> int:
    target = one_target(args.target, "manifest")
    value = manifests.field(manifests.load(args.output / target), args.field)
    print(value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True))
    return 0
