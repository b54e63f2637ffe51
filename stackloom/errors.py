"""Errors the user can fix. Every engine raises these; only the CLI prints them (one paragraph, exit 2)."""

from __future__ import annotations


class UserError(Exception):
    """Anything the user can fix; printed without a traceback."""
