"""`python build.py diagram` and `python build.py cost`: the command-line side of the reports.

Only argument parsing and files here: the engines (`stackloom.cfn.evaluate.Built`, `stackloom.report.inventory`,
`.mermaid`, `.markdown`, `.cost`) know nothing of argparse or the CLI.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stackloom.build import compile_all
from stackloom.cfn.evaluate import Built, number
from stackloom.cli.common import add_common
from stackloom.errors import UserError
from stackloom.output import write_all
from stackloom.params import select
from stackloom.report import cost, cost_text, render_image
from stackloom.report.inventory import inventory
from stackloom.report.markdown import ARCHITECTURE_FILE, markdown
from stackloom.report.mermaid import mermaid
from stackloom.report.records import Inventory


def add_parser(subparsers) -> None:
    """Both report commands (`stackloom.cli.main` maps "diagram" and "cost" to this module), cost first as
    when each had its own module (the order `build.py --help` lists them in)."""
    add_cost_parser(subparsers)
    add_diagram_parser(subparsers)


def parse_params(items: list[str] | None) -> dict[str, str]:
    values = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--param {item!r}: expected NAME=VALUE (e.g. EnableDatabase=true)")
        values[name.strip()] = value.strip()
    return values


def environment_folders(args: argparse.Namespace) -> list[Path]:
    """Build the targets first (in-process, unchanged files are not rewritten) unless --no-build; the
    folders of output/<system>/<env>/ to read."""
    if args.no_build:
        folders = []
        for target in args.targets:
            found = sorted(path.parent for path in (args.output / target.strip("/")).glob("**/manifest.json"))
            if not found:
                raise UserError(
                    f"{args.output / target}: no built environment (run `python build.py {target}` "
                    f"or drop --no-build)"
                )
            folders += found
        return folders
    builds = compile_all(select(args.params, args.targets))
    return write_all(builds, args.output, args.params)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "targets", nargs="+", metavar="TARGET", help="system/env (e.g. vanity-market/preprod) or system"
    )
    parser.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        default=[],
        help="deploy-time parameter value instead of its default (repeatable), e.g. EnableDatabase=true",
    )
    parser.add_argument(
        "--no-build", action="store_true", help="read output/ as it is instead of building the targets first"
    )
    add_common(parser)


def add_diagram_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "diagram", help="write output/<system>/<env>/ARCHITECTURE.md: a Mermaid diagram of the emitted templates"
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--docs", type=Path, metavar="DIR", help="also write DIR/<system>-<env>.md (the committed copies live in docs/)"
    )
    parser.add_argument("--stdout", action="store_true", help="print the Mermaid source instead of writing files")
    for fmt in ("png", "svg"):
        parser.add_argument(
            f"--{fmt}",
            metavar="FILE|DIR",
            help=f"also render the diagram as {fmt.upper()} with mermaid-cli (a DIR gets <system>-<env>.{fmt})",
        )
    parser.set_defaults(handler=diagram_command)


def image_path(target: str, found: Inventory, fmt: str) -> Path:
    """A FILE as given; an existing DIR or one spelled with a trailing slash gets <system>-<env>.<fmt>."""
    if Path(target).is_dir() or target.endswith("/"):
        return Path(target) / f"{found.system}-{found.environment}.{fmt}"
    return Path(target)


def architecture(folder: Path, overrides: dict[str, str] | None = None) -> tuple[Inventory, str]:
    """(inventory, ARCHITECTURE.md text) of one built environment folder."""
    found = inventory(Built(folder, overrides))
    try:
        estimate = cost.estimate(found)
    except cost.NotPriced:
        summary = (
            f"Not priced: there is no price table for {found.region} yet (`python build.py cost` says which exist)."
        )
    else:
        summary = (
            f"Estimated on-demand cost with these parameters: **${estimate.total:,.2f} per month** "
            f"(prices {cost.PRICES_LABEL(estimate.prices)}); `python build.py cost {found.system}/{found.environment}` "
            f"prints every line, assumption and the NAT trade-off."
        )
        if estimate.gaps:
            summary += (
                f" Partial: {len(estimate.gaps)} component(s) are not priced because the {found.region} price "
                "table lacks their price (the cost report lists them)."
            )
    return found, markdown(found, mermaid(found), summary)


def diagram_command(args: argparse.Namespace) -> int:
    overrides = parse_params(args.param)
    for folder in environment_folders(args):
        found, document = architecture(folder, overrides)
        if args.stdout:
            print(mermaid(found), end="")
            continue
        written = [folder / ARCHITECTURE_FILE]
        if args.docs is not None:
            args.docs.mkdir(parents=True, exist_ok=True)
            written.append(args.docs / f"{found.system}-{found.environment}.md")
        for path in written:
            if not path.exists() or path.read_text(encoding="utf-8") != document:
                path.write_text(document, encoding="utf-8")
        for fmt in ("png", "svg"):
            if getattr(args, fmt) is not None:
                written.append(render_image.render(mermaid(found), fmt, image_path(getattr(args, fmt), found, fmt)))
        print(
            f"{found.system}/{found.environment}: {len(found.services)} service(s) -> "
            + ", ".join(str(path) for path in written)
        )
    return 0


def parse_assumptions(items: list[str] | None) -> dict[str, float]:
    values = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in cost.ASSUMPTIONS:
            raise UserError(f"--assume {item!r}: expected NAME=NUMBER with NAME one of {', '.join(cost.ASSUMPTIONS)}")
        parsed = number(value)
        if parsed is None or parsed < 0:
            raise UserError(f"--assume {item!r}: {value!r} is not a non-negative number")
        values[name] = parsed
    return values


def add_cost_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "cost", help="estimate the monthly on-demand cost of environments from the emitted templates"
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--assume",
        action="append",
        metavar="NAME=NUMBER",
        default=[],
        help="change an assumption (repeatable), e.g. nat_gb_per_month=200; see the report for names",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the estimates as a JSON list, one object per environment (even for one)",
    )
    parser.set_defaults(handler=cost_command)


def cost_command(args: argparse.Namespace) -> int:
    overrides = parse_params(args.param)
    assumptions = parse_assumptions(args.assume)
    results = []
    for folder in environment_folders(args):
        found = inventory(Built(folder, overrides))
        results.append(cost.estimate(found, assumptions=assumptions))
    if args.json:
        print(
            json.dumps(
                [cost_text.as_json(result) for result in results],  # a list, even of one (docs/cli.md, JSON output)
                indent=2,
                sort_keys=True,
            )
        )
    else:
        print("\n".join(cost_text.report(result) for result in results), end="")
    return 0
