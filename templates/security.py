"""Every security group and every allowed flow between them, in one nested stack.

Keeping the firewall in one place makes it reviewable (one file lists who may talk to whom) and breaks the
cycles that per-service groups would create when two services talk to each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Template, ec2

from . import cache, database, endpoints, names
from .base import FromStack, NestedStack, new_template, output, parameter, tags
from .spec import EnvironmentSpec


@dataclass(frozen=True)
class Flow:
    """One allowed flow: from a group to a group on a port (TCP unless said)."""

    source: str
    target: str
    port: int
    why: str
    protocol: str = "tcp"

    @property
    def logical_id(self) -> str:
        return f"{self.source}To{self.target}Port{self.port}" + ("" if self.protocol == "tcp" else "Udp")


def flows(spec: EnvironmentSpec) -> list[Flow]:
    """All allowed flows, derived from the spec (ALB routes and `connects_to` of services and jobs), in a stable
    order: the services', then the jobs' (a job is only ever a source: nothing connects to it)."""
    allowed: list[Flow] = []
    for name, service in sorted(spec.services.items()):
        if service.load_balancer is not None:
            allowed.append(Flow(names.LOAD_BALANCER_GROUP, group_name(name), service.port, f"ALB to {name}"))
        allowed.extend(_outbound(spec, group_name(name), name, service.connects_to))
        allowed.extend(_public(name, service))
    for name, job in sorted(spec.jobs.items()):
        allowed.extend(_outbound(spec, names.job_group(name), f"job {name}", job.connects_to))
    return allowed


def _outbound(spec: EnvironmentSpec, source: str, who: str, connects_to: list[str]) -> list[Flow]:
    """The flows of one task's group: to what it `connects_to`, and to the interface endpoints."""
    allowed = []
    for target in sorted(connects_to):
        if target == "cache":
            allowed.append(Flow(source, names.CACHE_GROUP, cache.PORT, f"{who} to Redis"))
        elif target == "database":
            allowed.append(Flow(source, names.DATABASE_GROUP, database.PORT, f"{who} to PostgreSQL"))
        else:
            for port in spec.services[target].ports:
                allowed.append(Flow(source, group_name(target), port, f"{who} to {target}"))
    if endpoints.interface(spec):
        allowed.append(Flow(source, names.ENDPOINTS_GROUP, HTTPS, f"{who} to AWS APIs (VPC endpoints)"))
    return allowed


def _public(name: str, service) -> list[Flow]:
    """The flows from a service's network load balancer to its tasks: each public port with its protocol, and
    the TCP port the NLB checks a UDP target's health on (the service's `port`)."""
    allowed = [
        Flow(names.nlb_group(name), group_name(name), item.port, f"NLB to {name} ({item.protocol})", item.protocol)
        for item in sorted(service.public_ports, key=lambda item: item.port)
    ]
    tcp = {flow.port for flow in allowed if flow.protocol == "tcp"}
    if any(flow.protocol == "udp" for flow in allowed) and service.port not in tcp:
        allowed.append(Flow(names.nlb_group(name), group_name(name), service.port, f"NLB health checks of {name}"))
    return allowed


def _network_load_balancer_group(template: Template, spec: EnvironmentSpec, vpc_id, name: str) -> ec2.SecurityGroup:
    """The group of service `name`'s network load balancer: in, only the `ip_ranges` each public port names, on
    that port and protocol; out, to the tasks in the VPC."""
    ingress = [
        ec2.SecurityGroupRule(
            IpProtocol=item.protocol,
            FromPort=item.port,
            ToPort=item.port,
            CidrIp=cidr,
            Description=f"{label} to {name} {item.port}/{item.protocol}",
        )
        for item in sorted(spec.services[name].public_ports, key=lambda item: item.port)
        for label in sorted(set(item.inbound))
        for cidr in spec.ip_ranges[label]
    ]
    key = names.nlb_group(name)
    return template.add_resource(
        ec2.SecurityGroup(
            f"{key}SecurityGroup",
            GroupDescription=f"{spec.prefix} network load balancer of {name}",
            VpcId=Ref(vpc_id),
            SecurityGroupIngress=ingress,
            SecurityGroupEgress=[
                ec2.SecurityGroupRule(
                    IpProtocol="-1", CidrIp=spec.network.cidr, Description="To targets inside the VPC"
                )
            ],
            Tags=tags(spec, f"{spec.prefix}-{key.lower()}"),
        )
    )


HTTPS = 443  # the one port of an interface endpoint


def instance_to_endpoints(template: Template, endpoint_group, instance_group) -> ec2.SecurityGroupIngress:
    """The flow from the EC2 container instances (their group is the cluster stack's, which comes after this one)
    to the interface endpoints' group: the ECS agent registers, pulls images and ships logs through them."""
    return template.add_resource(
        ec2.SecurityGroupIngress(
            f"InstanceTo{names.ENDPOINTS_GROUP}Port{HTTPS}",
            GroupId=Ref(endpoint_group),
            SourceSecurityGroupId=Ref(instance_group),
            IpProtocol="tcp",
            FromPort=HTTPS,
            ToPort=HTTPS,
            Description="ECS container instances to AWS APIs (VPC endpoints)",
        )
    )


def group_name(service: str) -> str:
    """The security group key of a service (names.service_group)."""
    return names.service_group(service)


def build(spec: EnvironmentSpec) -> NestedStack:
    """The security groups stack (names.SECURITY, names.SECURITY_FILE).

    Reads spec.services (each service's .port, .load_balancer, .connects_to, .public_ports, a peer's .port and
    .extra_ports), spec.ip_ranges, spec.jobs (each job's .connects_to), spec.load_balancer (.tls), spec.database, spec.cache, spec.network.cidr, spec.prefix.
    Exports names.security_group_id(key) for every group: names.LOAD_BALANCER_SECURITY_GROUP_ID,
    names.security_group_id(names.service_group(service)) per service, names.security_group_id(names.job_group(job))
    per job, names.security_group_id(names.nlb_group(service)) per service with public_ports, names.DATABASE_SECURITY_GROUP_ID,
    names.CACHE_SECURITY_GROUP_ID, names.ENDPOINTS_SECURITY_GROUP_ID. Wired inputs: names.VPC_ID (and, with
    interface endpoints, names.PRIVATE_SUBNET_IDS) from names.NETWORK. With interface endpoints
    (templates/endpoints.py) it also holds them, behind the names.ENDPOINTS_GROUP group.
    """
    interface = endpoints.interface(spec)
    template = new_template(
        spec,
        "security groups and the flows allowed between them" + (", VPC interface endpoints" if interface else ""),
    )
    vpc_id = parameter(template, names.VPC_ID, "VPC of the environment", "AWS::EC2::VPC::Id")
    inputs = {names.VPC_ID: FromStack(names.NETWORK, names.VPC_ID)}
    groups: dict[str, ec2.SecurityGroup] = {}
    if spec.load_balancer is not None:
        groups[names.LOAD_BALANCER_GROUP] = _load_balancer_group(template, spec, vpc_id)
    for name in sorted(spec.services):
        groups[group_name(name)] = _group(
            template,
            spec,
            vpc_id,
            group_name(name),
            f"ECS service {name}",
            egress_description=f"{name} egress: peers, AWS APIs, internet via NAT",
        )
    for name in sorted(name for name, service in spec.services.items() if service.public_ports):
        groups[names.nlb_group(name)] = _network_load_balancer_group(template, spec, vpc_id, name)
    for name in sorted(spec.jobs):
        groups[names.job_group(name)] = _group(
            template,
            spec,
            vpc_id,
            names.job_group(name),
            f"ECS job {name}",
            egress_description=f"job {name} egress: peers, AWS APIs, internet via NAT",
        )
    if spec.database is not None:
        groups[names.DATABASE_GROUP] = _group(
            template, spec, vpc_id, names.DATABASE_GROUP, "Aurora PostgreSQL (ingress from services only)"
        )
    if spec.cache is not None:
        groups[names.CACHE_GROUP] = _group(
            template, spec, vpc_id, names.CACHE_GROUP, "Redis (ingress from services only)"
        )
    if interface:
        groups[names.ENDPOINTS_GROUP] = _group(
            template, spec, vpc_id, names.ENDPOINTS_GROUP, "VPC interface endpoints (HTTPS from tasks only)"
        )
        subnets = parameter(
            template,
            names.PRIVATE_SUBNET_IDS,
            "Private subnets of the interface endpoints",
            "List<AWS::EC2::Subnet::Id>",
        )
        inputs[names.PRIVATE_SUBNET_IDS] = FromStack(names.NETWORK, names.PRIVATE_SUBNET_IDS)
        endpoints.add_interface(template, spec, vpc_id, subnets, groups[names.ENDPOINTS_GROUP])
    for flow in flows(spec):
        template.add_resource(
            ec2.SecurityGroupIngress(
                flow.logical_id,
                GroupId=Ref(groups[flow.target]),
                SourceSecurityGroupId=Ref(groups[flow.source]),
                IpProtocol=flow.protocol,
                FromPort=flow.port,
                ToPort=flow.port,
                Description=flow.why,
            )
        )
    for key, group in groups.items():
        output(template, names.security_group_id(key), GetAtt(group, "GroupId"), f"Security group {key}")
    return NestedStack(names.SECURITY, names.SECURITY_FILE, template, inputs)


def _group(
    template: Template, spec: EnvironmentSpec, vpc_id, key: str, what: str, egress_description: str | None = None
) -> ec2.SecurityGroup:
    """A group with no ingress (added as flows); stores get a loopback-only egress so they start no connection."""
    egress = (
        ec2.SecurityGroupRule(IpProtocol="-1", CidrIp="0.0.0.0/0", Description=egress_description)
        if egress_description
        else ec2.SecurityGroupRule(IpProtocol="-1", CidrIp="127.0.0.1/32", Description="No egress")
    )
    return template.add_resource(
        ec2.SecurityGroup(
            f"{key}SecurityGroup",
            GroupDescription=f"{spec.prefix} {what}",
            VpcId=Ref(vpc_id),
            SecurityGroupEgress=[egress],
            Tags=tags(spec, f"{spec.prefix}-{key.lower()}"),
        )
    )


def _load_balancer_group(template: Template, spec: EnvironmentSpec, vpc_id) -> ec2.SecurityGroup:
    tls = spec.load_balancer.tls
    ingress = [
        ec2.SecurityGroupRule(
            IpProtocol="tcp",
            FromPort=80,
            ToPort=80,
            CidrIp="0.0.0.0/0",
            Description="HTTP from the internet" + (", redirected to HTTPS" if tls else ""),
        )
    ]
    if tls:
        ingress.insert(
            0,
            ec2.SecurityGroupRule(
                IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="0.0.0.0/0", Description="HTTPS from the internet"
            ),
        )
    return template.add_resource(
        ec2.SecurityGroup(
            "LoadBalancerSecurityGroup",
            GroupDescription=f"{spec.prefix} public load balancer",
            VpcId=Ref(vpc_id),
            SecurityGroupIngress=ingress,
            SecurityGroupEgress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=0,
                    ToPort=65535,
                    CidrIp=spec.network.cidr,
                    Description="To targets inside the VPC",
                )
            ],
            Tags=tags(spec, f"{spec.prefix}-alb"),
        )
    )
