"""Write a compiled environment into `output/<system>/<env>/` without leaving half a file.

Everything is rendered before anything is written; each file is replaced atomically (a temporary file
beside it, then a rename); JSON files that a build no longer produces are removed, other files
(ARCHITECTURE.md) are left alone.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from stackloom.build import Build


def write(build: Build, output_dir: Path) -> Path:
    target = output_dir / build.spec.system / build.spec.environment
    target.mkdir(parents=True, exist_ok=True)
    for name, content in sorted(build.files.items()):
        path = target / name
        if path.exists() and path.read_text(encoding="utf-8") == content:
            continue
        handle, temporary = tempfile.mkstemp(dir=target, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
        os.replace(temporary, path)
    for stale in target.glob("*.json"):
        if stale.name not in build.files:
            stale.unlink()
    return target
