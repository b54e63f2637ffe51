"""stackloom.report.render_image: real mmdc renders to PNG/SVG, the source hash chunk, and the missing-renderer error."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from stackloom.cfn.evaluate import Built
from stackloom.errors import UserError
from stackloom.report import render_image
from stackloom.report.inventory import inventory
from stackloom.report.mermaid import mermaid
from tests.stackloom.test_diagram import require_renderer

SOURCE = "flowchart LR\n  a[Queue] --> b[Worker]\n  b --> c[(Table)]\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(render_image.PNG_SIGNATURE)
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_png_renders_twice_with_the_source_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMDC", str(require_renderer()))
    for attempt in ("one.png", "two.png"):
        data = render_image.render(SOURCE, "png", tmp_path / attempt).read_bytes()
        width, height = png_size(data)
        assert width > 100 and height > 100
        assert render_image.png_text(data)[render_image.HASH_KEY] == render_image.source_sha256(SOURCE).encode()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["one.png", "two.png"]


def test_svg_is_well_formed_xml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMDC", str(require_renderer()))
    root = ET.parse(render_image.render(SOURCE, "svg", tmp_path / "d.svg")).getroot()
    assert root.tag.endswith("svg")


def test_missing_mmdc_is_a_clear_error_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMDC", str(tmp_path / "no-such-mmdc"))
    with pytest.raises(UserError, match=r"no-such-mmdc: no such file.*install-mermaid\.sh"):
        render_image.render(SOURCE, "png", tmp_path / "out" / "d.png")
    assert list(tmp_path.iterdir()) == []


PROJECT = Path(__file__).resolve().parents[2]
COMMITTED = PROJECT / "docs/images/vanity-market-preprod.png"


def test_committed_png_matches_the_diagram_of_output() -> None:
    """Regenerate with `python build.py diagram vanity-market/preprod --png docs/images/` when this fails."""

    data = COMMITTED.read_bytes()
    width, height = png_size(data)
    assert width > 100 and height > 100
    source = mermaid(inventory(Built(PROJECT / "output/vanity-market/preprod", None)))
    assert render_image.png_text(data)[render_image.HASH_KEY] == render_image.source_sha256(source).encode()


def test_cli_missing_mmdc_exits_nonzero_without_traceback(tmp_path: Path) -> None:
    target = tmp_path / "d.png"
    env = {**os.environ, "MMDC": str(tmp_path / "missing"), "PYTHONPATH": str(PROJECT)}
    result = subprocess.run(
        [sys.executable, "build.py", "diagram", "vanity-market/preprod", "--png", str(target)],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "install-mermaid.sh" in result.stderr and "Traceback" not in result.stderr
    assert not target.exists()
