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
            resource = template.resources.get(suppression.resource)
            if resource is None or not suppression.applies(target, file_name):
                continue
            metadata = dict(getattr(resource, "Metadata", None) or {})
            checkov = [
                {"id": rule, "comment": suppression.reason}
                for rule in suppression.rules
                if suppression.is_checkov(rule)
            ]
            guard = [rule for rule in suppression.rules if not suppression.is_checkov(rule)]
            if checkov:
                metadata.setdefault("checkov", {}).setdefault("skip", []).extend(checkov)
            if guard:
                metadata.setdefault("guard", {}).setdefault("SuppressedRules", []).extend(guard)
            resource.Metadata = metadata
            used.append((suppression, file_name))
    return used
