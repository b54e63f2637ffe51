"""CloudFormation's per-template quotas, checked on every emitted template at build time."""
from __future__ import annotations

from dataclasses import dataclass

from troposphere import Template

LIMITS = {
    "resources": 500,
    "parameters": 200,
    "outputs": 200,
    "mappings": 200,
    "bytes": 1_000_000,  # template body read from S3 (nested stacks, packaged root)
}
INLINE_BYTES = 51_200  # --template-body without S3
WARN_AT = 0.8


class QuotaError(Exception):
    """A template exceeds a CloudFormation quota: it would be rejected at deploy time."""


@dataclass(frozen=True)
class Usage:
    file_name: str
    resources: int
    parameters: int
    outputs: int
    mappings: int
    bytes: int

    def findings(self) -> tuple[list[str], list[str]]:
        """(errors, warnings): over a quota is an error, over 80 % of one a warning."""
        errors, warnings = [], []
        for key, limit in LIMITS.items():
            used = getattr(self, key)
            if used > limit:
                errors.append(f"{self.file_name}: {used} {key}, over the CloudFormation quota of {limit}")
            elif used >= WARN_AT * limit:
                warnings.append(f"{self.file_name}: {used} {key} is {used * 100 // limit}% of the quota of {limit}")
        return errors, warnings


def usage(file_name: str, template: Template, body: str) -> Usage:
    return Usage(file_name, len(template.resources), len(template.parameters), len(template.outputs),
                 len(template.mappings), len(body.encode("utf-8")))
