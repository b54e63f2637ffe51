"""A stand-in for an ECS rollout that fails, which moto does not model (its services start no tasks).

On AWS, CloudFormation creates or updates an AWS::ECS::Service and waits for the deployment; with the deployment
circuit breaker on, tasks that keep failing to start make ECS mark the deployment FAILED and CloudFormation fail
the resource ("ECS Deployment Circuit Breaker was triggered") and roll back. Here, when the service's task
definition has an essential container whose `STACKLOOM_LOCAL_EXIT_CODE` (see tasks.py) is not 0 and the breaker
is on, the service's scheduler is played: `FAILED_TASKS` tasks of group `service:<name>` are started and stop with
that exit code (stoppedReason "Essential container in task exited", a log line each where awslogs would write),
the service gains ECS's events, its primary deployment is rolloutState FAILED, and the resource fails with
CloudFormation's message. A healthy task definition rolls out as moto has it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.ecs.models import ecs_backends

from stackloom.local import tasks

FAILED_TASKS = 3  # the circuit breaker's failure threshold is at least 3 tasks
MESSAGE = (
    "Resource handler returned message: \"Error occurred during operation 'ECS Deployment Circuit Breaker was "
    "triggered'.\" (RequestToken: {token}, HandlerErrorCode: GeneralServiceException)"
)


class CircuitBreakerTriggered(Exception):
    """The deployment failed (CloudFormation's reason for the service resource)."""


def roll_out(service, properties: dict, account_id: str, region: str) -> None:
    """Play the deployment of `service` (just created or updated from `properties`); raise when it fails."""
    backend = ecs_backends[account_id][region]
    definition = backend.describe_task_definition(service.task_definition)
    failing = [
        settings
        for settings in definition.container_definitions
        if settings.get("essential", True) and tasks.exit_code(settings, {})
    ]
    breaker = (properties.get("DeploymentConfiguration") or {}).get("DeploymentCircuitBreaker") or {}
    if not failing or str(breaker.get("Enable")).lower() != "true" or not service.desired_count:
        return  # nothing fails, no breaker to trip (CloudFormation would wait for hours), or no task to start
    deployment = service.deployments[0]["id"] if service.deployments else f"ecs-svc/{uuid.uuid4().int % 10**19}"
    for _ in range(FAILED_TASKS):
        (task,) = backend.run_task(
            service.cluster_name,
            definition.arn,
            1,
            None,
            deployment,
            None,
            "FARGATE",
            networking_configuration=remap_nested_keys(
                properties.get("NetworkConfiguration") or {}, pascal_to_camelcase
            ),
            group=f"service:{service.name}",
        )
        tasks.stop(backend, task)
        _event(service, f"(service {service.name}) has started 1 tasks: (task {task.id}).")
    _event(service, f"(service {service.name}) deployment {deployment} deployment failed: tasks failed to start.")
    for item in service.deployments[:1]:
        item.update(
            rolloutState="FAILED",
            rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.",
            failedTasks=FAILED_TASKS,
            runningCount=0,
        )
    raise CircuitBreakerTriggered(MESSAGE.format(token=uuid.uuid4()))


def _event(service, message: str) -> None:
    """ECS's service events, newest first."""
    service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": datetime.now(timezone.utc), "message": message})
