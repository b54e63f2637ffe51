"""Colour on the terminal, decided in one place: never when NO_COLOR is set to anything (https://no-color.org)
or `--no-color` was given, otherwise only when the stream is a terminal (logs, pipes and CI stay plain text)."""

from __future__ import annotations

import os

_disabled = False  # set by the CLI's global --no-color for the whole process


def disable_color() -> None:
    """`--no-color`: no colour on any stream for the rest of the process."""
    global _disabled
    _disabled = True


def color_enabled(stream) -> bool:
    """Whether text written to `stream` may carry ANSI colour codes."""
    if _disabled or os.environ.get("NO_COLOR", ""):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
