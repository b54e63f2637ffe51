"""CloudFormation's per-template quotas, checked on every emitted template at build time.

Over a quota is an error (CloudFormation would reject the template at deploy time); at 80 % of one a
warning. troposphere enforces the counts itself with a ValueError while a template is being built; the
compiler lifts those limits (`unbounded()`) so that an oversized template can still be split (see
root.py) or, failing that, reported here as a `QuotaError` naming the file instead of a traceback.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import troposphere
from troposphere import Template

from .errors import QuotaError  # noqa: F401 - raised here, re-exported

LIMITS = {
    "resources": 500,
    "parameters": 200,
    "outputs": 200,
    "mappings": 200,
    "bytes": 1_000_000,  # template body read from S3 (nested stacks, packaged root)
}
INLINE_BYTES = 51_200  # --template-body without S3 (the bootstrap stack: it creates the bucket)
PARAMETER_VALUE_BYTES = 4_096  # one parameter value
WARN_AT = 0.8

_TROPOSPHERE_LIMITS = ("MAX_MAPPINGS", "MAX_OUTPUTS", "MAX_PARAMETERS", "MAX_RESOURCES")


@dataclass(frozen=True)
class Usage:
    file_name: str
    resources: int
    parameters: int
    outputs: int
    mappings: int
    bytes: int
    inline: bool = False  # deployed with --template-body (51,200 bytes), not from S3 (1 MB)

    def limit(self, key: str) -> int:
        return INLINE_BYTES if key == "bytes" and self.inline else LIMITS[key]

    def findings(self) -> tuple[list[str], list[str]]:
        """(errors, warnings): over a quota is an error, at 80 % of one a warning."""
        errors, warnings = [], []
        for key in LIMITS:
            used, limit = getattr(self, key), self.limit(key)
            what = f"{key} (deployed inline)" if key == "bytes" and self.inline else key
            if used > limit:
                errors.append(f"{self.file_name}: {used:,} {what}, over the CloudFormation quota of {limit:,}")
            elif used >= WARN_AT * limit:
                warnings.append(
                    f"{self.file_name}: {used:,} {what} is {used * 100 // limit}% of the quota of {limit:,}"
                )
        return errors, warnings


def usage(file_name: str, template: Template, body: str, inline: bool = False) -> Usage:
    return Usage(
        file_name,
        len(template.resources),
        len(template.parameters),
        len(template.outputs),
        len(template.mappings),
        len(body.encode("utf-8")),
        inline,
    )


def counts(template: Template) -> dict[str, int]:
    """The countable quotas of a template (no rendering): resources, parameters, outputs, mappings."""
    return {
        "resources": len(template.resources),
        "parameters": len(template.parameters),
        "outputs": len(template.outputs),
        "mappings": len(template.mappings),
    }


def over(template: Template) -> list[str]:
    """The countable quotas a template exceeds (empty when it fits)."""
    return [key for key, used in counts(template).items() if used > LIMITS[key]]


@contextmanager
def unbounded():
    """Let troposphere build templates beyond the quotas (they are checked, and split, afterwards)."""
    saved = {name: getattr(troposphere, name) for name in _TROPOSPHERE_LIMITS}
    try:
        for name in _TROPOSPHERE_LIMITS:
            setattr(troposphere, name, 1 << 30)
        yield
    finally:
        for name, value in saved.items():
            setattr(troposphere, name, value)
