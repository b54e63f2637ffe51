"""Spec in, files out: compile one environment in memory, then write it without leaving half a tree.

Everything is rendered before anything is written; each file is replaced atomically; JSON files that a
build no longer produces are removed, other files (ARCHITECTURE.md) are left alone.
"""
from __future__ import annotations

import gc
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from troposphere import Template

from templates import bootstrap

from templates import names

from templates import quotas

from templates import root

from templates import suppressions
from stackloom.params import SpecError, load_spec
from templates.spec import EnvironmentSpec

ROOT_FILE = names.ROOT_FILE
PARAMETERS_FILE = "parameters.json"
OVERRIDES_FILE = "overrides.json"
MANIFEST_FILE = "manifest.json"


@dataclass
class Build:
    """One compiled environment: file name -> content, plus quota usage and warnings."""

    spec: EnvironmentSpec
    files: dict[str, str] = field(default_factory=dict)
    usages: list[quotas.Usage] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        return f"{self.spec.system}/{self.spec.environment}"


def render(template: Template) -> str:
    """Deterministic JSON, byte for byte `json.dumps(template.to_dict(), indent=2, sort_keys=True,
    ensure_ascii=False)` plus a newline: UTF-8 as written (cfn-lint cannot read the surrogate-pair escapes
    of characters beyond the BMP, and the bytes counted against the quota are the bytes deployed).
    Written by `_encode` because the standard library's indenting encoder is pure Python and about three
    times slower (tests/test_quotas.py checks the two agree on every emitted template)."""
    parts: list[str] = []
    _encode(template.to_dict(), parts.append, "")
    parts.append("\n")
    text = "".join(parts)
    # DEL and C1 controls are legal raw in JSON but not in YAML, which is how cfn-lint reads a template it
    # cannot parse as JSON: escape them (same value; one scan of the whole text, they are almost never there)
    return _UNREADABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text) if _UNREADABLE.search(text) else text


_UNREADABLE = re.compile("[\x7f-\x9f]")


_string = json.encoder.encode_basestring  # the C escaper for ensure_ascii=False
_int = int.__repr__
_float = float.__repr__


def _encode(value, append, indent: str) -> None:
    kind = type(value)
    if kind is str:
        append(_string(value))
    elif kind is dict:
        if not value:
            append("{}")
            return
        inner = indent + "  "
        separator = "{\n" + inner
        for key in sorted(value):
            if type(key) is not str:
                raise TypeError(f"keys must be str, not {type(key).__name__}")
            append(separator)
            append(_string(key))
            append(": ")
            _encode(value[key], append, inner)
            separator = ",\n" + inner
        append("\n" + indent + "}")
    elif kind is list or kind is tuple:
        if not value:
            append("[]")
            return
        inner = indent + "  "
        separator = "[\n" + inner
        for item in value:
            append(separator)
            _encode(item, append, inner)
            separator = ",\n" + inner
        append("\n" + indent + "]")
    elif value is True:
        append("true")
    elif value is False:
        append("false")
    elif value is None:
        append("null")
    elif isinstance(value, float):
        append("NaN" if value != value else "Infinity" if value == _INFINITY else "-Infinity" if value == -_INFINITY
               else _float(value))
    elif isinstance(value, int):
        append(_int(value))
    else:  # whatever the standard encoder makes of it (it raises TypeError for what JSON cannot hold)
        append(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).replace("\n", "\n" + indent))


_INFINITY = float("inf")


def stack_name(spec: EnvironmentSpec) -> str:
    return spec.prefix


def compile_environment(spec: EnvironmentSpec) -> Build:
    # A build makes tens of thousands of small objects and frees them at the end: the cyclic garbage
    # collector, run on every allocation burst, only costs time here (about 15 % at 200 services).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _compile(spec)
    finally:
        if enabled:
            gc.enable()


def _compile(spec: EnvironmentSpec) -> Build:
    result = Build(spec)
    with quotas.unbounded():  # over-quota templates are split by root.children, or reported below
        stacks = root.children(spec)
        root_template = root.build(spec, stacks)
        bootstrap_template = bootstrap.build(spec)
    nested = root.all_stacks(stacks)
    templates = {ROOT_FILE: root_template, **{stack.file_name: stack.template for stack in nested},
                 bootstrap.FILE_NAME: bootstrap_template}
    suppressions.apply(result.target, _suppressible(templates, nested))
    errors = []
    for file_name, template in templates.items():
        body = render(template)
        result.files[file_name] = body
        # the bootstrap stack is deployed with --template-body: it creates the bucket templates go to
        usage = quotas.usage(file_name, template, body, inline=file_name == bootstrap.FILE_NAME)
        result.usages.append(usage)
        over, near = usage.findings()
        errors += over
        result.warnings += [f"{result.target}: {warning}" for warning in near]
    if errors:
        raise quotas.QuotaError(f"{result.target}: " + "; ".join(errors))
    result.warnings += [f"{result.target}: {note}" for note in root.notes(spec, stacks, root_template)]
    values = deploy_parameters(root_template)
    result.files[PARAMETERS_FILE] = _json([{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()])
    result.files[OVERRIDES_FILE] = _json([f"{key}={value}" for key, value in values.items()])
    missing = sorted(set(root_template.parameters) - set(values))
    if missing:
        result.warnings.append(f"{result.target}: deploy-time parameters without a default must be given on deploy: "
                               + ", ".join(missing))
    result.files[MANIFEST_FILE] = _json(manifest(spec, stacks, values, missing))
    return result


def _suppressible(templates: dict[str, Template], nested: list) -> dict[str, Template]:
    """Suppressions name the files of the unsplit layout: a part of a split stack is suppressed through
    the stack it came from (the parts share its resource objects, so the Metadata lands in them)."""
    found = {}
    for file_name, template in templates.items():
        found[file_name] = template
    for stack in nested:
        source = getattr(stack, "source", None)
        if source is not None:
            found.pop(stack.file_name, None)
            found[source.file_name] = source.template
    return found


def deploy_parameters(root_template: Template) -> dict[str, str]:
    """Root parameters with their defaults: the values `parameters.json` ships (CI overrides some)."""
    return {name: str(parameter.properties["Default"])
            for name, parameter in sorted(root_template.parameters.items()) if "Default" in parameter.properties}


def manifest(spec: EnvironmentSpec, stacks, values: dict, missing: list) -> dict:
    """What tools after the build (deploy, diff, diagram, cost) need to know without re-reading the spec.

    `nested_stacks` lists every nested stack at any depth (logical IDs are unique across levels). When the
    services are grouped (large systems, see root.py), each service also names its `group` and the root
    list parameters that carry its image tag and desired count, and `packed_parameters` maps each list
    parameter to {service: the service stack's own parameter}; `pack_overrides` uses it.
    """
    groups = [stack for stack in stacks if isinstance(stack, root.ServiceGroup)]
    group_of = {member.logical_id: group for group in groups for member in group.members}
    services = {}
    for name, svc in sorted(spec.services.items()):
        entry = {"stack": names.service_stack(name), "image_parameter": names.image_parameter(name),
                 "desired_count_parameter": names.count_parameter(name),
                 "repository": spec.repositories[svc.image.repository].name if svc.image.repository else None,
                 "image_uri": svc.image.uri}
        group = group_of.get(names.service_stack(name))
        if group is not None:
            entry.update(group=group.logical_id, image_list_parameter=names.group_image_tags(group.logical_id),
                         desired_count_list_parameter=names.group_desired_counts(group.logical_id))
        services[name] = entry
    result = {
        "system": spec.system,
        "environment": spec.environment,
        "region": spec.region,
        "account_id": spec.account_id,
        "production": spec.production,
        "stack_name": stack_name(spec),
        "bootstrap_stack_name": names.bootstrap_stack_name(spec),
        "root_template": ROOT_FILE,
        "bootstrap_template": names.BOOTSTRAP_FILE,
        "nested_stacks": {stack.logical_id: stack.file_name for stack in root.all_stacks(stacks)},
        "parameters": values,
        "required_parameters": missing,
        "services": services,
        "hosted_zone": spec.load_balancer.dns.zone_name if spec.load_balancer and spec.load_balancer.dns else None,
    }
    if groups:
        result["packed_parameters"] = {name: entries for group in groups for name, entries in group.packed.items()}
    return result


def pack_overrides(manifest: dict, overrides: dict[str, str], current: dict[str, str] | None = None) -> dict[str, str]:
    """Deploy-time values for an environment whose services are grouped: `overrides` may name a service's
    own parameter (`ApiImageTag=v2`, `ApiDesiredCount=3`); those are folded into the root list parameters
    (`Services03ImageTags=api=v2,...`). Every list parameter is returned whole, merged by service name:
    an override, else the service's value in `current` (the deployed stack's parameters), else the
    build's default, so a service added to or removed from a group keeps the others' deployed values.
    Without packed parameters (small environments) `overrides` comes back unchanged."""
    packed = manifest.get("packed_parameters") or {}
    if not packed:
        return dict(overrides)
    own = {parameter for entries in packed.values() for parameter in entries.values()}
    result = {key: value for key, value in overrides.items() if key not in own and key not in packed}
    for name, entries in packed.items():
        layers = [root.unpack(manifest["parameters"].get(name, "")), root.unpack((current or {}).get(name, "")),
                  root.unpack(overrides.get(name, ""))]
        merged = {}
        for service_name, parameter in entries.items():
            value = overrides.get(parameter)
            for layer in reversed(layers):
                if value is None:
                    value = layer.get(service_name)
            merged[service_name] = value
        result[name] = root.pack(merged)
    return result


def _json(value) -> str:
    return json.dumps(value, indent=2, sort_keys=isinstance(value, dict)) + "\n"


def discover(params_dir: Path) -> dict[str, Path]:
    """`system/env` -> params file, for every `<system>/<env>.yaml` under the params folder."""
    if not params_dir.is_dir():
        raise SpecError(f"{params_dir}: params folder not found")
    found = {}
    for path in sorted(params_dir.glob("*/*.y*ml")):
        if path.suffix in (".yaml", ".yml"):
            found[f"{path.parent.name}/{path.stem}"] = path
    if not found:
        raise SpecError(f"{params_dir}: no params files (expected <system>/<env>.yaml)")
    return found


def select(params_dir: Path, targets: list[str]) -> dict[str, Path]:
    """Resolve `system/env` or `system` targets; no targets means all."""
    known = discover(params_dir)
    if not targets:
        return known
    chosen = {}
    for target in targets:
        target = target.strip("/")
        matches = {key: path for key, path in known.items() if key == target or key.split("/")[0] == target}
        if not matches:
            raise SpecError(f"unknown target {target!r}: no {params_dir}/{target}.yaml; "
                            f"known targets: {', '.join(known)}")
        chosen.update(matches)
    return chosen


def compile_all(files: dict[str, Path]) -> list[Build]:
    """Compile every target in memory; the first bad input stops the whole build before any write."""
    return [compile_environment(load_spec(path)) for _, path in sorted(files.items())]


def write(build: Build, output_dir: Path) -> Path:
    target = output_dir / build.spec.system / build.spec.environment
    target.mkdir(parents=True, exist_ok=True)
    for name, content in sorted(build.files.items()):
        path = target / name
        if path.exists() and path.read_text(encoding="utf-8") == content:
            continue
        handle, temporary = tempfile.mkstemp(dir=target, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
        os.replace(temporary, path)
    for stale in target.glob("*.json"):
        if stale.name not in build.files:
            stale.unlink()
    return target
