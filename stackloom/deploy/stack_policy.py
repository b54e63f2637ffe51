"""Which resources hold data, and the stack policy that protects them in production.

`STATEFUL_TYPES` is the one list of resource types whose replacement or removal loses data (or makes it
unreadable): the deploy gate (`--allow-replace`) and the production stack policy both read it.

A stack policy only covers the stack it is set on, so every stack of a production environment gets its
own: the root denies `Update:Replace`/`Update:Delete` on the nested stacks that hold stateful resources,
each nested stack denies them on its stateful resources. Everything else may be updated.
(Stack policies are not IAM policies: plain JSON, `LogicalResourceId/<id>` resources.)
"""
from __future__ import annotations

import json
from pathlib import Path

STACK_TYPE = "AWS::CloudFormation::Stack"

STATEFUL_TYPES = (
    "AWS::RDS::DBCluster",                  # the Aurora data
    "AWS::ElastiCache::ReplicationGroup",   # Redis data
    "AWS::S3::Bucket",                      # artifacts, ALB access logs
    "AWS::ECR::Repository",                 # pushed images
    "AWS::Logs::LogGroup",                  # application and flow logs
    "AWS::SecretsManager::Secret",          # generated credentials
    "AWS::KMS::Key",                        # a new key cannot read what the old one encrypted
)

DENIED_ACTIONS = ["Update:Replace", "Update:Delete"]


def is_stateful(resource_type: str) -> bool:
    return resource_type in STATEFUL_TYPES


def protected_ids(template: dict, nested: dict[str, dict]) -> list[str]:
    """Logical IDs to protect in this template: stateful resources, and nested stacks holding any.
    `nested` maps a nested stack's TemplateURL (a file name here) to its template."""
    ids = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if is_stateful(resource.get("Type", "")):
            ids.append(logical_id)
        elif resource.get("Type") == STACK_TYPE:
            child = nested.get((resource.get("Properties") or {}).get("TemplateURL"))
            if child is not None and protected_ids(child, nested):
                ids.append(logical_id)
    return sorted(ids)


def policy(template: dict, nested: dict[str, dict] | None = None) -> dict:
    """The stack policy document for one stack of a production environment."""
    statements = [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]
    ids = protected_ids(template, nested or {})
    if ids:
        statements.append({"Effect": "Deny", "Action": DENIED_ACTIONS, "Principal": "*",
                           "Resource": [f"LogicalResourceId/{logical_id}" for logical_id in ids]})
    return {"Statement": statements}


def environment_policies(read, root_file: str) -> dict[tuple[str, ...], dict]:
    """A policy for the root (key `()`) and for every nested stack (key: its logical ID path) of an
    environment; `read(file_name)` returns a template as a dict (nested TemplateURLs are file names)."""
    templates: dict[str, dict] = {}

    def load(file_name: str) -> dict:
        if file_name not in templates:
            templates[file_name] = read(file_name)
            for resource in (templates[file_name].get("Resources") or {}).values():
                url = (resource.get("Properties") or {}).get("TemplateURL")
                if resource.get("Type") == STACK_TYPE and isinstance(url, str) and "://" not in url:
                    load(url)
        return templates[file_name]

    policies: dict[tuple[str, ...], dict] = {}

    def walk(file_name: str, path: tuple[str, ...]) -> None:
        template = load(file_name)
        policies[path] = policy(template, templates)
        for logical_id, resource in sorted((template.get("Resources") or {}).items()):
            url = (resource.get("Properties") or {}).get("TemplateURL")
            if resource.get("Type") == STACK_TYPE and url in templates:
                walk(url, path + (logical_id,))

    walk(root_file, ())
    return policies


def folder_reader(folder: Path):
    return lambda file_name: json.loads((folder / file_name).read_text())
