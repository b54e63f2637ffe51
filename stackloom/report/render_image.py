"""Render Mermaid diagram source to PNG or SVG with mermaid-cli (mmdc) and headless Chromium.

The PNG carries the sha256 of its Mermaid source in a tEXt chunk (key ``stackloom:source-sha256``) so a test
can tell whether a committed picture still matches the diagram generated from output/ without comparing
pixels, which Chromium does not reproduce byte for byte across machines.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

from stackloom.errors import UserError

PROJECT = Path(__file__).resolve().parents[2]
INSTALL_HINT = "install it with `bash .ci/install-mermaid.sh`"
HASH_KEY = b"stackloom:source-sha256"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMEOUT_SECONDS = 120
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def source_sha256(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def find_mmdc() -> Path:
    """MMDC env, then .tools/mermaid, then PATH; a UserError naming what is missing otherwise."""
    override = os.environ.get("MMDC")
    if override:
        if Path(override).is_file():
            return Path(override)
        raise UserError(f"MMDC={override}: no such file; point MMDC at mermaid-cli's mmdc or {INSTALL_HINT}")
    local = PROJECT / ".tools/mermaid/node_modules/.bin/mmdc"
    found = local if local.is_file() else shutil.which("mmdc")
    if not found:
        raise UserError(f"mermaid-cli (mmdc) not found in MMDC, .tools/mermaid or PATH; {INSTALL_HINT}")
    return Path(found)


def find_chromium() -> Path:
    path = Path(os.environ.get("PUPPETEER_EXECUTABLE_PATH") or "/usr/bin/chromium")
    if not path.is_file():
        raise UserError(f"{path}: Chromium not found (set PUPPETEER_EXECUTABLE_PATH); {INSTALL_HINT}")
    return path


def png_text_chunk(key: bytes, value: bytes) -> bytes:
    body = b"tEXt" + key + b"\x00" + value
    return struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def with_source_hash(png: bytes, digest: str) -> bytes:
    """The PNG with a tEXt chunk recording ``digest`` inserted right after IHDR."""
    if not png.startswith(PNG_SIGNATURE):
        raise UserError("mmdc did not produce a PNG")
    ihdr_end = 8 + 4 + 4 + struct.unpack(">I", png[8:12])[0] + 4
    return png[:ihdr_end] + png_text_chunk(HASH_KEY, digest.encode()) + png[ihdr_end:]


def png_text(png: bytes) -> dict[bytes, bytes]:
    """tEXt chunks of a PNG as key -> value."""
    chunks, offset = {}, 8
    while offset + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[offset : offset + 8])
        data = png[offset + 8 : offset + 8 + length]
        if kind == b"tEXt" and b"\x00" in data:
            key, value = data.split(b"\x00", 1)
            chunks[key] = value
        offset += 12 + length
    return chunks


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def render(source: str, fmt: str, target: Path) -> Path:
    """Render ``source`` as ``fmt`` (png|svg) to ``target`` atomically; the written path."""
    mmdc, chromium = find_mmdc(), find_chromium()
    with tempfile.TemporaryDirectory(prefix="stackloom-mmdc-") as work:
        folder = Path(work)
        config = folder / "puppeteer.json"
        config.write_text(json.dumps({"executablePath": str(chromium), "args": CHROMIUM_ARGS}))
        (folder / "diagram.mmd").write_text(source)
        out = folder / f"diagram.{fmt}"
        command = [str(mmdc), "-q", "-p", str(config), "-i", str(folder / "diagram.mmd"), "-o", str(out)]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise UserError(f"mmdc timed out after {TIMEOUT_SECONDS}s rendering {target}") from None
        except OSError as error:
            raise UserError(f"{mmdc}: cannot run ({error.strerror}); {INSTALL_HINT}") from None
        if result.returncode != 0 or not out.is_file():
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
            raise UserError(f"mmdc failed (exit {result.returncode}) rendering {target}: {tail}")
        data = out.read_bytes()
    if fmt == "png":
        data = with_source_hash(data, source_sha256(source))
    write_atomic(target, data)
    return target
