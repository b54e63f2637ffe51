"""README.md is the front page and docs/ holds the rest: the README stays short with a table of contents, and
every link of README.md and docs/*.md resolves inside the repository (a file that exists, a heading that exists
in it), so no page points outside the repository or at a section that moved."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stackloom.cli.main import COMMAND_MODULES, ORDER, main
from stackloom.params import schema
from stackloom.schema_docs import reference

from ..helpers import PROJECT

README = PROJECT / "README.md"
PAGES = [README, *sorted((PROJECT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)
CODE = re.compile(r"`[^`\n]*`")
# the only pages outside the repository a page may link: standards and the AWS documentation, which say
# what a field or a rule means better than a copy would
EXTERNAL = ("https://docs.aws.amazon.com/", "https://www.rfc-editor.org/", "https://no-color.org")


def prose(text: str) -> str:
    """The text outside code blocks and inline code, where a link is a link."""
    return CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} (.+?)\s*#*$", FENCE.sub("", page.read_text(encoding="utf-8")), re.M):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[str]:
    return LINK.findall(prose(page.read_text(encoding="utf-8")))


def broken(page: Path, target: str) -> str | None:
    if re.match(r"[a-z][a-z0-9+.-]*:", target):
        return None if target.startswith(EXTERNAL) else "links outside the repository"
    path, _, anchor = target.partition("#")
    file = (page.parent / path).resolve() if path else page
    if not file.is_relative_to(PROJECT):
        return "points outside the repository folder"
    if not file.exists():
        return f"{file.relative_to(PROJECT)} does not exist"
    if anchor and (file.suffix != ".md" or anchor not in anchors(file)):
        return f"{file.relative_to(PROJECT)} has no heading #{anchor}"
    return None


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(PROJECT)) for page in PAGES])
def test_every_link_resolves_inside_the_repository(page):
    # GIVEN a page WHEN each of its links (and images) is followed THEN a file of the repository, a heading in it
    problems = [f"{target}: {why}" for target in links(page) if (why := broken(page, target))]
    assert not problems, f"{page.relative_to(PROJECT)}: " + "; ".join(problems)


def test_the_link_check_catches_what_it_must():
    # GIVEN links that leave the repository, miss a file or miss a heading WHEN checked THEN each is reported
    assert broken(README, "../shared/DESIGN.md") == "points outside the repository folder"
    assert broken(README, "docs/nothing.md") == "docs/nothing.md does not exist"
    assert "has no heading" in broken(README, "docs/spec.md#no-such-heading")
    assert broken(README, "https://example.com/x") == "links outside the repository"
    assert broken(README, "docs/spec.md#alarms") is None and broken(README, "#install") is None
    assert slug("`python build.py deploy`") == "python-buildpy-deploy"
    assert slug("Quick start (a fresh machine, nothing installed by hand)") == (
        "quick-start-a-fresh-machine-nothing-installed-by-hand"
    )


def test_the_readme_is_a_front_page_with_a_table_of_contents():
    # GIVEN README.md WHEN read THEN at most 250 lines, and a Contents list linking each of its sections
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    contents = text.partition("\n## Contents\n")[2].partition("\n## ")[0]
    assert contents, "README.md has no ## Contents section"
    listed = re.findall(r"^- \[[^\]]+\]\(#([^)]+)\)", contents, re.M)
    sections = [slug(h) for h in re.findall(r"^## (.+)$", prose(text), re.M) if h != "Contents"]
    assert listed == sections


def test_every_docs_page_is_reachable_from_the_readme_and_opens_with_a_title_and_a_summary():
    # GIVEN docs/*.md WHEN links are followed from README.md THEN every page is reached, and each starts with
    # a `# ` title followed by a paragraph
    reached, todo = set(), [README]
    while todo:
        page = todo.pop()
        for target in links(page):
            path = target.partition("#")[0]
            if path.endswith(".md") and "://" not in path:
                file = (page.parent / path).resolve()
                if file.is_file() and file not in reached:
                    reached.add(file)
                    todo.append(file)
    for page in PAGES[1:]:
        assert page.resolve() in reached, f"{page.relative_to(PROJECT)} is linked from no page the README reaches"
        title, blank, summary = page.read_text(encoding="utf-8").split("\n")[:3]
        assert title.startswith("# ") and not blank and summary and not summary.startswith(("#", "```", "|"))


def test_the_spec_reference_is_what_the_schema_gives():
    # GIVEN the committed docs/spec-reference.md WHEN compared with what `schema --docs` writes today THEN the same
    # (a spec change without `python build.py schema --docs docs/spec-reference.md` fails here)
    committed = (PROJECT / "docs" / "spec-reference.md").read_text(encoding="utf-8")
    assert committed == reference(schema()), "run: python build.py schema --docs docs/spec-reference.md"


def test_the_spec_reference_lists_every_field_of_every_type_with_its_default(tmp_path, capsys):
    # GIVEN the schema WHEN `schema --docs FILE` writes the page THEN each type has its section, and each of its
    # fields a row there with the type's default
    assert main(["schema", "--docs", str(tmp_path / "ref.md")]) == 0
    page = (tmp_path / "ref.md").read_text(encoding="utf-8")
    assert f"wrote {tmp_path / 'ref.md'}" in capsys.readouterr().err
    for name, definition in schema()["$defs"].items():
        section = page.partition(f"\n## {name}\n")[2].partition("\n## ")[0]
        assert section, f"no section for {name}"
        for field, prop in definition.get("properties", {}).items():
            row = next((line for line in section.splitlines() if line.startswith(f"| `{field}` |")), None)
            assert row, f"{name}.{field} has no row"
            if "default" in prop:
                assert f"| `{json.dumps(prop['default'])}` |" in row
    service = page.partition("\n## ServiceSpec\n")[2].partition("\n## ")[0]
    assert "| `port` | integer or null | `null` |" in service and "[SecretRef](#secretref)" in service


def test_the_readme_spec_is_an_excerpt_of_vanity_preprod():
    # GIVEN the README's spec block WHEN its lines (without the two comments that frame it) are looked up in
    # params/vanity-market/preprod.yaml THEN they are a run of the file's lines, as written there
    block = re.search(
        r"```yaml\n# params/vanity-market/preprod.yaml \(excerpt\)\n(.*?)# \.\.\. [^\n]*\n```",
        README.read_text(),
        re.DOTALL,
    )
    assert block, "README.md has no excerpt of params/vanity-market/preprod.yaml"
    excerpt = block[1]
    assert len(excerpt.splitlines()) >= 10
    assert excerpt in (PROJECT / "params" / "vanity-market" / "preprod.yaml").read_text(encoding="utf-8")


def test_the_readme_command_table_has_one_row_per_command_in_help_order():
    # GIVEN the commands `--help` lists WHEN the README's command table is read THEN one row each, in that order
    table = README.read_text(encoding="utf-8").partition("\n## Commands\n")[2].partition("\n## ")[0]
    rows = re.findall(r"^\| `([a-z-]+)", table, re.M)
    first = re.findall(r"^\| `stackloom` / `([a-z-]+)", table, re.M)
    assert [*first, *rows[1:]] == [name for name in ORDER if name in COMMAND_MODULES]
    assert sorted(COMMAND_MODULES) == sorted(ORDER)
