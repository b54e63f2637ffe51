"""cluster.json: ECS cluster, capacity providers, EC2 capacity with IMDSv2, Cloud Map namespace."""
from __future__ import annotations

from .helpers import assert_has_resource, base_spec, compile_dict, only, resources

EC2 = {"ec2_capacity": {"instance_type": "t3.large", "min_size": 1, "max_size": 3, "desired_capacity": 2}}


def test_cluster_has_container_insights_and_fargate_providers():
    template = compile_dict(base_spec(cluster={"name": "main"}))["cluster.json"]
    assert_has_resource(template, "AWS::ECS::Cluster", {
        "ClusterName": "main", "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]})
    association = only(template, "AWS::ECS::ClusterCapacityProviderAssociations")["Properties"]
    assert association["CapacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert not resources(template, "AWS::AutoScaling::AutoScalingGroup")


def test_ec2_capacity_provider_uses_imdsv2_and_the_public_ami_parameter():
    template = compile_dict(base_spec(cluster=EC2))["cluster.json"]
    data = only(template, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    assert data["InstanceType"] == "t3.large"
    assert data["ImageId"] == {"Ref": "EcsAmiId"}
    assert template["Parameters"]["EcsAmiId"] == {
        "Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
        "Default": "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
        "Description": template["Parameters"]["EcsAmiId"]["Description"]}
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True


def test_ec2_capacity_joins_the_cluster_and_is_managed():
    template = compile_dict(base_spec(cluster=EC2))["cluster.json"]
    group = only(template, "AWS::AutoScaling::AutoScalingGroup")["Properties"]
    assert (group["MinSize"], group["MaxSize"], group["DesiredCapacity"]) == ("1", "3", "2")
    assert group["NewInstancesProtectedFromScaleIn"] is True
    assert group["VPCZoneIdentifier"] == {"Ref": "PrivateSubnetIds"}
    assert_has_resource(template, "AWS::ECS::CapacityProvider", {"AutoScalingGroupProvider": {
        "AutoScalingGroupArn": {"Ref": "AutoScalingGroup"}, "ManagedTerminationProtection": "ENABLED",
        "ManagedScaling": {"Status": "ENABLED"}}})
    association = only(template, "AWS::ECS::ClusterCapacityProviderAssociations")["Properties"]
    assert {"Ref": "Ec2CapacityProvider"} in association["CapacityProviders"]
    user_data = only(template, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]["UserData"]
    assert "ECS_CLUSTER=${Cluster}" in user_data["Fn::Base64"]["Fn::Sub"][0]


def test_namespace_is_private_dns_in_the_vpc():
    template = compile_dict(base_spec())["cluster.json"]
    assert_has_resource(template, "AWS::ServiceDiscovery::PrivateDnsNamespace",
                        {"Name": "acme-dev.local", "Vpc": {"Ref": "VpcId"}})
