"""Command line: `stackloom [build] [TARGET ...]` and the other subcommands (`python build.py` is the same).

User errors (bad params, unknown targets, quota overruns, an unknown command) print one paragraph and exit 2,
never a traceback. Each subcommand lives in its own module with `add_parser(subparsers)`; this file only
dispatches, and adds what every command shares: the global `--version` and `--no-color`, the order `--help`
lists the commands in, and an example for each.
"""

from __future__ import annotations

import argparse
import difflib
import gc
import os
import sys
from pathlib import Path

from stackloom import __version__
from stackloom.cli.common import DEFAULT_OUTPUT, DEFAULT_PARAMS, EXIT_USAGE  # noqa: F401
from stackloom.errors import SpecError, UserError, os_problem
from stackloom.terminal import disable_color
from templates.errors import QuotaError, WiringError

# Subcommand -> the module that registers and runs it (only the one a command needs is imported).
COMMAND_MODULES = {
    "build": "stackloom.cli.build",
    "schema": "stackloom.cli.build",
    "audit": "stackloom.cli.audit",
    "completion": "stackloom.cli.completion",
    "cost": "stackloom.cli.report",
    "deploy": "stackloom.cli.deploy",
    "destroy": "stackloom.cli.deploy",
    "diagram": "stackloom.cli.report",
    "diff": "stackloom.cli.diff",
    "drift": "stackloom.cli.operate",
    "lint": "stackloom.cli.lint",
    "logs": "stackloom.cli.operate",
    "manifest": "stackloom.cli.manifest",
    "plan": "stackloom.cli.deploy",
    "run": "stackloom.cli.run",
    "spec": "stackloom.cli.spec",
    "stack-policy": "stackloom.cli.deploy",
    "status": "stackloom.cli.operate",
}
BUILT_IN = ("build", "schema")
# The order `--help` lists the commands in: the way through a change (build, check, preview, ship, operate,
# remove), then reports, inspection and the shell; a command not named here comes after these, by name.
ORDER = (
    "build",
    "lint",
    "audit",
    "diff",
    "plan",
    "deploy",
    "status",
    "logs",
    "drift",
    "run",
    "destroy",
    "cost",
    "diagram",
    "spec",
    "manifest",
    "schema",
    "stack-policy",
    "completion",
)
# Per command, the one line `--help` lists it with (the command's own help keeps its module's longer text)
# and an example, shown under the list and at the end of the command's help.
SUMMARIES = {
    "build": ("build environments into output/ (the default command)", "build vanity-market/preprod"),
    "lint": ("cfn-lint the emitted templates (cached, in parallel)", "lint bet2wealth --format sarif"),
    "audit": ("cfn-lint, checkov and cfn-guard over the templates", "audit bet2wealth/dev"),
    "diff": ("compare a fresh build with an earlier output/ tree", "diff bet2wealth/dev --baseline old-output"),
    "plan": ("preview a deploy: its change sets, not executed", "plan bet2wealth/dev --out plan.json"),
    "deploy": ("deploy one environment through a change set", "deploy bet2wealth/dev --image backend=v1.4.2"),
    "status": ("show a deployed environment's stacks, services and URLs", "status bet2wealth/dev --json"),
    "logs": ("print a service's or job's logs", "logs bet2wealth/dev backend --since 30m --follow"),
    "drift": ("detect drift of every stack of an environment", "drift bet2wealth/production"),
    "run": ("run a job once on a deployed environment", "run ledger/staging statements"),
    "destroy": ("delete one environment's stack", "destroy bet2wealth/dev"),
    "cost": ("estimate environments' monthly cost", "cost bet2wealth --json"),
    "diagram": ("write an environment's Mermaid architecture diagram", "diagram ledger/staging"),
    "spec": ("print an environment's merged, validated spec", "spec bet2wealth/dev --compare bet2wealth/production"),
    "manifest": (
        "print a built environment's manifest or one field",
        "manifest bet2wealth/dev services.backend.repository",
    ),
    "schema": ("print the JSON Schema of params files", "schema > params.schema.json"),
    "stack-policy": (
        "print the stack policy a production deploy sets",
        "stack-policy bet2wealth/production --stack Data",
    ),
    "completion": (
        "print the shell completion script (bash, zsh, fish)",
        "completion bash > ~/.local/share/bash-completion/completions/stackloom",
    ),
}
PROGS = ("stackloom", "build.py")  # the console script and its equivalent at the project's root


def prog() -> str:
    """The name the user typed: `stackloom`, or `build.py` in the project folder."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return name if name in PROGS else PROGS[0]


def parser(command: str | None = None, name: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `command`, only that command's module is imported (`build` must stay fast).
    `name` is the program's name in usage lines (default: the name typed, see `prog`)."""
    name = name or prog()
    main = argparse.ArgumentParser(
        prog=name,
        description="Compile platform specs into CloudFormation templates, check them and deploy them.",
        epilog=_examples(name),
        formatter_class=_Formatter,
    )
    main.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_no_color(main)
    commands = main.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in _command_modules(command):
        module.add_parser(commands)
    _share(commands, name)
    return main


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Room for the longest command name, so each command is one line of `--help` (at 80 columns and more):
    argparse measures the command names one indent less deep than it prints them, which pushes the help of
    the longest (`stack-policy`) onto a line of its own."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            longest = max((len(name) for name in action.choices), default=0)
            self._action_max_length = max(self._action_max_length, longest + 2 * self._indent_increment + 2)


def add_no_color(parser: argparse.ArgumentParser, default=False) -> None:
    parser.add_argument(
        "--no-color",
        action="store_true",
        default=default,
        help="no ANSI colour, the same as setting NO_COLOR",
    )


def _share(commands, name: str) -> None:
    """Every command takes --no-color too (as `stackloom deploy X --no-color`), ends its help with an
    example, and is listed in ORDER's order."""
    for command, sub in commands.choices.items():
        add_no_color(sub, default=argparse.SUPPRESS)
        if command in SUMMARIES:
            sub.epilog = f"example: {name} {SUMMARIES[command][1]}"
    rank = {command: index for index, command in enumerate(ORDER)}
    listed = commands._choices_actions  # argparse's list of the lines under "commands", in the order shown
    listed.sort(key=lambda action: (rank.get(action.dest, len(ORDER)), action.dest))
    for action in listed:
        sub = commands.choices[action.dest]
        if sub.description is None and action.help:  # the longer text moves to the command's own help
            sub.description = action.help + "."
        if action.dest in SUMMARIES:
            action.help = SUMMARIES[action.dest][0]


def _examples(name: str) -> str:
    known = [command for command in ORDER if command in SUMMARIES]
    lines = [f"  {name} {SUMMARIES[command][1]}" for command in known]
    return "examples:\n" + "\n".join(lines) + f"\n\n`{name}` alone builds every environment (the build command)."


def _command_modules(command: str | None = None) -> list:
    """The modules of the other subcommands: all of them (for help), or only the one `command` needs."""
    import importlib

    if command in COMMAND_MODULES:
        names = [COMMAND_MODULES[command]]
    else:
        names = sorted(set(COMMAND_MODULES.values()))
    return [importlib.import_module(name) for name in names]


VALUED_COMMON_OPTIONS = ("--params", "--output")  # the options of add_common: each takes the next word
GLOBAL_EXITS = ("-h", "--help", "--version")


class UnknownCommand(UserError):
    """A first word that is neither a command nor a build target."""


def _command_first(argv: list[str]) -> list[str]:
    """The subcommand in front: `stackloom --output X deploy T` is `deploy --output X T`; no command is a build
    (`stackloom`, `stackloom -q`, `stackloom vanity-market/preprod`, `stackloom ledger` for a system under
    --params); any other first word is an unknown command (never a target)."""
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        if argv[index] in GLOBAL_EXITS:
            return argv
        index += 2 if argv[index] in VALUED_COMMON_OPTIONS else 1
    if index < len(argv) and argv[index] in COMMAND_MODULES:
        return [argv[index], *argv[:index], *argv[index + 1 :]]
    if index < len(argv) and not _is_target(argv[index], _params_option(argv[:index])):
        raise UnknownCommand(_unknown(argv[index]))
    return ["build", *argv]


def _params_option(options: list[str]) -> Path:
    """The --params folder given before the first word (`--params DIR` or `--params=DIR`), or the default."""
    found = DEFAULT_PARAMS
    for index, option in enumerate(options):
        if option == "--params" and index + 1 < len(options):
            found = Path(options[index + 1])
        elif option.startswith("--params="):
            found = Path(option.partition("=")[2])
    return found


def _is_target(word: str, params: Path) -> bool:
    """SYSTEM/ENV (anything with a slash, checked later by the build), or a system folder under params/."""
    return "/" in word or (not word.startswith("_") and (params / word).is_dir())


def _unknown(word: str) -> str:
    close = difflib.get_close_matches(word, list(COMMAND_MODULES), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return (
        f"unknown command {word!r}{hint}; `{prog()} --help` lists the commands "
        "(a build target is SYSTEM/ENV, or SYSTEM for a folder under --params)"
    )


def _require_params(args: argparse.Namespace) -> None:
    """The params folder of a command that reads specs exists, or an error saying where it was looked for."""
    params = getattr(args, "params", None)
    if params is None or params.is_dir():
        return
    if params == DEFAULT_PARAMS:
        raise UserError(
            f"no params/ folder in the current directory ({Path.cwd()}): run {prog()} in the folder that holds "
            "params/<system>/<env>.yaml (output/ is written next to it), or pass --params DIR"
        )
    raise UserError(f"--params {params}: no such folder (it should hold <system>/<env>.yaml spec files)")


def main(argv: list[str] | None = None) -> int:
    try:
        argv = _command_first(list(sys.argv[1:] if argv is None else argv))
    except UnknownCommand as error:
        print(f"{prog()}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    args = parser(argv[0] if argv else None).parse_args(argv)
    if args.no_color:
        disable_color()
    if args.command not in BUILT_IN and not gc.isenabled():
        # build.py turns the collector off for the short build; deploy & co. run long enough to need it. Back on
        # only after the command's imports (cfn-lint, boto3), which it would walk again and again for nothing:
        # those modules live as long as the process, so they are frozen out of every later collection.
        gc.freeze()
        gc.enable()
    try:
        _require_params(args)
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


def run() -> None:
    """The `stackloom` console script (and build.py): start-up cost settled before anything heavy is imported.

    Measured with valgrind (callgrind, instructions of `python build.py -q`, every environment):
    * A build is a short-lived process that allocates many objects (importing troposphere/awacs, then the
      templates) and frees them at exit: the cyclic garbage collector only costs time here, about 3.3 % of the
      build's instructions (53 M), mostly during the imports, which happen in `parser` (a command's module),
      after this. stackloom/build.py also pauses it around each compile, for library callers; under this CLI
      it is then already off. The long-running subcommands get it back in `main`.
    * Finalising the interpreter (freeing every module, and the thousands of classes and validators
      troposphere defines) is ~25 ms of a ~160 ms build, and nothing is left for it to do: a command that
      returned has closed what it wrote (compiler.write replaces each file from a closed temporary), so only
      the standard streams may hold buffered text. Flush them and end the process here. A command that raises
      (a traceback, argparse's usage exit) still ends the normal way.
    """
    gc.disable()
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
