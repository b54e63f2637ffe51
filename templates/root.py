"""The environment's root stack: composes the nested stacks and wires outputs into parameters.

The wiring is checked here, at build time, so a mistake fails the build with a message instead of a
deploy that fails twenty minutes in: every child parameter without a default must be wired, every
wired output must exist, and a deploy-time parameter shared by several children must agree everywhere.
"""
from __future__ import annotations

from troposphere import GetAtt, Output, Parameter, Ref, Template, cloudformation

from . import bootstrap, cluster, data, loadbalancer, network, security, service
from .base import FromRoot, FromStack, NestedStack, new_template, tags
from .spec import EnvironmentSpec


class WiringError(Exception):
    """A nested stack parameter is unwired or wired to something that does not exist (a compiler bug)."""


def children(spec: EnvironmentSpec) -> list[NestedStack]:
    """Nested stacks in dependency order."""
    stacks = [network.build(spec), security.build(spec), cluster.build(spec)]
    if spec.load_balancer is not None:
        stacks.append(loadbalancer.build(spec))
    store = data.build(spec)
    if store is not None:
        stacks.append(store)
    stacks.extend(service.build(spec, name) for name in sorted(spec.services))
    return stacks


# Outputs of the children that the root re-exports: what an operator looks for after a deploy.
FORWARDED = {
    "Network": ["VpcId"],
    "Cluster": ["ClusterName", "NamespaceName"],
    "LoadBalancer": ["LoadBalancerDnsName", "BaseUrl"],
    "Data": ["DatabaseEndpoint", "CacheEndpoint"],
}


def build(spec: EnvironmentSpec, stacks: list[NestedStack]) -> Template:
    template = new_template(spec, "environment root stack")
    known = {stack.logical_id: stack for stack in stacks}
    for stack in stacks:
        parameters = {}
        for name, definition in sorted(stack.template.parameters.items()):
            source = stack.inputs.get(name)
            if source is None:
                if "Default" not in definition.properties:
                    raise WiringError(f"{stack.logical_id}: parameter {name} has no default and is not wired")
                continue
            if isinstance(source, FromRoot):
                parameters[name] = Ref(_root_parameter(template, stack, definition))
            else:
                _check_output(known, stack, name, source)
                parameters[name] = GetAtt(source.stack, f"Outputs.{source.output}")
        unknown = set(stack.inputs) - set(stack.template.parameters)
        if unknown:
            raise WiringError(f"{stack.logical_id}: wired inputs {sorted(unknown)} are not parameters of the stack")
        template.add_resource(cloudformation.Stack(
            stack.logical_id, TemplateURL=stack.file_name,
            # Deleting a nested stack deletes its resources by their own policies (stateful ones retain or
            # snapshot); the stack record itself holds nothing worth keeping.
            DeletionPolicy="Delete", UpdateReplacePolicy="Delete",
            **({"Parameters": parameters} if parameters else {}),
            Tags=tags(spec),
        ))
    _forward_outputs(template, spec, known)
    return template


def _root_parameter(template: Template, stack: NestedStack, definition: Parameter) -> Parameter:
    existing = template.parameters.get(definition.title)
    if existing is not None:
        if existing.to_dict() != definition.to_dict():
            raise WiringError(f"{stack.logical_id}: parameter {definition.title} differs from the one other stacks declare")
        return existing
    return template.add_parameter(Parameter(definition.title, **definition.properties))


def _check_output(known: dict, stack: NestedStack, name: str, source: FromStack) -> None:
    producer = known.get(source.stack)
    if producer is None:
        raise WiringError(f"{stack.logical_id}.{name}: wired to stack {source.stack}, which this environment does not have")
    if source.output not in producer.template.outputs:
        raise WiringError(f"{stack.logical_id}.{name}: stack {source.stack} has no output {source.output} "
                          f"(it has {sorted(producer.template.outputs)})")
    if list(known).index(source.stack) >= list(known).index(stack.logical_id):
        raise WiringError(f"{stack.logical_id}.{name}: {source.stack} must come before {stack.logical_id}")


def _forward_outputs(template: Template, spec: EnvironmentSpec, known: dict) -> None:
    forwarded = [(stack, name) for stack, names in FORWARDED.items() for name in names]
    forwarded += [(service.stack_id(name), "ServiceUrl") for name in sorted(spec.services)]
    for stack_id, name in forwarded:
        child = known.get(stack_id)
        if child is None or name not in child.template.outputs:
            continue
        key = name if stack_id in FORWARDED else f"{stack_id}Url"
        template.add_output(Output(key, Value=GetAtt(stack_id, f"Outputs.{name}"),
                                   Description=child.template.outputs[name].properties.get("Description", name)))
    template.add_output(Output("BootstrapStackName", Value=bootstrap.stack_name(spec),
                               Description="Stack holding the artifacts bucket and ECR repositories"))
