"""Every box and arrow of the two seed documents exists in the emitted templates, with the seeds' values."""

from __future__ import annotations

import pytest

from ..helpers import assert_has_resource, load, only, resources


@pytest.fixture(scope="module")
def vanity(built):
    return lambda name: load(built / "vanity-market" / "preprod" / name)


@pytest.fixture(scope="module", params=["dev", "production"])
def b2w(request, built):
    env = request.param
    return env, (lambda name: load(built / "bet2wealth" / env / name))


def _container(template):
    return only(template, "AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"][0]


# ---- vanity-market preprod -------------------------------------------------------------------------


def test_vanity_vpc_public_private_subnets_and_one_nat(vanity):
    network = vanity("network.json")
    assert only(network, "AWS::EC2::VPC")["Properties"]["CidrBlock"] == "10.11.0.0/16"
    assert len(resources(network, "AWS::EC2::NatGateway")) == 1
    subnets = resources(network, "AWS::EC2::Subnet")
    assert (
        len([k for k in subnets if k.startswith("Public")]) == 2
        and len([k for k in subnets if k.startswith("Private")]) == 2
    )
    assert only(network, "AWS::EC2::NatGateway")["Properties"]["SubnetId"] == {"Ref": "PublicSubnet1"}


def test_vanity_alb_named_backend_alb_routes_internet_to_backend(vanity):
    lb = vanity("loadbalancer.json")
    assert only(lb, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]["Name"] == "backend-alb"
    backend = vanity("service-backend.json")
    assert_has_resource(backend, "AWS::ElasticLoadBalancingV2::TargetGroup", {"Port": 3000, "TargetType": "ip"})
    security = vanity("security.json")
    assert_has_resource(
        security,
        "AWS::EC2::SecurityGroupIngress",
        {
            "GroupId": {"Ref": "ServiceBackendSecurityGroup"},
            "SourceSecurityGroupId": {"Ref": "LoadBalancerSecurityGroup"},
            "FromPort": 3000,
        },
    )


def test_vanity_cluster_main_with_ec2_capacity_provider(vanity):
    # GIVEN the seed's "EC2 Capacity Provider" for Yagna WHEN preprod is built
    cluster = vanity("cluster.json")
    assert only(cluster, "AWS::ECS::Cluster")["Properties"]["ClusterName"] == "main"
    # THEN the capacity provider drives the ASG, the ASG launches the template, the template boots the
    # ECS-optimized AMI from AWS's public SSM parameter with IMDSv2 only, and the cluster uses the provider
    provider = only(cluster, "AWS::ECS::CapacityProvider")["Properties"]["AutoScalingGroupProvider"]
    assert provider["AutoScalingGroupArn"] == {"Ref": "AutoScalingGroup"}
    group = resources(cluster, "AWS::AutoScaling::AutoScalingGroup")["AutoScalingGroup"]["Properties"]
    assert group["LaunchTemplate"]["LaunchTemplateId"] == {"Ref": "LaunchTemplate"}
    assert (group["MinSize"], group["MaxSize"], group["DesiredCapacity"]) == ("1", "2", "1")
    data = only(cluster, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["ImageId"] == {"Ref": "EcsAmiId"}
    assert cluster["Parameters"]["EcsAmiId"] == {
        "Default": "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
        "Description": "ECS-optimized AMI, resolved from the public SSM parameter at deploy time",
        "Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
    }
    associations = only(cluster, "AWS::ECS::ClusterCapacityProviderAssociations")["Properties"]
    assert {"Ref": next(iter(resources(cluster, "AWS::ECS::CapacityProvider")))} in associations["CapacityProviders"]


def test_vanity_backend_is_fargate_512_1024_port_3000(vanity):
    backend = vanity("service-backend.json")
    task = only(backend, "AWS::ECS::TaskDefinition")["Properties"]
    assert (task["Cpu"], task["Memory"], task["RequiresCompatibilities"]) == ("512", "1024", ["FARGATE"])
    assert _container(backend)["PortMappings"][0]["ContainerPort"] == 3000
    assert backend["Parameters"]["BackendImageTag"]["Default"] == "latest"
    assert (
        only(backend, "AWS::ECS::Service")["Properties"]["CapacityProviderStrategy"][0]["CapacityProvider"] == "FARGATE"
    )


def test_vanity_yagna_on_ec2_with_its_tag_and_ssm_secrets(vanity):
    yagna = vanity("service-yagna.json")
    assert yagna["Parameters"]["YagnaImageTag"]["Default"] == "pre-rel-v0.17.1-preview.golembase.28"
    assert only(yagna, "AWS::ECS::Service")["Properties"]["CapacityProviderStrategy"][0]["CapacityProvider"] == {
        "Ref": "Ec2CapacityProviderName"
    }
    secrets = _container(yagna)["Secrets"]
    assert secrets and all("parameter/vanity-market/preprod/yagna/" in s["ValueFrom"]["Fn::Sub"] for s in secrets)
    image = _container(yagna)["Image"]["Fn::Join"][1][0]["Fn::Sub"]
    assert image.endswith("/yagna")


def test_vanity_service_discovery_namespace_with_both_services(vanity):
    assert_has_resource(
        vanity("cluster.json"), "AWS::ServiceDiscovery::PrivateDnsNamespace", {"Name": "vanity-market-preprod.local"}
    )
    for name in ("backend", "yagna"):
        template = vanity(f"service-{name}.json")
        assert_has_resource(
            template, "AWS::ServiceDiscovery::Service", {"Name": name, "NamespaceId": {"Ref": "NamespaceId"}}
        )
        # AND the ECS service registers its tasks there (the seed's arrows BACKEND --> SD, YAGNA --> SD)
        assert only(template, "AWS::ECS::Service")["Properties"]["ServiceRegistries"] == [
            {"RegistryArn": {"Fn::GetAtt": ["DiscoveryService", "Arn"]}}
        ]


def test_vanity_backend_reaches_yagna_through_discovery(vanity):
    environment = {e["Name"]: e["Value"] for e in _container(vanity("service-backend.json"))["Environment"]}
    assert environment["YAGNA_URL"] == "http://yagna.vanity-market-preprod.local:7465"
    assert_has_resource(
        vanity("security.json"),
        "AWS::EC2::SecurityGroupIngress",
        {
            "GroupId": {"Ref": "ServiceYagnaSecurityGroup"},
            "SourceSecurityGroupId": {"Ref": "ServiceBackendSecurityGroup"},
            "FromPort": 7465,
        },
    )


def test_vanity_yagna_reaches_the_golem_network_through_nat(vanity):
    group = resources(vanity("security.json"), "AWS::EC2::SecurityGroup")["ServiceYagnaSecurityGroup"]
    assert group["Properties"]["SecurityGroupEgress"][0]["CidrIp"] == "0.0.0.0/0"
    assert resources(vanity("network.json"), "AWS::EC2::Route")["PrivateDefaultRoute1"]["Properties"]["NatGatewayId"]


@pytest.mark.parametrize("name", ["backend", "yagna"])
def test_vanity_log_groups_have_seven_day_retention(vanity, name):
    assert_has_resource(
        vanity(f"service-{name}.json"),
        "AWS::Logs::LogGroup",
        {"LogGroupName": f"/ecs/vanity-market-preprod-{name}", "RetentionInDays": 7},
    )


def test_vanity_aurora_serverless_present_but_switched_off(vanity):
    data = vanity("data.json")
    assert_has_resource(
        data,
        "AWS::RDS::DBCluster",
        {"Engine": "aurora-postgresql", "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 1.0}},
    )
    # every database resource, the instance included, exists only while EnableDatabase is true
    assert {key: value.get("Condition") for key, value in data["Resources"].items() if key.startswith("Database")} == {
        name: "DatabaseEnabled"
        for name in (
            "DatabaseCluster",
            "DatabaseConnectionsAlarm",
            "DatabaseCpuAlarm",
            "DatabaseInstance1",
            "DatabaseMemoryAlarm",
            "DatabaseMonitoringRole",
            "DatabaseParameterGroup",
            "DatabaseSubnetGroup",
        )
    }
    assert_has_resource(
        data,
        "AWS::RDS::DBInstance",
        {"DBInstanceClass": "db.serverless", "DBClusterIdentifier": {"Ref": "DatabaseCluster"}},
    )
    params = {p["ParameterKey"]: p["ParameterValue"] for p in vanity("parameters.json")}
    assert params["EnableDatabase"] == "false"


@pytest.mark.parametrize("name", ["backend", "yagna"])
def test_vanity_task_and_execution_roles(vanity, name):
    template = vanity(f"service-{name}.json")
    task = only(template, "AWS::ECS::TaskDefinition")["Properties"]
    assert task["TaskRoleArn"] == {"Fn::GetAtt": ["TaskRole", "Arn"]}
    assert task["ExecutionRoleArn"] == {"Fn::GetAtt": ["ExecutionRole", "Arn"]}


def test_vanity_state_bucket_and_registries_in_bootstrap(vanity):
    bootstrap = vanity("bootstrap.json")
    assert only(bootstrap, "AWS::S3::Bucket")["DeletionPolicy"] == "RetainExceptOnCreate"
    assert {r["Properties"]["RepositoryName"] for r in resources(bootstrap, "AWS::ECR::Repository").values()} == {
        "backend",
        "yagna",
    }


# ---- bet2wealth dev / production ------------------------------------------------------------------


def test_b2w_two_azs_igw_single_nat(b2w):
    env, get = b2w
    network = get("network.json")
    vpc = only(network, "AWS::EC2::VPC")["Properties"]
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    assert {"Key": "Name", "Value": f"bet2wealth-backend-{env}"} in vpc["Tags"]  # the seed's VPC name
    assert network["Parameters"]["AvailabilityZones"]["Default"] == "eu-central-1a,eu-central-1b"
    assert len(resources(network, "AWS::EC2::Subnet")) == 4
    assert resources(network, "AWS::EC2::InternetGateway") and len(resources(network, "AWS::EC2::NatGateway")) == 1
    # AND the seed's TASKS --> NAT egress: the private subnets' default route goes through that NAT gateway
    routes = resources(network, "AWS::EC2::Route")
    assert routes["PrivateDefaultRoute1"]["Properties"] == {
        "DestinationCidrBlock": "0.0.0.0/0",
        "NatGatewayId": {"Ref": "NatGateway1"},
        "RouteTableId": {"Ref": "PrivateRouteTable1"},
    }
    associations = resources(network, "AWS::EC2::SubnetRouteTableAssociation")
    assert {
        associations[f"PrivateSubnet{i}RouteTableAssociation"]["Properties"]["RouteTableId"]["Ref"] for i in (1, 2)
    } == {"PrivateRouteTable1"}


def test_b2w_https_with_http_redirect_certificate_and_alias(b2w):
    env, get = b2w
    lb = get("loadbalancer.json")
    assert_has_resource(lb, "AWS::ElasticLoadBalancingV2::Listener", {"Port": 443, "Protocol": "HTTPS"})
    assert_has_resource(
        lb,
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 80,
            "DefaultActions": [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "StatusCode": "HTTP_301"}}],
        },
    )
    assert_has_resource(lb, "AWS::CertificateManager::Certificate", {"DomainName": f"api.{env}.bet2wealth.co"})
    assert_has_resource(
        lb,
        "AWS::Route53::RecordSet",
        {
            "Name": f"api.{env}.bet2wealth.co",
            "Type": "A",
            "AliasTarget": {
                "DNSName": {"Fn::GetAtt": ["LoadBalancer", "DNSName"]},
                "HostedZoneId": {"Fn::GetAtt": ["LoadBalancer", "CanonicalHostedZoneID"]},
            },
        },
    )
    https = next(
        r for r in resources(lb, "AWS::ElasticLoadBalancingV2::Listener").values() if r["Properties"]["Port"] == 443
    )
    assert https["Properties"]["Certificates"] == [{"CertificateArn": {"Ref": "Certificate"}}]


def test_b2w_backend_two_tasks_port_4000_private_no_public_ip(b2w):
    _, get = b2w
    backend = get("service-backend.json")
    assert backend["Parameters"]["BackendDesiredCount"]["Default"] == "2"
    assert_has_resource(
        backend,
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"TargetType": "ip", "Port": 4000, "HealthCheckPath": "/api/v1/health-check"},
    )
    configuration = only(backend, "AWS::ECS::Service")["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert configuration["AssignPublicIp"] == "DISABLED" and configuration["Subnets"] == {"Ref": "PrivateSubnetIds"}


def test_b2w_redis_multi_az_encrypted_and_only_open_to_tasks(b2w):
    _, get = b2w
    group = only(get("data.json"), "AWS::ElastiCache::ReplicationGroup")["Properties"]
    assert group["MultiAZEnabled"] and group["AutomaticFailoverEnabled"]
    assert group["AtRestEncryptionEnabled"] and group["TransitEncryptionEnabled"]
    ingress = [
        r["Properties"]
        for r in resources(get("security.json"), "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Ref": "CacheSecurityGroup"}
    ]
    assert ingress == [
        {
            "Description": "backend to Redis",
            "FromPort": 6379,
            "ToPort": 6379,
            "IpProtocol": "tcp",
            "GroupId": {"Ref": "CacheSecurityGroup"},
            "SourceSecurityGroupId": {"Ref": "ServiceBackendSecurityGroup"},
        }
    ]


def test_b2w_ecr_repository_and_log_group_names(b2w):
    env, get = b2w
    assert_has_resource(get("bootstrap.json"), "AWS::ECR::Repository", {"RepositoryName": f"bet2wealth-backend-{env}"})
    assert_has_resource(
        get("service-backend.json"), "AWS::Logs::LogGroup", {"LogGroupName": f"/ecs/backend-logs-{env}"}
    )
    image = _container(get("service-backend.json"))["Image"]["Fn::Join"][1][0]["Fn::Sub"]
    assert image.endswith(f"/bet2wealth-backend-{env}")


def test_b2w_secrets_from_its_ssm_path_and_execution_role_reads_exactly_those(b2w):
    env, get = b2w
    backend = get("service-backend.json")
    ssm = [
        s["ValueFrom"]["Fn::Sub"]
        for s in _container(backend)["Secrets"]
        if "Fn::Sub" in s["ValueFrom"] and ":ssm:" in s["ValueFrom"]["Fn::Sub"]
    ]
    assert ssm and all(f":parameter/bet2wealth/{env}/" in arn for arn in ssm)
    statements = resources(backend, "AWS::IAM::Role")["ExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    read = next(s for s in statements if s["Sid"] == "ReadParameters")
    assert sorted(r["Fn::Sub"] for r in read["Resource"]) == sorted(ssm)
    # AND the Secrets Manager statement names exactly the container's other secrets (the Redis AUTH token,
    # and in production the payment API key), nothing more
    others = [
        s["ValueFrom"]
        for s in _container(backend)["Secrets"]
        if not ("Fn::Sub" in s["ValueFrom"] and ":ssm:" in s["ValueFrom"]["Fn::Sub"])
    ]
    secrets = next(s for s in statements if s["Sid"] == "ReadSecrets")["Resource"]

    def secret_of(value_from):  # a json-key reference `${Arn}:key::` reads the secret at Arn (+ AWS's 6 characters)
        if isinstance(value_from.get("Fn::Sub"), list):
            return {"Fn::Sub": value_from["Fn::Sub"][1]["Arn"]["Fn::Sub"] + "-??????"}
        return value_from

    assert sorted(map(str, secrets)) == sorted(str(secret_of(value)) for value in others)
    assert {"Ref": "CacheAuthSecretArn"} in secrets


def test_b2w_redis_endpoint_and_token_reach_the_tasks(b2w):
    _, get = b2w
    container = _container(get("service-backend.json"))
    assert {e["Name"] for e in container["Environment"]} >= {"REDIS_HOST", "REDIS_PORT"}
    assert "REDIS_AUTH_TOKEN" in {s["Name"] for s in container["Secrets"]}


def test_b2w_production_autoscales_and_is_protected(built):
    prod = load(built / "bet2wealth" / "production" / "service-backend.json")
    assert_has_resource(prod, "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 2, "MaxCapacity": 6})
    manifest = load(built / "bet2wealth" / "production" / "manifest.json")
    assert manifest["production"] is True
    dev = load(built / "bet2wealth" / "dev" / "service-backend.json")
    assert not resources(dev, "AWS::ApplicationAutoScaling::ScalableTarget")
