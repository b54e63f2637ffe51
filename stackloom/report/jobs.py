"""The reports' handlers of jobs (`job-<name>.json` stacks): inventory records, a diagram node per job among the
private subnets (the arrows of its flows and grants are drawn with the services'), and
the cost of a scheduled job's Fargate task-hours (runs a month from its schedule × `job_minutes_per_run`).

Registered against AWS::Scheduler::Schedule; unscheduled jobs (a task definition only) are read from the same
stacks. Imported by inventory.py, so the handlers register with the others.
"""

from __future__ import annotations

from stackloom import kinds
from stackloom.cfn.evaluate import Built, pointers, text
from stackloom.report.pricing import FARGATE_EPHEMERAL_KEY, FREE_EPHEMERAL_GIB, fargate_keys
from stackloom.report.records import Inventory, Job
from stackloom.report.tasks import compute, platform
from templates.names import JOB_SECURITY_GROUP_ID
from templates.spec_jobs import runs_per_month

SCHEDULE = "AWS::Scheduler::Schedule"


def _int(value) -> int | None:
    try:
        return int(text(value))
    except (TypeError, ValueError):
        return None


@kinds.inventory(SCHEDULE)
def _jobs(built: Built, found: Inventory) -> None:
    schedules = {
        stack.file: stack.eval(resource.get("Properties", {})) for stack, _, resource in built.resources(SCHEDULE)
    }
    for stack, logical_id, resource in built.resources("AWS::ECS::TaskDefinition"):
        if not stack.file.startswith("job-"):
            continue
        name = stack.file[len("job-") : -len(".json")]
        task = stack.eval(resource.get("Properties", {}))
        schedule = schedules.get(stack.file)
        target = (schedule or {}).get("Target", {}).get("EcsParameters", {})
        groups = [pointer.key for pointer in pointers(stack.output(JOB_SECURITY_GROUP_ID))]
        for group in groups:
            found.owners.setdefault(group, f"job:{name}")
        found.jobs.append(
            Job(
                name,
                stack.file,
                compute(built, target, task) if target else ("EC2" if "EC2" in str(task) else "Fargate"),
                _int(task.get("Cpu")),
                _int(task.get("Memory")),
                text(schedule.get("ScheduleExpression")) if schedule else None,
                text(schedule.get("ScheduleExpressionTimezone", "UTC")) if schedule else None,
                groups,
                stack.active(logical_id),
                **platform(task),
            )
        )
    found.jobs.sort(key=lambda job: job.name)


@kinds.diagram(SCHEDULE)
def _job_nodes(chart, found: Inventory, component: dict[str, str]) -> None:
    """Each job a node (its schedule, or on demand), known to the flows and grants as `job:<name>`."""
    for job in found.jobs:
        identifier = "JOB_" + "".join(char if char.isalnum() else "_" for char in job.name)
        when = f"{job.schedule} {job.timezone}" if job.schedule else "on demand (build.py run)"
        chart.node(identifier, [f"ECS job {job.name}", f"{job.compute} · {when}"], "round", "ecs", job.active)
        component[f"job:{job.name}"] = identifier
    # the arrows of its flows are the security-group flows the diagram draws for every owner (`job:<name>`)


@kinds.cost(SCHEDULE)
def _job_costs(found: Inventory, pricer) -> None:
    """A scheduled Fargate job: runs a month (exact for rate(), approximate for cron()) × job_minutes_per_run of
    its task's vCPU and memory. EventBridge Scheduler invocations are listed as not priced (no sourced price)."""
    minutes = pricer.estimate.assumptions["job_minutes_per_run"]
    for job in found.jobs:
        if not job.schedule or not job.active:
            continue
        pricer.missing(f"EventBridge Scheduler invocations of job {job.name} (the bundled tables have no price)")
        if job.compute == "EC2" or job.cpu is None or job.memory is None:
            continue
        keys = fargate_keys(job.architecture)
        if not (found_price := pricer.need(f"Fargate job {job.name}", *keys)):
            continue
        vcpu, memory = found_price
        runs = runs_per_month(job.schedule)
        hours = runs * minutes / 60
        pricer.add(
            f"Fargate job {job.name}" + (" (ARM64)" if job.architecture == "ARM64" else ""),
            f"{runs:.4g} runs × {minutes:g} min × ({job.cpu / 1024:g} vCPU + {job.memory / 1024:g} GB)",
            f"${vcpu:.5f}/vCPU-h, ${memory:.5f}/GB-h",
            hours * (job.cpu / 1024 * vcpu + job.memory / 1024 * memory),
            *keys,
        )
        if job.ephemeral_gib is not None and job.ephemeral_gib > FREE_EPHEMERAL_GIB:
            component = f"Fargate ephemeral storage job {job.name}"
            if (price := pricer.one(component, FARGATE_EPHEMERAL_KEY)) is not None:
                extra = job.ephemeral_gib - FREE_EPHEMERAL_GIB
                pricer.add(
                    component,
                    f"{extra} GB (of {job.ephemeral_gib}, 20 included) × {hours:.4g} task-h",
                    f"${price:g}/GB-h",
                    extra * hours * price,
                    FARGATE_EPHEMERAL_KEY,
                )
        if job.schedule.startswith("cron("):
            pricer.estimate.notes.append(
                f"job {job.name}: runs a month counted approximately from {job.schedule} (a month of 30.4 days)"
            )
