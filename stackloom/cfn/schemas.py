"""createOnly properties (a change replaces the resource) from the resource provider schemas cfn-lint ships.

cfn-lint is imported here, at module top: only `diff`, `deploy`, `plan` and the local endpoint import this
module, never `build` (which must not pay for cfn-lint's import).
"""

from __future__ import annotations

from functools import lru_cache

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

FALLBACK_REGION = "us-east-1"  # cfn-lint's us-east-1 schemas are the superset


@lru_cache(maxsize=None)
def schema(region: str, resource_type: str) -> dict:
    """The provider schema of a type in a region ({} for an unknown or custom type)."""
    try:
        return PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except KeyError:  # a region cfn-lint does not know
        return schema(FALLBACK_REGION, resource_type) if region != FALLBACK_REGION else {}
    except Exception:  # noqa: BLE001 - unknown or custom type: cfn-lint raises its own ResourceNotFoundError
        return {}


@lru_cache(maxsize=None)
def create_only(region: str, resource_type: str) -> tuple[tuple[tuple[str, ...], bool], ...]:
    """(property path parts, conditional) for every createOnly property of a type; () when unknown.
    A path part `*` stands for every item of a list."""
    found = schema(region, resource_type)
    paths = []
    for key, conditional in (("createOnlyProperties", False), ("conditionalCreateOnlyProperties", True)):
        for pointer in found.get(key) or []:
            parts = tuple(pointer.split("/")[1:])
            if parts and parts[0] == "properties" and len(parts) > 1:
                paths.append((parts[1:], conditional))
    return tuple(paths)


def create_only_top(region: str, resource_type: str) -> set[str]:
    """Top-level properties that hold an unconditional createOnly path (a change there may replace)."""
    return {parts[0] for parts, conditional in create_only(region, resource_type) if not conditional}
