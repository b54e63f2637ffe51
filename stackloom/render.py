"""Deterministic JSON: the bytes of every emitted file (sorted keys, two-space indent, UTF-8 as written)."""

from __future__ import annotations

import json
import re

from troposphere import Template


def render(template: Template) -> str:
    """Deterministic JSON, byte for byte `json.dumps(template.to_dict(), indent=2, sort_keys=True,
    ensure_ascii=False)` plus a newline: UTF-8 as written (cfn-lint cannot read the surrogate-pair escapes
    of characters beyond the BMP, and the bytes counted against the quota are the bytes deployed).
    Written by `_encode` because the standard library's indenting encoder is pure Python and about three
    times slower (tests/templates/test_quotas.py checks the two agree on every emitted template)."""
    return render_document(template.to_dict())


def render_document(document: dict) -> str:
    """`render` of a template already turned into JSON data (a patched one: stackloom/overrides.py)."""
    parts: list[str] = []
    _encode(document, parts.append, "")
    parts.append("\n")
    text = "".join(parts)
    # DEL and C1 controls are legal raw in JSON but not in YAML, which is how cfn-lint reads a template it
    # cannot parse as JSON: escape them (same value; one scan of the whole text, they are almost never there)
    return _UNREADABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text) if _UNREADABLE.search(text) else text


_UNREADABLE = re.compile("[\x7f-\x9f]")


_string = json.encoder.encode_basestring  # the C escaper for ensure_ascii=False
_int = int.__repr__
_float = float.__repr__


def _encode(value, append, indent: str) -> None:
    kind = type(value)
    if kind is str:
        append(_string(value))
    elif kind is dict:
        if not value:
            append("{}")
            return
        inner = indent + "  "
        separator = "{\n" + inner
        for key in sorted(value):
            if type(key) is not str:
                raise TypeError(f"keys must be str, not {type(key).__name__}")
            append(separator)
            append(_string(key))
            append(": ")
            _encode(value[key], append, inner)
            separator = ",\n" + inner
        append("\n" + indent + "}")
    elif kind is list or kind is tuple:
        if not value:
            append("[]")
            return
        inner = indent + "  "
        separator = "[\n" + inner
        for item in value:
            append(separator)
            _encode(item, append, inner)
            separator = ",\n" + inner
        append("\n" + indent + "]")
    elif value is True:
        append("true")
    elif value is False:
        append("false")
    elif value is None:
        append("null")
    elif isinstance(value, float):
        append(
            "NaN"
            if value != value
            else "Infinity"
            if value == _INFINITY
            else "-Infinity"
            if value == -_INFINITY
            else _float(value)
        )
    elif isinstance(value, int):
        append(_int(value))
    else:  # whatever the standard encoder makes of it (it raises TypeError for what JSON cannot hold)
        append(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).replace("\n", "\n" + indent))


_INFINITY = float("inf")


def as_json(value) -> str:
    """A plain JSON file of the build (parameters, overrides, manifest): sorted keys for mappings."""
    return json.dumps(value, indent=2, sort_keys=isinstance(value, dict)) + "\n"
