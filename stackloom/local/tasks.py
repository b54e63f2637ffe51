"""A stand-in for what ECS does after RunTask, which moto does not: the local endpoint runs no containers.

moto's RunTask records a task that only moves on when it is described, with containers that never leave PENDING
and write nothing. Here a task started on the local endpoint stops `TASK_SECONDS` after it started, as a task
whose essential container exited does: lastStatus STOPPED, stopCode EssentialContainerExited, each container
STOPPED with an exit code, and one log event in the stream the awslogs driver would write
(`<awslogs-stream-prefix>/<container>/<task id>` in the container's `awslogs-group`) saying that no container ran.

The exit code is 0, or the integer in the container's variable `STACKLOOM_LOCAL_EXIT_CODE` (from the task
definition or the task's container overrides): a way for tests to see a failed job end to end. Nothing of this is
known to the product code, which calls ECS and CloudWatch Logs as on AWS.

Also as on AWS: StopTask with a `reason` stops the task for good (stoppedReason the reason, stopCode
UserInitiated; moto's own StopTask would be overwritten by the stop above), and ListTasks with `serviceName`
lists only that service's tasks (those of group `service:<name>`, as ECS groups a service's tasks; moto ignores
the filter).
"""

from __future__ import annotations

import time

from moto.ecs.models import EC2ContainerServiceBackend
from moto.logs.models import logs_backends

TASK_SECONDS = 1.0  # how long a local task "runs"
EXIT_CODE_VARIABLE = "STACKLOOM_LOCAL_EXIT_CODE"
STOPPED_REASON = "Essential container in task exited"


def patch() -> None:
    """Patch moto's ECS backend: RunTask notes when a task started; DescribeTasks stops it after TASK_SECONDS."""
    original_run = EC2ContainerServiceBackend.run_task
    original_describe = EC2ContainerServiceBackend.describe_tasks

    def run_task(self, *args, **kwargs):
        tasks = original_run(self, *args, **kwargs)
        for task in tasks:
            task.stackloom_started = time.monotonic()
        return tasks

    def describe_tasks(self, cluster_str, tasks):
        found = original_describe(self, cluster_str, tasks)
        for task in found:
            started = getattr(task, "stackloom_started", None)
            if started is None or getattr(task, "stackloom_stopped", False):
                continue
            if time.monotonic() - started >= TASK_SECONDS:
                stop(self, task)
            else:
                task.status = "RUNNING"  # moto moves a task on each time it is described; a real one runs a while
                task._tick = 0
        return found

    EC2ContainerServiceBackend.run_task = run_task
    EC2ContainerServiceBackend.describe_tasks = describe_tasks
    _patch_stop_and_list()


def _patch_stop_and_list() -> None:
    original_stop = EC2ContainerServiceBackend.stop_task
    original_list = EC2ContainerServiceBackend.list_tasks

    def stop_task(self, cluster_str, task_str, reason):
        task = original_stop(self, cluster_str, task_str, reason)
        task.stackloom_stopped = True
        task.status = "STOPPED"
        task.stop_code = "UserInitiated"
        for container in task.containers:
            container.last_status = "STOPPED"
        return task

    def list_tasks(
        self,
        cluster_str=None,
        container_instance=None,
        family=None,
        started_by=None,
        service_name=None,
        desiredStatus=None,
    ):
        found = original_list(self, cluster_str, container_instance, family, started_by, None, desiredStatus)
        if service_name:
            group = "service:" + service_name.rsplit("/", 1)[-1]
            found = [task for task in found if getattr(task, "group", None) == group]
        return found

    EC2ContainerServiceBackend.stop_task = stop_task
    EC2ContainerServiceBackend.list_tasks = list_tasks


def stop(backend, task) -> None:
    definition = backend.describe_task_definition(task.task_definition_arn)
    overrides = {item.get("name"): item for item in task.overrides.get("containerOverrides", [])}
    task.stackloom_stopped = True
    task.status = "STOPPED"
    task.desired_status = "STOPPED"
    task.stopped_reason = STOPPED_REASON
    task.stop_code = "EssentialContainerExited"
    for container, settings in zip(task.containers, definition.container_definitions):
        override = overrides.get(settings.get("name"), {})
        code = exit_code(settings, override)
        container.last_status = "STOPPED"
        container.exitCode = code
        container.exit_code = code
        _log(backend, task, settings, override, code)


def exit_code(settings: dict, override: dict) -> int:
    """0, or the integer of STACKLOOM_LOCAL_EXIT_CODE in the container's variables (an override wins)."""
    variables = {item.get("name"): item.get("value") for item in settings.get("environment") or []}
    variables.update({item.get("name"): item.get("value") for item in override.get("environment") or []})
    try:
        return int(variables.get(EXIT_CODE_VARIABLE, 0))
    except (TypeError, ValueError):
        return 0


def _log(backend, task, settings: dict, override: dict, code: int) -> None:
    """One event where the awslogs driver would have written the container's output."""
    configuration = settings.get("logConfiguration") or {}
    options = configuration.get("options") or {}
    group, prefix = options.get("awslogs-group"), options.get("awslogs-stream-prefix")
    if configuration.get("logDriver") != "awslogs" or not group or not prefix:
        return
    logs = logs_backends[backend.account_id][backend.region_name]
    if group not in logs.groups:
        return
    stream = f"{prefix}/{settings.get('name')}/{task.id}"
    if stream not in logs.groups[group].streams:
        logs.create_log_stream(group, stream)
    command = override.get("command") or settings.get("command") or ["(the image's command)"]
    message = (
        f"stackloom local endpoint: no container ran (image {settings.get('image')}, command {' '.join(command)}); "
        f"the task stopped with exit code {code}"
    )
    logs.put_log_events(group, stream, [{"timestamp": int(time.time() * 1000), "message": message}])
