"""Read a params file into an EnvironmentSpec, turning every failure into one readable SpecError.

YAML is read with a safe loader that also rejects duplicate keys and alias expansion
(a "billion laughs" file must fail fast, not eat memory).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import msgspec
import yaml

from stackloom import addons, layers
from stackloom.errors import SpecError, display  # noqa: F401 - SpecError is re-exported for callers
from templates.spec import EnvironmentSpec, SpecInvalid, parse
from templates.validation import FieldError, dotted, shown

MAX_BYTES = 1_000_000
# CloudFormation would act on these inside a plain value: a dynamic reference resolves a secret into the
# template's plain text (e.g. a task definition's environment), a pseudo parameter looks substituted but is not
CLOUDFORMATION_SYNTAX = re.compile(r"\{\{resolve:|\$\{AWS::", re.IGNORECASE)


try:  # libyaml tokenizes and parses in C (7x faster); composing stays in Python, where the checks below live
    from yaml._yaml import CParser as _Parser  # and where deep nesting is a RecursionError, not a crash

    def _init_parser(loader, text: str) -> None:
        _Parser.__init__(loader, text)
except ImportError:  # PyYAML without libyaml: the same in pure Python

    class _Parser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):  # type: ignore[no-redef]
        pass

    def _init_parser(loader, text: str) -> None:
        yaml.reader.Reader.__init__(loader, text)
        yaml.scanner.Scanner.__init__(loader)
        yaml.parser.Parser.__init__(loader)


class _StrictLoader(yaml.composer.Composer, _Parser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """Safe loading (no Python tags) that also refuses duplicate keys and anchors/aliases."""

    def __init__(self, text: str):
        _init_parser(self, text)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)

    def compose_node(self, parent, index):  # noqa: D401 - yaml hook
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None, None, "YAML aliases (*name) are not allowed in params files", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, f"unhashable key {key!r}", key_node.start_mark
                ) from None
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"duplicate key {key!r}", key_node.start_mark
                )
            seen[key] = True
        return super().construct_mapping(node, deep=deep)


# Spec fields the loader fills in (stackloom/addons.py), by the field they are filled from: a params file that writes
# one is refused, and `schema` leaves them out (msgspec has no per-field opt-out of its generated schema).
LOADER_FIELDS = {"addon_templates": "addons:"}


SCHEMA_FILE = Path("schema/spec.schema.json")  # committed, repository-relative; params files point at it
FROM_FILE_PLACE = ("system", "environment")  # stackloom/layers.py defaults them to `<system>/<env>.yaml`
SCHEMA_ID = "urn:stackloom:schema:spec"  # stable, names no host: editors resolve the file by its path


def schema() -> dict:
    """The JSON Schema (draft 2020-12) of params files (`build.py schema`, `schema/spec.schema.json`).

    The spec's own schema, without the fields the loader fills in, and with no `required`: each params file is one
    layer (stackloom/layers.py), so a `_defaults.yaml` or an environment file that only overrides is a valid part
    of a spec; the merged spec's required fields are named in each part's description and checked by the build.
    Types, enums, patterns and unknown keys are checked in every file as they are after the merge, but for a
    text with `${system}` or `${environment}` in it: its pattern and length apply once the names are substituted.
    """
    found = _with_placeholders(msgspec.json.schema(EnvironmentSpec))
    for key in LOADER_FIELDS:
        del found["$defs"]["EnvironmentSpec"]["properties"][key]
    for name, definition in found["$defs"].items():
        defaulted = FROM_FILE_PLACE if name == "EnvironmentSpec" else ()
        required = [field for field in definition.pop("required", ()) if field not in defaulted]
        if required:
            note = "Required once the layers are merged: " + ", ".join(f"`{name}`" for name in required) + "."
            text = definition.get("description", "").rstrip()
            definition["description"] = f"{text}\n\n{note}" if text else note
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "stackloom params file",
        "description": (
            "One layer of an environment's spec: params/_defaults.yaml, params/<system>/_defaults.yaml or "
            "params/<system>/<env>.yaml, merged in that order (`build.py spec <system>/<env>` shows the result). "
            "Written by `build.py schema --write` from templates/spec.py."
        ),
        **found,
    }


_STRING_CHECKS = ("pattern", "minLength", "maxLength", "format")
_PLACEHOLDER = {
    "type": "string",
    "pattern": "|".join(re.escape(name) for name in layers.NAMES),
    "description": "Checked once `${system}` and `${environment}` are substituted (stackloom/layers.py).",
}


def _with_placeholders(node):
    """Every constrained text schema in `node` also accepts a text with a layer placeholder in it."""
    if isinstance(node, list):
        return [_with_placeholders(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _with_placeholders(value) for key, value in node.items()}
    if node.get("type") == "string" and any(check in node for check in _STRING_CHECKS):
        kept = {key: value for key, value in node.items() if key in ("title", "description", "default", "examples")}
        checked = {key: value for key, value in node.items() if key not in kept}
        return {**kept, "anyOf": [checked, _PLACEHOLDER]}
    return node


def modeline(params_file: Path, schema_file: Path) -> str:
    """The first line of a params file that points the YAML language server at the committed schema."""
    relative = os.path.relpath(schema_file.resolve(), params_file.resolve().parent)
    return f"# yaml-language-server: $schema={Path(relative).as_posix()}"


def load_spec(path: Path) -> EnvironmentSpec:
    """Load and validate one environment: its file merged over the defaults layers (stackloom/layers.py);
    the file's place (`<system>/<env>.yaml`) must match its system and environment."""
    merged = merged_spec(path)
    for key, source in LOADER_FIELDS.items():
        if key in merged.data:
            problem = f"filled from {source}, not written by hand (list the template files under {source} instead)"
            raise SpecError(_describe(path, SpecInvalid([((key,), problem)]), merged))
    addons.resolve(path, merged)  # addon paths relative to the params folder, from the layer that wrote each
    try:
        spec = parse(merged.data)
    except SpecInvalid as error:
        raise SpecError(_describe(path, error, merged)) from None
    try:
        spec = addons.load(path, spec)
    except addons.AddonFileError as error:
        raise SpecError(str(error)) from None
    except FieldError as error:  # an addon document the spec's check refuses (templates/spec_addons.py)
        where = tuple(int(part) if part.isdigit() else part for part in error.field.split("."))
        raise SpecError(_describe(path, SpecInvalid([(where, error.message)]), merged)) from None
    expected = (path.parent.name, path.stem)
    if (spec.system, spec.environment) != expected:
        raise SpecError(
            f"{display(path)}: system/environment say {spec.system}/{spec.environment} but the file is at "
            f"{expected[0]}/{expected[1]}{path.suffix}; they must match (params/<system>/<env>.yaml)"
        )
    return spec


def _read_text(path: Path) -> str:
    """The file's text, read defensively: only a regular file inside its params folder (a symlink, of the file
    or of its system folder, may point within it, never out of it), at most MAX_BYTES (a /dev/zero or a FIFO
    behind the name stops at once)."""
    where = display(path)
    root = path.parent.parent
    try:
        if not path.resolve().is_relative_to(root.resolve()):
            raise SpecError(
                f"{where}: a symbolic link out of the params folder ({display(root)}); "
                "params files must live inside it"
            )
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            kind = (
                "a FIFO"
                if stat.S_ISFIFO(mode)
                else "a device"
                if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "a folder"
                if stat.S_ISDIR(mode)
                else "a socket"
                if stat.S_ISSOCK(mode)
                else "not a file"
            )
            raise SpecError(f"{where}: {kind}, not a regular file; params files must be plain files")
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(handle, "rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except SpecError:
        raise
    except OSError as error:
        raise SpecError(f"{where}: cannot read ({error.strerror})") from None
    if len(data) > MAX_BYTES:
        raise SpecError(f"{where}: file is over {MAX_BYTES} bytes; params files are limited to {MAX_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SpecError(f"{where}: not UTF-8 text ({error.reason} at byte {error.start})") from None


def merged_spec(path: Path) -> layers.Merged:
    """The environment's layers merged (`system`/`environment` from the file's place unless a layer says),
    `${system}`/`${environment}` substituted, CloudFormation syntax refused: what `parse` validates."""
    found = []
    for layer_path in layers.layer_paths(path):
        data, lines = _read_yaml(layer_path, empty_ok=layer_path != path)
        found.append(layers.Layer(layer_path, data, lines))
    merged = layers.merge(found)
    merged.data.setdefault("system", path.parent.name)
    merged.data.setdefault("environment", path.stem)
    system, environment = merged.data["system"], merged.data["environment"]
    if isinstance(system, str) and isinstance(environment, str):
        merged.data = layers.substitute(merged.data, system, environment)
    _reject_cloudformation_syntax(path, merged)
    return merged


def _read_yaml(path: Path, empty_ok: bool = False) -> tuple[dict, dict[tuple, int]]:
    """The file's top-level mapping and the line of every key and item in it."""
    text = _read_text(path)
    try:
        loader = _StrictLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
            lines = layers.node_lines(loader, node) if node is not None else {}
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        line = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
        hint = (
            " (quote a value holding ${...} inside {...} or [...]: YAML reads its braces as the mapping's)"
            if "${" in line and ("{" in line.split("${")[0] or "[" in line.split("${")[0])
            else ""
        )
        raise SpecError(f"{display(path)}:{where}: invalid YAML: {error.problem}{hint}") from None
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError) as error:
        raise SpecError(f"{display(path)}: invalid YAML: {error}") from None
    if data is None and empty_ok:  # an empty defaults file sets nothing
        return {}, {}
    if not isinstance(data, dict):
        raise SpecError(
            f"{display(path)}: the top level must be a mapping of fields (system, environment, network, services, ...), "
            f"got {type(data).__name__}"
        )
    return data, lines


def _reject_cloudformation_syntax(path: Path, merged: layers.Merged) -> None:
    """Values are literal: `{{resolve:...}}` and `${AWS::...}` are refused wherever they appear (iterative:
    a deeply nested file must not hit the recursion limit). An override's `value` is CloudFormation by design
    (`{"Fn::Sub": "${AWS::Region}"}`): it alone is exempt."""
    data = merged.data
    if isinstance(data.get("overrides"), list):
        data = {**data, "overrides": [_without_value(item) for item in data["overrides"]]}
    pending = [((), data)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, dict):
            pending += [(where, key) for key in value] + [(where + (key,), item) for key, item in value.items()]
        elif isinstance(value, list):
            pending += [(where + (index,), item) for index, item in enumerate(value)]
        elif isinstance(value, str) and CLOUDFORMATION_SYNTAX.search(value):
            field = dotted(where) or "(top level)"
            raise SpecError(
                f"{display(path)}: {field}: {shown(value)}{_located(path, merged.origin(where))} contains "
                "CloudFormation syntax "
                f"({CLOUDFORMATION_SYNTAX.search(value).group(0)}); params values are used literally. "
                "Secrets go under `secrets:` (ssm or secrets_manager), never into plain values"
            )


def _without_value(item: object) -> object:
    return {key: value for key, value in item.items() if key != "value"} if isinstance(item, dict) else item


def _describe(path: Path, error: SpecInvalid, merged: layers.Merged) -> str:
    lines = [
        f"  {dotted(where)}: {message}{_located(path, merged.origin(where))}" if where else f"  {message}"
        for where, message in error.problems
    ]
    return f"{display(path)}: invalid spec:\n" + "\n".join(lines)


def _located(path: Path, origin: layers.Origin | None) -> str:
    """` (line 12)` in the environment's own file, ` (params/x/_defaults.yaml, line 3)` in a layer below it."""
    if origin is None:
        return ""
    if origin.path == path:
        return f" (line {origin.line})"
    return f" ({display(origin.path)}, line {origin.line})"


def discover(params_dir: Path) -> dict[str, Path]:
    """`system/env` -> params file, for every `<system>/<env>.yaml` under the params folder."""
    if not params_dir.is_dir():
        raise SpecError(f"{display(params_dir)}: params folder not found")
    found = {}
    for path in sorted(params_dir.glob("*/*.y*ml")):
        if path.suffix in (".yaml", ".yml") and layers.is_environment_file(path):
            found[f"{path.parent.name}/{path.stem}"] = path
    if not found:
        raise SpecError(f"{display(params_dir)}: no params files (expected <system>/<env>.yaml)")
    return found


def select(params_dir: Path, targets: list[str]) -> dict[str, Path]:
    """Resolve `system/env` or `system` targets; no targets means all."""
    known = discover(params_dir)
    if not targets:
        return known
    chosen = {}
    for target in targets:
        target = target.strip("/")
        matches = {key: path for key, path in known.items() if key == target or key.split("/")[0] == target}
        if not matches:
            raise SpecError(
                f"unknown target {target!r}: no {params_dir}/{target}.yaml; " f"known targets: {', '.join(known)}"
            )
        chosen.update(matches)
    return chosen
