"""Layered params: what every environment of a system (or every system) shares is written once.

An environment's spec is its file merged over the defaults, lowest first:

    params/_defaults.yaml               every system
    params/<system>/_defaults.yaml      every environment of the system
    params/<system>/<env>.yaml          the environment

Mappings merge key by key; anything else (a text, a number, a list) is replaced by the higher layer; an
explicit `null` removes what the layers below set (an optional section, such as `cache: null`). `system`
and `environment` default to the file's place. Then, in every text of the merged spec, `${system}` and
`${environment}` become the environment's names; nothing else is substituted, and any other `${...}` is left
exactly as written. Files and folders whose names start with `_` are never environments.

Each value remembers the file and line it came from, so an error names the layer to fix (Sceptre's
cascading config and Copilot's `environments:` overrides work alike; neither says where a value came from).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULTS = "_defaults.yaml"
NAMES = ("${system}", "${environment}")


@dataclass(frozen=True)
class Origin:
    """Where a value was written: the layer file and its 1-based line."""

    path: Path
    line: int


@dataclass
class Layer:
    path: Path
    data: dict
    lines: dict[tuple, int]  # the path of every key and list item in the file -> its line


@dataclass
class Merged:
    data: dict
    origins: dict[tuple, Origin]

    def origin(self, where: tuple) -> Origin | None:
        """The origin of the deepest part of `where` some layer wrote (a missing field: its parent's)."""
        for length in range(len(where), 0, -1):
            found = self.origins.get(tuple(where[:length]))
            if found is not None:
                return found
        return None


def layer_paths(path: Path) -> list[Path]:
    """The defaults files under `params/<system>/<env>.yaml` that exist, lowest first, then the file itself."""
    system_folder = path.parent
    candidates = [system_folder.parent / DEFAULTS, system_folder / DEFAULTS]
    return [candidate for candidate in candidates if candidate.is_file() or candidate.is_symlink()] + [path]


def is_environment_file(path: Path) -> bool:
    """`<system>/<env>.yaml`, neither name starting with `_` (defaults and shared parts are never built)."""
    return not path.name.startswith("_") and not path.parent.name.startswith("_")


def merge(layers: list[Layer]) -> Merged:
    data: dict = {}
    origins: dict[tuple, Origin] = {}
    for layer in layers:
        _merge_into(data, layer.data, (), layer, origins)
    return Merged(data, origins)


def _merge_into(target: dict, source: dict, where: tuple, layer: Layer, origins: dict[tuple, Origin]) -> None:
    for key, value in source.items():
        path = (*where, key)
        if value is None:  # an explicit null removes what lower layers set
            target.pop(key, None)
            for known in [known for known in origins if known[: len(path)] == path]:
                del origins[known]
            continue
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_into(target[key], value, path, layer, origins)
            origins[path] = _origin(layer, path)  # the last layer that wrote into the mapping
            continue
        target[key] = _copy(value)
        for known in [known for known in origins if known[: len(path)] == path]:
            del origins[known]
        for inner, line in layer.lines.items():
            if inner[: len(path)] == path:
                origins[inner] = Origin(layer.path, line)


def _origin(layer: Layer, path: tuple) -> Origin:
    return Origin(layer.path, layer.lines.get(path, 1))


def _copy(value):
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def substitute(data, system: str, environment: str):
    """`data` with `${system}` and `${environment}` replaced in every text value (keys stay as written)."""
    if isinstance(data, dict):
        return {key: substitute(value, system, environment) for key, value in data.items()}
    if isinstance(data, list):
        return [substitute(item, system, environment) for item in data]
    if isinstance(data, str) and "${" in data:
        return data.replace("${system}", system).replace("${environment}", environment)
    return data


def node_lines(loader, node, where: tuple = ()) -> dict[tuple, int]:
    """The line of every key and list item under a composed YAML node (PyYAML marks are 0-based)."""
    found: dict[tuple, int] = {}
    pending = [(where, node)]
    while pending:  # iterative: a deeply nested file must not hit the recursion limit here
        path, current = pending.pop()
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                key = loader.construct_object(key_node, deep=True)
                found[(*path, key)] = key_node.start_mark.line + 1
                pending.append(((*path, key), value_node))
        elif isinstance(current, yaml.SequenceNode):
            for index, item in enumerate(current.value):
                found[(*path, index)] = item.start_mark.line + 1
                pending.append(((*path, index), item))
    return found
