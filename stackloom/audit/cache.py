"""Result cache of the linters (cfn-lint, checkov, cfn-guard): one small JSON file per template and tool.

A result is deterministic for a given template, tool version, tool configuration and (cfn-lint) region, so
it is kept under a key made of exactly those: the sha256 of the template's bytes, the tool's name and
version, its configuration and the region. A template whose bytes change has another key and is always
linted again; speed never hides a finding. Findings are cached as well as clean results.

Where: `$STACKLOOM_CACHE_DIR` (tests, CI), else `$XDG_CACHE_HOME/stackloom`, else `~/.cache/stackloom`;
`STACKLOOM_NO_CACHE=1` or `--no-cache` turn it off. An entry is written atomically (a temporary file in the
same folder, then a rename). A missing, unreadable, corrupt or other-format entry is a miss, and a folder
that cannot be written is no error: the cache only ever saves time.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 1  # bump when the shape of a cached value changes: older entries then simply miss
DIR_VARIABLE = "STACKLOOM_CACHE_DIR"
OFF_VARIABLE = "STACKLOOM_NO_CACHE"


def folder(enabled: bool = True) -> Path | None:
    """The cache folder, or None when caching is off (`enabled` False or STACKLOOM_NO_CACHE set)."""
    if not enabled or os.environ.get(OFF_VARIABLE, "") not in ("", "0"):
        return None
    if os.environ.get(DIR_VARIABLE):
        return Path(os.environ[DIR_VARIABLE])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stackloom"


@dataclass(frozen=True)
class Cache:
    """The cache of one tool at one version and configuration; `root` None is a cache that is off."""

    root: Path | None
    tool: str
    version: str
    config: Any = None  # anything JSON-serialisable that changes the tool's result (rules, options)

    def key(self, data: bytes, extra: str = "") -> str:
        digest = hashlib.sha256()
        head = [FORMAT, self.tool, self.version, self.config, extra]
        digest.update(json.dumps(head, sort_keys=True, separators=(",", ":")).encode())
        digest.update(b"\0")
        digest.update(data)
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / _safe(self.tool) / key[:2] / f"{key}.json"

    def get(self, data: bytes, extra: str = "") -> Any | None:
        """The cached value, or None on any miss (off, absent, unreadable, corrupt, another key)."""
        if self.root is None:
            return None
        key = self.key(data, extra)
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
            if entry["format"] == FORMAT and entry["key"] == key:
                return entry["value"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return None

    def put(self, data: bytes, value: Any, extra: str = "") -> None:
        if self.root is None:
            return
        key = self.key(data, extra)
        path = self._path(key)
        text = json.dumps({"format": FORMAT, "key": key, "value": value}, sort_keys=True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    stream.write(text)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # a read-only or full cache folder: the result is still returned, just not kept


def per_file(
    cache: Cache,
    files: list[Path],
    run: Callable[[list[Path]], dict[Path, Any]],
    extra: Callable[[Path], str] = lambda path: "",
) -> dict[Path, Any]:
    """Each file's result: from the cache where its key is there, else from one `run` over the missing
    files (which returns a result for each of them), then stored. In the order of `files`."""
    data = {path: path.read_bytes() for path in files}
    found = {path: cache.get(data[path], extra(path)) for path in files}
    missing = [path for path in files if found[path] is None]
    if missing:
        fresh = run(missing)
        for path in missing:
            found[path] = fresh[path]
            cache.put(data[path], fresh[path], extra(path))
    return found


def _safe(name: str) -> str:
    return "".join(char if char.isalnum() or char in "-_." else "-" for char in name)
