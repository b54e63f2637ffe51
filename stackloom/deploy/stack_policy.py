"""Which resources hold data, and the stack policy that protects them in production.

`stackloom.kinds` is the one registry of resource types whose replacement or removal loses data (or makes it
unreadable): the deploy gate (`--allow-replace`) and the production stack policy both read it.

A stack policy only covers the stack it is set on, so every stack of a production environment gets its
own: the root denies `Update:Replace`/`Update:Delete` on the nested stacks that hold stateful resources,
each nested stack denies them on its stateful resources. Everything else may be updated.
(Stack policies are not IAM policies: plain JSON, `LogicalResourceId/<id>` resources.)
"""

from __future__ import annotations

import json
from pathlib import Path

from stackloom.cfn import model
from stackloom.cfn.model import is_stateful
from stackloom.kinds import stateful_types

STATEFUL_TYPES = stateful_types()  # the registry's stateful kinds (stackloom/kinds.py)

DENIED_ACTIONS = ["Update:Replace", "Update:Delete"]


def protected_ids(template: dict, nested: dict[str, dict]) -> list[str]:
    """Logical IDs to protect in this template: stateful resources, and nested stacks holding any.
    `nested` maps a nested stack's TemplateURL (a file name here) to its template."""
    ids = []
    stacks = model.nested_stacks(template)
    for logical_id, resource in model.resources(template).items():
        if is_stateful(resource.get("Type", "")):
            ids.append(logical_id)
        elif logical_id in stacks:
            child = nested.get(stacks[logical_id])
            if child is not None and protected_ids(child, nested):
                ids.append(logical_id)
    return sorted(ids)


def policy(template: dict, nested: dict[str, dict] | None = None) -> dict:
    """The stack policy document for one stack of a production environment."""
    statements = [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]
    ids = protected_ids(template, nested or {})
    if ids:
        statements.append(
            {
                "Effect": "Deny",
                "Action": DENIED_ACTIONS,
                "Principal": "*",
                "Resource": [f"LogicalResourceId/{logical_id}" for logical_id in ids],
            }
        )
    return {"Statement": statements}


def environment_policies(read, root_file: str) -> dict[tuple[str, ...], dict]:
    """A policy for the root (key `()`) and for every nested stack (key: its logical ID path) of an
    environment; `read(file_name)` returns a template as a dict (nested TemplateURLs are file names)."""
    templates: dict[str, dict] = {}

    def load(file_name: str) -> dict:
        if file_name not in templates:
            templates[file_name] = read(file_name)
            for url in model.nested_stacks(templates[file_name]).values():
                if model.is_local_url(url):
                    load(url)
        return templates[file_name]

    policies: dict[tuple[str, ...], dict] = {}

    def walk(file_name: str, path: tuple[str, ...]) -> None:
        template = load(file_name)
        policies[path] = policy(template, templates)
        for logical_id, url in sorted(model.nested_stacks(template).items()):
            if url in templates:
                walk(url, path + (logical_id,))

    walk(root_file, ())
    return policies


def folder_reader(folder: Path):
    return lambda file_name: json.loads((folder / file_name).read_text())
