"""network.json: subnets per AZ, NAT toggle, routes, flow logs."""
from __future__ import annotations

import pytest

from .helpers import assert_has_resource, base_spec, compile_dict, resources


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
    assert associations["PrivateSubnet1RouteTableAssociation"]["Properties"]["RouteTableId"] == {"Ref": "PrivateRouteTable1"}
    assert associations["PrivateSubnet2RouteTableAssociation"]["Properties"]["RouteTableId"] == {"Ref": "PrivateRouteTable2"}
    assert resources(template, "AWS::EC2::NatGateway")["NatGateway2"]["Properties"]["SubnetId"] == {"Ref": "PublicSubnet2"}


def test_subnets_use_the_spec_cidrs_and_never_assign_public_ips():
    template = _network(availability_zones=2, public_subnets=["10.20.0.0/24", "10.20.1.0/24"],
                        private_subnets=["10.20.10.0/24", "10.20.11.0/24"])
    subnets = resources(template, "AWS::EC2::Subnet")
    assert {s["Properties"]["CidrBlock"] for s in subnets.values()} == {
        "10.20.0.0/24", "10.20.1.0/24", "10.20.10.0/24", "10.20.11.0/24"}
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())


def test_explicit_zones_are_a_parameter_default_not_hard_coded():
    template = _network(availability_zones=["eu-central-1a", "eu-central-1b"])
    assert template["Parameters"]["AvailabilityZones"]["Default"] == "eu-central-1a,eu-central-1b"
    assert resources(template, "AWS::EC2::Subnet")["PublicSubnet2"]["Properties"]["AvailabilityZone"] == {
        "Fn::Select": [1, {"Ref": "AvailabilityZones"}]}


def test_public_route_goes_to_the_internet_gateway_after_attachment():
    template = _network()
    route = resources(template, "AWS::EC2::Route")["PublicDefaultRoute"]
    assert route["Properties"]["GatewayId"] == {"Ref": "InternetGateway"}
    assert route["DependsOn"] == ["InternetGatewayAttachment"]


def test_flow_logs_capture_all_traffic_into_a_retained_group():
    template = _network(flow_log_retention_days=90)
    assert_has_resource(template, "AWS::EC2::FlowLog", {"TrafficType": "ALL", "ResourceId": {"Ref": "Vpc"}})
    group = resources(template, "AWS::Logs::LogGroup")["FlowLogGroup"]
    assert group["Properties"]["RetentionInDays"] == 90 and group["DeletionPolicy"] == "RetainExceptOnCreate"


def test_flow_logs_can_be_turned_off():
    assert not resources(_network(flow_logs=False), "AWS::EC2::FlowLog")


def test_outputs_for_the_other_stacks():
    assert set(_network()["Outputs"]) == {"VpcId", "VpcCidr", "PublicSubnetIds", "PrivateSubnetIds", "EnvironmentKeyArn"}
