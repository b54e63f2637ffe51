"""The VPC: public and private subnets per AZ, internet gateway, NAT (none|single|per-az), flow logs."""
from __future__ import annotations

from troposphere import GetAtt, GetAZs, Join, Ref, Select, Template, ec2, iam, logs

from . import iam as policies, keys
from .base import RETAIN, NestedStack, new_template, output, parameter, tags
from .spec import EnvironmentSpec


def nat_gateway_count(spec: EnvironmentSpec) -> int:
    """The one place the NAT toggle is resolved: none -> 0, single -> 1, per-az -> one per AZ."""
    return {"none": 0, "single": 1, "per-az": spec.network.az_count}[spec.network.nat]


def build(spec: EnvironmentSpec) -> NestedStack:
    template = new_template(spec, "network (VPC, subnets, NAT, flow logs) and the environment KMS key")
    key = keys.add(template, spec)
    vpc = template.add_resource(ec2.VPC(
        "Vpc", CidrBlock=spec.network.cidr, EnableDnsHostnames=True, EnableDnsSupport=True,
        Tags=tags(spec, f"{spec.prefix}-vpc"),
    ))
    public, private = _add_subnets(template, spec, vpc)
    _add_internet_gateway(template, spec, vpc, public)
    _add_private_routes(template, spec, vpc, public, private)
    if spec.network.flow_logs:
        _add_flow_logs(template, spec, vpc, key)

    output(template, "VpcId", Ref(vpc), "VPC ID")
    output(template, "VpcCidr", GetAtt(vpc, "CidrBlock"), "VPC IPv4 CIDR block")
    output(template, "PublicSubnetIds", Join(",", [Ref(s) for s in public]), "Public subnet IDs, comma-separated")
    output(template, "PrivateSubnetIds", Join(",", [Ref(s) for s in private]), "Private subnet IDs, comma-separated")
    return NestedStack("Network", "network.json", template)


def _availability_zone(template: Template, spec: EnvironmentSpec, index: int):
    """Explicit AZs become a parameter default (visible, overridable, never hard-coded in resources);
    a count picks the region's first AZs with Fn::GetAZs."""
    zones = spec.network.availability_zones
    if isinstance(zones, int):
        return Select(index, GetAZs(""))
    if "AvailabilityZones" not in template.parameters:
        parameter(template, "AvailabilityZones", "Availability zones of the subnets, in order",
                  "List<AWS::EC2::AvailabilityZone::Name>", Default=",".join(zones))
    return Select(index, Ref(template.parameters["AvailabilityZones"]))


def _add_subnets(template: Template, spec: EnvironmentSpec, vpc: ec2.VPC):
    cidrs = spec.network.subnet_cidrs()
    created: dict[str, list[ec2.Subnet]] = {"public": [], "private": []}
    for kind in ("public", "private"):
        for index, cidr in enumerate(cidrs[f"{kind}_subnets"]):
            created[kind].append(template.add_resource(ec2.Subnet(
                f"{kind.title()}Subnet{index + 1}",
                VpcId=Ref(vpc), CidrBlock=str(cidr), AvailabilityZone=_availability_zone(template, spec, index),
                MapPublicIpOnLaunch=False,
                Tags=tags(spec, f"{spec.prefix}-{kind}-{index + 1}", Tier=kind),
            )))
    return created["public"], created["private"]


def _add_internet_gateway(template: Template, spec: EnvironmentSpec, vpc, public):
    gateway = template.add_resource(ec2.InternetGateway("InternetGateway", Tags=tags(spec, f"{spec.prefix}-igw")))
    attachment = template.add_resource(ec2.VPCGatewayAttachment(
        "InternetGatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(gateway)))
    table = template.add_resource(ec2.RouteTable("PublicRouteTable", VpcId=Ref(vpc), Tags=tags(spec, f"{spec.prefix}-public")))
    template.add_resource(ec2.Route(
        "PublicDefaultRoute", RouteTableId=Ref(table), DestinationCidrBlock="0.0.0.0/0",
        GatewayId=Ref(gateway), DependsOn=[attachment.title],
    ))
    for index, subnet in enumerate(public):
        template.add_resource(ec2.SubnetRouteTableAssociation(
            f"PublicSubnet{index + 1}RouteTableAssociation", SubnetId=Ref(subnet), RouteTableId=Ref(table)))


def _add_private_routes(template: Template, spec: EnvironmentSpec, vpc, public, private):
    """One route table per NAT gateway (or one with no default route when NAT is none)."""
    count = nat_gateway_count(spec)
    gateways = []
    for index in range(count):
        eip = template.add_resource(ec2.EIP(
            f"NatEip{index + 1}", Domain="vpc", Tags=tags(spec, f"{spec.prefix}-nat-{index + 1}")))
        gateways.append(template.add_resource(ec2.NatGateway(
            f"NatGateway{index + 1}", AllocationId=GetAtt(eip, "AllocationId"), SubnetId=Ref(public[index]),
            Tags=tags(spec, f"{spec.prefix}-nat-{index + 1}"),
        )))
    tables = []
    for index in range(max(count, 1)):
        table = template.add_resource(ec2.RouteTable(
            f"PrivateRouteTable{index + 1}", VpcId=Ref(vpc), Tags=tags(spec, f"{spec.prefix}-private-{index + 1}")))
        tables.append(table)
        if gateways:
            template.add_resource(ec2.Route(
                f"PrivateDefaultRoute{index + 1}", RouteTableId=Ref(table), DestinationCidrBlock="0.0.0.0/0",
                NatGatewayId=Ref(gateways[index]),
            ))
    for index, subnet in enumerate(private):
        template.add_resource(ec2.SubnetRouteTableAssociation(
            f"PrivateSubnet{index + 1}RouteTableAssociation", SubnetId=Ref(subnet),
            RouteTableId=Ref(tables[index % len(tables)]),
        ))


def _add_flow_logs(template: Template, spec: EnvironmentSpec, vpc, key):
    group = template.add_resource(logs.LogGroup(
        "FlowLogGroup", LogGroupName=f"/vpc/{spec.prefix}/flow-logs",
        RetentionInDays=spec.network.flow_log_retention_days, KmsKeyId=GetAtt(key, "Arn"),
        DeletionPolicy=RETAIN, UpdateReplacePolicy="Retain", Tags=tags(spec),
    ))
    role = template.add_resource(iam.Role(
        "FlowLogRole",
        AssumeRolePolicyDocument=policies.assume_role("vpc-flow-logs.amazonaws.com"),
        Policies=[iam.Policy(PolicyName="write-flow-logs", PolicyDocument=policies.flow_logs_policy(GetAtt(group, "Arn")))],
        Tags=tags(spec),
    ))
    template.add_resource(ec2.FlowLog(
        "FlowLog", ResourceId=Ref(vpc), ResourceType="VPC", TrafficType="ALL",
        LogDestinationType="cloud-watch-logs", LogGroupName=Ref(group), DeliverLogsPermissionArn=GetAtt(role, "Arn"),
        Tags=tags(spec, f"{spec.prefix}-flow-logs"),
    ))
