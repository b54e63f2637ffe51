"""One ECS service per nested stack: task definition, roles, logs, ALB route, Cloud Map, autoscaling.

Image tag and desired count are deploy-time parameters (`<Service>ImageTag`, `<Service>DesiredCount`),
so CI ships a new image with a parameter override and no rebuild.
"""

from __future__ import annotations

import re

from troposphere import GetAtt, If, Join, NoValue, Ref, Select, Split, Template, ecs, iam, servicediscovery
from troposphere import applicationautoscaling as scaling
from troposphere import elasticloadbalancingv2 as elb

from . import addons, alarms, cache, database, grants, loadbalancer, names, security, sidecars
from . import iam as policies
from .base import FromRoot, FromStack, NestedStack, literal, log_group, new_template, output, parameter, tags
from .spec import EnvironmentSpec, LoadBalancerRouteSpec, ServiceSpec, TaskSpec

ECR_HOST = sidecars.ECR_HOST
ALARM = "AWS::CloudWatch::Alarm"


# the tool (stackloom.build's manifest) and root.py name services through these; the names live in names.py
stack_id = names.service_stack
image_parameter = names.image_parameter
count_parameter = names.count_parameter


def log_group_name(spec: EnvironmentSpec, name: str) -> str:
    return spec.services[name].log_group or f"/ecs/{spec.prefix}-{name}"


def build(spec: EnvironmentSpec, name: str) -> NestedStack:
    """The stack of service `name` (names.service_stack(name), names.service_file(name)).

    Reads spec.services[name]: .image (.repository, .tag, .uri), .desired_count, .port, .extra_ports, .cpu,
    .memory, .compute, .command, .user, .environment, .secrets, .health_check_command,
    .readonly_root_filesystem, .writable_paths, .log_group, .log_retention_days, .min_healthy_percent, .grants
    (grants.apply: spec.buckets, .queues, .topics, .tables),
    .max_percent, .discovery, .load_balancer (.priority, .path_patterns, .host_headers, .health_check_path,
    .health_check_grace_seconds, .deregistration_delay_seconds, .health_check, .stickiness), .autoscaling,
    .connects_to (and a peer's .port), .public_ports (loadbalancer.add_network_load_balancer), .capacity;
    spec.repositories, spec.database.database_name, spec.namespace, spec.prefix, spec.production.
    Exports names.SERVICE_NAME, names.SERVICE_ARN, names.TASK_DEFINITION_ARN, names.LOG_GROUP_NAME,
    names.TASK_ROLE_ARN, names.DISCOVERY_NAME with discovery, names.SERVICE_URL behind the load balancer,
    names.NETWORK_LOAD_BALANCER_DNS_NAME with public_ports.
    Wired inputs: names.image_parameter(name), names.count_parameter(name) and names.ENABLE_DATABASE from
    the root; names.CLUSTER_NAME, names.NAMESPACE_ID, names.EC2_CAPACITY_PROVIDER_NAME from names.CLUSTER;
    names.PRIVATE_SUBNET_IDS, names.ENVIRONMENT_KEY_ARN, names.VPC_ID (and with public_ports
    names.PUBLIC_SUBNET_IDS) from names.NETWORK; the service's names.security_group_id (and with public_ports
    its names.nlb_group's) from names.SECURITY; names.LISTENER_ARN, names.BASE_URL from
    names.LOAD_BALANCER; the store outputs it connects to from names.DATA; the outputs of the resources it is
    granted from names.STORAGE; for its alarms (alarms.add_service_alarms: spec.alarms, .alarms, the deployment
    alarms that roll a deployment back) names.ALARM_TOPIC_ARN from names.NETWORK and, behind the ALB,
    names.LOAD_BALANCER_FULL_NAME from names.LOAD_BALANCER.
    """
    service = spec.services[name]
    template = new_template(spec, f"ECS service {name}")
    wiring = _Wiring(template)
    cluster_name, subnets, security_group = task_network(wiring, security.group_name(name))
    tag = parameter(
        template,
        image_parameter(name),
        f"Image tag of {name} (CI overrides it on deploy)",
        Default=service.image.tag,
        AllowedPattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
    )
    count = parameter(
        template,
        count_parameter(name),
        f"Desired task count of {name}",
        "Number",
        Default=str(service.desired_count),
        MinValue=0,
        MaxValue=1000,
    )
    wiring.inputs[tag.title] = FromRoot()
    wiring.inputs[count.title] = FromRoot()

    key = wiring.take(
        names.ENVIRONMENT_KEY_ARN, "KMS key of the environment", FromStack(names.NETWORK, names.ENVIRONMENT_KEY_ARN)
    )
    logs_of_service = log_group(
        template, spec, "LogGroup", log_group_name(spec, name), service.log_retention_days, Ref(key)
    )
    environment, secrets, secret_resources, conditional_secrets = _injected(spec, service, wiring)
    execution_role = template.add_resource(
        _execution_role(spec, service, logs_of_service, secret_resources, conditional_secrets)
    )
    task_role = template.add_resource(
        iam.Role("TaskRole", AssumeRolePolicyDocument=policies.assume_role("ecs-tasks.amazonaws.com"), Tags=tags(spec))
    )
    for variable, value in grants.apply(spec, service.grants, task_role, wiring).items():
        if variable not in service.environment and variable not in service.secrets:  # the spec wins, as above
            environment.setdefault(variable, value)
    addons.inject(spec, name, wiring, task_role, environment, secrets)
    if service.exec:  # ECS Exec (templates/sidecars.py): the session channels; EnableExecuteCommand below
        sidecars.allow_exec(task_role)
    task_definition = template.add_resource(
        _task_definition(
            spec, name, service, Ref(tag), logs_of_service, execution_role, task_role, environment, secrets
        )
    )

    registries, load_balancers, depends_on = [], [], []
    if service.discoverable:
        namespace = wiring.take(names.NAMESPACE_ID, "Cloud Map namespace", FromStack(names.CLUSTER, names.NAMESPACE_ID))
        registry = template.add_resource(
            servicediscovery.Service(
                "DiscoveryService",
                Name=name,
                NamespaceId=Ref(namespace),
                Description=f"{name}.{spec.namespace}",
                DnsConfig=servicediscovery.DnsConfig(
                    RoutingPolicy="MULTIVALUE", DnsRecords=[servicediscovery.DnsRecord(Type="A", TTL=10)]
                ),
                HealthCheckCustomConfig=servicediscovery.HealthCheckCustomConfig(FailureThreshold=1),
                Tags=tags(spec),
            )
        )
        registries.append(ecs.ServiceRegistry(RegistryArn=GetAtt(registry, "Arn")))
        output(template, names.DISCOVERY_NAME, f"{name}.{spec.namespace}", "Private DNS name of the service")
    if service.load_balancer is not None:
        rule = _add_route(template, spec, name, service, wiring)
        load_balancers.append(
            ecs.LoadBalancer(
                ContainerName=name, ContainerPort=service.port, TargetGroupArn=Ref(template.resources["TargetGroup"])
            )
        )
        depends_on.append(rule.title)
    if service.public_ports:  # container options: a network load balancer of the service
        entries, listeners = loadbalancer.add_network_load_balancer(template, spec, name, wiring.take)
        load_balancers += entries
        depends_on += listeners

    rollback_alarms = alarms.add_service_alarms(template, spec, name, wiring.take, cluster_name)
    depends_on += sorted(  # the deployment alarms exist before the service names them
        title
        for title, resource in template.resources.items()
        if resource.resource_type == ALARM and resource.properties["AlarmName"] in rollback_alarms
    )
    ecs_service = template.add_resource(
        ecs.Service(
            "Service",
            ServiceName=name,
            Cluster=Ref(cluster_name),
            TaskDefinition=Ref(task_definition),
            DesiredCount=Ref(count),
            CapacityProviderStrategy=_capacity_strategy(service, wiring),
            **({"PlatformVersion": "LATEST"} if service.compute != "ec2" else {}),
            DeploymentConfiguration=ecs.DeploymentConfiguration(
                MinimumHealthyPercent=service.min_healthy_percent,
                MaximumPercent=service.max_percent,
                DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
                Alarms=ecs.DeploymentAlarms(AlarmNames=rollback_alarms, Enable=True, Rollback=True),
            ),
            NetworkConfiguration=ecs.NetworkConfiguration(
                AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                    AssignPublicIp="DISABLED", Subnets=Ref(subnets), SecurityGroups=[Ref(security_group)]
                )
            ),
            **({"ServiceRegistries": registries} if registries else {}),
            **(
                {
                    "LoadBalancers": load_balancers,
                    "HealthCheckGracePeriodSeconds": (
                        service.load_balancer or LoadBalancerRouteSpec()
                    ).health_check_grace_seconds,
                }
                if load_balancers
                else {}
            ),
            **({"DependsOn": depends_on} if depends_on else {}),
            EnableECSManagedTags=True,
            PropagateTags="SERVICE",
            EnableExecuteCommand=service.exec,
            Tags=tags(spec, f"{spec.prefix}-{name}"),
        )
    )
    if service.autoscaling is not None:
        _add_autoscaling(template, service, cluster_name, ecs_service)

    output(template, names.SERVICE_NAME, GetAtt(ecs_service, "Name"), "ECS service name")
    output(template, names.SERVICE_ARN, Ref(ecs_service), "ECS service ARN")
    output(template, names.TASK_DEFINITION_ARN, Ref(task_definition), "Task definition ARN (this revision)")
    output(template, names.LOG_GROUP_NAME, Ref(logs_of_service), "CloudWatch log group of the containers")
    output(template, names.TASK_ROLE_ARN, GetAtt(task_role, "Arn"), "IAM role of the application (grant it AWS access)")
    return NestedStack(names.service_stack(name), names.service_file(name), template, wiring.inputs)


def task_network(wiring: "_Wiring", group: str):
    """The cluster name, private subnets and security group `group` a task runs with (a service's or a job's),
    each a parameter wired from the stack that owns it."""
    cluster_name = wiring.take(names.CLUSTER_NAME, "ECS cluster", FromStack(names.CLUSTER, names.CLUSTER_NAME))
    subnets = wiring.take(
        names.PRIVATE_SUBNET_IDS,
        "Private subnets for the tasks",
        FromStack(names.NETWORK, names.PRIVATE_SUBNET_IDS),
        "List<AWS::EC2::Subnet::Id>",
    )
    group_output = names.security_group_id(group)
    security_group = wiring.take(
        group_output,
        "Security group of the tasks",
        FromStack(names.SECURITY, group_output),
        "AWS::EC2::SecurityGroup::Id",
    )
    return cluster_name, subnets, security_group


class _Wiring:
    """Adds a parameter once and records where the root must take its value from."""

    def __init__(self, template: Template):
        self.template = template
        self.inputs: dict = {}

    def take(self, name: str, description: str, source, type_: str = "String"):
        if name not in self.template.parameters:
            parameter(self.template, name, description, type_)
            self.inputs[name] = source
        return self.template.parameters[name]


def _execution_role(spec: EnvironmentSpec, service: TaskSpec, logs, secret_resources, conditional_secrets) -> iam.Role:
    """The execution role of a service's or job's task: pull its image, write its log group, read exactly its
    secrets (and the injected ones, some only while their condition holds), and its sidecars' images and secrets."""
    ssm_arns, secret_arns = sidecars.secret_arns(service.secrets)
    sidecar_ssm, sidecar_secrets = sidecars.sidecar_secret_arns(service)
    return iam.Role(
        "ExecutionRole",
        AssumeRolePolicyDocument=policies.assume_role("ecs-tasks.amazonaws.com"),
        Policies=[
            iam.Policy(
                PolicyName="start-task",
                PolicyDocument=policies.execution_policy(
                    GetAtt(logs, "Arn"),
                    _repository_arn(spec, service),
                    ssm_arns=ssm_arns + sidecar_ssm,
                    secret_arns=secret_arns + secret_resources + sidecar_secrets,
                    more_repositories=sidecars.sidecar_repositories(spec, service),
                ),
            )
        ]
        + [
            If(
                condition,
                iam.Policy(
                    PolicyName=f"read-secrets-if-{condition}",
                    PolicyDocument=policies.conditional_secrets_policy(arns),
                ),
                NoValue,
            )
            for condition, arns in sorted(conditional_secrets.items())
        ],
        Tags=tags(spec),
    )


def _repository_uri(spec: EnvironmentSpec, service: TaskSpec):
    return sidecars.image_uri(spec, service.image)


def _repository_arn(spec: EnvironmentSpec, service: TaskSpec):
    return sidecars.repository_arn(spec, service.image.repository)


def _capacity_provider(service: TaskSpec, wiring: _Wiring):
    if service.compute == "ec2":
        return Ref(
            wiring.take(
                names.EC2_CAPACITY_PROVIDER_NAME,
                "EC2 capacity provider",
                FromStack(names.CLUSTER, names.EC2_CAPACITY_PROVIDER_NAME),
            )
        )
    return "FARGATE_SPOT" if service.compute == "fargate-spot" else "FARGATE"


def _capacity_strategy(service: TaskSpec, wiring: _Wiring) -> list:
    """The service's capacity provider strategy: its one provider, or with `capacity` (container options) the
    Fargate / Fargate Spot mix, the `base` tasks on on-demand Fargate (only one provider may have a base)."""
    mix = getattr(service, "capacity", None)
    if mix is None:
        return [
            ecs.CapacityProviderStrategyItem(CapacityProvider=_capacity_provider(service, wiring), Weight=1, Base=0)
        ]
    strategy = [ecs.CapacityProviderStrategyItem(CapacityProvider="FARGATE", Weight=mix.fargate, Base=mix.base)]
    if not mix.fargate and not mix.base:
        strategy = []
    if mix.fargate_spot:
        strategy.append(ecs.CapacityProviderStrategyItem(CapacityProvider="FARGATE_SPOT", Weight=mix.fargate_spot))
    return strategy


def _port_mappings(service: TaskSpec) -> list:
    """The container's ports (TCP), then its `public_ports` (container options) not already mapped, with their
    protocol."""
    mapped = [(port, "tcp") for port in service.ports]
    for item in sorted(getattr(service, "public_ports", []), key=lambda item: item.port):
        if (item.port, item.protocol) not in mapped:
            mapped.append((item.port, item.protocol))
    return [ecs.PortMapping(ContainerPort=port, Protocol=protocol) for port, protocol in mapped]


def _injected(spec: EnvironmentSpec, service: TaskSpec, wiring: _Wiring):
    """Environment and secrets for what the service `connects_to`, merged under the spec's own values
    (the spec wins on a name clash); returns (environment, secrets by name, extra secret ARNs for the role,
    secret ARNs that exist only under a condition: condition name -> ARNs)."""
    environment: dict = {}
    secrets: dict = {}
    secret_arns: list = []
    conditional_arns: dict[str, list] = {}
    for target in sorted(service.connects_to):
        if target == "cache":
            endpoint = wiring.take(
                names.CACHE_ENDPOINT, "Redis primary endpoint", FromStack(names.DATA, names.CACHE_ENDPOINT)
            )
            token = wiring.take(
                names.CACHE_AUTH_SECRET_ARN,
                "Redis AUTH token secret",
                FromStack(names.DATA, names.CACHE_AUTH_SECRET_ARN),
            )
            environment.update(REDIS_HOST=Ref(endpoint), REDIS_PORT=str(cache.PORT), REDIS_TLS="true")
            secrets["REDIS_AUTH_TOKEN"] = ecs.Secret(Name="REDIS_AUTH_TOKEN", ValueFrom=Ref(token))
            secret_arns.append(Ref(token))
        elif target == "database":
            database.add_switch(wiring.template, spec, wiring.inputs)
            endpoint = wiring.take(
                names.DATABASE_ENDPOINT, "Database writer endpoint", FromStack(names.DATA, names.DATABASE_ENDPOINT)
            )
            secret = wiring.take(
                names.DATABASE_SECRET_ARN,
                "Database credentials secret",
                FromStack(names.DATA, names.DATABASE_SECRET_ARN),
            )
            environment.update(
                DATABASE_HOST=Ref(endpoint), DATABASE_PORT=str(database.PORT), DATABASE_NAME=spec.database.database_name
            )
            # present only while the database exists: the whole entry comes and goes with the switch
            secrets["DATABASE_CREDENTIALS"] = If(
                database.CONDITION, ecs.Secret(Name="DATABASE_CREDENTIALS", ValueFrom=Ref(secret)), NoValue
            )
            conditional_arns.setdefault(database.CONDITION, []).append(Ref(secret))
        else:
            peer = spec.services[target]
            environment[f"{target.upper().replace('-', '_')}_URL"] = f"http://{target}.{spec.namespace}:{peer.port}"
    # the spec wins on a name clash, across both lists: a name is either a plain value or a secret, never both
    for variable in [*service.environment, *service.secrets]:
        environment.pop(variable, None)
        secrets.pop(variable, None)
    environment.update({variable: literal(value) for variable, value in service.environment.items()})
    for variable, ref in service.secrets.items():
        secrets[variable] = sidecars.secret(variable, ref)
    return environment, secrets, secret_arns, conditional_arns


def _task_definition(
    spec, name, service: TaskSpec, tag, log_group, execution_role, task_role, environment, secrets, family=None
):
    """The task definition of a service or job `name` (container `name`, log stream prefix `name`); family
    `<prefix>-<name>` unless given."""
    scratch = service.readonly_root_filesystem and service.scratch_paths
    volumes = _volume_names(service.scratch_paths)
    container = ecs.ContainerDefinition(
        Name=name,
        Image=Join(":", [_repository_uri(spec, service), tag]),
        Essential=True,
        **({"PortMappings": _port_mappings(service)} if _port_mappings(service) else {}),
        Environment=[ecs.Environment(Name=key, Value=value) for key, value in sorted(environment.items())],
        Secrets=[secret for _, secret in sorted(secrets.items())],
        LogConfiguration=ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(log_group),
                "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": name,
            },
        ),
        # hard limit: the container is killed, not the host, when it leaks; with sidecars its share of the task's
        # memory and CPU (templates/sidecars.py), and the containers it waits for
        **{"Memory": service.memory, **sidecars.main_container_options(service)},
        ReadonlyRootFilesystem=service.readonly_root_filesystem,
        **(
            {
                "MountPoints": [
                    ecs.MountPoint(ContainerPath=path, SourceVolume=volume, ReadOnly=False)
                    for path, volume in volumes.items()
                ]
            }
            if scratch
            else {}
        ),
        Privileged=False,
        LinuxParameters=ecs.LinuxParameters(InitProcessEnabled=True),
        **({"User": service.user} if service.user else {}),
        **({"Command": [literal(part) for part in service.command]} if service.command else {}),
        **(
            {
                "HealthCheck": ecs.HealthCheck(
                    Command=["CMD-SHELL", *map(literal, getattr(service, "health_check_command", None))],
                    Interval=30,
                    Timeout=5,
                    Retries=3,
                    StartPeriod=60,
                )
            }
            if getattr(service, "health_check_command", None)
            else {}
        ),
    )
    return ecs.TaskDefinition(
        "TaskDefinition",
        Family=family or f"{spec.prefix}-{name}",
        Cpu=str(service.cpu),
        Memory=str(service.memory),
        NetworkMode="awsvpc",
        RequiresCompatibilities=["EC2" if service.compute == "ec2" else "FARGATE"],
        **sidecars.task_options(spec, service),  # RuntimePlatform (architecture), EphemeralStorage
        ExecutionRoleArn=GetAtt(execution_role, "Arn"),
        TaskRoleArn=GetAtt(task_role, "Arn"),
        ContainerDefinitions=[container, *sidecars.containers(spec, service, log_group)],
        Tags=tags(spec),
        **({"Volumes": [ecs.Volume(Name=volume) for volume in volumes.values()]} if scratch else {}),
    )


def _volume_names(paths: list[str]) -> dict[str, str]:
    """Readable volume names (`/var/cache` -> scratchVarCache); paths that would share one (/tmp and /TMP,
    /a.b and /a_b) get their position appended, so two paths never mount the same volume."""
    names = {path: "scratch" + "".join(part.title() for part in re.split(r"[/._-]+", path) if part) for path in paths}
    shared = {name for name in names.values() if list(names.values()).count(name) > 1}
    return {path: f"{name}{index}" if name in shared else name for index, (path, name) in enumerate(names.items(), 1)}


def _add_route(template: Template, spec: EnvironmentSpec, name: str, service: ServiceSpec, wiring: _Wiring):
    route = service.load_balancer
    vpc_id = wiring.take(
        names.VPC_ID, "VPC of the environment", FromStack(names.NETWORK, names.VPC_ID), "AWS::EC2::VPC::Id"
    )
    listener = wiring.take(
        names.LISTENER_ARN,
        "ALB listener to attach the routing rule to",
        FromStack(names.LOAD_BALANCER, names.LISTENER_ARN),
    )
    base_url = wiring.take(names.BASE_URL, "Public base URL", FromStack(names.LOAD_BALANCER, names.BASE_URL))
    target_group = template.add_resource(
        elb.TargetGroup(
            "TargetGroup",
            TargetType="ip",
            Protocol="HTTP",
            Port=service.port,
            VpcId=Ref(vpc_id),
            HealthCheckEnabled=True,
            HealthCheckPath=route.health_check_path,
            HealthCheckProtocol="HTTP",
            **loadbalancer.target_group_options(route),  # health check, stickiness (container options)
            Tags=tags(spec, f"{spec.prefix}-{name}"),
        )
    )
    conditions = [
        elb.Condition(Field="path-pattern", PathPatternConfig=elb.PathPatternConfig(Values=route.path_patterns))
    ]
    if route.host_headers:
        conditions.append(
            elb.Condition(Field="host-header", HostHeaderConfig=elb.HostHeaderConfig(Values=route.host_headers))
        )
    rule = template.add_resource(
        elb.ListenerRule(
            "ListenerRule",
            ListenerArn=Ref(listener),
            Priority=route.priority,
            Conditions=conditions,
            Actions=[elb.ListenerRuleAction(Type="forward", TargetGroupArn=Ref(target_group))],
        )
    )
    output(template, names.SERVICE_URL, _service_url(spec, route, base_url), "Public URL of the service")
    return rule


def service_path(pattern: str) -> str:
    """The URL path a route's first path pattern stands for: up to its first wildcard (`/api/*` -> `/api/`,
    `/*` -> `/`, `/health` -> `/health`)."""
    cut = min((pattern.index(char) for char in "*?" if char in pattern), default=len(pattern))
    return pattern[:cut] or "/"


def _service_url(spec: EnvironmentSpec, route, base_url):
    """The service's public URL: its first host header without wildcards when it has one (the load balancer
    only forwards requests for that host), else the environment's base URL; then the route's path."""
    path = service_path(route.path_patterns[0])
    host = next((name for name in route.host_headers if not any(char in name for char in "*?")), None)
    if host is None:
        return Join("", [Ref(base_url), path])
    # the base URL's scheme (https, or http when chosen) with the route's host
    return Join("", [Select(0, Split("://", Ref(base_url))), "://" + host.lower() + path])


def _add_autoscaling(template: Template, service: ServiceSpec, cluster_name, ecs_service):
    settings = service.autoscaling
    target = template.add_resource(
        scaling.ScalableTarget(
            "ScalableTarget",
            ServiceNamespace="ecs",
            ScalableDimension="ecs:service:DesiredCount",
            ResourceId=Join("/", ["service", Ref(cluster_name), GetAtt(ecs_service, "Name")]),
            MinCapacity=settings.min_capacity,
            MaxCapacity=settings.max_capacity,
        )
    )
    metrics = [("Cpu", "ECSServiceAverageCPUUtilization", settings.cpu_target_percent)]
    if settings.memory_target_percent is not None:
        metrics.append(("Memory", "ECSServiceAverageMemoryUtilization", settings.memory_target_percent))
    for label, metric, value in metrics:
        template.add_resource(
            scaling.ScalingPolicy(
                f"{label}ScalingPolicy",
                PolicyName=f"{label.lower()}-target-tracking",
                PolicyType="TargetTrackingScaling",
                ScalingTargetId=Ref(target),
                TargetTrackingScalingPolicyConfiguration=scaling.TargetTrackingScalingPolicyConfiguration(
                    PredefinedMetricSpecification=scaling.PredefinedMetricSpecification(PredefinedMetricType=metric),
                    TargetValue=float(value),
                    ScaleInCooldown=120,
                    ScaleOutCooldown=60,
                ),
            )
        )
