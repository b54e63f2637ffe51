"""The template model: resources, properties, nested stacks and references of CloudFormation JSON.

Templates are plain dicts (parsed JSON). Every helper tolerates a malformed template (a baseline written
by hand, a deployed template of another tool): a missing or non-mapping section reads as empty.
"""

from __future__ import annotations

import json

from stackloom.kinds import STACK_TYPE, is_stateful  # noqa: F401 - re-exported with the model
from templates.references import (  # noqa: F401 - re-exported: the tool's one reference walker
    CONDITION,
    DEPENDS_ON,
    GETATT,
    REF,
    SUB,
    Reference,
    references,
    value_references,
)

ROOT_FILE = "root.json"
MISSING = "<absent>"


def mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def resources(template: dict | None) -> dict[str, dict]:
    """Logical ID -> resource, for the entries that are resources at all."""
    found = mapping((template or {}).get("Resources"))
    return {key: value for key, value in found.items() if isinstance(value, dict)}


def properties(resource: dict | None) -> dict:
    return mapping((resource or {}).get("Properties"))


def is_template(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("Resources"), dict)


def nested_stacks(template: dict | None) -> dict[str, str]:
    """Logical ID -> TemplateURL of the template's nested stacks (relative file names before packaging)."""
    found = {}
    for logical_id, resource in resources(template).items():
        url = properties(resource).get("TemplateURL")
        if resource.get("Type") == STACK_TYPE and isinstance(url, str):
            found[logical_id] = url
    return found


def is_local_url(url) -> bool:
    """A TemplateURL that names a file beside the parent (what the build writes), not an uploaded object."""
    return isinstance(url, str) and "://" not in url


def children(*sides: dict[str, dict]) -> dict[str, dict[str, str]]:
    """Parent file -> {nested stack logical ID: child file}, for children present in the given sets of
    templates (each a file name -> template mapping; several sets are merged, e.g. old and new)."""
    files = set().union(*(set(side) for side in sides))
    links: dict[str, dict[str, str]] = {}
    for side in sides:
        for name, template in side.items():
            for logical_id, url in nested_stacks(template).items():
                if url in files:
                    links.setdefault(name, {})[logical_id] = url
    return links


def stack_paths(links: dict[str, dict[str, str]]) -> dict[str, str]:
    """Child file -> logical ID path from its top-level stack ("Data", "Outer/Inner")."""
    paths: dict[str, str] = {}

    def walk(parent: str, prefix: str, seen: frozenset) -> None:
        for logical_id, child in sorted(links.get(parent, {}).items()):
            if child not in seen:
                paths[child] = f"{prefix}{logical_id}"
                walk(child, f"{prefix}{logical_id}/", seen | {child})

    nested = {child for found in links.values() for child in found.values()}
    for top in sorted(set(links) - nested):
        walk(top, "", frozenset({top}))
    return paths


def dependencies(name: str, found: dict[str, dict]) -> set[str]:
    """The resources of `found` that resource `name` needs first: what it references, and its DependsOn."""
    return {
        item.name
        for item in references(found[name])
        if item.kind != CONDITION and item.name in found and item.name != name
    }


def dependency_order(found: dict[str, dict], cycle=ValueError) -> list[str]:
    """Logical IDs so that every resource comes after what it depends on (template order otherwise);
    `cycle(message)` is raised on a circular dependency."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise cycle(f"Circular dependency between resources: {name}")
        state[name] = 1
        for dependency in sorted(dependencies(name, found)):
            visit(dependency)
        state[name] = 2
        order.append(name)

    for name in found:
        visit(name)
    return order


def parse(body) -> dict:
    """A template body as CloudFormation returns it (a JSON string, or an already parsed document)."""
    return json.loads(body) if isinstance(body, str) else json.loads(json.dumps(body))


def truthy(value) -> bool:
    """A boolean property as CloudFormation reads it: JSON true, or the strings "true"/"True"."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def is_intrinsic(value) -> bool:
    """A Ref, Condition or Fn:: function (a value CloudFormation computes)."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


def project(value, parts: tuple[str, ...]):
    """The part of a property tree a createOnly path covers; an intrinsic on the way is taken whole."""
    if not parts or is_intrinsic(value):
        return value
    head, rest = parts[0], parts[1:]
    if head == "*":
        return [project(item, rest) for item in value] if isinstance(value, list) else value
    if isinstance(value, dict):
        return project(value[head], rest) if head in value else MISSING
    return value if value is not None else MISSING
