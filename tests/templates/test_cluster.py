"""cluster.json: ECS cluster, capacity providers, EC2 capacity with IMDSv2, Cloud Map namespace."""

from __future__ import annotations

from ..helpers import assert_has_resource, base_spec, compile_dict, only, resources

EC2 = {"ec2_capacity": {"instance_type": "t3.large", "min_size": 1, "max_size": 3, "desired_capacity": 2}}


def _cluster(**extra) -> dict:
    return compile_dict(base_spec(**extra))["cluster.json"]


def test_cluster_is_named_and_has_container_insights():
    # GIVEN a spec with a cluster named "main"
    # WHEN the environment is compiled
    template = _cluster(cluster={"name": "main"})
    # THEN the ECS cluster is called "main" with Container Insights enabled
    assert_has_resource(
        template,
        "AWS::ECS::Cluster",
        {"ClusterName": "main", "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]},
    )


def test_cluster_without_ec2_capacity_uses_fargate_and_fargate_spot():
    # GIVEN a cluster named "main" with no EC2 capacity
    # WHEN the environment is compiled
    template = _cluster(cluster={"name": "main"})
    # THEN the one capacity provider association lists exactly FARGATE and FARGATE_SPOT
    association = only(template, "AWS::ECS::ClusterCapacityProviderAssociations")["Properties"]
    assert association["CapacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    # AND there is no Auto Scaling group
    assert not resources(template, "AWS::AutoScaling::AutoScalingGroup")


def test_ec2_launch_template_requires_imdsv2_with_hop_limit_1():
    # GIVEN EC2 capacity of t3.large instances (min 1, max 3, desired 2)
    # WHEN the environment is compiled
    template = _cluster(cluster=EC2)
    # THEN the launch template requires IMDSv2 tokens and allows a single metadata hop
    data = only(template, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1


def test_ec2_launch_template_uses_the_spec_instance_type():
    # GIVEN EC2 capacity of t3.large instances
    # WHEN the environment is compiled
    template = _cluster(cluster=EC2)
    # THEN the launch template launches t3.large
    data = only(template, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert data["InstanceType"] == "t3.large"


def test_ec2_launch_template_takes_the_ami_from_the_public_ecs_ssm_parameter():
    # GIVEN EC2 capacity
    # WHEN the environment is compiled
    template = _cluster(cluster=EC2)
    # THEN the launch template's image is the EcsAmiId parameter
    data = only(template, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert data["ImageId"] == {"Ref": "EcsAmiId"}
    # AND EcsAmiId is an SSM image-id parameter defaulting to AWS's recommended ECS Amazon Linux 2023 AMI path
    assert template["Parameters"]["EcsAmiId"] == {
        "Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
        "Default": "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
        "Description": template["Parameters"]["EcsAmiId"]["Description"],
    }


def test_ec2_launch_template_encrypts_the_root_volume():
    # GIVEN EC2 capacity
    # WHEN the environment is compiled
    template = _cluster(cluster=EC2)
    # THEN the first block device's EBS volume is encrypted
    data = only(template, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True


def test_ec2_auto_scaling_group_has_the_spec_sizes_in_private_subnets():
    # GIVEN EC2 capacity with min 1, max 3, desired 2
    # WHEN the environment is compiled
    template = _cluster(cluster=EC2)
    # THEN the one Auto Scaling group has min "1", max "3", desired "2"
    group = only(template, "AWS::AutoScaling::AutoScalingGroup")["Properties"]
    assert (group["MinSize"], group["MaxSize"], group["DesiredCapacity"]) == ("1", "3", "2")
    # AND it places instances in the private subnets
    assert group["VPCZoneIdentifier"] == {"Ref": "PrivateSubnetIds"}


def test_ec2_capacity_provider_manages_scaling_and_termination_of_the_group():
    # GIVEN EC2 capacity
    # WHEN the environment is compiled
    template = _cluster(cluster=EC2)
    # THEN new instances are protected from scale-in (so ECS decides which ones to drain)
    group = only(template, "AWS::AutoScaling::AutoScalingGroup")["Properties"]
    assert group["NewInstancesProtectedFromScaleIn"] is True
    # AND a capacity provider on that group has managed termination protection and managed scaling enabled
    assert_has_resource(
        template,
        "AWS::ECS::CapacityProvider",
        {
            "AutoScalingGroupProvider": {
                "AutoScalingGroupArn": {"Ref": "AutoScalingGroup"},
                "ManagedTerminationProtection": "ENABLED",
                "ManagedScaling": {"Status": "ENABLED"},
            }
        },
    )


def test_ec2_capacity_provider_is_associated_with_the_cluster():
    # GIVEN EC2 capacity
    # WHEN the environment is compiled
    template = _cluster(cluster=EC2)
    # THEN the cluster's capacity provider association includes the EC2 capacity provider
    association = only(template, "AWS::ECS::ClusterCapacityProviderAssociations")["Properties"]
    assert {"Ref": "Ec2CapacityProvider"} in association["CapacityProviders"]


def test_ec2_instances_join_the_cluster_through_user_data():
    # GIVEN EC2 capacity
    # WHEN the environment is compiled
    template = _cluster(cluster=EC2)
    # THEN the launch template's user data sets ECS_CLUSTER to the cluster
    user_data = only(template, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]["UserData"]
    assert "ECS_CLUSTER=${Cluster}" in user_data["Fn::Base64"]["Fn::Sub"][0]


def test_namespace_is_private_dns_in_the_vpc():
    # GIVEN the base spec (system acme, environment dev)
    # WHEN the environment is compiled
    template = _cluster()
    # THEN a private DNS namespace acme-dev.local is created in the VPC
    assert_has_resource(
        template, "AWS::ServiceDiscovery::PrivateDnsNamespace", {"Name": "acme-dev.local", "Vpc": {"Ref": "VpcId"}}
    )
