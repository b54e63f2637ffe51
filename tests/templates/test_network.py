"""network.json: subnets per AZ, NAT toggle, routes, flow logs."""

from __future__ import annotations

import pytest

from ..helpers import assert_has_resource, base_spec, compile_dict, only, resources

SG_ARN = {
    "Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:security-group/${Vpc.DefaultSecurityGroup}"
}


def _network(**network):
    return compile_dict(base_spec(network={"cidr": "10.20.0.0/16", **network}))["network.json"]


@pytest.mark.parametrize("nat, gateways, tables", [("none", 0, 1), ("single", 1, 1), ("per-az", 3, 3)])
def test_nat_toggle_decides_gateways_and_private_route_tables(nat, gateways, tables):
    # GIVEN three AZs WHEN nat is none/single/per-az THEN that many NAT gateways and private route tables
    template = _network(availability_zones=3, nat=nat)
    assert len(resources(template, "AWS::EC2::NatGateway")) == gateways
    private_tables = [key for key in resources(template, "AWS::EC2::RouteTable") if key.startswith("Private")]
    assert len(private_tables) == tables
    nat_routes = [r for r in resources(template, "AWS::EC2::Route").values() if "NatGatewayId" in r["Properties"]]
    assert len(nat_routes) == gateways


def test_per_az_routes_each_private_subnet_through_its_own_nat():
    template = _network(availability_zones=2, nat="per-az")
    associations = resources(template, "AWS::EC2::SubnetRouteTableAssociation")
    assert associations["PrivateSubnet1RouteTableAssociation"]["Properties"]["RouteTableId"] == {
        "Ref": "PrivateRouteTable1"
    }
    assert associations["PrivateSubnet2RouteTableAssociation"]["Properties"]["RouteTableId"] == {
        "Ref": "PrivateRouteTable2"
    }
    assert resources(template, "AWS::EC2::NatGateway")["NatGateway2"]["Properties"]["SubnetId"] == {
        "Ref": "PublicSubnet2"
    }


def test_subnets_use_the_spec_cidrs_and_never_assign_public_ips():
    template = _network(
        availability_zones=2,
        public_subnets=["10.20.0.0/24", "10.20.1.0/24"],
        private_subnets=["10.20.10.0/24", "10.20.11.0/24"],
    )
    subnets = resources(template, "AWS::EC2::Subnet")
    assert {s["Properties"]["CidrBlock"] for s in subnets.values()} == {
        "10.20.0.0/24",
        "10.20.1.0/24",
        "10.20.10.0/24",
        "10.20.11.0/24",
    }
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())


def test_explicit_zones_are_a_parameter_default_not_hard_coded():
    template = _network(availability_zones=["eu-central-1a", "eu-central-1b"])
    assert template["Parameters"]["AvailabilityZones"]["Default"] == "eu-central-1a,eu-central-1b"
    assert resources(template, "AWS::EC2::Subnet")["PublicSubnet2"]["Properties"]["AvailabilityZone"] == {
        "Fn::Select": [1, {"Ref": "AvailabilityZones"}]
    }


def test_public_route_goes_to_the_internet_gateway_after_attachment():
    template = _network()
    route = resources(template, "AWS::EC2::Route")["PublicDefaultRoute"]
    assert route["Properties"]["GatewayId"] == {"Ref": "InternetGateway"}
    assert route["DependsOn"] == ["InternetGatewayAttachment"]


@pytest.mark.parametrize("nat", ["single", "per-az"])
def test_nat_gateways_and_their_addresses_wait_for_the_internet_gateway(nat):
    # GIVEN NAT gateways WHEN the network is built THEN each one and its Elastic IP depend on the IGW attachment
    template = _network(availability_zones=2, nat=nat)
    for type_ in ("AWS::EC2::NatGateway", "AWS::EC2::EIP"):
        found = resources(template, type_)
        assert found and all(r["DependsOn"] == ["InternetGatewayAttachment"] for r in found.values()), found


def test_vpc_name_tag_defaults_to_the_prefix_and_can_be_set():
    def name(template):
        return {t["Key"]: t["Value"] for t in only(template, "AWS::EC2::VPC")["Properties"]["Tags"]}["Name"]

    assert name(_network()) == "acme-dev-vpc"
    assert name(_network(vpc_name="acme-backend-dev")) == "acme-backend-dev"


def test_flow_logs_capture_all_traffic_into_a_retained_group():
    template = _network(flow_log_retention_days=90)
    assert_has_resource(template, "AWS::EC2::FlowLog", {"TrafficType": "ALL", "ResourceId": {"Ref": "Vpc"}})
    group = resources(template, "AWS::Logs::LogGroup")["FlowLogGroup"]
    assert group["Properties"]["RetentionInDays"] == 90 and group["DeletionPolicy"] == "RetainExceptOnCreate"


def test_flow_logs_can_be_turned_off():
    assert not resources(_network(flow_logs=False), "AWS::EC2::FlowLog")


def test_outputs_for_the_other_stacks():
    assert set(_network()["Outputs"]) == {
        "VpcId",
        "VpcCidr",
        "PublicSubnetIds",
        "PrivateSubnetIds",
        "EnvironmentKeyArn",
        "AlarmTopicArn",
    }


# ---- the default security group allows nothing ----------------------------------------------------------


def test_a_custom_resource_restricts_the_vpcs_default_security_group():
    # GIVEN a spec that does not mention the switch (on by default) WHEN the network is built
    template = _network()
    # THEN one custom resource, backed by the function, targets the VPC's own default group
    restrict = only(template, "Custom::RestrictDefaultSecurityGroup")["Properties"]
    assert restrict["SecurityGroupId"] == {"Fn::GetAtt": ["Vpc", "DefaultSecurityGroup"]}
    assert restrict["ServiceToken"] == {"Fn::GetAtt": ["RestrictDefaultSecurityGroupFunction", "Arn"]}


def test_the_function_is_inline_python_with_a_short_timeout_and_its_own_encrypted_log_group():
    # GIVEN the default network WHEN built
    template = _network(flow_log_retention_days=90)
    function = only(template, "AWS::Lambda::Function")
    properties = function["Properties"]
    # THEN the handler is inline Python 3.12 that revokes both default rules and answers CloudFormation
    assert properties["Runtime"] == "python3.12" and properties["Handler"] == "index.handler"
    assert properties["Timeout"] <= 60 and properties["FunctionName"] == "acme-dev-restrict-default-sg"
    code = properties["Code"]["ZipFile"]
    for needed in (
        "revoke_security_group_ingress",
        "revoke_security_group_egress",
        "0.0.0.0/0",
        "InvalidPermission.NotFound",
        "ResponseURL",
        'method="PUT"',
    ):
        assert needed in code
    # AND its log group is /aws/lambda/<function name>, KMS-encrypted, retained, created before it
    group = resources(template, "AWS::Logs::LogGroup")["RestrictDefaultSecurityGroupLogGroup"]
    assert group["Properties"]["LogGroupName"] == "/aws/lambda/acme-dev-restrict-default-sg"
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["EnvironmentKey", "Arn"]}
    assert group["Properties"]["RetentionInDays"] == 90
    assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    assert function["DependsOn"] == ["RestrictDefaultSecurityGroupLogGroup"]


def test_the_handler_code_compiles_and_fits_inline():
    # GIVEN the inline handler THEN it is valid Python within CloudFormation's 4096-byte ZipFile limit
    from templates.network import RESTRICT_DEFAULT_SECURITY_GROUP_CODE as code

    compile(code, "index.py", "exec")
    assert len(code.encode()) <= 4096


def test_the_functions_role_may_only_revoke_rules_of_that_group_and_write_its_log_group():
    # GIVEN the default network WHEN built
    template = _network()
    role = resources(template, "AWS::IAM::Role")["RestrictDefaultSecurityGroupRole"]["Properties"]
    # THEN Lambda (of this account) assumes it, and its one policy has exactly these statements
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert (
        trust["Principal"] == {"Service": ["lambda.amazonaws.com"]}
        and "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    )
    assert "ManagedPolicyArns" not in role
    (policy,) = role["Policies"]
    statements = [(s["Effect"], s["Action"], s["Resource"]) for s in policy["PolicyDocument"]["Statement"]]
    assert statements == [
        ("Allow", ["ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"], [SG_ARN]),
        (
            "Allow",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [{"Fn::GetAtt": ["RestrictDefaultSecurityGroupLogGroup", "Arn"]}],
        ),
    ]


def test_a_long_prefix_still_gives_a_valid_unique_function_name():
    # GIVEN system and environment names at their maximum length
    from templates.network import restrict_function_name
    from templates.spec import parse

    def name(system, environment):
        return restrict_function_name(parse(base_spec(system=system, environment=environment)))

    long_a, long_b = name("a" * 32, "b" * 31 + "c"), name("a" * 32, "b" * 31 + "d")
    # THEN the names fit Lambda's 64 characters and still differ
    assert len(long_a) <= 64 and len(long_b) <= 64 and long_a != long_b


def test_switching_it_off_removes_the_custom_resource_function_role_and_log_group():
    # GIVEN network.restrict_default_security_group: false WHEN built
    template = _network(restrict_default_security_group=False)
    # THEN nothing of it is left
    assert not resources(template, "Custom::RestrictDefaultSecurityGroup")
    assert not resources(template, "AWS::Lambda::Function")
    assert not any(key.startswith("RestrictDefaultSecurityGroup") for key in template["Resources"])


@pytest.mark.parametrize("nat", ["none", "single", "per-az"])
def test_flow_logs_capture_all_traffic(nat):
    # GIVEN a network (any NAT layout) with flow logs on by default
    # WHEN it is built
    flow_log = only(_network(availability_zones=2, nat=nat), "AWS::EC2::FlowLog")["Properties"]
    # THEN the one flow log records ALL traffic (accepted and rejected), for the whole VPC
    assert flow_log["TrafficType"] == "ALL"
    assert (flow_log["ResourceType"], flow_log["ResourceId"]) == ("VPC", {"Ref": "Vpc"})
