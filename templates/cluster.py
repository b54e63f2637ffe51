"""The ECS cluster, its capacity providers (Fargate, Fargate Spot, EC2 Auto Scaling group) and Cloud Map."""

from __future__ import annotations

from troposphere import Base64, GetAtt, Ref, Sub, Template, autoscaling, ec2, ecs, iam, servicediscovery

from . import endpoints, names, security
from . import iam as policies
from .base import FromStack, NestedStack, OwnDefault, new_template, output, parameter, tags
from .spec import EnvironmentSpec

EC2_CAPACITY_PROVIDER = "Ec2CapacityProvider"


def build(spec: EnvironmentSpec) -> NestedStack:
    """The cluster stack (names.CLUSTER, names.CLUSTER_FILE).

    Reads spec.cluster_name, spec.cluster.container_insights, spec.cluster.ec2_capacity (.instance_type,
    .ami, .min_size, .max_size, .desired_capacity, .root_volume_gib, .target_capacity_percent),
    spec.namespace, spec.prefix.
    Exports names.CLUSTER_NAME, names.CLUSTER_ARN, names.NAMESPACE_ID, names.NAMESPACE_NAME, and
    names.EC2_CAPACITY_PROVIDER_NAME with EC2 capacity. Wired inputs: names.VPC_ID (and, with EC2 capacity,
    names.PRIVATE_SUBNET_IDS) from names.NETWORK; names.ECS_AMI_ID at its own default; with EC2 capacity and
    interface endpoints, names.ENDPOINTS_SECURITY_GROUP_ID from names.SECURITY (the instances' flow to them).
    """
    template = new_template(spec, "ECS cluster, capacity providers, Cloud Map namespace")
    vpc_id = parameter(template, names.VPC_ID, "VPC of the environment", "AWS::EC2::VPC::Id")
    cluster = template.add_resource(
        ecs.Cluster(
            "Cluster",
            ClusterName=spec.cluster_name,
            ClusterSettings=[
                ecs.ClusterSetting(
                    Name="containerInsights", Value="enabled" if spec.cluster.container_insights else "disabled"
                )
            ],
            Tags=tags(spec, spec.cluster_name),
        )
    )
    providers = ["FARGATE", "FARGATE_SPOT"]
    inputs = {names.VPC_ID: FromStack(names.NETWORK, names.VPC_ID)}
    if spec.cluster.ec2_capacity is not None:
        provider = _add_ec2_capacity(template, spec, cluster)
        providers.append(Ref(provider))
        inputs[names.PRIVATE_SUBNET_IDS] = FromStack(names.NETWORK, names.PRIVATE_SUBNET_IDS)
        inputs[names.ECS_AMI_ID] = OwnDefault()  # the public SSM parameter's name: CloudFormation resolves it on deploy
        if endpoints.interface(spec):
            inputs[names.ENDPOINTS_SECURITY_GROUP_ID] = FromStack(names.SECURITY, names.ENDPOINTS_SECURITY_GROUP_ID)
        output(
            template,
            names.EC2_CAPACITY_PROVIDER_NAME,
            Ref(provider),
            "EC2 capacity provider for services with compute: ec2",
        )
    template.add_resource(
        ecs.ClusterCapacityProviderAssociations(
            "CapacityProviderAssociations",
            Cluster=Ref(cluster),
            CapacityProviders=providers,
            DefaultCapacityProviderStrategy=[
                ecs.CapacityProviderStrategy(CapacityProvider="FARGATE", Weight=1, Base=0)
            ],
        )
    )
    namespace = template.add_resource(
        servicediscovery.PrivateDnsNamespace(
            "ServiceDiscoveryNamespace",
            Name=spec.namespace,
            Vpc=Ref(vpc_id),
            Description=f"Private DNS names of the {spec.prefix} services",
            Tags=tags(spec),
        )
    )
    output(template, names.CLUSTER_NAME, Ref(cluster), "ECS cluster name")
    output(template, names.CLUSTER_ARN, GetAtt(cluster, "Arn"), "ECS cluster ARN")
    output(template, names.NAMESPACE_ID, GetAtt(namespace, "Id"), "Cloud Map namespace ID")
    output(
        template,
        names.NAMESPACE_NAME,
        spec.namespace,
        "Cloud Map namespace (services resolve as <service>.<namespace>)",
    )
    return NestedStack(names.CLUSTER, names.CLUSTER_FILE, template, inputs)


def _add_ec2_capacity(template: Template, spec: EnvironmentSpec, cluster: ecs.Cluster) -> ecs.CapacityProvider:
    """ASG of ECS-optimized instances behind a managed-scaling capacity provider. IMDSv2 only, hop limit 1,
    so containers cannot borrow the instance role; tasks use awsvpc and their own task roles."""
    capacity = spec.cluster.ec2_capacity
    subnets = parameter(
        template, names.PRIVATE_SUBNET_IDS, "Private subnets for the container instances", "List<AWS::EC2::Subnet::Id>"
    )
    ami = parameter(
        template,
        names.ECS_AMI_ID,
        "ECS-optimized AMI, resolved from the public SSM parameter at deploy time",
        "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
        Default=capacity.ami,
    )
    vpc_id = template.parameters[names.VPC_ID]
    security_group = template.add_resource(
        ec2.SecurityGroup(
            "InstanceSecurityGroup",
            GroupDescription=f"{spec.prefix} ECS container instances (no inbound)",
            VpcId=Ref(vpc_id),
            SecurityGroupEgress=[
                ec2.SecurityGroupRule(
                    IpProtocol="-1", CidrIp="0.0.0.0/0", Description="Instance egress: ECS agent, image pulls, SSM"
                )
            ],
            Tags=tags(spec, f"{spec.prefix}-ecs-instances"),
        )
    )
    if endpoints.interface(spec):
        endpoint_group = parameter(
            template,
            names.ENDPOINTS_SECURITY_GROUP_ID,
            "Security group of the VPC interface endpoints",
            "AWS::EC2::SecurityGroup::Id",
        )
        security.instance_to_endpoints(template, endpoint_group, security_group)
    role = template.add_resource(
        iam.Role(
            "InstanceRole",
            AssumeRolePolicyDocument=policies.assume_role("ec2.amazonaws.com", source_account=False),
            ManagedPolicyArns=[
                Sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"),
                Sub("arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"),
            ],
            Tags=tags(spec),
        )
    )
    profile = template.add_resource(iam.InstanceProfile("InstanceProfile", Roles=[Ref(role)]))
    user_data = Base64(
        Sub(
            "#!/bin/bash\n"
            "cat >> /etc/ecs/ecs.config <<'EOF'\n"
            "ECS_CLUSTER=${Cluster}\n"
            "ECS_ENABLE_TASK_IAM_ROLE=true\n"
            "ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE=true\n"
            "ECS_CONTAINER_INSTANCE_PROPAGATE_TAGS_FROM=ec2_instance\n"
            "EOF\n",
            Cluster=Ref(cluster),
        )
    )
    launch_template = template.add_resource(
        ec2.LaunchTemplate(
            "LaunchTemplate",
            LaunchTemplateName=f"{spec.prefix}-ecs",
            LaunchTemplateData=ec2.LaunchTemplateData(
                ImageId=Ref(ami),
                InstanceType=capacity.instance_type,
                IamInstanceProfile=ec2.IamInstanceProfile(Arn=GetAtt(profile, "Arn")),
                SecurityGroupIds=[Ref(security_group)],
                MetadataOptions=ec2.MetadataOptions(
                    HttpTokens="required", HttpEndpoint="enabled", HttpPutResponseHopLimit=1
                ),
                Monitoring=ec2.Monitoring(Enabled=True),
                EbsOptimized=True,
                BlockDeviceMappings=[
                    ec2.LaunchTemplateBlockDeviceMapping(
                        DeviceName="/dev/xvda",
                        Ebs=ec2.EBSBlockDevice(
                            VolumeSize=capacity.root_volume_gib,
                            VolumeType="gp3",
                            Encrypted=True,
                            DeleteOnTermination=True,
                        ),
                    )
                ],
                UserData=user_data,
                TagSpecifications=[
                    ec2.TagSpecifications(ResourceType="instance", Tags=tags(spec, f"{spec.prefix}-ecs-instance"))
                ],
            ),
        )
    )
    group = template.add_resource(
        autoscaling.AutoScalingGroup(
            "AutoScalingGroup",
            VPCZoneIdentifier=Ref(subnets),
            LaunchTemplate=autoscaling.LaunchTemplateSpecification(
                LaunchTemplateId=Ref(launch_template), Version=GetAtt(launch_template, "LatestVersionNumber")
            ),
            MinSize=str(capacity.min_size),
            MaxSize=str(capacity.max_size),
            DesiredCapacity=str(capacity.desired_capacity),
            NewInstancesProtectedFromScaleIn=True,
            HealthCheckType="EC2",
            HealthCheckGracePeriod=120,
            Tags=[
                autoscaling.Tag(key, value, True)
                for key, value in sorted(
                    {
                        **{t["Key"]: t["Value"] for t in tags(spec, f"{spec.prefix}-ecs-instance").to_dict()},
                        "AmazonECSManaged": "",
                    }.items()
                )
            ],
        )
    )
    return template.add_resource(
        ecs.CapacityProvider(
            EC2_CAPACITY_PROVIDER,
            AutoScalingGroupProvider=ecs.AutoScalingGroupProvider(
                AutoScalingGroupArn=Ref(group),
                ManagedScaling=ecs.ManagedScaling(Status="ENABLED", TargetCapacity=capacity.target_capacity_percent),
                ManagedTerminationProtection="ENABLED",
            ),
            **({"Name": spec.capacity_provider_name} if spec.capacity_provider_name else {}),
            Tags=tags(spec),
        )
    )
