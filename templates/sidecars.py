"""The containers beside a task's main one, and the task definition options of templates/spec_sidecars.py.

Used by templates/service.py (services and jobs build their task definitions there): each sidecar is a container
of the same task definition with its image, CPU and memory (taken out of the main container's share), port
mapping, variables, secrets (read by the task's one execution role), `dependsOn`, health check and its own
awslogs stream prefix in the task's log group. The task gets its CPU architecture (`RuntimePlatform`) and, on
Fargate, its ephemeral storage size; a service with `exec: true` its task role's ssmmessages permissions.
"""

from __future__ import annotations

from troposphere import Join, Ref, Sub, ecs, iam

from . import iam as policies
from .base import literal
from .spec import EnvironmentSpec, TaskSpec
from .spec_sidecars import architecture

ECR_HOST = "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}"
ARCHITECTURES = {"x86_64": "X86_64", "arm64": "ARM64"}


def image_uri(spec: EnvironmentSpec, image):
    """The image's repository URI without a tag: the environment's ECR repository, or the external URI."""
    if image.repository is not None:
        return Sub(f"{ECR_HOST}/{spec.repositories[image.repository].name}")
    return image.uri


def repository_arn(spec: EnvironmentSpec, key: str | None):
    """The ARN of the environment's ECR repository `key` (a `repositories` key), or None for an external image."""
    if key is None:
        return None
    return Sub("arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/" + spec.repositories[key].name)


def secret(variable: str, ref):
    """The ECS secret of one SecretRef: an SSM parameter ARN, a Secrets Manager ARN as given (with `:<json key>::`
    for one key), or a partial ARN without the suffix, which ECS resolves in the task's region and account."""
    if ref.ssm:
        value = policies.ssm_parameter_arn(ref.ssm)
    elif ref.secret_arn_given:
        value = f"{ref.secrets_manager}:{ref.json_key}::" if ref.json_key else ref.secrets_manager
    else:
        value = policies.arn("secretsmanager", f"secret:{ref.secrets_manager}")
        value = Sub("${Arn}:" + ref.json_key + "::", Arn=value) if ref.json_key else value
    return ecs.Secret(Name=variable, ValueFrom=value)


def secret_arns(secrets: dict) -> tuple[list, list]:
    """(SSM parameter ARNs, Secrets Manager ARNs) an execution role must read for `secrets`, sorted by variable."""
    ssm = [policies.ssm_parameter_arn(ref.ssm) for _, ref in sorted(secrets.items()) if ref.ssm]
    managed = [
        ref.secrets_manager if ref.secret_arn_given else policies.secret_arn(ref.secrets_manager)
        for _, ref in sorted(secrets.items())
        if ref.secrets_manager
    ]
    return ssm, managed


def sidecar_secret_arns(task: TaskSpec) -> tuple[list, list]:
    """The sidecars' secrets the execution role reads too, in sidecar order (none without sidecars)."""
    ssm, managed = [], []
    for sidecar in task.sidecars:
        more_ssm, more_managed = secret_arns(sidecar.secrets)
        ssm += more_ssm
        managed += more_managed
    return ssm, managed


def sidecar_repositories(spec: EnvironmentSpec, task: TaskSpec) -> list:
    """The sidecars' ECR repositories of this environment other than the main container's, once each, sorted."""
    keys = sorted({sidecar.image.repository for sidecar in task.sidecars} - {None, task.image.repository})
    return [repository_arn(spec, key) for key in keys]


def main_container_options(task: TaskSpec) -> dict:
    """The main container's share with sidecars (CPU units and memory the sidecars leave) and its dependsOn."""
    found: dict = {}
    if task.sidecars:
        found["Cpu"] = task.cpu - sum(sidecar.cpu for sidecar in task.sidecars)
        found["Memory"] = task.memory - sum(sidecar.memory for sidecar in task.sidecars)
    if task.depends_on:
        found["DependsOn"] = _depends_on(task.depends_on)
    return found


def containers(spec: EnvironmentSpec, task: TaskSpec, log_group) -> list[ecs.ContainerDefinition]:
    """The sidecars' container definitions, in spec order after the main container."""
    return [_sidecar(spec, sidecar, log_group) for sidecar in task.sidecars]


def task_options(spec, task: TaskSpec) -> dict:
    """Task definition properties of the options: the CPU architecture, and the ephemeral storage when given."""
    found: dict = {
        "RuntimePlatform": ecs.RuntimePlatform(
            OperatingSystemFamily="LINUX", CpuArchitecture=ARCHITECTURES[architecture(spec, task)]
        )
    }
    if task.ephemeral_storage is not None:
        found["EphemeralStorage"] = ecs.EphemeralStorage(SizeInGiB=task.ephemeral_storage)
    return found


def allow_exec(role: iam.Role) -> None:
    """ECS Exec: the task role may open the SSM session channels (`exec: true`)."""
    role.Policies = [
        *getattr(role, "Policies", []),
        iam.Policy(PolicyName="ecs-exec", PolicyDocument=policies.exec_policy()),
    ]


def _depends_on(waits: dict) -> list[ecs.ContainerDependency]:
    return [
        ecs.ContainerDependency(ContainerName=name, Condition=condition) for name, condition in sorted(waits.items())
    ]


def _sidecar(spec: EnvironmentSpec, sidecar, log_group) -> ecs.ContainerDefinition:
    uri = image_uri(spec, sidecar.image)
    check = sidecar.health_check
    return ecs.ContainerDefinition(
        Name=sidecar.name,
        Image=Join(":", [uri, sidecar.image.tag]) if not isinstance(uri, str) else f"{uri}:{sidecar.image.tag}",
        Essential=sidecar.essential,
        **(
            {"PortMappings": [ecs.PortMapping(ContainerPort=sidecar.port, Protocol="tcp")]}
            if sidecar.port is not None
            else {}
        ),
        Environment=[
            ecs.Environment(Name=key, Value=literal(value)) for key, value in sorted(sidecar.environment.items())
        ],
        Secrets=[secret(variable, ref) for variable, ref in sorted(sidecar.secrets.items())],
        LogConfiguration=ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(log_group),
                "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": sidecar.name,
            },
        ),
        Memory=sidecar.memory,
        **({"Cpu": sidecar.cpu} if sidecar.cpu else {}),
        ReadonlyRootFilesystem=sidecar.readonly_root_filesystem,
        Privileged=False,
        LinuxParameters=ecs.LinuxParameters(InitProcessEnabled=True),
        **({"User": sidecar.user} if sidecar.user else {}),
        **({"Command": [literal(part) for part in sidecar.command]} if sidecar.command else {}),
        **({"DependsOn": _depends_on(sidecar.depends_on)} if sidecar.depends_on else {}),
        **(
            {
                "HealthCheck": ecs.HealthCheck(
                    Command=["CMD-SHELL", *map(literal, check.command)],
                    Interval=check.interval,
                    Timeout=check.timeout,
                    Retries=check.retries,
                    StartPeriod=check.start_period,
                )
            }
            if check is not None
            else {}
        ),
    )
