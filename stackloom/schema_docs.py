"""docs/spec-reference.md: the spec reference written from the JSON Schema of params files (`schema --docs`).

One section per spec type, the environment first and the others in the order they are reached from it, each a
table of its fields with type, default and description, types linking to their own section. A test compares the
committed page with what this writes, so the reference cannot drift from the spec.
"""

from __future__ import annotations

import json
import re

PLACEHOLDER = "Checked once `${system}` and `${environment}` are substituted"
CONSTRAINTS = (
    ("minimum", "≥ {}"),
    ("maximum", "≤ {}"),
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("minProperties", "at least {} entries"),
    ("pattern", "matching `{}`"),
)


def reference(schema: dict) -> str:
    """The Markdown page for `schema` (the dict `stackloom.params.schema()` returns)."""
    definitions = schema["$defs"]
    order = _reached(schema["$ref"].rpartition("/")[2], definitions)
    lines = [
        "# Spec reference",
        "",
        "Every field of a params file, with its type, default and what it means, generated from the JSON Schema",
        "(`schema/spec.schema.json`) by `python build.py schema --docs docs/spec-reference.md`; a test fails when",
        "this page is stale. How to write a spec, with examples: [Writing a spec](spec.md). A params file is one",
        "layer, so no field is required in it; the fields required once the layers are merged are named per type.",
        "",
        "Types: " + ", ".join(f"[{name}](#{name.lower()})" for name in order) + ".",
    ]
    for name in order:
        definition = definitions[name]
        lines += ["", f"## {name}", ""]
        if definition.get("description"):
            lines += [_paragraphs(definition["description"]), ""]
        lines += ["| field | type | default | description |", "|---|---|---|---|"]
        for field, prop in sorted(definition.get("properties", {}).items()):
            default = f"`{json.dumps(prop['default'])}`" if "default" in prop else "—"
            text = _cell(prop.get("description", ""))
            limits = _constraints(prop)
            text = f"{text} ({limits})".lstrip() if limits else text
            lines.append(f"| `{field}` | {_type(prop)} | {default} | {text} |")
    return "\n".join(lines) + "\n"


def _reached(root: str, definitions: dict) -> list[str]:
    order, todo = [], [root]
    while todo:
        name = todo.pop(0)
        if name in order:
            continue
        order.append(name)
        todo += re.findall(r'"#/\$defs/(\w+)"', json.dumps(definitions[name], sort_keys=True))
    return order + sorted(set(definitions) - set(order))


def _type(prop: dict) -> str:
    if "$ref" in prop:
        name = prop["$ref"].rpartition("/")[2]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in prop:
        kinds = [_type(option) for option in prop["anyOf"] if not _placeholder(option)]
        return " or ".join(dict.fromkeys(kinds))
    if "enum" in prop:
        return " \\| ".join(f"`{json.dumps(value)}`" for value in prop["enum"])
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if kind == "object" and isinstance(prop.get("additionalProperties"), dict):
        return f"map of name → {_type(prop['additionalProperties'])}"
    if isinstance(kind, list):
        return " or ".join(kind)
    return kind or "any"


def _placeholder(option: dict) -> bool:
    return option.get("description", "").startswith(PLACEHOLDER)


def _constraints(prop: dict) -> str:
    """Limits of the value (of each item or entry for a list or a map), as words."""
    return _cell("; ".join(dict.fromkeys(_limits(prop))))


def _limits(prop: dict) -> list[str]:
    if not isinstance(prop, dict) or _placeholder(prop):
        return []
    found = [words.format(prop[key]) for key, words in CONSTRAINTS if key in prop]
    if "pattern" in prop.get("propertyNames", {}):
        found.append(f"names matching `{prop['propertyNames']['pattern']}`")
    for part in (prop.get("items"), prop.get("additionalProperties"), *prop.get("anyOf", ())):
        found += _limits(part) if isinstance(part, dict) else []
    return found


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _paragraphs(text: str) -> str:
    return "\n\n".join(" ".join(part.split()) for part in text.split("\n\n"))
