"""The environment's root stack: composes the nested stacks and wires outputs into parameters.

The wiring is checked here, at build time, so a mistake fails the build with a message instead of a
deploy that fails twenty minutes in: every child parameter must be wired (a default left on purpose is said
with `OwnDefault`, so a forgotten deploy-time value cannot fall back to it silently), every
wired output must exist, and a deploy-time parameter shared by several children must agree everywhere.

Scale (CloudFormation quotas: 500 resources, 200 parameters, 200 outputs per template). A small
environment is one root with every nested stack directly under it. Two things outgrow that:

* the root holds two deploy-time parameters per service (`<Service>ImageTag`, `<Service>DesiredCount`),
  so near 100 services it passes 200 parameters. Then the service stacks move into `GROUPS` fixed group
  stacks (`Services01` … `Services16`, files `services-NN.json`); a service's group is a hash of its
  name, so adding or removing a service never moves another one. Each group takes its services' image
  tags and desired counts as two root parameters, `ServicesNNImageTags` and `ServicesNNDesiredCounts`,
  comma-separated `service=value` lists (`api=v1.2,worker=v1.2`), and hands each service its own value.
  A value listed under another name than the service's makes the deploy fail (Fn::Select finds nothing)
  instead of giving one service another's image. `compiler.pack_overrides` turns per-service overrides
  into these values.
* a nested stack over a quota (the security groups of ~150+ services) is split into parts by
  `split()`: resources by dependency depth (security groups, then the rules between them) and by a hash
  of their owner (an ingress rule stays with the group it opens), references between parts passed as
  outputs and parameters.

Both happen only when needed: the three real environments keep their original layout.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field, replace

from troposphere import GetAtt, Join, Output, Parameter, Ref, Select, Split, Template, cloudformation

from . import addons, cluster, data, job, loadbalancer, names, network, quotas, references, security, service, storage
from .base import (  # noqa: F401 - WiringError is re-exported: the CLI catches it from here
    Constant,
    FromRoot,
    FromStack,
    NestedStack,
    OwnDefault,
    Stack,
    WiringError,
    new_template,
    tags,
)
from .spec import EnvironmentSpec

GROUPS = names.GROUPS
GROUP_PREFIX = names.GROUP_PREFIX
SPLIT_BUCKETS = (2, 4, 8, 16, 32, 64)
# resources that belong with another one: kept in the same part of a split stack (key: the property naming it)
OWNER_PROPERTY = {"AWS::EC2::SecurityGroupIngress": "GroupId", "AWS::EC2::SecurityGroupEgress": "GroupId"}


@dataclass
class ServiceGroup(NestedStack):
    """A group stack of service stacks (`members`); `packed` maps each of its list parameters to the
    service parameter each listed name stands for: {"Services03ImageTags": {"api": "ApiImageTag"}}."""

    members: list[NestedStack] = field(default_factory=list)
    packed: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class StackPart(NestedStack):
    """One part of a nested stack too big for one template; `source` is the stack it was split from."""

    source: NestedStack | None = None


def children(spec: EnvironmentSpec) -> list[NestedStack]:
    """Nested stacks of the root in dependency order, split and grouped as the quotas require. Every stack
    module is called the same way, `build(spec, ...) -> NestedStack`; the optional ones say when they are
    `needed(spec)`."""
    stacks = [network.build(spec), security.build(spec), cluster.build(spec)]
    if loadbalancer.needed(spec):
        stacks.append(loadbalancer.build(spec))
    if data.needed(spec):
        stacks.append(data.build(spec))
    if storage.needed(spec):
        stacks.append(storage.build(spec))
    stacks.extend(addons.stacks(spec, after_task=False))  # their outputs feed the services and jobs
    stacks.extend(service.build(spec, name) for name in sorted(spec.services))
    stacks.extend(job.build(spec, name) for name in sorted(spec.jobs))
    stacks.extend(addons.stacks(spec, after_task=True))  # they take a task's role
    return fit(spec, stacks)


def fit(spec: EnvironmentSpec, stacks: list[NestedStack]) -> list[NestedStack]:
    """Split every nested stack over a quota, then group the services if the root would be over one."""
    with quotas.unbounded():
        fitted: list[NestedStack] = []
        pending = list(stacks)
        while pending:
            stack = pending.pop(0)
            parts = split(stack)
            if len(parts) > 1:  # consumers come later (build() checks the order): point them at the parts
                pending = _rewire(pending, stack.logical_id, parts)
            fitted.extend(parts)
        if any(used > quotas.LIMITS[key] for key, used in root_counts(spec, fitted).items()):
            fitted = group_services(spec, fitted)
    return fitted


def root_counts(spec: EnvironmentSpec, stacks: list[NestedStack]) -> dict[str, int]:
    """What `build(spec, stacks)` would count, without building it: one resource per child, one parameter
    per distinct deploy-time input, the forwarded outputs."""
    parameters = {
        name
        for stack in stacks
        for name, source in stack.inputs.items()
        if isinstance(source, FromRoot) and name in stack.template.parameters
    }
    known = {stack.logical_id: stack for stack in stacks}
    outputs = 1 + sum(
        1 for stack_id, name in _forwarded(spec) if stack_id in known and name in known[stack_id].template.outputs
    )
    return {"resources": len(stacks), "parameters": len(parameters), "outputs": outputs, "mappings": 0}


def templates(stacks: list[NestedStack]) -> dict[str, Template]:
    """File name -> template of every nested stack, members of service groups included."""
    found = {}
    for stack in stacks:
        found[stack.file_name] = stack.template
        if isinstance(stack, ServiceGroup):
            found.update(templates(stack.members))
    return found


def all_stacks(stacks: list[NestedStack]) -> list[NestedStack]:
    """Every nested stack at any depth, parents before their members."""
    found = []
    for stack in stacks:
        found.append(stack)
        if isinstance(stack, ServiceGroup):
            found.extend(all_stacks(stack.members))
    return found


# Outputs of the children that the root re-exports: what an operator looks for after a deploy.
FORWARDED = {
    names.NETWORK: [names.VPC_ID],
    names.CLUSTER: [names.CLUSTER_NAME, names.NAMESPACE_NAME],
    names.LOAD_BALANCER: [names.LOAD_BALANCER_DNS_NAME, names.BASE_URL],
    names.DATA: [names.DATABASE_ENDPOINT, names.CACHE_ENDPOINT],
}


def build(spec: EnvironmentSpec, stacks: list[NestedStack]) -> Stack:
    """The root stack (names.ROOT_FILE) over `stacks` (from `children(spec)`), their wiring checked.

    A top-level stack, deployed by name rather than nested, so a Stack without inputs.
    Reads spec.services (names only), spec.prefix; each child's own parameters and outputs.
    Declares, once each, the deploy-time parameters children take `FromRoot` (names.ENABLE_DATABASE,
    names.HOSTED_ZONE_ID, names.image_parameter / names.count_parameter per service, names.image_parameter
    per job, or
    names.group_image_tags / names.group_desired_counts per group). Exports the `FORWARDED` outputs under
    their own names, names.service_url_output(stack) per public service, names.BOOTSTRAP_STACK_NAME.
    """
    template = new_template(spec, "environment root stack")
    known = {stack.logical_id: stack for stack in stacks}
    position = {logical_id: index for index, logical_id in enumerate(known)}

    def value(stack: NestedStack, definition: Parameter, source):
        if isinstance(source, FromRoot):
            return Ref(_declare(template, stack, definition))
        _check_output(known, position, stack, definition.title, source)
        return GetAtt(source.stack, f"Outputs.{source.output}")

    for stack in stacks:
        template.add_resource(_stack_resource(spec, stack, value))
    _forward_outputs(template, spec, known)
    return Stack(names.ROOT, names.ROOT_FILE, template)


def _stack_resource(spec: EnvironmentSpec, stack: NestedStack, value) -> cloudformation.Stack:
    """The nested stack resource, each of the child's parameters given `value(stack, definition, source)`."""
    parameters = {}
    for name, definition in sorted(stack.template.parameters.items()):
        source = stack.inputs.get(name)
        if source is None:
            # a default is no excuse: an unwired ImageTag or EnableDatabase would silently ignore the root's value
            raise WiringError(
                f"{stack.logical_id}: parameter {name} is not wired (every parameter of a nested "
                f"stack gets its value from the root, another stack's output, or OwnDefault)"
            )
        if isinstance(source, OwnDefault):
            if "Default" not in definition.properties:
                raise WiringError(f"{stack.logical_id}: parameter {name} is left at its default but has none")
            continue
        if isinstance(source, Constant):  # a build-time value, as written (addons' System, ServiceName)
            parameters[name] = source.value
            continue
        parameters[name] = value(stack, definition, source)
    unknown = set(stack.inputs) - set(stack.template.parameters)
    if unknown:
        raise WiringError(f"{stack.logical_id}: wired inputs {sorted(unknown)} are not parameters of the stack")
    return cloudformation.Stack(
        stack.logical_id,
        TemplateURL=stack.file_name,
        # Deleting a nested stack deletes its resources by their own policies (stateful ones retain or
        # snapshot); the stack record itself holds nothing worth keeping.
        DeletionPolicy="Delete",
        UpdateReplacePolicy="Delete",
        **({"Parameters": parameters} if parameters else {}),
        Tags=tags(spec),
    )


def _declare(template: Template, stack: NestedStack, definition: Parameter) -> Parameter:
    """The parent's parameter of the same name and definition (declared once, identical for every child)."""
    existing = template.parameters.get(definition.title)
    if existing is not None:
        if (
            existing is not definition
            and existing.properties != definition.properties
            and existing.to_dict() != definition.to_dict()
        ):
            raise WiringError(
                f"{stack.logical_id}: parameter {definition.title} differs from the one other stacks declare"
            )
        return existing
    return template.add_parameter(Parameter(definition.title, **definition.properties))


def _check_output(known: dict, position: dict, stack: NestedStack, name: str, source: FromStack) -> None:
    producer = known.get(source.stack)
    if producer is None:
        raise WiringError(
            f"{stack.logical_id}.{name}: wired to stack {source.stack}, which this environment does not have"
        )
    if source.output not in producer.template.outputs:
        raise WiringError(
            f"{stack.logical_id}.{name}: stack {source.stack} has no output {source.output} "
            f"(it has {sorted(producer.template.outputs)})"
        )
    if position[source.stack] >= position[stack.logical_id]:
        raise WiringError(f"{stack.logical_id}.{name}: {source.stack} must come before {stack.logical_id}")


def _forwarded(spec: EnvironmentSpec) -> list[tuple[str, str]]:
    forwarded = [(stack, name) for stack, outputs in FORWARDED.items() for name in outputs]
    return forwarded + [(names.service_stack(name), names.SERVICE_URL) for name in sorted(spec.services)]


def _forward_outputs(template: Template, spec: EnvironmentSpec, known: dict) -> None:
    for stack_id, name in _forwarded(spec):
        child = known.get(stack_id)
        if child is None or name not in child.template.outputs:
            continue
        key = name if stack_id in FORWARDED else names.service_url_output(stack_id)
        template.add_output(
            Output(
                key,
                Value=GetAtt(stack_id, f"Outputs.{name}"),
                Description=child.template.outputs[name].properties.get("Description", name),
            )
        )
    template.add_output(
        Output(
            names.BOOTSTRAP_STACK_NAME,
            Value=names.bootstrap_stack_name(spec),
            Description="Stack holding the artifacts bucket and ECR repositories",
        )
    )


# ------------------------------------------------------------------------------------------ service groups

# the tool and the tests name groups through these; the names live in names.py
group_id = names.group_id
group_file = names.group_file
pack = names.pack  # the value format of a group's list parameters, kept with the names
unpack = names.unpack


def group_services(spec: EnvironmentSpec, stacks: list[NestedStack]) -> list[NestedStack]:
    """Move every service stack into its group stack (groups after the other stacks, in number order)."""
    by_id = {names.service_stack(name): name for name in spec.services}
    members: dict[str, list[tuple[str, NestedStack]]] = {}
    others = []
    for stack in stacks:
        if stack.logical_id in by_id:
            members.setdefault(group_id(by_id[stack.logical_id]), []).append((by_id[stack.logical_id], stack))
        else:
            others.append(stack)
    home = {stack.logical_id: group for group, found in members.items() for _, stack in found}
    # a stack reading a grouped service's output (an addon taking its task role) reads the group's copy, after it
    later = [stack for stack in others if any(_grouped(source, home) for source in stack.inputs.values())]
    wanted = sorted({(s.stack, s.output) for stack in later for s in stack.inputs.values() if _grouped(s, home)})
    groups = [
        _group(spec, group, sorted(found, key=lambda item: item[0]), [w for w in wanted if home[w[0]] == group])
        for group, found in sorted(members.items())
    ]
    moved = [replace(stack, inputs={key: _grouped(s, home) or s for key, s in stack.inputs.items()}) for stack in later]
    return [stack for stack in others if all(stack is not other for other in later)] + groups + moved


def _grouped(source, home: dict) -> FromStack | None:
    """The group's forward of `source` when it reads an output of a stack `home` puts in a group, else None."""
    if isinstance(source, FromStack) and source.stack in home:
        return FromStack(home[source.stack], names.group_output(source.stack, source.output))
    return None


def _group(spec: EnvironmentSpec, logical_id: str, members: list[tuple[str, NestedStack]], forwarded) -> ServiceGroup:
    template = new_template(
        spec, f"ECS services of group {logical_id[len(GROUP_PREFIX):]} " f"(a service's group is a hash of its name)"
    )
    inputs: dict = {}
    lists = {}
    for list_of, parameter_of, what in (
        (names.group_image_tags, names.image_parameter, "Image tag"),
        (names.group_desired_counts, names.count_parameter, "Desired task count"),
    ):
        name = list_of(logical_id)
        entries = {member: parameter_of(member) for member, _ in members}
        defaults = {
            member: str(stack.template.parameters[parameter_of(member)].properties["Default"])
            for member, stack in members
        }
        if len(pack(defaults).encode("utf-8")) > quotas.PARAMETER_VALUE_BYTES:
            raise quotas.QuotaError(
                f"{name}: the image tags and counts of {len(members)} services do not fit "
                f"CloudFormation's {quotas.PARAMETER_VALUE_BYTES:,}-byte parameter value"
            )
        lists[name] = (
            entries,
            template.add_parameter(
                Parameter(
                    name,
                    Type="CommaDelimitedList",
                    Default=pack(defaults),
                    Description=f"{what} of each service of this group as service=value, comma-separated "
                    f"(every service of the group listed once)",
                )
            ),
        )
        inputs[name] = FromRoot()
    packed = {name: entries for name, (entries, _) in lists.items()}
    chosen = {
        parameter: (name, member, index)
        for name, (entries, _) in lists.items()
        for index, (member, parameter) in enumerate(entries.items())
    }

    def value(stack: NestedStack, definition: Parameter, source):
        if definition.title in chosen and isinstance(source, FromRoot):
            name, member, index = chosen[definition.title]
            # "=api=" splits "=api=v1" into ["", "v1"]; an entry of another service has no index 1: the deploy fails
            entry = Join("", ["=", Select(index, Ref(lists[name][1]))])
            return Select(1, Split(f"={member}=", entry))
        previous = inputs.setdefault(definition.title, source)
        if previous != source:
            raise WiringError(
                f"{stack.logical_id}.{definition.title}: wired to {source}, but another service of "
                f"{logical_id} wires it to {previous}"
            )
        return Ref(_declare(template, stack, definition))

    for member, stack in members:
        template.add_resource(_stack_resource(spec, stack, value))
        if names.SERVICE_URL in stack.template.outputs:
            template.add_output(
                Output(
                    names.service_url_output(stack.logical_id),
                    Value=GetAtt(stack.logical_id, f"Outputs.{names.SERVICE_URL}"),
                    Description=f"Public URL of {member}",
                )
            )
    outputs = {stack.logical_id: stack.template.outputs for _, stack in members}
    for stack_id, name in forwarded:  # (member, output) a stack outside the group reads (an addon: its task role)
        if name not in outputs[stack_id]:
            raise WiringError(f"{logical_id}: {stack_id} has no output {name} (it has {sorted(outputs[stack_id])})")
        template.add_output(Output(names.group_output(stack_id, name), Value=GetAtt(stack_id, f"Outputs.{name}")))
    return ServiceGroup(
        logical_id,
        names.group_file(logical_id),
        template,
        inputs,
        members=[stack for _, stack in members],
        packed=packed,
    )


# ------------------------------------------------------------------------------------------ split stacks


def split(stack: NestedStack) -> list[NestedStack]:
    """`[stack]` when it fits the quotas, else parts that each stay under 80 % of every quota (or, when no
    number of parts manages that, under the quotas themselves: the compiler then warns).

    Resources go by dependency depth (tier 0 needs no other resource of the stack, tier 1 needs tier 0…)
    and by a hash of their owner into buckets, so parts only reference earlier parts and a resource
    keeps its part while others come and go (until the bucket count doubles). A reference to a resource
    of another part becomes a parameter of the same name, fed from an output `<Name>Ref` of its part.
    Only `Ref` (and `${Name}` in Fn::Sub) may cross parts; anything else is a WiringError.
    """
    if not quotas.over(stack.template):
        return [stack]
    graph = _Graph(stack.template)
    for share in (quotas.WARN_AT, 1.0):
        for buckets in SPLIT_BUCKETS:
            where = _place(graph, buckets)
            if not all(_within(counts, share) for counts in _dry_counts(stack.template, graph, where).values()):
                continue
            parts = _partition(stack, graph, where)
            if all(_within(quotas.counts(part.template), share) for part in parts):
                return parts
    raise quotas.QuotaError(_unsplittable(stack, graph, where))


def _unsplittable(stack: NestedStack, graph: "_Graph", where: dict) -> str:
    """Why even the most parts do not fit: the fullest part, and the resource most of it belongs with."""
    counts = _dry_counts(stack.template, graph, where)
    key, worst = max(
        ((key, max(used / quotas.LIMITS[name] for name, used in found.items())) for key, found in counts.items()),
        key=lambda item: item[1],
    )
    owners: dict[str, int] = {}
    for name, place in where.items():
        if place == key:
            owners[graph.owner(name)] = owners.get(graph.owner(name), 0) + 1
    owner = max(sorted(owners), key=owners.get)
    found = ", ".join(f"{used} {name}" for name, used in counts[key].items() if used)
    return (
        f"{stack.file_name}: cannot be split within the quotas: even in {SPLIT_BUCKETS[-1]} parts per tier, "
        f"the part with the {owners[owner]} resources tied to {owner} needs {found} "
        f"({worst:.0%} of a quota). Fewer resources tied to {owner} (e.g. fewer services connecting to one "
        f"store) would fit"
    )


def _comfortable(template: Template) -> bool:
    """Under the warning line (80 %) of every countable quota."""
    return _within(quotas.counts(template), quotas.WARN_AT)


def _within(counts: dict[str, int], share: float) -> bool:
    return all(used <= share * quotas.LIMITS[key] for key, used in counts.items())


def _place(graph: "_Graph", buckets: int) -> dict[str, tuple[int, int]]:
    """Resource -> (tier, bucket): its dependency depth, and a hash of its owner."""
    return {
        name: (graph.tier(name), zlib.crc32(graph.owner(name).encode("utf-8")) % buckets)
        for name in graph.template.resources
    }


def _dry_counts(template: Template, graph: "_Graph", where: dict) -> dict[tuple[int, int], dict[str, int]]:
    """Roughly what `_partition` would make of `where` (parameters that conditions alone use are left out),
    to skip bucket counts that cannot fit without building their templates."""
    resources: dict = {}
    parameters: dict = {}
    outputs: dict = {}
    for name, key in where.items():
        resources[key] = resources.get(key, 0) + 1
        for ref in graph.refs[name]:
            if ref in template.parameters or (ref in where and where[ref] != key):
                parameters.setdefault(key, set()).add(ref)
                if ref in where:
                    outputs.setdefault(where[ref], set()).add(names.part_output(ref))
    for name in template.outputs:
        refs, strong = graph.output_refs[name]
        homes = sorted({where[dep] for dep in refs | strong if dep in where}) or [min(resources)]
        outputs.setdefault(homes[0], set()).add(name)
    return {
        key: {
            "resources": count,
            "parameters": len(parameters.get(key, ())),
            "outputs": len(outputs.get(key, ())),
            "mappings": len(template.mappings),
        }
        for key, count in resources.items()
    }


class _Graph:
    """What each resource, output and condition of a template refers to."""

    def __init__(self, template: Template):
        self.template = template
        self.refs: dict[str, set[str]] = {}  # resource -> names it Refs (resources, parameters, conditions)
        self.strong: dict[str, set[str]] = {}  # resource -> resources it needs in the same template
        for name, resource in template.resources.items():
            self.refs[name], self.strong[name] = _references(resource.to_dict())
        self.output_refs = {name: _references(output.to_dict()) for name, output in template.outputs.items()}
        self.condition_refs = {
            name: _references(json.loads(json.dumps(condition, default=_encode)))[0]
            for name, condition in template.conditions.items()
        }
        self._tiers: dict[str, int] = {}
        self._owners: dict[str, str] = {}
        self._resources = set(template.resources)

    def dependencies(self, name: str) -> set[str]:
        return (self.refs[name] | self.strong[name]) & self._resources

    def tier(self, name: str) -> int:
        if name not in self._tiers:
            self._tiers[name] = 1 + max((self.tier(dep) for dep in self.dependencies(name)), default=-1)
        return self._tiers[name]

    def owner(self, name: str) -> str:
        if name not in self._owners:
            resource = self.template.resources[name]
            key = OWNER_PROPERTY.get(resource.resource_type)
            target = resource.properties.get(key) if key else None
            owner = name
            if isinstance(target, Ref) and target.data["Ref"] in self._resources and target.data["Ref"] != name:
                owner = self.owner(target.data["Ref"])
            self._owners[name] = owner
        return self._owners[name]


def _encode(value):
    return value.to_dict()


def _references(document) -> tuple[set[str], set[str]]:
    """(names referenced with Ref or ${Name}, names needed otherwise: GetAtt, ${Name.Attr}, DependsOn, Condition)."""
    found = references.references(document)
    refs = {item.name for item in found if not item.strong and not item.name.startswith("AWS::")}
    return refs, {item.name for item in found if item.strong}


def _partition(stack: NestedStack, graph: _Graph, where: dict[str, tuple[int, int]]) -> list[StackPart]:
    template = stack.template
    keys = sorted(set(where.values()))
    ids = {key: names.part_id(stack.logical_id, *key) for key in keys}
    files = {key: names.part_file(stack.file_name, *key) for key in keys}
    parts = {
        key: StackPart(
            ids[key],
            files[key],
            Template(
                Description=f"{template.description} "
                f"(part {key[1] + 1:02d}" + (f", tier {key[0]}" if key[0] else "") + ")"
            ),
            {},
            source=stack,
        )
        for key in keys
    }
    for part in parts.values():
        part.template.set_version()
        part.template.set_metadata(template.metadata)

    def need(part: StackPart, wanted: set[str], user: str) -> None:
        """Declare in `part` what `user` refers to: the stack's own parameters and conditions, or an
        import of a resource of another part."""
        for name in sorted(wanted):
            if name in template.parameters:
                if name not in part.template.parameters:
                    part.template.add_parameter(template.parameters[name])
                    if name in stack.inputs:
                        part.inputs[name] = stack.inputs[name]
            elif name in template.conditions:
                if name not in part.template.conditions:
                    part.template.add_condition(name, template.conditions[name])
                    need(part, graph.condition_refs[name], user)
            elif name in template.mappings:
                if name not in part.template.mappings:
                    part.template.add_mapping(name, template.mappings[name])
            elif name in where and parts[where[name]] is not part:
                producer = parts[where[name]]
                if where[name] >= where_of[id(part)]:
                    raise WiringError(f"{stack.logical_id}: cannot split: {user} refers to {name} of a later part")
                export = names.part_output(name)
                if export in template.outputs:
                    raise WiringError(f"{stack.logical_id}: cannot split: output {export} already exists")
                if export not in producer.template.outputs:
                    producer.template.add_output(
                        Output(export, Value=Ref(name), Description=f"{name} (for another part)")
                    )
                if name not in part.template.parameters:
                    part.template.add_parameter(
                        Parameter(name, Type="String", Description=f"{name} of {producer.logical_id}")
                    )
                    part.inputs[name] = FromStack(producer.logical_id, export)

    where_of = {id(part): key for key, part in parts.items()}
    for name, resource in template.resources.items():
        part = parts[where[name]]
        crossing = {dep for dep in graph.strong[name] if dep in where and where[dep] != where[name]}
        if crossing:
            raise WiringError(
                f"{stack.logical_id}: cannot split: {name} needs {sorted(crossing)} in the same template "
                f"(GetAtt/DependsOn cross parts)"
            )
        part.template.add_resource(resource)
    for name in template.resources:  # after every resource is placed, so exports land in complete parts
        part = parts[where[name]]
        need(part, graph.refs[name], name)
    for name, output in template.outputs.items():
        refs, strong = graph.output_refs[name]
        homes = {where[dep] for dep in refs | strong if dep in where}
        if len(homes) > 1:
            raise WiringError(f"{stack.logical_id}: cannot split: output {name} refers to resources of several parts")
        part = parts[homes.pop() if homes else keys[0]]
        part.template.add_output(output)
        need(part, refs, name)
    return [parts[key] for key in keys]


def _rewire(stacks: list[NestedStack], old: str, parts: list[NestedStack]) -> list[NestedStack]:
    """Point inputs wired to outputs of `old` at the part that now has each output."""
    home = {output: part.logical_id for part in parts for output in part.template.outputs}
    result = []
    for stack in stacks:
        inputs = {
            name: FromStack(home.get(source.output, old), source.output)
            if isinstance(source, FromStack) and source.stack == old
            else source
            for name, source in stack.inputs.items()
        }
        result.append(stack if inputs == stack.inputs else replace(stack, inputs=inputs))
    return result


# ------------------------------------------------------------------------------------------ notes


def notes(spec: EnvironmentSpec, stacks: list[NestedStack], root_template: Template) -> list[str]:
    """Warnings: route hosts served with a given certificate the build cannot read; about the layout, the root
    nearing the point where services move into groups, and group lists whose longest possible values would not
    fit one parameter value."""
    found = []
    settings = spec.load_balancer
    if settings is not None and settings.certificate_arn is not None and spec.route_hosts:
        found.append(
            f"host headers {', '.join(spec.route_hosts)} are served with load_balancer.certificate_arn, which the "
            "build cannot read: make sure the certificate names them, or clients get a certificate error"
        )
    groups = [stack for stack in stacks if isinstance(stack, ServiceGroup)]
    if groups:
        tight = {}
        for group in groups:
            members = next(iter(group.packed.values()))
            fixed = sum(len(name) + 2 for name in members) - 1  # "name=" plus a comma between entries
            longest = (quotas.PARAMETER_VALUE_BYTES - fixed) // len(members)
            if longest < 128:  # the longest tag a service's own parameter accepts
                tight[names.group_image_tags(group.logical_id)] = (len(members), longest)
        if tight:
            most = max(count for count, _ in tight.values())
            shortest = min(longest for _, longest in tight.values())
            found.append(
                f"{len(tight)} image tag lists ({', '.join(sorted(tight))}) hold up to {most} services: "
                f"tags of more than {shortest} characters on average would exceed CloudFormation's "
                f"{quotas.PARAMETER_VALUE_BYTES:,}-byte parameter value"
            )
        return found
    used = len(root_template.parameters)
    if used >= quotas.WARN_AT * quotas.LIMITS["parameters"] and spec.services:
        shared = used - 2 * len(spec.services)
        most = (quotas.LIMITS["parameters"] - shared) // 2
        found.append(
            f"{names.ROOT_FILE}: {len(spec.services)} services; beyond {most} the service stacks move into "
            f"{GROUPS} group stacks ({GROUP_PREFIX}01…) with packed image tag and desired count "
            f"parameters, which replaces every service once (see docs/performance.md)"
        )
    return found
