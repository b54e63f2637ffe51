"""The command line behaves as users of the AWS CLI, Terraform and Sceptre expect (issue 17 point 2): --version,
an unknown command named as such (never read as a build target), the commands in a sensible order with one line
and an example each, shell completion generated from the parser, NO_COLOR / --no-color, one JSON shape per
command, help texts with the right verb, and params/ and output/ of the current directory by default."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess

import pytest

from stackloom import __version__, terminal
from stackloom.cli import completion
from stackloom.cli import main as dispatcher
from stackloom.cli.main import COMMAND_MODULES, ORDER, SUMMARIES, main
from stackloom.deploy.changeset import Console

from ..helpers import PARAMS, PROJECT


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A folder holding a copy of params/, as the current directory."""
    shutil.copytree(PARAMS, tmp_path / "params")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"] if argv else ["--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_version_is_the_package_version(capsys):
    # GIVEN --version, alone or in front of a command WHEN run THEN it prints the program and the version, exit 0
    for argv in (["--version"], ["--version", "deploy"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 0
        assert capsys.readouterr().out == f"stackloom {__version__}\n"
    # AND the distribution's version is that same attribute (one place to bump)
    assert "version = attr: stackloom.__version__" in (PROJECT / "setup.cfg").read_text()


def test_a_mistyped_command_is_an_unknown_command_with_a_suggestion(project, capsys):
    # GIVEN the typo WHEN run THEN exit 2 (as every usage error), the suggestion, and nothing was built
    assert main(["deplyo", "bet2wealth/dev"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stackloom: error: unknown command 'deplyo' (did you mean deploy?)")
    assert "Traceback" not in err and not (project / "output").exists()
    # AND after the folder options too, and with no close command: no suggestion, the way to list them
    assert main(["--params", "params", "-q", "biuld"]) == 2
    assert "unknown command 'biuld' (did you mean build?)" in capsys.readouterr().err
    assert main(["zzz"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'zzz';" in err and "`stackloom --help` lists the commands" in err


def test_a_system_or_environment_without_a_command_is_still_a_build(project, capsys):
    # GIVEN a first word that is a system folder under params/, or SYSTEM/ENV WHEN run THEN each is built
    assert main(["-q", "ledger"]) == 0
    assert sorted(path.name for path in (project / "output" / "ledger").iterdir()) == ["production", "staging"]
    assert main(["vanity-market/preprod", "-q"]) == 0
    assert (project / "output" / "vanity-market" / "preprod" / "manifest.json").is_file()
    # AND a SYSTEM/ENV that does not exist is the build's unknown target, as before
    assert main(["bet2wealth/staging"]) == 2
    assert "unknown target 'bet2wealth/staging'" in capsys.readouterr().err
    # AND a system of another --params folder counts as a system
    other = project / "elsewhere"
    other.mkdir()
    shutil.move(project / "params" / "ledger", other / "ledger")
    assert main(["--params", str(other), "--output", "o2", "ledger", "-q"]) == 0
    assert main(["ledger"]) == 2
    assert "unknown command 'ledger'" in capsys.readouterr().err


def test_defaults_are_the_current_directorys_params_and_output(project, tmp_path, monkeypatch, capsys):
    # GIVEN a folder holding params/ WHEN `stackloom` runs there with no option THEN output/ is written next to it
    assert main(["-q"]) == 0
    assert sorted(path.name for path in (project / "output").iterdir()) == ["bet2wealth", "ledger", "vanity-market"]
    # AND in a folder without params/ the error says where it looked and what to do; exit 2, no traceback
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    for argv in ([], ["spec", "bet2wealth/dev"], ["destroy", "bet2wealth/dev", "--local"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"no params/ folder in the current directory ({empty})" in err and "--params DIR" in err
        assert "Traceback" not in err
    assert main(["--params", "nowhere"]) == 2
    assert "--params nowhere: no such folder" in capsys.readouterr().err
    # AND a command that reads output/ says how to get one
    assert main(["lint"]) == 1
    assert "output/ holds no built environment; run `stackloom build` first, or pass --output DIR" in (
        capsys.readouterr().err
    )


def test_commands_are_listed_in_order_one_line_each_with_an_example(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    printed = _help(capsys)
    # GIVEN every command WHEN --help is printed at 80 columns THEN each is one line "name  summary", in ORDER
    lines = printed.partition("\ncommands:\n")[2].partition("\nexamples:\n")[0].splitlines()
    listed = [line.split()[0] for line in lines if line.startswith("    ")]
    assert listed == sorted(COMMAND_MODULES, key=ORDER.index)
    for command in COMMAND_MODULES:
        summary, example = SUMMARIES[command]
        assert any(line.split() == [command, *summary.split()] for line in lines), command
        assert f"  stackloom {example}\n" in printed
        # AND the command's own help ends with its example and keeps a longer description
        own = _help(capsys, command)
        assert own.rstrip().endswith(f"example: stackloom {example}") and "--no-color" in own


@pytest.mark.parametrize("command", sorted(SUMMARIES))
def test_every_example_is_a_valid_command_line(command):
    # GIVEN the example of each command (its shell redirection dropped) WHEN parsed THEN it is that command
    words = shlex.split(SUMMARIES[command][1].partition(">")[0])
    args = dispatcher.parser(words[0]).parse_args(words)
    assert args.command == command and callable(args.handler)


def test_help_texts_say_the_right_verb(capsys):
    # GIVEN destroy, which shares the endpoint options with deploy WHEN its help is printed THEN no "deploy to"
    assert "deploy to" not in _help(capsys, "destroy")
    # AND no other command's help says it deploys
    assert [name for name in COMMAND_MODULES if name != "deploy" and "deploy to" in _help(capsys, name)] == []
    assert "delete through this CloudFormation-compatible endpoint" in _help(capsys, "destroy")
    assert "deploy to this CloudFormation-compatible endpoint" in _help(capsys, "deploy")


@pytest.mark.parametrize("shell", completion.SHELLS)
def test_completion_script_is_generated_from_the_parser(shell, capsys):
    # GIVEN a shell WHEN `completion SHELL` runs THEN the script names every command and the global options
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert all(command in script for command in COMMAND_MODULES)
    option = "-l {}" if shell == "fish" else "--{}"
    assert all(option.format(name) in script for name in ("no-color", "version", "allow-replace", "params"))
    assert "_shtab_stackloom" in script and "_shtab_build" not in script  # named for the installed command


def test_bash_completion_completes_commands_options_and_folders(tmp_path, capsys):
    # GIVEN the bash script, sourced by bash WHEN completing `stackloom dep`, `stackloom deploy --all`,
    # `stackloom completion ` and `stackloom --params <TAB>` THEN bash offers what the parser takes
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "stackloom.bash"
    script.write_text(capsys.readouterr().out)
    (tmp_path / "specs").mkdir()

    def complete(*words: str) -> list[str]:
        line = " ".join(words)
        probe = (
            f"source {shlex.quote(str(script))}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; "
            f"COMP_LINE={shlex.quote(line)}; COMP_POINT=${{#COMP_LINE}}; _shtab_stackloom; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        )
        done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True)
        return sorted(word.strip() for word in done.stdout.split())

    assert complete("stackloom", "dep") == ["deploy"]
    assert complete("stackloom", "de") == ["deploy", "destroy"]
    assert complete("stackloom", "deploy", "--all") == ["--allow-replace"]
    assert complete("stackloom", "completion", "''") == ["bash", "fish", "zsh"]
    assert "specs/" in complete("stackloom", "build", "--params", "''") or "specs" in complete(
        "stackloom", "build", "--params", "''"
    )


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (apt-get install fish)")
def test_fish_completion_completes_commands_and_options(tmp_path, capsys):
    # GIVEN the fish script, sourced by fish WHEN fish completes command lines (`complete -C`) THEN it offers
    # what the parser takes
    assert main(["completion", "fish"]) == 0
    script = tmp_path / "stackloom.fish"
    script.write_text(capsys.readouterr().out)

    def complete(line: str) -> list[str]:
        probe = f"source {shlex.quote(str(script))}; complete -C {shlex.quote(line)}"
        done = subprocess.run(["fish", "--no-config", "-c", probe], capture_output=True, text=True, check=True)
        return sorted(entry.split("\t")[0] for entry in done.stdout.splitlines())

    assert complete("stackloom dep") == ["deploy"]
    assert complete("stackloom deploy --allow") == ["--allow-replace"]
    assert complete("stackloom completion ") == ["bash", "fish", "zsh"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (apt-get install zsh)")
def test_zsh_completion_parses_and_registers_from_fpath(tmp_path, capsys):
    # GIVEN the zsh script installed as the README says (a _stackloom file in a folder on fpath)
    assert main(["completion", "zsh"]) == 0
    (tmp_path / "_stackloom").write_text(capsys.readouterr().out)
    # WHEN zsh checks its syntax, and compinit reads the folder THEN it parses and `stackloom` completes with it
    subprocess.run(["zsh", "-n", str(tmp_path / "_stackloom")], check=True)
    probe = f"fpath=({tmp_path} $fpath); autoload -U compinit; compinit -u -d {tmp_path}/dump; print -r -- $_comps[stackloom]"
    done = subprocess.run(["zsh", "-f", "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "_stackloom"


def test_the_readme_install_lines_are_those_completion_help_prints(capsys):
    # GIVEN the README's completion block WHEN compared with `completion --help` THEN the same three lines
    readme = (PROJECT / "docs" / "cli.md").read_text()
    block = readme.partition("Shell completion of every command")[2].partition("```bash\n")[2].partition("```")[0]
    assert block.splitlines() == list(completion.INSTALL.values())
    assert all(
        line in " ".join(_help(capsys, "completion").split())
        for line in [" ".join(v.split()) for v in completion.INSTALL.values()]
    )


def test_an_unknown_shell_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["completion", "powershell"])
    assert exit_.value.code == 2 and "invalid choice: 'powershell'" in capsys.readouterr().err


class _Terminal:
    """A stream that says it is a terminal."""

    def __init__(self):
        self.written = []

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> None:
        self.written.append(text)

    def flush(self) -> None:
        pass


@pytest.fixture
def colour(monkeypatch):
    """The process-wide --no-color switch and NO_COLOR, as a fresh process has them (reset afterwards)."""
    monkeypatch.setattr(terminal, "_disabled", False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return monkeypatch


def test_colour_only_on_a_terminal_and_never_with_no_color(colour, tmp_path):
    # GIVEN the deploy console WHEN it writes to a terminal THEN red is an ANSI code; to a file: plain text
    assert Console(_Terminal()).red("failed") == "\033[1;31mfailed\033[0m"
    with open(tmp_path / "log", "w") as log:
        assert Console(log).red("failed") == "failed"
    # AND NO_COLOR with any non-empty value turns it off; an empty one does not (no-color.org)
    colour.setenv("NO_COLOR", "")
    assert Console(_Terminal()).color
    colour.setenv("NO_COLOR", "0")
    assert not Console(_Terminal()).color and Console(_Terminal()).yellow("x") == "x"


@pytest.mark.parametrize("argv", [["--no-color", "schema"], ["schema", "--no-color"]])
def test_no_color_option_before_or_after_the_command(colour, argv, capsys):
    # GIVEN --no-color in front of the command or after it WHEN the command runs THEN no stream gets colour
    assert terminal.color_enabled(_Terminal())
    assert main(argv) == 0
    assert "EnvironmentSpec" in json.loads(capsys.readouterr().out)["$defs"]
    assert not terminal.color_enabled(_Terminal()) and not Console(_Terminal()).color


def test_no_color_is_accepted_by_every_command():
    whole = dispatcher.parser()
    commands = next(action for action in whole._actions if action.dest == "command").choices
    for name, sub in commands.items():
        assert any("--no-color" in action.option_strings for action in sub._actions), name


def test_every_json_option_has_its_shape_in_the_readme():
    # GIVEN every command that takes --json (or prints JSON: manifest, schema, lint --format json) WHEN the
    # README's "JSON output" table is read THEN each has its row, the one place its shape is written down
    commands = next(action for action in dispatcher.parser()._actions if action.dest == "command").choices
    with_json = {name for name, sub in commands.items() for action in sub._actions if "--json" in action.option_strings}
    table = (PROJECT / "docs" / "cli.md").read_text().partition("### JSON output")[2].partition("\n## ")[0]
    rows = {line.split("`")[1].split()[0] for line in table.splitlines() if line.startswith("| `")}
    assert with_json and with_json | {"lint", "manifest", "schema"} <= rows


def test_cost_json_is_a_list_of_environments_for_a_system_or_one_environment(project, capsys):
    # GIVEN a system of two environments and one environment WHEN `cost --json` runs for each THEN both print the
    # same shape: a list of environment objects (README "JSON output")
    assert main(["cost", "ledger", "--json"]) == 0
    system = json.loads(capsys.readouterr().out)
    assert main(["cost", "ledger/staging", "--json"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert [item["target"] for item in system] == ["ledger/production", "ledger/staging"]
    assert [item["target"] for item in one] == ["ledger/staging"]
    assert one[0].keys() == system[0].keys() and {"total_monthly", "lines", "currency"} <= one[0].keys()
