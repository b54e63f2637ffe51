"""`diff SYSTEM/ENV --baseline DIR`: a fresh build against an earlier output folder (engine: stackloom.diff)."""

from __future__ import annotations

import sys
from pathlib import Path

from stackloom.build import compile_file
from stackloom.cli.common import add_params, comparing, one_target
from stackloom.diff import (
    EXIT_CONVENTION,
    baseline_folder,
    build_templates,
    compare,
    exit_code,
    load_environment,
    render,
    stateful_risks,
)
from stackloom.params import select


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="compare a fresh build with an earlier output/ tree; exit 0 no changes, 1 error, 2 changes, "
        "3 stateful resources replaced or removed",
        description="List per resource what deploying a fresh build over an earlier one would add, modify, replace "
        "or remove (createOnly properties from cfn-lint's resource schemas, replacements followed through "
        "Ref/GetAtt/Sub and nested stack outputs). " + EXIT_CONVENTION,
    )
    parser.add_argument("target", metavar="SYSTEM/ENV", help="one environment, e.g. vanity-market/preprod")
    parser.add_argument(
        "--baseline",
        type=Path,
        required=True,
        metavar="DIR",
        help="earlier output folder (DIR/<system>/<env>/root.json) or that environment's folder",
    )
    add_params(parser)
    parser.set_defaults(handler=comparing(parser, command))


def command(args) -> int:
    target = one_target(args.target, "diff")
    (path,) = select(args.params, [target]).values()
    build = compile_file(path)
    spec = build.spec
    for line in build.overrides:
        print(f"override applied: {line}", file=sys.stderr)
    folder = baseline_folder(args.baseline, spec.system, spec.environment)
    changes = compare(load_environment(folder), build_templates(build), spec.region)
    print(f"{spec.system}/{spec.environment}: fresh build of {path} against {folder}")
    print(render(changes))
    return exit_code(bool(changes), bool(stateful_risks(changes)))
