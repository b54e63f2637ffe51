"""Accepted security findings: read from the one reviewed file (suppressions.yaml) and written into the
matching resources' Metadata, where checkov (`checkov.skip`) and cfn-guard (`guard.SuppressedRules`) read them."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from troposphere import Template

FILE = Path(__file__).with_name("suppressions.yaml")


@dataclass(frozen=True)
class Suppression:
    rules: tuple[str, ...]
    template: str
    resource: str
    reason: str
    environments: tuple[str, ...] | None = None

    def names(self, resource: str) -> bool:
        """Whether the entry's `resource` (a logical ID, or a pattern such as `*Bucket`) names `resource`."""
        return fnmatch.fnmatchcase(resource, self.resource)

    def applies(self, target: str, file_name: str) -> bool:
        return fnmatch.fnmatch(file_name, self.template) and (self.environments is None or target in self.environments)

    @staticmethod
    def is_checkov(rule: str) -> bool:
        return rule.startswith("CKV")


@lru_cache(maxsize=1)
def load() -> tuple[Suppression, ...]:
    entries = yaml.load(FILE.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    return tuple(
        Suppression(
            rules=tuple(entry["rules"]),
            template=entry["template"],
            resource=entry["resource"],
            reason=" ".join(entry["reason"].split()),
            environments=tuple(entry["environments"]) if "environments" in entry else None,
        )
        for entry in entries
    )


def apply(target: str, templates: dict[str, Template]) -> list[tuple[Suppression, str]]:
    """Write each matching suppression into its resource's Metadata; returns (suppression, file) pairs used."""
    used = []
    for suppression in load():
        for file_name, template in sorted(templates.items()):
            if not suppression.applies(target, file_name):
                continue
            if any(char in suppression.resource for char in "*?["):
                named = [item for key, item in sorted(template.resources.items()) if suppression.names(key)]
            else:  # a plain logical ID, looked up (most entries: the build stays fast at hundreds of templates)
                named = [template.resources[suppression.resource]] if suppression.resource in template.resources else []
            for resource in named:
                _write(suppression, resource)
                used.append((suppression, file_name))
    return used


def _write(suppression: Suppression, resource) -> None:
    metadata = dict(getattr(resource, "Metadata", None) or {})
    checkov = [
        {"id": rule, "comment": suppression.reason} for rule in suppression.rules if suppression.is_checkov(rule)
    ]
    guard = [rule for rule in suppression.rules if not suppression.is_checkov(rule)]
    if checkov:
        metadata.setdefault("checkov", {}).setdefault("skip", []).extend(checkov)
    if guard:
        metadata.setdefault("guard", {}).setdefault("SuppressedRules", []).extend(guard)
    resource.Metadata = metadata
