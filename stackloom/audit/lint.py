"""cfn-lint over emitted templates through its Python API, with the project's one lint configuration.

I3011 (DeletionPolicy/UpdateReplacePolicy on stateful resources), I3013 (backup retention) and W3011 are
mandatory. W3002 ("may only work with `package`") is ignored: relative TemplateURLs are the point of nested
templates that `aws cloudformation package` uploads. `.cfnlintrc` carries the same settings for the CLI.
"""

from __future__ import annotations

from pathlib import Path

from cfnlint.api import ManualArgs, lint

from stackloom import manifest as manifests

INCLUDE_CHECKS = ("I3011", "I3013")
MANDATORY_CHECKS = ("I3011", "I3013", "W3011")
IGNORE_CHECKS = ("W3002",)


def template_files(env_dir: Path) -> list[Path]:
    """The CloudFormation templates of one built environment, from its manifest (not parameter files)."""
    manifest = manifests.load(env_dir)
    names = [manifest.root_template, manifest.bootstrap_template, *manifest.nested_stacks.values()]
    return [env_dir / name for name in names]


def lint_files(paths: list[Path], region: str = "eu-central-1") -> dict[Path, list[str]]:
    """Path -> findings as `RULE message (line)`; an empty list means clean."""
    # fresh lists each time: cfn-lint extends the lists it is given
    config = ManualArgs(
        regions=[region],
        include_checks=list(INCLUDE_CHECKS),
        mandatory_checks=list(MANDATORY_CHECKS),
        ignore_checks=list(IGNORE_CHECKS),
    )
    results = {}
    for path in paths:
        matches = lint(path.read_text(encoding="utf-8"), config=config)
        results[path] = [f"{match.rule.id} {match.message} (line {match.linenumber})" for match in matches]
    return results
