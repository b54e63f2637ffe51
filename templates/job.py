"""One job per nested stack: a task definition run to completion, on a schedule or on demand.

A job is built from the same parts as a service (templates/service.py): its log group, execution role (its image,
its logs, exactly its secrets), task role with its grants, the variables of what it `connects_to`, and the task
definition, without port mappings. A scheduled job adds an EventBridge Scheduler schedule that starts the task on
the cluster with the service's network settings, its own role (run exactly this task definition on this cluster,
pass exactly the job's two roles) and a dead-letter queue for invocations it could not deliver.
"""

from __future__ import annotations

import awacs.ecs as ecs_actions
import awacs.iam as iam_actions
import awacs.kms as kms
import awacs.sqs as sqs_actions
from awacs.aws import Allow, ArnEquals, Condition, PolicyDocument, Statement, StringEquals
from troposphere import GetAtt, Join, Ref, Sub, iam, scheduler, sqs

from . import addons, alarms, grants, names, service
from . import iam as policies
from .base import FromRoot, FromStack, NestedStack, log_group, new_template, output, parameter, tags
from .spec import EnvironmentSpec

DEAD_LETTER_RETENTION = 1209600  # 14 days, SQS's longest: time to look at a failed invocation
VERSION = "2012-10-17"


def family(spec: EnvironmentSpec, name: str) -> str:
    """The task definition family of job `name`: `<prefix>-job-<name>` (never a service's family)."""
    return f"{spec.prefix}-job-{name}"


def log_group_name(spec: EnvironmentSpec, name: str) -> str:
    return spec.jobs[name].log_group or f"/ecs/{spec.prefix}-job-{name}"


def capacity_provider(spec: EnvironmentSpec, name: str) -> str | None:
    """The capacity provider a Fargate job runs on (FARGATE, FARGATE_SPOT); None for EC2 (a stack output)."""
    compute = spec.jobs[name].compute
    return None if compute == "ec2" else ("FARGATE_SPOT" if compute == "fargate-spot" else "FARGATE")


def build(spec: EnvironmentSpec, name: str) -> NestedStack:
    """The stack of job `name` (names.job_stack(name), names.job_file(name)).

    Reads spec.jobs[name]: the TaskSpec fields as service.build reads them (.image, .cpu, .memory, .compute,
    .command, .user, .environment, .secrets, .readonly_root_filesystem, .writable_paths, .log_group,
    .log_retention_days, .grants, .connects_to), and .schedule, .timezone, .enabled, .retry_attempts,
    .max_event_age_seconds; spec.prefix, spec.repositories, spec.namespace.
    Exports names.TASK_DEFINITION_ARN, names.LOG_GROUP_NAME, names.TASK_ROLE_ARN, names.CLUSTER_NAME,
    names.JOB_SUBNET_IDS (comma-separated), names.JOB_SECURITY_GROUP_ID, names.JOB_CAPACITY_PROVIDER,
    names.JOB_CONTAINER_NAME, and with a schedule names.SCHEDULE_NAME, names.DEAD_LETTER_QUEUE_URL: what
    `build.py run` passes to RunTask. Wired inputs: names.image_parameter(name) from the root; names.CLUSTER_NAME,
    names.CLUSTER_ARN (and names.EC2_CAPACITY_PROVIDER_NAME) from names.CLUSTER; names.PRIVATE_SUBNET_IDS,
    names.ENVIRONMENT_KEY_ARN from names.NETWORK; the job's group from names.SECURITY; the stores it connects to
    from names.DATA and the resources it is granted from names.STORAGE; names.ALARM_TOPIC_ARN from names.NETWORK
    for its CPU and memory alarms (alarms.add_job_alarms: spec.alarms).
    """
    job = spec.jobs[name]
    template = new_template(spec, f"ECS job {name}")
    wiring = service._Wiring(template)
    cluster_name, subnets, security_group = service.task_network(wiring, names.job_group(name))
    tag = parameter(
        template,
        names.image_parameter(name),
        f"Image tag of job {name} (CI overrides it on deploy)",
        Default=job.image.tag,
        AllowedPattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
    )
    wiring.inputs[tag.title] = FromRoot()
    key = wiring.take(
        names.ENVIRONMENT_KEY_ARN, "KMS key of the environment", FromStack(names.NETWORK, names.ENVIRONMENT_KEY_ARN)
    )
    logs = log_group(template, spec, "LogGroup", log_group_name(spec, name), job.log_retention_days, Ref(key))
    environment, secrets, secret_resources, conditional_secrets = service._injected(spec, job, wiring)
    execution_role = template.add_resource(
        service._execution_role(spec, job, logs, secret_resources, conditional_secrets)
    )
    task_role = template.add_resource(
        iam.Role("TaskRole", AssumeRolePolicyDocument=policies.assume_role("ecs-tasks.amazonaws.com"), Tags=tags(spec))
    )
    for variable, value in grants.apply(spec, job.grants, task_role, wiring).items():
        if variable not in job.environment and variable not in job.secrets:  # the spec wins, as for a service
            environment.setdefault(variable, value)
    addons.inject(spec, name, wiring, task_role, environment, secrets)
    task_definition = template.add_resource(
        service._task_definition(
            spec, name, job, Ref(tag), logs, execution_role, task_role, environment, secrets, family(spec, name)
        )
    )
    alarms.add_job_alarms(template, spec, name, wiring.take, cluster_name, family(spec, name))
    provider = service._capacity_provider(job, wiring)
    if job.schedule is not None:
        _add_schedule(
            template,
            spec,
            name,
            wiring,
            task_definition,
            (execution_role, task_role),
            provider,
            subnets,
            security_group,
        )
    output(template, names.TASK_DEFINITION_ARN, Ref(task_definition), "Task definition ARN (this revision)")
    output(template, names.LOG_GROUP_NAME, Ref(logs), "CloudWatch log group of the containers")
    output(template, names.TASK_ROLE_ARN, GetAtt(task_role, "Arn"), "IAM role of the application (grant it AWS access)")
    output(template, names.CLUSTER_NAME, Ref(cluster_name), "ECS cluster the job runs on")
    output(template, names.JOB_SUBNET_IDS, Join(",", Ref(subnets)), "Subnets of the job's tasks (comma-separated)")
    output(template, names.JOB_SECURITY_GROUP_ID, Ref(security_group), "Security group of the job's tasks")
    output(template, names.JOB_CAPACITY_PROVIDER, provider, "Capacity provider the job's tasks run on")
    output(template, names.JOB_CONTAINER_NAME, name, "Name of the job's container")
    return NestedStack(names.job_stack(name), names.job_file(name), template, wiring.inputs)


def _add_schedule(template, spec: EnvironmentSpec, name: str, wiring, task_definition, roles, provider, subnets, group):
    job = spec.jobs[name]
    cluster_arn = wiring.take(names.CLUSTER_ARN, "ECS cluster ARN", FromStack(names.CLUSTER, names.CLUSTER_ARN))
    cluster_name = template.parameters[names.CLUSTER_NAME]
    key = template.parameters[names.ENVIRONMENT_KEY_ARN]
    dead_letters = template.add_resource(
        sqs.Queue(
            "DeadLetterQueue",
            # failed invocations are diagnostics, not data: they go with the job
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            MessageRetentionPeriod=DEAD_LETTER_RETENTION,
            KmsMasterKeyId=Ref(key),
            Tags=tags(spec, f"{spec.prefix}-job-{name}-dead-letters"),
        )
    )
    role = template.add_resource(
        iam.Role(
            "SchedulerRole",
            AssumeRolePolicyDocument=policies.assume_role("scheduler.amazonaws.com"),
            Policies=[
                iam.Policy(
                    PolicyName="run-job",
                    PolicyDocument=scheduler_policy(
                        Ref(task_definition),
                        Ref(cluster_arn),
                        Ref(cluster_name),
                        [GetAtt(role, "Arn") for role in roles],
                        GetAtt(dead_letters, "Arn"),
                        Ref(key),
                    ),
                )
            ],
            Tags=tags(spec),
        )
    )
    fargate = job.compute != "ec2"
    schedule = template.add_resource(
        scheduler.Schedule(
            "Schedule",
            Description=f"{spec.prefix}: runs job {name}",
            ScheduleExpression=job.schedule,
            ScheduleExpressionTimezone=job.timezone,
            FlexibleTimeWindow=scheduler.FlexibleTimeWindow(Mode="OFF"),
            State="ENABLED" if job.enabled else "DISABLED",
            Target=scheduler.Target(
                Arn=Ref(cluster_arn),
                RoleArn=GetAtt(role, "Arn"),
                DeadLetterConfig=scheduler.DeadLetterConfig(Arn=GetAtt(dead_letters, "Arn")),
                RetryPolicy=scheduler.RetryPolicy(
                    MaximumRetryAttempts=job.retry_attempts, MaximumEventAgeInSeconds=job.max_event_age_seconds
                ),
                EcsParameters=scheduler.EcsParameters(
                    TaskDefinitionArn=Ref(task_definition),
                    TaskCount=1,
                    CapacityProviderStrategy=[
                        scheduler.CapacityProviderStrategyItem(CapacityProvider=provider, Weight=1, Base=0)
                    ],
                    NetworkConfiguration=scheduler.NetworkConfiguration(
                        AwsvpcConfiguration=scheduler.AwsVpcConfiguration(
                            AssignPublicIp="DISABLED", Subnets=Ref(subnets), SecurityGroups=[Ref(group)]
                        )
                    ),
                    **({"PlatformVersion": "LATEST"} if fargate else {}),
                    EnableECSManagedTags=True,
                    PropagateTags="TASK_DEFINITION",
                ),
            ),
        )
    )
    output(template, names.SCHEDULE_NAME, Ref(schedule), "EventBridge Scheduler schedule of the job")
    output(template, names.DEAD_LETTER_QUEUE_URL, Ref(dead_letters), "Invocations the schedule could not deliver")


def scheduler_policy(task_definition, cluster_arn, cluster_name, role_arns, queue_arn, key_arn) -> PolicyDocument:
    """What EventBridge Scheduler needs to start the job: RunTask of exactly this task definition revision on this
    cluster, tag the task it starts (managed and propagated tags), pass exactly the job's execution and task roles
    to ECS tasks, and send failed invocations to the job's encrypted dead-letter queue."""
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            Statement(
                Sid="RunThisTaskDefinitionOnThisCluster",
                Effect=Allow,
                Action=[ecs_actions.RunTask],
                Resource=[task_definition],
                Condition=Condition(ArnEquals({"ecs:cluster": cluster_arn})),
            ),
            Statement(
                Sid="TagTheTasksItStarts",
                Effect=Allow,
                Action=[ecs_actions.TagResource],
                Resource=[
                    Sub(
                        "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/${Cluster}/*",
                        Cluster=cluster_name,
                    )
                ],
                Condition=Condition(StringEquals({"ecs:CreateAction": "RunTask"})),
            ),
            Statement(
                Sid="PassTheJobsRoles",
                Effect=Allow,
                Action=[iam_actions.PassRole],
                Resource=role_arns,
                Condition=Condition(StringEquals({"iam:PassedToService": "ecs-tasks.amazonaws.com"})),
            ),
            Statement(Sid="DeadLetters", Effect=Allow, Action=[sqs_actions.SendMessage], Resource=[queue_arn]),
            Statement(
                Sid="EncryptDeadLetters",
                Effect=Allow,
                Action=[kms.GenerateDataKey, kms.Decrypt],
                Resource=[key_arn],
                Condition=Condition(StringEquals({"kms:ViaService": Sub("sqs.${AWS::Region}.amazonaws.com")})),
            ),
        ],
    )
