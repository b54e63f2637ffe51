"""Errors the user can fix. Every engine raises these; only the CLI prints them (one paragraph, exit 2)."""

from __future__ import annotations

import errno
import re


class UserError(Exception):
    """Anything the user can fix; printed without a traceback."""


class SpecError(Exception):
    """A user error in a params file or on the command line: printed as one paragraph, exit code 2."""


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def display(path) -> str:
    """A path (or any text) as an error message may print it: quoted and escaped when it holds a control
    character, so a file name with a newline or an ANSI escape cannot forge or recolour a line."""
    text = str(path)
    return repr(text) if _CONTROL.search(text) else text


def os_problem(error: OSError) -> str:
    """An operating-system error in one line that names the path (never an empty `error: :`)."""
    where = display(error.filename) if error.filename else "output folder"
    if error.errno == errno.ENOSPC:
        return f"{where}: no space left on device; nothing was replaced (free some space and build again)"
    return f"{where}: {error.strerror or error}"
