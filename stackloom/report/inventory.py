"""`inventory(built)`: an evaluated environment (`stackloom.cfn.evaluate.Built`) as plain records.

Subnets and their tier (from the route tables), NAT gateways, load balancers and listeners, ECS services
(capacity, CPU/memory, ports, desired count, routes, Cloud Map name, log group, image, secrets, roles), data
stores, security-group flows, log groups... (`stackloom.report.records`). Each collector is registered in
`stackloom.kinds` for the CloudFormation types it reads (`@kinds.inventory(TYPE, ...)`); `inventory()` runs
them in registration order, which is the order below (a collector reading another's records comes after it).
"""

from __future__ import annotations

import json
import re

from stackloom import kinds
from stackloom.cfn.evaluate import Built, Joined, Pointer, Unknown, as_list, number, pointers, text
from stackloom.report import (
    addons,  # noqa: F401 - registers the addon stacks' handlers with these
    alarms,  # noqa: F401 - registers the alarms' (and their topic's) handlers with these
    jobs,  # noqa: F401 - registers the jobs' handlers with these
    storage,  # noqa: F401 - registers the storage kinds' handlers with these
)
from stackloom.report.records import (
    Cache,
    Capacity,
    Database,
    Endpoint,
    Flow,
    Function,
    Inventory,
    Listener,
    LoadBalancer,
    LogGroup,
    Nat,
    Record,
    Route,
    Secret,
    Service,
    Subnet,
)
from stackloom.report.tasks import compute, image_parts, platform, role_services, secrets_of, strategy

CUSTOM_RESOURCE = "AWS::CloudFormation::CustomResource"


def inventory(built: Built) -> Inventory:
    """The records of one evaluated environment, gathered by the registered collectors."""
    manifest = built.manifest
    found = Inventory(
        built,
        manifest.system,
        manifest.environment,
        built.region,
        manifest.stack_name,
        hosted_zone=manifest.hosted_zone,
    )
    for collect in kinds.handlers("inventory"):
        collect(built, found)
    return found


def tier_of(found: Inventory, value) -> str:
    """The subnet tier of an evaluated list of subnets (`mixed` when they differ, `unknown` when none is known)."""
    tiers = {subnet.key: subnet.tier for subnet in found.subnets}
    named = sorted({tiers.get(pointer.key, "unknown") for pointer in pointers(value)})
    return named[0] if len(named) == 1 else ("mixed" if named else "unknown")


def _int(value) -> int | None:
    parsed = number(value) if not isinstance(value, (Unknown, Pointer, Joined, list, dict)) else None
    return int(parsed) if parsed is not None else None


@kinds.inventory("AWS::EC2::VPC", "AWS::EC2::InternetGateway")
def _vpc(built: Built, found: Inventory) -> None:
    for stack, logical_id, resource in built.resources("AWS::EC2::VPC"):
        found.vpc_cidr = text(stack.eval(resource.get("Properties", {})).get("CidrBlock", ""))
        found.vpc_key = (stack.file, logical_id)
    found.internet_gateway = any(True for _ in built.resources("AWS::EC2::InternetGateway"))


@kinds.inventory("AWS::EC2::Subnet", "AWS::EC2::Route", "AWS::EC2::SubnetRouteTableAssociation")
def _subnets(built: Built, found: Inventory) -> None:
    """Subnets, with their tier from the default route of their route table."""
    gateways = {
        (stack.file, logical_id): resource["Type"]
        for stack, logical_id, resource in built.resources("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway")
    }
    default_routes: dict[tuple, tuple] = {}  # route table -> gateway
    for stack, logical_id, resource in built.resources("AWS::EC2::Route"):
        props = stack.eval(resource.get("Properties", {}))
        if props.get("DestinationCidrBlock") != "0.0.0.0/0" or not stack.active(logical_id):
            continue
        for target in ("GatewayId", "NatGatewayId"):
            for pointer in pointers(props.get(target)):
                for table in pointers(props.get("RouteTableId")):
                    default_routes[table.key] = pointer.key
    table_of: dict[tuple, tuple] = {}
    for stack, logical_id, resource in built.resources("AWS::EC2::SubnetRouteTableAssociation"):
        props = stack.eval(resource.get("Properties", {}))
        for subnet in pointers(props.get("SubnetId")):
            for table in pointers(props.get("RouteTableId")):
                table_of[subnet.key] = table.key
    for stack, logical_id, resource in built.resources("AWS::EC2::Subnet"):
        props = stack.eval(resource.get("Properties", {}))
        key = (stack.file, logical_id)
        gateway = default_routes.get(table_of.get(key))
        kind = gateways.get(gateway)
        tier = {"AWS::EC2::InternetGateway": "public", "AWS::EC2::NatGateway": "private"}.get(kind, "isolated")
        zone = text(props.get("AvailabilityZone", "?"))
        found.subnets.append(
            Subnet(
                key, tier, text(props.get("CidrBlock", "?")), zone, gateway if kind == "AWS::EC2::NatGateway" else None
            )
        )


@kinds.inventory("AWS::EC2::NatGateway")
def _nats(built: Built, found: Inventory) -> None:
    zone_of_subnet = {subnet.key: subnet.zone for subnet in found.subnets}
    for stack, logical_id, resource in built.resources("AWS::EC2::NatGateway"):
        props = stack.eval(resource.get("Properties", {}))
        zone = next((zone_of_subnet.get(pointer.key, "?") for pointer in pointers(props.get("SubnetId"))), "?")
        found.nats.append(Nat((stack.file, logical_id), zone, stack.active(logical_id)))


@kinds.inventory("AWS::EC2::FlowLog")
def _flow_logs(built: Built, found: Inventory) -> None:
    for stack, logical_id, resource in built.resources("AWS::EC2::FlowLog"):
        props = stack.eval(resource.get("Properties", {}))
        group = props.get("LogGroupName")
        if isinstance(group, Pointer):
            group = built.properties(group).get("LogGroupName", group)
        if stack.active(logical_id):
            found.flow_logs = text(group)


@kinds.inventory("AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancingV2::Listener")
def _load_balancers(built: Built, found: Inventory) -> None:
    for stack, logical_id, resource in built.resources("AWS::ElasticLoadBalancingV2::LoadBalancer"):
        props = stack.eval(resource.get("Properties", {}))
        attributes = {
            text(item.get("Key")): text(item.get("Value"))
            for item in props.get("LoadBalancerAttributes", [])
            if isinstance(item, dict)
        }
        subnets = props.get("Subnets", [])
        found.load_balancers.append(
            LoadBalancer(
                (stack.file, logical_id),
                text(props.get("Name", logical_id)),
                text(props.get("Scheme", "internet-facing")),
                text(props.get("Type", "application")),
                len(as_list(subnets)) if subnets else 0,
                tier_of(found, subnets),
                access_logs=attributes.get("access_logs.s3.enabled") == "true",
                active=stack.active(logical_id),
            )
        )
        for group in pointers(props.get("SecurityGroups")):
            found.owners[group.key] = "alb"
    by_key = {balancer.key: balancer for balancer in found.load_balancers}
    for stack, logical_id, resource in built.resources("AWS::ElasticLoadBalancingV2::Listener"):
        props = stack.eval(resource.get("Properties", {}))
        balancer = next((by_key.get(pointer.key) for pointer in pointers(props.get("LoadBalancerArn"))), None)
        if balancer is None:
            continue
        actions = props.get("DefaultActions", [])
        action = _action(actions[0]) if actions else ""
        balancer.listeners.append(Listener(text(props.get("Protocol", "")), _int(props.get("Port")), action))
        for certificate in props.get("Certificates", []):
            arn = certificate.get("CertificateArn") if isinstance(certificate, dict) else None
            if isinstance(arn, Pointer):
                cert = built.properties(arn)
                balancer.certificates.append(
                    f"ACM {text(cert.get('DomainName', '?'))} "
                    f"({text(cert.get('ValidationMethod', 'DNS')).lower()}-validated)"
                )
            elif arn is not None:
                balancer.certificates.append(f"ACM {text(arn).rsplit('/', 1)[-1]} (given ARN)")


@kinds.inventory("AWS::Route53::RecordSet")
def _records(built: Built, found: Inventory) -> None:
    for stack, logical_id, resource in built.resources("AWS::Route53::RecordSet"):
        props = stack.eval(resource.get("Properties", {}))
        alias = props.get("AliasTarget", {})
        target = next(
            (pointer.key for pointer in pointers(alias.get("DNSName") if isinstance(alias, dict) else None)), None
        )
        zone = props.get("HostedZoneName") or found.hosted_zone or text(props.get("HostedZoneId", "?"))
        found.records.append(
            Record(
                text(props.get("Name", "?")).rstrip("."),
                text(props.get("Type", "A")),
                text(zone).rstrip("."),
                target,
                stack.active(logical_id),
            )
        )


def _action(action) -> str:
    if not isinstance(action, dict):
        return ""
    kind = text(action.get("Type", ""))
    if kind == "redirect":
        config = action.get("RedirectConfig", {})
        return f"redirect to {text(config.get('Protocol', ''))} {text(config.get('Port', ''))}".strip()
    if kind == "fixed-response":
        return f"fixed {text(action.get('FixedResponseConfig', {}).get('StatusCode', ''))}"
    return kind


@kinds.inventory("AWS::ECS::Cluster")
def _cluster(built: Built, found: Inventory) -> None:
    for stack, logical_id, resource in built.resources("AWS::ECS::Cluster"):
        props = stack.eval(resource.get("Properties", {}))
        found.cluster = text(props.get("ClusterName", logical_id))
        settings = {text(item.get("Name")): text(item.get("Value")) for item in props.get("ClusterSettings", [])}
        found.container_insights = settings.get("containerInsights") in ("enabled", "enhanced")


@kinds.inventory("AWS::AutoScaling::AutoScalingGroup", "AWS::ECS::CapacityProvider")
def _capacity(built: Built, found: Inventory) -> None:
    providers = set()
    for stack, logical_id, resource in built.resources("AWS::ECS::CapacityProvider"):
        props = stack.eval(resource.get("Properties", {}))
        for group in pointers(props.get("AutoScalingGroupProvider", {}).get("AutoScalingGroupArn")):
            providers.add(group.key)
    for stack, logical_id, resource in built.resources("AWS::AutoScaling::AutoScalingGroup"):
        props = stack.eval(resource.get("Properties", {}))
        template = props.get("LaunchTemplate", {})
        data = built.properties(template.get("LaunchTemplateId")).get("LaunchTemplateData", {})
        volume = next((mapping.get("Ebs", {}) for mapping in data.get("BlockDeviceMappings", [])), {})
        for group in pointers(data.get("SecurityGroupIds")):
            found.owners[group.key] = "ec2"
        found.capacity.append(
            Capacity(
                (stack.file, logical_id),
                text(data.get("InstanceType", props.get("InstanceType", "?"))),
                _int(props.get("DesiredCapacity")),
                _int(props.get("MinSize")),
                _int(props.get("MaxSize")),
                float(number(text(volume.get("VolumeSize", 0))) or 0),
                text(volume.get("VolumeType", "gp3")),
                (stack.file, logical_id) in providers,
                tier_of(found, props.get("VPCZoneIdentifier")),
                stack.active(logical_id),
            )
        )


NAMESPACES = (
    ("AWS::ServiceDiscovery::PrivateDnsNamespace", "private DNS"),
    ("AWS::ServiceDiscovery::PublicDnsNamespace", "public DNS"),
    ("AWS::ServiceDiscovery::HttpNamespace", "HTTP"),
)


@kinds.inventory(*(kind for kind, _ in NAMESPACES))
def _namespaces(built: Built, found: Inventory) -> None:
    for kind, label in NAMESPACES:
        for stack, logical_id, resource in built.resources(kind):
            found.namespace = text(stack.eval(resource.get("Properties", {})).get("Name", logical_id))
            found.namespace_kind = label


@kinds.inventory(
    "AWS::ECS::Service", "AWS::ElasticLoadBalancingV2::ListenerRule", "AWS::ApplicationAutoScaling::ScalableTarget"
)
def _services(built: Built, found: Inventory) -> None:
    rules = []
    for stack, logical_id, resource in built.resources("AWS::ElasticLoadBalancingV2::ListenerRule"):
        props = stack.eval(resource.get("Properties", {}))
        listener = built.properties(next(iter(pointers(props.get("ListenerArn"))), None))
        balancer = next((pointer.key for pointer in pointers(listener.get("LoadBalancerArn"))), None)
        paths, hosts = [], []
        for condition in props.get("Conditions", []):
            values = (
                condition.get("Values")
                or condition.get("PathPatternConfig", {}).get("Values")
                or condition.get("HostHeaderConfig", {}).get("Values")
                or []
            )
            (paths if condition.get("Field") == "path-pattern" else hosts).extend(text(value) for value in values)
        for action in props.get("Actions", []):
            for group in pointers(action.get("TargetGroupArn")):
                rules.append((group.key, balancer, paths, hosts, _int(props.get("Priority"))))
    for stack, logical_id, resource in built.resources("AWS::ECS::Service"):
        props = stack.eval(resource.get("Properties", {}))
        task_pointer = props.get("TaskDefinition")
        task_stack, task_resource = built.find(task_pointer)
        task = task_stack.eval(task_resource.get("Properties", {})) if task_stack else {}
        containers = task.get("ContainerDefinitions", [])
        raw_containers = task_resource.get("Properties", {}).get("ContainerDefinitions", []) if task_resource else []
        name = text(props.get("ServiceName", logical_id))
        network = props.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {})
        groups = [pointer.key for pointer in pointers(network.get("SecurityGroups"))]
        for group in groups:
            found.owners.setdefault(group, f"svc:{name}")
        cpu = _int(task.get("Cpu")) or sum(_int(container.get("Cpu")) or 0 for container in containers) or None
        memory = _int(task.get("Memory")) or sum(_int(container.get("Memory")) or 0 for container in containers) or None
        ports = [
            _int(mapping.get("ContainerPort"))
            for container in containers
            for mapping in container.get("PortMappings", [])
            if _int(mapping.get("ContainerPort"))
        ]
        routes = []
        for balancer in props.get("LoadBalancers", []):
            for group in pointers(balancer.get("TargetGroupArn")):
                for target, on, paths, hosts, priority in rules:
                    if target == group.key:
                        routes.append(Route(on, paths, hosts, _int(balancer.get("ContainerPort")), priority))
        discovery = None
        for registry in props.get("ServiceRegistries", []):
            for pointer in pointers(registry.get("RegistryArn")):
                entry = built.properties(pointer)
                namespace = built.properties(next(iter(pointers(entry.get("NamespaceId"))), None)).get("Name")
                discovery = f"{text(entry.get('Name', name))}.{text(namespace or found.namespace or '?')}"
        log_name, retention = None, None
        image, repository, tag = "", None, ""
        secrets: list[Secret] = []
        for container, raw in zip(containers, raw_containers + [{}] * len(containers)):
            options = container.get("LogConfiguration", {}).get("Options", {})
            group = options.get("awslogs-group")
            if isinstance(group, Pointer):
                log = built.properties(group)
                log_name, retention = text(log.get("LogGroupName", group.logical_id)), _int(log.get("RetentionInDays"))
            elif group is not None:
                log_name = text(group)
            if not image:
                image, repository, tag = image_parts(text(container.get("Image", "")))
            secrets += secrets_of(built, task_stack, raw.get("Secrets", []) if isinstance(raw, dict) else [])
        roles = {
            kind: role_services(built.properties(task.get(field_name)))
            for kind, field_name in (("execution", "ExecutionRoleArn"), ("task", "TaskRoleArn"))
            if task.get(field_name) is not None
        }
        autoscaling = None
        for scaling_stack, scaling_id, scaling in built.resources("AWS::ApplicationAutoScaling::ScalableTarget"):
            if scaling_stack is stack and f'"{logical_id}"' in json.dumps(
                scaling.get("Properties", {}).get("ResourceId")
            ):
                scaling_props = scaling_stack.eval(scaling.get("Properties", {}))
                autoscaling = (_int(scaling_props.get("MinCapacity")) or 0, _int(scaling_props.get("MaxCapacity")) or 0)
        raw_count = resource.get("Properties", {}).get("DesiredCount")
        found.services.append(
            Service(
                name,
                stack.file,
                compute(built, props, task),
                cpu,
                memory,
                ports,
                _int(props.get("DesiredCount")),
                raw_count.get("Ref") if isinstance(raw_count, dict) else None,
                autoscaling,
                routes,
                discovery,
                log_name,
                retention,
                repository,
                image,
                tag,
                secrets,
                roles,
                groups,
                tier_of(found, network.get("Subnets")),
                False,
                stack.active(logical_id),
                stack.why_inactive(logical_id),
                strategy=strategy(props),
                **platform(task),
            )
        )
    found.services.sort(key=lambda service: service.name)


@kinds.inventory("AWS::RDS::DBCluster", "AWS::RDS::DBInstance")
def _databases(built: Built, found: Inventory) -> None:
    instances: dict[tuple, list[str]] = {}
    for stack, logical_id, resource in built.resources("AWS::RDS::DBInstance"):
        props = stack.eval(resource.get("Properties", {}))
        for cluster in pointers(props.get("DBClusterIdentifier")):
            instances.setdefault(cluster.key, []).append(text(props.get("DBInstanceClass", "?")))
    for stack, logical_id, resource in built.resources("AWS::RDS::DBCluster"):
        props = stack.eval(resource.get("Properties", {}))
        scaling = props.get("ServerlessV2ScalingConfiguration")
        classes = instances.get((stack.file, logical_id), [])
        groups = [pointer.key for pointer in pointers(props.get("VpcSecurityGroupIds"))]
        for group in groups:
            found.owners[group] = f"db:{logical_id}"
        found.databases.append(
            Database(
                (stack.file, logical_id),
                text(props.get("Engine", "?")),
                text(props.get("EngineVersion", "")),
                (
                    float(number(text(scaling.get("MinCapacity"))) or 0),
                    float(number(text(scaling.get("MaxCapacity"))) or 0),
                )
                if isinstance(scaling, dict)
                else None,
                len(classes),
                classes[0] if classes else "?",
                groups,
                props.get("ManageMasterUserPassword") in (True, "true"),
                [text(item) for item in props.get("EnableCloudwatchLogsExports", [])],
                stack.active(logical_id),
                stack.why_inactive(logical_id),
            )
        )


@kinds.inventory("AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::CacheCluster")
def _caches(built: Built, found: Inventory) -> None:
    for stack, logical_id, resource in built.resources(
        "AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::CacheCluster"
    ):
        props = stack.eval(resource.get("Properties", {}))
        if resource["Type"] == "AWS::ElastiCache::CacheCluster":
            nodes = _int(props.get("NumCacheNodes")) or 1
            groups = pointers(props.get("VpcSecurityGroupIds"))
        else:
            shards = _int(props.get("NumNodeGroups"))
            nodes = (
                shards * ((_int(props.get("ReplicasPerNodeGroup")) or 0) + 1)
                if shards
                else _int(props.get("NumCacheClusters")) or 1
            )
            groups = pointers(props.get("SecurityGroupIds"))
        for group in groups:
            found.owners[group.key] = f"cache:{logical_id}"
        found.caches.append(
            Cache(
                (stack.file, logical_id),
                text(props.get("Engine", "redis")),
                text(props.get("EngineVersion", "")),
                text(props.get("CacheNodeType", "?")),
                nodes,
                props.get("MultiAZEnabled") in (True, "true"),
                props.get("TransitEncryptionEnabled") in (True, "true"),
                [group.key for group in groups],
                stack.active(logical_id),
                stack.why_inactive(logical_id),
            )
        )


def _words(name: str) -> str:
    """`RestrictDefaultSecurityGroup` -> `restrict default security group`."""
    return " ".join(re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name)).lower() or name


def _actions(role: dict) -> set[str]:
    """Every action a role's inline policies allow (`ec2:RevokeSecurityGroupIngress`, ...)."""
    found = set()
    for policy in role.get("Policies", []):
        for statement in policy.get("PolicyDocument", {}).get("Statement", []):
            actions = statement.get("Action", [])
            found.update(text(action) for action in (actions if isinstance(actions, list) else [actions]))
    return found


@kinds.inventory("AWS::Lambda::Function", CUSTOM_RESOURCE)
def _functions(built: Built, found: Inventory) -> None:
    """Lambda functions, the custom resources they back (their ServiceToken) and what those act on."""
    backing: dict[tuple, list[tuple[str, dict]]] = {}  # function key -> (custom resource type, properties)
    for stack in built.stacks():
        for logical_id, resource in sorted(stack.resources.items()):
            kind = str(resource.get("Type", ""))
            if not (kind.startswith("Custom::") or kind == CUSTOM_RESOURCE):
                continue
            props = stack.eval(resource.get("Properties", {}))
            for token in pointers(props.get("ServiceToken")):
                backing.setdefault(token.key, []).append((kind, props))
    for stack, logical_id, resource in built.resources("AWS::Lambda::Function"):
        props = stack.eval(resource.get("Properties", {}))
        key = (stack.file, logical_id)
        name = text(props.get("FunctionName", logical_id))
        logging = props.get("LoggingConfig")
        group = logging.get("LogGroup") if isinstance(logging, dict) else None
        if isinstance(group, Pointer):
            log_group = text(built.properties(group).get("LogGroupName", group.logical_id))
        elif group is not None:
            log_group = text(group)
        else:  # Lambda's default: /aws/lambda/<function name>, known only when the name is given
            log_group = f"/aws/lambda/{name}" if isinstance(props.get("FunctionName"), str) else None
        actions = _actions(built.properties(props.get("Role")))
        custom = backing.get(key, [])
        targets = []
        for kind, custom_props in custom:
            acted_on = [value for name_, value in custom_props.items() if name_ != "ServiceToken"]
            for pointer in pointers(acted_on):
                if pointer.key != found.vpc_key:
                    continue
                if pointer.attribute == "DefaultSecurityGroup":
                    revokes = any(action.startswith("ec2:RevokeSecurityGroup") for action in actions)
                    words = "revokes default security group rules" if revokes else "acts on the default security group"
                else:
                    words = "acts on the VPC"
                if ("vpc", words) not in targets:
                    targets.append(("vpc", words))
        types = [kind for kind, _ in custom]
        purpose = (
            _words(types[0].split("::", 1)[1])
            if types and types[0] != CUSTOM_RESOURCE
            else _words(logical_id.removesuffix("Function"))
            if types
            else name
        )
        vpc_config = props.get("VpcConfig")
        found.functions.append(
            Function(
                key,
                name,
                purpose,
                text(props.get("Runtime", "")),
                log_group,
                types,
                targets,
                isinstance(vpc_config, dict) and bool(vpc_config.get("SubnetIds")),
                stack.active(logical_id),
            )
        )


def _ports(rule: dict) -> str:
    protocol = text(rule.get("IpProtocol", "tcp"))
    low, high = _int(rule.get("FromPort")), _int(rule.get("ToPort"))
    if protocol == "-1":
        return "all traffic"
    if low is None or (low, high) == (0, 65535):
        return f"{protocol} all ports"
    return f"{protocol} {low}" if low == high or high is None else f"{protocol} {low}-{high}"


@kinds.inventory("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
def _security(built: Built, found: Inventory) -> None:
    egress_groups = set()
    for stack, logical_id, resource in built.resources("AWS::EC2::SecurityGroup"):
        props = stack.eval(resource.get("Properties", {}))
        key = (stack.file, logical_id)
        for rule in props.get("SecurityGroupIngress", []):
            if rule.get("CidrIp") == "0.0.0.0/0":
                found.internet_ingress.setdefault(key, []).append(_ports(rule))
            for source in pointers(rule.get("SourceSecurityGroupId")):
                found.flows.append(
                    Flow(source.key, key, text(rule.get("IpProtocol", "tcp")), _ports(rule), stack.active(logical_id))
                )
        for rule in props.get("SecurityGroupEgress", []):
            if rule.get("CidrIp") == "0.0.0.0/0":
                egress_groups.add(key)
    for stack, logical_id, resource in built.resources("AWS::EC2::SecurityGroupIngress"):
        props = stack.eval(resource.get("Properties", {}))
        for target in pointers(props.get("GroupId")):
            if props.get("CidrIp") == "0.0.0.0/0":
                found.internet_ingress.setdefault(target.key, []).append(_ports(props))
            for source in pointers(props.get("SourceSecurityGroupId")):
                found.flows.append(
                    Flow(
                        source.key,
                        target.key,
                        text(props.get("IpProtocol", "tcp")),
                        _ports(props),
                        stack.active(logical_id),
                    )
                )
    for stack, logical_id, resource in built.resources("AWS::EC2::SecurityGroupEgress"):
        props = stack.eval(resource.get("Properties", {}))
        if props.get("CidrIp") == "0.0.0.0/0":
            egress_groups.update(pointer.key for pointer in pointers(props.get("GroupId")))
    for service in found.services:
        service.egress = any(group in egress_groups for group in service.groups)


@kinds.inventory("AWS::EC2::VPCEndpoint")
def _endpoints(built: Built, found: Inventory) -> None:
    """VPC endpoints; the group of the interface endpoints is drawn as theirs (`endpoints`)."""
    for stack, logical_id, resource in built.resources("AWS::EC2::VPCEndpoint"):
        props = stack.eval(resource.get("Properties", {}))
        name = text(props.get("ServiceName", ""))
        kind = text(props.get("VpcEndpointType", "Gateway"))
        found.endpoints.append(
            Endpoint(
                (stack.file, logical_id),
                name.split(f".{found.region}.", 1)[-1],
                kind,
                len(as_list(props.get("SubnetIds"))) if kind == "Interface" else 0,
                props.get("PrivateDnsEnabled") is True,
                stack.active(logical_id),
            )
        )
        for group in pointers(props.get("SecurityGroupIds")):
            found.owners[group.key] = "endpoints"


@kinds.inventory("AWS::Logs::LogGroup")
def _log_groups(built: Built, found: Inventory) -> None:
    """Log groups and who writes to them (after services, functions and flow logs are known)."""
    function_logs = {function.log_group: function.name for function in found.functions if function.log_group}
    for stack, logical_id, resource in built.resources("AWS::Logs::LogGroup"):
        props = stack.eval(resource.get("Properties", {}))
        name = text(props.get("LogGroupName"))
        owner = next(
            (service.name for service in found.services if service.log_group == name),
            "flow-logs"
            if name == found.flow_logs
            else f"function:{function_logs[name]}"
            if name in function_logs
            else stack.logical_id or stack.file,
        )
        found.log_groups.append(
            LogGroup(
                (stack.file, logical_id),
                text(props.get("LogGroupName", logical_id)),
                _int(props.get("RetentionInDays")),
                owner,
                stack.active(logical_id),
            )
        )


@kinds.inventory("AWS::ECR::Repository")
def _repositories(built: Built, found: Inventory) -> None:
    for stack, logical_id, resource in built.resources("AWS::ECR::Repository"):
        found.repositories.append(text(stack.eval(resource.get("Properties", {})).get("RepositoryName", logical_id)))


@kinds.inventory("AWS::KMS::Key")
def _kms_keys(built: Built, found: Inventory) -> None:
    found.kms_keys = sum(1 for stack, logical_id, _ in built.resources("AWS::KMS::Key") if stack.active(logical_id))


@kinds.inventory("AWS::SecretsManager::Secret")
def _created_secrets(built: Built, found: Inventory) -> None:
    """Secrets the stacks create, and the one RDS manages for a database (after the databases are known)."""
    for stack, logical_id, resource in built.resources("AWS::SecretsManager::Secret"):
        found.created_secrets.append(
            (text(stack.eval(resource.get("Properties", {})).get("Name", logical_id)), stack.active(logical_id))
        )
    for database in found.databases:
        if database.managed_secret:
            found.created_secrets.append(("RDS-managed master user secret", database.active))


@kinds.inventory("AWS::IAM::InstanceProfile")
def _instance_role(built: Built, found: Inventory) -> None:
    found.instance_role = any(True for _ in built.resources("AWS::IAM::InstanceProfile"))
