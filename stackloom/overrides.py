"""The spec's `overrides:` applied to the rendered templates: RFC 6902 add/replace/remove operations (with
`jsonpatch`, JSON Pointers resolved by `jsonpointer`), after troposphere built a template and before its quotas
are counted, so lint, audit, diff, the deploy's safety gates and the reports all read the patched file.

Each operation is checked before it is applied, against the document as the operations before it left it, so a
path that does not exist is an error that names the override and what is there instead (jsonpatch's own
messages print the whole document). Patched documents are rendered by stackloom/render.py like every other
template: the same input gives the same bytes.
"""

from __future__ import annotations

import copy
import json

import jsonpatch
import jsonpointer

from stackloom.errors import UserError
from templates.spec_escapes import OverrideSpec

SHOWN_KEYS = 12  # how many of an object's keys an error lists
SHOWN_VALUE = 80  # characters of a value the build's report line shows


class OverrideError(UserError):
    """An override that cannot be applied: names the field (`overrides.2.path`) and what is there."""


def by_template(overrides: list[OverrideSpec], available: list[str]) -> dict[str, list[tuple[int, OverrideSpec]]]:
    """Each emitted file's operations in spec order, or OverrideError for one naming a file not emitted."""
    found: dict[str, list[tuple[int, OverrideSpec]]] = {}
    for index, override in enumerate(overrides):
        if override.template not in available:
            raise OverrideError(
                f"overrides.{index}.template: {override.template} is not a template of this build; "
                f"templates: {', '.join(sorted(available))}"
            )
        found.setdefault(override.template, []).append((index, override))
    return found


def patch(document: dict, operations: list[tuple[int, OverrideSpec]]) -> tuple[dict, list[str]]:
    """`document` with the operations applied (a copy), and one report line per operation."""
    result = copy.deepcopy(document)
    applied = []
    for index, override in operations:
        tokens = jsonpointer.JsonPointer(override.path).parts
        _check(result, tokens, index, override)
        operation = {"op": override.op, "path": override.path}
        if override.op != "remove":
            operation["value"] = copy.deepcopy(override.value)
        try:
            result = jsonpatch.JsonPatch([operation]).apply(result, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as error:  # _check should have said
            raise OverrideError(f"overrides.{index}: {override.op} {override.path}: {error}") from None
        applied.append(f"{override.template}: {_line(index, override)}")
    return result, applied


def _check(document: dict, tokens: list[str], index: int, override: OverrideSpec) -> None:
    """RFC 6902: every step to the parent must exist; replace and remove need the target itself, add only its
    parent (an array takes an index up to its length, or `-` to append)."""
    where = f"overrides.{index}.path: {override.path}"
    current: object = document
    for depth, token in enumerate(tokens):
        last = depth == len(tokens) - 1
        shown = _pointer(tokens[:depth]) or "the top of the template"
        if isinstance(current, dict):
            if token in current:
                current = current[token]
                continue
            if last and override.op == "add":
                return
            raise OverrideError(
                f"{where} does not exist in {override.template}: {shown} has no {token!r} "
                f"(it has: {_keys(current)})"
                + ("; add creates a key only where its parent exists" if override.op == "add" else "")
            )
        if isinstance(current, list):
            if (
                last
                and override.op == "add"
                and (token == "-" or _index(token) is not None and _index(token) <= len(current))
            ):
                return
            position = _index(token)
            if position is None or position >= len(current):
                allowed = f"0 to {len(current) - 1}" if current else "none: it is empty"
                extra = ", or - to append" if override.op == "add" else ""
                raise OverrideError(
                    f"{where} does not exist in {override.template}: {shown} is a list of {len(current)} item(s); "
                    f"{token!r} is not an index of it (indexes: {allowed}{extra})"
                )
            current = current[position]
            continue
        raise OverrideError(
            f"{where} does not exist in {override.template}: {shown} is {json.dumps(current)[:SHOWN_VALUE]}, "
            "not an object or a list"
        )


def _index(token: str) -> int | None:
    """An array index as RFC 6901 writes it: digits, no leading zero (None for anything else)."""
    return int(token) if token.isdigit() and token.isascii() and (token == "0" or not token.startswith("0")) else None


def _pointer(tokens: list[str]) -> str:
    return "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in tokens)


def _keys(value: dict) -> str:
    keys = sorted(value)
    more = f", ... ({len(keys) - SHOWN_KEYS} more)" if len(keys) > SHOWN_KEYS else ""
    return (", ".join(keys[:SHOWN_KEYS]) + more) if keys else "nothing"


def _line(index: int, override: OverrideSpec) -> str:
    if override.op == "remove":
        return f"overrides.{index}: remove {override.path}"
    value = json.dumps(override.value, sort_keys=True, ensure_ascii=False)
    if len(value) > SHOWN_VALUE:
        value = value[: SHOWN_VALUE - 3] + "..."
    return f"overrides.{index}: {override.op} {override.path} = {value}"


def counts(document: dict) -> tuple[int, int, int, int]:
    """Resources, parameters, outputs and mappings of a patched template (what templates/quotas.py counts)."""
    return tuple(len(document.get(key) or {}) for key in ("Resources", "Parameters", "Outputs", "Mappings"))  # type: ignore[return-value]
