"""`spec SYSTEM/ENV [--compare SYSTEM/OTHER]`: the environment's spec as the compiler reads it (its layers
merged, names substituted, validated, every default filled in), or only where two environments differ."""

from __future__ import annotations

import json

import msgspec
import yaml

from stackloom.cli.common import add_params, one_target
from stackloom.params import load_spec, select

ABSENT = "(not set)"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "spec",
        help="print an environment's merged, validated spec as YAML, or where two environments differ",
        description="Print the spec of SYSTEM/ENV as the compiler reads it: params/_defaults.yaml, "
        "params/SYSTEM/_defaults.yaml and params/SYSTEM/ENV.yaml merged, ${system}/${environment} substituted, "
        "validated, defaults filled in. With --compare, print only the fields whose values differ.",
    )
    parser.add_argument("target", metavar="SYSTEM/ENV", help="an environment, e.g. bet2wealth/dev")
    parser.add_argument(
        "--compare", metavar="SYSTEM/OTHER", help="another environment: print only where the two differ"
    )
    add_params(parser)
    parser.set_defaults(handler=command)


def resolved(params, target: str) -> dict:
    """The validated spec of `target` as plain data (YAML-ready, in the spec's field order)."""
    (path,) = select(params, [one_target(target, "spec")]).values()
    return msgspec.to_builtins(load_spec(path))


def differences(left, right, where: str = "") -> list[tuple[str, object, object]]:
    """(dotted field, left value, right value) for every field whose values differ: mappings are compared key by
    key, anything else (a text, a list, a mapping on one side only) as a whole."""
    if isinstance(left, dict) and isinstance(right, dict):
        found = []
        for key in sorted(set(left) | set(right), key=str):
            inner = f"{where}.{key}" if where else str(key)
            found += differences(left.get(key, ABSENT), right.get(key, ABSENT), inner)
        return found
    return [] if left == right else [(where, left, right)]


def _shown(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def command(args) -> int:
    spec = resolved(args.params, args.target)
    if args.compare is None:
        print(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=120), end="")
        return 0
    other = resolved(args.params, args.compare)
    found = differences(spec, other)
    left, right = one_target(args.target, "spec"), one_target(args.compare, "spec")
    print(f"{left} vs {right}: {len(found)} field{'s' if len(found) != 1 else ''} differ")
    for key, ours, theirs in found:
        print(f"  {key}:\n    {left}: {_shown(ours)}\n    {right}: {_shown(theirs)}")
    return 0
