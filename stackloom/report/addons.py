"""The reports' handlers of addon stacks (`addon-*.json`, templates/addons.py): a diagram node per addon with the
resource types it holds, an arrow to the service or job whose stack reads its outputs (or, for one that takes a
task role, from that workload); in the cost estimate each addon's resources are listed as not priced (its
template is the author's own: the bundled price tables know only what the compiler emits).

Registered against AWS::CloudFormation::Stack (the addon's record in its parent); imported by mermaid.py and
cost.py, so the handlers register with theirs.
"""

from __future__ import annotations

from stackloom import kinds
from stackloom.cfn.evaluate import Built
from templates.names import ADDON_PREFIX, job_stack, service_stack

STACK = "AWS::CloudFormation::Stack"


def addons(built: Built) -> list[tuple[str, str, dict[str, int]]]:
    """(logical ID, file, resource type -> count) of every addon stack, by logical ID."""
    found = []
    for logical_id, file in sorted(built.manifest.nested_stacks.items()):
        stack = built.stack(file)
        if logical_id.startswith(ADDON_PREFIX) and file.startswith("addon-") and stack is not None:
            counts: dict[str, int] = {}
            for resource in stack.resources.values():
                counts[resource.get("Type", "?")] = counts.get(resource.get("Type", "?"), 0) + 1
            found.append((logical_id, file, dict(sorted(counts.items()))))
    return found


def wiring(built: Built) -> list[tuple[str, str]]:
    """(producer, consumer) logical IDs of nested stacks where one reads an output of an addon, or an addon reads an
    output of a service or job (its task role); through service groups, which pass such values on."""
    pairs = set()
    for stack in built.stacks():
        for consumer in stack.children:
            for value in (stack.resources[consumer].get("Properties", {}).get("Parameters") or {}).values():
                producer = _origin(stack, value)
                if producer and (producer.startswith(ADDON_PREFIX) or consumer.startswith(ADDON_PREFIX)):
                    pairs.add((producer, consumer))
    return sorted(pairs)


def _origin(stack, value, up: bool = True) -> str | None:
    """The nested stack whose output `value` (a child's parameter in `stack`) is: a GetAtt of a child's output,
    followed into a group that forwards a member's output; a Ref of `stack`'s parameter, followed into its parent."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    target = value.get("Fn::GetAtt")
    target = target.split(".", 1) if isinstance(target, str) else target
    if isinstance(target, list) and len(target) == 2 and all(isinstance(part, str) for part in target):
        child = stack.children.get(target[0])
        if child is None or not target[1].startswith("Outputs."):
            return None
        output = child.template.get("Outputs", {}).get(target[1][len("Outputs.") :])
        return (_origin(child, output.get("Value"), up=False) if isinstance(output, dict) else None) or target[0]
    name = value.get("Ref")
    if up and stack.parent is not None and isinstance(name, str) and name in stack.template.get("Parameters", {}):
        passed = stack.parent.resources[stack.logical_id].get("Properties", {}).get("Parameters") or {}
        return _origin(stack.parent, passed.get(name))
    return None


@kinds.diagram(STACK, regional=True)
def _addon_nodes(chart, found, component: dict[str, str]) -> None:
    """Each addon a node in an `Addons` group outside the VPC; arrows to (or from) the workload it is wired to."""
    built = found.built
    listed = addons(built)
    if not listed:
        return
    ids = {}
    chart.open("ADDONS", "Addons (the team's own templates, nested stacks of the environment)")
    for logical_id, file, counts in listed:
        ids[logical_id] = chart.node(
            "ADDON_" + logical_id,
            [f"addon {file[len('addon-') : -len('.json')]}"] + [f"{count} × {kind}" for kind, count in counts.items()],
            "box",
            "support",
        )
    chart.close()
    workloads = {service_stack(service.name): f"svc:{service.name}" for service in found.services}
    workloads.update({job_stack(job.name): f"job:{job.name}" for job in found.jobs})
    for producer, consumer in wiring(built):
        if producer in ids and component.get(workloads.get(consumer, "")):
            chart.edge(ids[producer], component[workloads[consumer]], "outputs: policy, variables", "-.->")
        elif consumer in ids and component.get(workloads.get(producer, "")):
            chart.edge(component[workloads[producer]], ids[consumer], "task role", "-.->")


@kinds.cost(STACK)
def _addon_costs(found, pricer) -> None:
    """An addon's resources are not priced: say which, so the total is not read as complete."""
    for _, file, counts in addons(found.built):
        kinds_listed = ", ".join(f"{count} {kind}" for kind, count in counts.items())
        pricer.missing(f"addon {file}: {kinds_listed} (an addon's own resources are not priced)")
