"""The spec's two ways past its own model: `overrides` (JSON-Patch operations on an emitted template, applied by
the build after rendering) and `accepted_risks` (findings of cfn-lint, checkov or the Control Tower rules that
this environment accepts, each with its reason). Validated here as every other part; applied by
stackloom/overrides.py and templates/suppressions.py, checked against the tools' findings by `audit`.

No `from __future__ import annotations`, as in templates/spec.py: msgspec builds the annotations at import.
"""

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, UnsetType

from .spec_common import Model
from .validation import FieldError, worded

TEMPLATE_FILE_PATTERN = worded(
    r"^[a-z0-9][a-z0-9-]*\.json$", "an emitted template's file name such as service-api.json or root.json"
)
TEMPLATE_GLOB_PATTERN = worded(
    r"^[a-z0-9*?][a-z0-9*?-]*\.json$", "an emitted template's file name, or a pattern such as service-*.json"
)
# RFC 6901: "/" then reference tokens separated by "/", where "~" appears only as "~0" (~) or "~1" (/)
POINTER_PATTERN = worded(
    r"^(/([^~/]|~[01])*)+$",
    "a JSON Pointer below the document's top such as /Resources/Service/Properties/DesiredCount "
    "(~1 stands for / and ~0 for ~ in a key; `-` ends an array for add)",
)
CHECK_PATTERN = worded(
    r"^([EWI][0-9]{4}|CKV2?_[A-Z0-9_]+|CT\.[A-Z0-9]+(\.[A-Z0-9]+)+|[a-z][a-z0-9_]*)$",
    "a cfn-lint rule (W3005), a checkov check (CKV_AWS_51), a Control Tower control (CT.RDS.PR.3) "
    "or a cfn-guard rule name (rds_cluster_deletion_protection_enabled_check)",
)
RESOURCE_PATTERN = worded(
    r"^[A-Za-z0-9*?\[\]!]+$", "a logical ID (LoadBalancer) or a pattern of one with * ? [ ] (such as *Bucket)"
)
MIN_REASON_WORDS, MIN_REASON_CHARS = 3, 20


class OverrideSpec(Model):
    """One JSON-Patch operation (RFC 6902 add, replace or remove) on one emitted template, applied after the
    build renders it: what the spec cannot say yet, said in CloudFormation. A path that does not exist is a build
    error; the build prints every operation it applied."""

    template: Annotated[
        str,
        Meta(
            pattern=TEMPLATE_FILE_PATTERN,
            description="The emitted file to patch (root.json, network.json, service-api.json, bootstrap.json, ...).",
        ),
    ]
    op: Annotated[
        Literal["add", "replace", "remove"],
        Meta(
            description=(
                "add (a key of an object, which it replaces when present, or an array item: an index or `-` to append"
                "; the parent must exist), replace (the value must exist) or remove (the value must exist)."
            )
        ),
    ]
    path: Annotated[
        str,
        Meta(
            pattern=POINTER_PATTERN,
            description="JSON Pointer (RFC 6901) to the value, e.g. /Resources/Service/Properties/EnableExecuteCommand.",
        ),
    ]
    value: Annotated[
        Any | UnsetType,
        Meta(description="The new value, as CloudFormation JSON (for add and replace; remove takes none)."),
    ] = UNSET

    def __post_init__(self) -> None:
        if self.op == "remove" and self.value is not UNSET:
            raise FieldError("value", "remove takes no value; leave it out")
        if self.op != "remove" and self.value is UNSET:
            raise FieldError("value", f"{self.op} needs a value (null, if that is what you mean, written as null)")
        if self.value is not UNSET:
            problem = _not_json(self.value)
            if problem:
                raise FieldError("value", f"{problem}; a value is CloudFormation JSON (quote dates and odd keys)")


def _not_json(value: object) -> str | None:
    """What keeps `value` from being JSON as the rendered template holds it (None when nothing does)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            keys = [key for key in item if not isinstance(key, str)]
            if keys:
                return f"key {keys[0]!r} is not a string"
            pending += item.values()
        elif isinstance(item, list):
            pending += item
        elif isinstance(item, float) and (item != item or item in (float("inf"), float("-inf"))):
            return f"{item!r} is not a JSON number"
        elif not isinstance(item, (str, int, float, bool, type(None))):
            return f"{item!r} ({type(item).__name__}) is not a JSON value"
    return None


class AcceptedRiskSpec(Model):
    """A finding this environment accepts on purpose, with its reason: `audit` counts it as suppressed, prints it with
    the reason, and fails when it finds the check does not fire where the entry says (a stale acceptance)."""

    check: Annotated[
        str,
        Meta(
            pattern=CHECK_PATTERN,
            description=(
                "The check: a cfn-lint rule (W3005), a checkov check (CKV_AWS_51), a cfn-guard rule name as `audit` "
                "prints it, or its Control Tower control (CT.RDS.PR.3)."
            ),
        ),
    ]
    reason: Annotated[
        str,
        Meta(
            description=(
                f"Why the finding is accepted, in words a reviewer understands (at least {MIN_REASON_WORDS} words and "
                f"{MIN_REASON_CHARS} characters)."
            )
        ),
    ]
    resource: Annotated[
        Annotated[str, Meta(pattern=RESOURCE_PATTERN)] | None,
        Meta(
            description=(
                "Logical ID, or pattern (*Bucket), of the resource the finding is on. Default: any resource; then only"
                " `audit` applies it (nothing is written into a resource's Metadata)."
            )
        ),
    ] = None
    template: Annotated[
        Annotated[str, Meta(pattern=TEMPLATE_GLOB_PATTERN)] | None,
        Meta(description="Emitted file, or pattern (service-*.json), the finding is in. Default: any."),
    ] = None

    def __post_init__(self) -> None:
        words = self.reason.split()
        if len(words) < MIN_REASON_WORDS or len(" ".join(words)) < MIN_REASON_CHARS:
            raise FieldError(
                "reason",
                f"{self.reason!r} is too short: say why the risk is accepted in at least {MIN_REASON_WORDS} words "
                f"and {MIN_REASON_CHARS} characters",
            )
