"""Reading addon templates (templates/addons.py deploys them): the files a spec's `addons:` lists, parsed with
cfn-lint's own decoder (YAML with the short-form intrinsics `!Ref`, `!GetAtt`, `!Sub`..., or JSON), so a
template reads here exactly as `cfn-lint` and CloudFormation read it.

A path is relative to the params file that wrote it (with layers: the `_defaults.yaml` it came from, see
stackloom/layers.py), and must stay inside the params folder, as params files do. `resolve` rewrites each entry to
its path relative to the params folder before the spec is parsed (two layers may name the same relative path for
different files); `load` reads every file into the spec's `addon_templates` once it is parsed. A file that cannot
be read or does not parse is an error naming it and the line of the params file that lists it.
"""

from __future__ import annotations

import datetime
import json
import os
import stat
from pathlib import Path, PurePosixPath

import msgspec

from stackloom import layers
from stackloom.errors import display
from templates.spec import EnvironmentSpec
from templates.spec_addons import owners

MAX_BYTES = 1_000_000  # CloudFormation's own limit for a template read from S3


class AddonFileError(ValueError):
    """An addon file that cannot be used (stackloom.params turns it into a SpecError)."""


def lists(data: dict) -> list[tuple]:
    """The field path of every `addons` list in merged params data: ("addons",), ("services", NAME, "addons")..."""
    found = [("addons",)] if isinstance(data.get("addons"), list) else []
    for kind in ("services", "jobs"):
        for name, task in (data.get(kind) or {}).items() if isinstance(data.get(kind), dict) else ():
            if isinstance(task, dict) and isinstance(task.get("addons"), list):
                found.append((kind, name, "addons"))
    return found


def resolve(path: Path, merged: layers.Merged) -> None:
    """Rewrite every addon entry of `merged` (the layers of params file `path`) to its path relative to the params
    folder, from the folder of the layer that wrote it. Entries that are not text are left for the spec's check."""
    folder = path.parent.parent
    for where in lists(merged.data):
        entries = merged.data
        for part in where:
            entries = entries[part]
        for index, entry in enumerate(entries):
            origin = merged.origin((*where, index))
            if not isinstance(entry, str) or origin is None:
                continue
            written = PurePosixPath(os.path.relpath(origin.path.parent, folder)) / entry.strip()
            entries[index] = os.path.normpath(str(written)).replace(os.sep, "/")


def load(path: Path, spec: EnvironmentSpec) -> EnvironmentSpec:
    """`spec` with every addon file it lists read and parsed into `addon_templates` (checked by the spec then)."""
    folder = path.parent.parent
    documents = {}
    for where, _, paths in owners(spec):
        for index, key in enumerate(paths):
            if key in documents:
                continue
            try:
                documents[key] = _parse(folder / key, _read(folder, folder / key))
            except AddonFileError as error:
                raise AddonFileError(f"{display(path)}: {where}.{index}: {error}") from None
    if not documents:
        return spec
    return msgspec.structs.replace(spec, addon_templates=documents)


def _read(folder: Path, file: Path) -> str:
    shown = display(file)
    try:
        if not file.resolve().is_relative_to(folder.resolve()):
            raise AddonFileError(f"{shown}: outside the params folder ({display(folder)}); addons live in it")
        mode = os.stat(file).st_mode
        if not stat.S_ISREG(mode):
            raise AddonFileError(f"{shown}: not a regular file; an addon is a template file")
        handle = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(handle, "rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except OSError as error:
        raise AddonFileError(f"{shown}: cannot read ({error.strerror})") from None
    if len(data) > MAX_BYTES:
        raise AddonFileError(f"{shown}: over {MAX_BYTES:,} bytes, CloudFormation's template limit")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AddonFileError(f"{shown}: not UTF-8 text ({error.reason} at byte {error.start})") from None


def _parse(file: Path, text: str) -> dict:
    """The template as plain data (cfn-lint's nodes, which carry their marks, become dicts, lists and scalars)."""
    # imported here, not at the top: cfn-lint costs more to import than a whole build, and only a spec with
    # addons needs its decoder (tests/stackloom/test_bench.py keeps the build path free of it)
    from cfnlint.decode import decode_str

    template, problems = decode_str(text)
    if problems:
        first = problems[0]
        raise AddonFileError(
            f"{display(file)}: line {first.linenumber}, column {first.columnnumber}: not a CloudFormation "
            f"template ({first.message})"
        )
    if not isinstance(template, dict):
        raise AddonFileError(f"{display(file)}: not a CloudFormation template (the top level must be a mapping)")
    return json.loads(json.dumps(template, default=_scalar))


def _scalar(value):
    """YAML scalars JSON has no type for: an unquoted date (`AWSTemplateFormatVersion: 2010-09-09`) as written."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    raise AddonFileError(f"a value of type {type(value).__name__} cannot be part of a CloudFormation template")
