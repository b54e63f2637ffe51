"""The VPC: public and private subnets per AZ, internet gateway, NAT (none|single|per-az), flow logs, and a
default security group that allows nothing."""

from __future__ import annotations

import hashlib

from troposphere import GetAtt, GetAZs, Join, Ref, Select, Template, awslambda, cloudformation, ec2, iam

from . import alarms, endpoints, keys, names
from . import iam as policies
from .base import NestedStack, OwnDefault, log_group, new_template, output, parameter, tags
from .spec import EnvironmentSpec

INTERNET_GATEWAY_ATTACHMENT = "InternetGatewayAttachment"


def nat_gateway_count(spec: EnvironmentSpec) -> int:
    """The one place the NAT toggle is resolved: none -> 0, single -> 1, per-az -> one per AZ."""
    return {"none": 0, "single": 1, "per-az": spec.network.az_count}[spec.network.nat]


def build(spec: EnvironmentSpec) -> NestedStack:
    """The network stack (names.NETWORK, names.NETWORK_FILE).

    Reads spec.network.cidr, .availability_zones, .az_count, .subnet_cidrs(), .nat, .vpc_name, .flow_logs,
    .flow_log_retention_days, .restrict_default_security_group, the gateway endpoints of .endpoints
    (endpoints.gateway); spec.prefix (and, as every stack,
    spec.system, spec.environment, spec.tags for tags).
    Exports names.VPC_ID, names.VPC_CIDR, names.PUBLIC_SUBNET_IDS, names.PRIVATE_SUBNET_IDS,
    names.ENVIRONMENT_KEY_ARN (keys.add), names.ALARM_TOPIC_ARN (alarms.add_topic: spec.alarms.email). Wired inputs: names.AVAILABILITY_ZONES (own default) when the
    spec lists the zones.
    """
    template = new_template(spec, "network (VPC, subnets, NAT, flow logs) and the environment KMS key")
    key = keys.add(template, spec)
    alarms.add_topic(template, spec, key)
    vpc = template.add_resource(
        ec2.VPC(
            "Vpc",
            CidrBlock=spec.network.cidr,
            EnableDnsHostnames=True,
            EnableDnsSupport=True,
            Tags=tags(spec, spec.network.vpc_name or f"{spec.prefix}-vpc"),
        )
    )
    public, private = _add_subnets(template, spec, vpc)
    _add_internet_gateway(template, spec, vpc, public)
    tables = _add_private_routes(template, spec, vpc, public, private)
    endpoints.add_gateway(template, spec, vpc, tables)
    if spec.network.flow_logs:
        _add_flow_logs(template, spec, vpc, key)
    if spec.network.restrict_default_security_group:
        _restrict_default_security_group(template, spec, vpc, key)

    output(template, names.VPC_ID, Ref(vpc), "VPC ID")
    output(template, names.VPC_CIDR, GetAtt(vpc, "CidrBlock"), "VPC IPv4 CIDR block")
    output(template, names.PUBLIC_SUBNET_IDS, Join(",", [Ref(s) for s in public]), "Public subnet IDs, comma-separated")
    output(
        template, names.PRIVATE_SUBNET_IDS, Join(",", [Ref(s) for s in private]), "Private subnet IDs, comma-separated"
    )
    inputs = {names.AVAILABILITY_ZONES: OwnDefault()} if names.AVAILABILITY_ZONES in template.parameters else {}
    return NestedStack(names.NETWORK, names.NETWORK_FILE, template, inputs)


def _availability_zone(template: Template, spec: EnvironmentSpec, index: int):
    """Explicit AZs become a parameter default (visible, overridable, never hard-coded in resources);
    a count picks the region's first AZs with Fn::GetAZs."""
    zones = spec.network.availability_zones
    if isinstance(zones, int):
        return Select(index, GetAZs(""))
    if names.AVAILABILITY_ZONES not in template.parameters:
        parameter(
            template,
            names.AVAILABILITY_ZONES,
            "Availability zones of the subnets, in order",
            "List<AWS::EC2::AvailabilityZone::Name>",
            Default=",".join(zones),
        )
    return Select(index, Ref(template.parameters[names.AVAILABILITY_ZONES]))


def _add_subnets(template: Template, spec: EnvironmentSpec, vpc: ec2.VPC):
    cidrs = spec.network.subnet_cidrs()
    created: dict[str, list[ec2.Subnet]] = {"public": [], "private": []}
    for kind in ("public", "private"):
        for index, cidr in enumerate(cidrs[f"{kind}_subnets"]):
            created[kind].append(
                template.add_resource(
                    ec2.Subnet(
                        f"{kind.title()}Subnet{index + 1}",
                        VpcId=Ref(vpc),
                        CidrBlock=str(cidr),
                        AvailabilityZone=_availability_zone(template, spec, index),
                        MapPublicIpOnLaunch=False,
                        Tags=tags(spec, f"{spec.prefix}-{kind}-{index + 1}", Tier=kind),
                    )
                )
            )
    return created["public"], created["private"]


def _add_internet_gateway(template: Template, spec: EnvironmentSpec, vpc, public):
    gateway = template.add_resource(ec2.InternetGateway("InternetGateway", Tags=tags(spec, f"{spec.prefix}-igw")))
    attachment = template.add_resource(
        ec2.VPCGatewayAttachment(INTERNET_GATEWAY_ATTACHMENT, VpcId=Ref(vpc), InternetGatewayId=Ref(gateway))
    )
    table = template.add_resource(
        ec2.RouteTable("PublicRouteTable", VpcId=Ref(vpc), Tags=tags(spec, f"{spec.prefix}-public"))
    )
    template.add_resource(
        ec2.Route(
            "PublicDefaultRoute",
            RouteTableId=Ref(table),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=Ref(gateway),
            DependsOn=[attachment.title],
        )
    )
    for index, subnet in enumerate(public):
        template.add_resource(
            ec2.SubnetRouteTableAssociation(
                f"PublicSubnet{index + 1}RouteTableAssociation", SubnetId=Ref(subnet), RouteTableId=Ref(table)
            )
        )


def _add_private_routes(template: Template, spec: EnvironmentSpec, vpc, public, private):
    """One route table per NAT gateway (or one with no default route when NAT is none)."""
    count = nat_gateway_count(spec)
    gateways = []
    for index in range(count):
        # both wait for the internet gateway's attachment: an Elastic IP for a VPC in the same template must
        # (AWS::EC2::EIP docs), and a NAT gateway created before it has no working route out
        eip = template.add_resource(
            ec2.EIP(
                f"NatEip{index + 1}",
                Domain="vpc",
                DependsOn=[INTERNET_GATEWAY_ATTACHMENT],
                Tags=tags(spec, f"{spec.prefix}-nat-{index + 1}"),
            )
        )
        gateways.append(
            template.add_resource(
                ec2.NatGateway(
                    f"NatGateway{index + 1}",
                    AllocationId=GetAtt(eip, "AllocationId"),
                    SubnetId=Ref(public[index]),
                    DependsOn=[INTERNET_GATEWAY_ATTACHMENT],
                    Tags=tags(spec, f"{spec.prefix}-nat-{index + 1}"),
                )
            )
        )
    tables = []
    for index in range(max(count, 1)):
        table = template.add_resource(
            ec2.RouteTable(
                f"PrivateRouteTable{index + 1}", VpcId=Ref(vpc), Tags=tags(spec, f"{spec.prefix}-private-{index + 1}")
            )
        )
        tables.append(table)
        if gateways:
            template.add_resource(
                ec2.Route(
                    f"PrivateDefaultRoute{index + 1}",
                    RouteTableId=Ref(table),
                    DestinationCidrBlock="0.0.0.0/0",
                    NatGatewayId=Ref(gateways[index]),
                )
            )
    for index, subnet in enumerate(private):
        template.add_resource(
            ec2.SubnetRouteTableAssociation(
                f"PrivateSubnet{index + 1}RouteTableAssociation",
                SubnetId=Ref(subnet),
                RouteTableId=Ref(tables[index % len(tables)]),
            )
        )
    return tables


def _add_flow_logs(template: Template, spec: EnvironmentSpec, vpc, key):
    group = log_group(
        template,
        spec,
        "FlowLogGroup",
        f"/vpc/{spec.prefix}/flow-logs",
        spec.network.flow_log_retention_days,
        GetAtt(key, "Arn"),
    )
    role = template.add_resource(
        iam.Role(
            "FlowLogRole",
            AssumeRolePolicyDocument=policies.assume_role("vpc-flow-logs.amazonaws.com"),
            Policies=[
                iam.Policy(PolicyName="write-flow-logs", PolicyDocument=policies.flow_logs_policy(GetAtt(group, "Arn")))
            ],
            Tags=tags(spec),
        )
    )
    template.add_resource(
        ec2.FlowLog(
            "FlowLog",
            ResourceId=Ref(vpc),
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogGroupName=Ref(group),
            DeliverLogsPermissionArn=GetAtt(role, "Arn"),
            Tags=tags(spec, f"{spec.prefix}-flow-logs"),
        )
    )


# ---- the VPC's default security group allows nothing ---------------------------------------------------
#
# CloudFormation cannot change the rules of the default security group it gets with every VPC (ingress from
# itself, egress to everywhere), and anything launched without a group lands in it. As AWS CDK's
# `restrictDefaultSecurityGroup` does, a custom resource revokes both rules once the VPC exists.


class RestrictDefaultSecurityGroup(cloudformation.CustomResource):
    resource_type = "Custom::RestrictDefaultSecurityGroup"
    props = {**cloudformation.CustomResource.props, "SecurityGroupId": (str, True)}


# The Lambda handler, inline (ZipFile). On Create and Update it revokes exactly the two rules every default
# group starts with; a rule already gone (InvalidPermission.NotFound) is fine. Delete changes nothing. It
# always answers CloudFormation (a cfnresponse-style PUT to the pre-signed ResponseURL), so a failure shows
# as the resource's reason instead of an hour-long wait.
RESTRICT_DEFAULT_SECURITY_GROUP_CODE = """\
import json
import urllib.request

import boto3
from botocore.exceptions import ClientError

DEFAULT_RULES = (
    ("revoke_security_group_ingress", lambda group: {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group}]}),
    ("revoke_security_group_egress", lambda group: {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}),
)


def restrict(group):
    ec2 = boto3.client("ec2")
    for operation, rule in DEFAULT_RULES:
        try:
            getattr(ec2, operation)(GroupId=group, IpPermissions=[rule(group)])
        except ClientError as error:
            if error.response["Error"]["Code"] != "InvalidPermission.NotFound":
                raise


def handler(event, context):
    status, reason = "SUCCESS", ""
    group = physical = event.get("PhysicalResourceId") or event.get("LogicalResourceId", "")
    try:
        if event["RequestType"] in ("Create", "Update"):
            group = physical = event["ResourceProperties"]["SecurityGroupId"]
            restrict(group)
    except Exception as error:
        print("failed:", repr(error))
        status, reason = "FAILED", str(error)[:1000] or type(error).__name__
    respond(event, context, status, reason, physical)


def respond(event, context, status, reason, physical):
    body = json.dumps({
        "Status": status, "Reason": reason or "see log stream " + getattr(context, "log_stream_name", ""),
        "PhysicalResourceId": physical, "StackId": event.get("StackId"), "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"), "Data": {},
    }).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"Content-Type": "", "Content-Length": str(len(body))})
    with urllib.request.urlopen(request, timeout=30) as response:
        print("answered", status, response.status)
"""


def restrict_function_name(spec: EnvironmentSpec) -> str:
    """`<system>-<env>-restrict-default-sg`; a prefix too long for Lambda's 64 characters is shortened and
    made unique with a hash of the whole prefix."""
    name = f"{spec.prefix}-restrict-default-sg"
    if len(name) <= 64:
        return name
    digest = hashlib.sha256(spec.prefix.encode()).hexdigest()[:8]
    return f"{spec.prefix[:33]}-{digest}-restrict-default-sg"


def _restrict_default_security_group(template: Template, spec: EnvironmentSpec, vpc, key):
    name = restrict_function_name(spec)
    group_id = GetAtt(vpc, "DefaultSecurityGroup")
    function_logs = log_group(
        template,
        spec,
        "RestrictDefaultSecurityGroupLogGroup",
        f"/aws/lambda/{name}",
        spec.network.flow_log_retention_days,
        GetAtt(key, "Arn"),
    )
    role = template.add_resource(
        iam.Role(
            "RestrictDefaultSecurityGroupRole",
            AssumeRolePolicyDocument=policies.assume_role("lambda.amazonaws.com"),
            Policies=[
                iam.Policy(
                    PolicyName="revoke-default-rules",
                    PolicyDocument=policies.restrict_default_security_group_policy(
                        vpc.title, GetAtt(function_logs, "Arn")
                    ),
                )
            ],
            Tags=tags(spec),
        )
    )
    function = template.add_resource(
        awslambda.Function(
            "RestrictDefaultSecurityGroupFunction",
            FunctionName=name,
            Description=f"{spec.prefix}: revokes the default rules of the VPC's default security group",
            Runtime="python3.12",
            Handler="index.handler",
            Timeout=60,
            MemorySize=128,
            Code=awslambda.Code(ZipFile=RESTRICT_DEFAULT_SECURITY_GROUP_CODE),
            Role=GetAtt(role, "Arn"),
            DependsOn=[function_logs.title],
            Tags=tags(spec),
        )
    )
    template.add_resource(
        RestrictDefaultSecurityGroup(
            "RestrictDefaultSecurityGroup",
            ServiceToken=GetAtt(function, "Arn"),
            ServiceTimeout=300,
            SecurityGroupId=group_id,
        )
    )
