"""`python build.py cost`: the monthly estimate is priced from the emitted templates, with exact arithmetic
checked on a small hand-made environment and round made-up prices (so the tests do not move when AWS does)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench import synthetic
from stackloom import build as compiler
from stackloom.cfn.evaluate import Built
from stackloom.cli.main import UserError, main
from stackloom.output import write
from stackloom.report import cost, cost_text
from stackloom.report.inventory import inventory
from templates import spec as spec_module

from ..helpers import PARAMS, jobs_spec

TAGS = [{"Key": "System", "Value": "small"}]

# Round prices so every expected figure below can be checked by hand.
PRICES = {
    "region": "eu-central-1",
    "location": "test",
    "currency": "USD",
    "published": "test",
    "basis": "made up",
    "prices": {
        key: {"usd": usd, "per": key, "source": f"https://example.test/{key}"}
        for key, usd in {
            "nat_gateway_hour": 0.05,
            "nat_gateway_gb": 0.05,
            "public_ipv4_hour": 0.005,
            "vpc_interface_endpoint_hour": 0.01,
            "vpc_interface_endpoint_gb": 0.01,
            "inter_az_gb": 0.01,
            "alb_hour": 0.02,
            "alb_lcu_hour": 0.01,
            "fargate_vcpu_hour": 0.04,
            "fargate_gb_hour": 0.004,
            "ebs_gp3_gb_month": 0.1,
            "aurora_serverless_v2_acu_hour": 0.1,
            "aurora_storage_gb_month": 0.1,
            "aurora_io_million": 0.2,
            "cloudwatch_logs_ingest_gb": 0.5,
            "cloudwatch_logs_storage_gb_month": 0.03,
            "route53_hosted_zone_month": 0.5,
            "route53_queries_million": 0.4,
            "cloud_map_instance_month": 0.1,
            "kms_key_month": 1.0,
            "secrets_manager_secret_month": 0.4,
        }.items()
    },
}
PRICES["prices"]["ec2_instance_hour"] = {
    "per": "instance-hour",
    "source": "https://example.test/ec2",
    "types": {"t3.medium": {"usd": 0.05, "vcpu": 2, "memory_gib": 4}},
}
PRICES["prices"]["elasticache_node_hour"] = {
    "per": "node-hour",
    "source": "https://example.test/cache",
    "types": {"cache.t4g.micro": {"usd": 0.02}},
}
HOURS = {"hours_per_month": 100}


def ref(name: str) -> dict:
    return {"Ref": name}


def small_environment(
    folder: Path,
    service_name: str = "api",
    log_group: str = "/ecs/small-api",
    secret_parameter: str = "/small/dev/api-key",
) -> Path:
    """A hand-made built environment: root.json passes DesiredCount (default 3) and EnableDatabase (default
    false) to app.json, which holds a 2-AZ VPC with one NAT gateway, an internet-facing ALB, one Fargate
    service (1 vCPU, 2 GB), an EC2 capacity provider (2 × t3.medium, 30 GB gp3), a 2-node Redis, an Aurora
    Serverless v2 cluster (min 2 ACU) behind the EnableDatabase condition, a 30-day log group, a KMS key
    and a secret. Returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    resources = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.9.0.0/16"}},
        "Igw": {"Type": "AWS::EC2::InternetGateway", "Properties": {}},
        "PublicTable": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": ref("Vpc")}},
        "PublicRoute": {
            "Type": "AWS::EC2::Route",
            "Properties": {
                "RouteTableId": ref("PublicTable"),
                "DestinationCidrBlock": "0.0.0.0/0",
                "GatewayId": ref("Igw"),
            },
        },
        "PrivateTable": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": ref("Vpc")}},
        "PrivateRoute": {
            "Type": "AWS::EC2::Route",
            "Properties": {
                "RouteTableId": ref("PrivateTable"),
                "DestinationCidrBlock": "0.0.0.0/0",
                "NatGatewayId": ref("Nat"),
            },
        },
        "NatIp": {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}},
        "Nat": {
            "Type": "AWS::EC2::NatGateway",
            "Properties": {"SubnetId": ref("Public1"), "AllocationId": {"Fn::GetAtt": ["NatIp", "AllocationId"]}},
        },
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Token": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "small/dev/token"}},
        "AlbGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "alb",
                "SecurityGroupIngress": [{"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80}],
            },
        },
        "ApiGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "api",
                "SecurityGroupEgress": [{"CidrIp": "0.0.0.0/0", "IpProtocol": "-1"}],
            },
        },
        "CacheGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "cache"}},
        "DatabaseGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "db"}},
        "AlbToApi": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "GroupId": ref("ApiGroup"),
                "SourceSecurityGroupId": ref("AlbGroup"),
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
            },
        },
        "ApiToCache": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "GroupId": {"Fn::GetAtt": ["CacheGroup", "GroupId"]},
                "SourceSecurityGroupId": ref("ApiGroup"),
                "IpProtocol": "tcp",
                "FromPort": 6379,
                "ToPort": 6379,
            },
        },
        "ApiToDatabase": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "GroupId": ref("DatabaseGroup"),
                "SourceSecurityGroupId": ref("ApiGroup"),
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
            },
        },
        "Alb": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "Name": "small-alb",
                "Scheme": "internet-facing",
                "Subnets": [ref("Public1"), ref("Public2")],
                "SecurityGroups": [ref("AlbGroup")],
            },
        },
        "Listener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": ref("Alb"),
                "Port": 80,
                "Protocol": "HTTP",
                "DefaultActions": [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
            },
        },
        "Targets": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {"Port": 8080}},
        "Rule": {
            "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
            "Properties": {
                "ListenerArn": ref("Listener"),
                "Priority": 1,
                "Actions": [{"Type": "forward", "TargetGroupArn": ref("Targets")}],
                "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}],
            },
        },
        "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "small"}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": log_group, "RetentionInDays": 30}},
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Cpu": "1024",
                "Memory": "2048",
                "RequiresCompatibilities": ["FARGATE"],
                "ContainerDefinitions": [
                    {
                        "Name": "api",
                        "PortMappings": [{"ContainerPort": 8080}],
                        "Image": {"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/small-api:v1"},
                        "LogConfiguration": {"LogDriver": "awslogs", "Options": {"awslogs-group": ref("Logs")}},
                        "Secrets": [
                            {
                                "Name": "API_KEY",
                                "ValueFrom": {
                                    "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:"
                                    "${AWS::AccountId}:parameter" + secret_parameter
                                },
                            },
                            {"Name": "TOKEN", "ValueFrom": ref("Token")},
                        ],
                    }
                ],
            },
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "ServiceName": service_name,
                "Cluster": ref("Cluster"),
                "TaskDefinition": ref("Task"),
                "DesiredCount": ref("DesiredCount"),
                "CapacityProviderStrategy": [{"CapacityProvider": "FARGATE", "Weight": 1}],
                "LoadBalancers": [{"ContainerName": "api", "ContainerPort": 8080, "TargetGroupArn": ref("Targets")}],
                "NetworkConfiguration": {
                    "AwsvpcConfiguration": {
                        "Subnets": {"Fn::Split": [",", {"Fn::Join": [",", [ref("Private1"), ref("Private2")]]}]},
                        "SecurityGroups": [ref("ApiGroup")],
                    }
                },
            },
        },
        "Launch": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {
                "LaunchTemplateData": {
                    "InstanceType": "t3.medium",
                    "BlockDeviceMappings": [
                        {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 30, "VolumeType": "gp3"}}
                    ],
                }
            },
        },
        "Instances": {
            "Type": "AWS::AutoScaling::AutoScalingGroup",
            "Properties": {
                "MinSize": "1",
                "MaxSize": "4",
                "DesiredCapacity": "2",
                "LaunchTemplate": {"LaunchTemplateId": ref("Launch"), "Version": "1"},
                "VPCZoneIdentifier": [ref("Private1"), ref("Private2")],
            },
        },
        "Capacity": {
            "Type": "AWS::ECS::CapacityProvider",
            "Properties": {"AutoScalingGroupProvider": {"AutoScalingGroupArn": ref("Instances")}},
        },
        "Cache": {
            "Type": "AWS::ElastiCache::ReplicationGroup",
            "Properties": {
                "CacheNodeType": "cache.t4g.micro",
                "NumCacheClusters": 2,
                "Engine": "redis",
                "EngineVersion": "7.1",
                "SecurityGroupIds": [ref("CacheGroup")],
            },
        },
        "Database": {
            "Type": "AWS::RDS::DBCluster",
            "Condition": "DatabaseOn",
            "Properties": {
                "Engine": "aurora-postgresql",
                "EngineVersion": "17.6",
                "VpcSecurityGroupIds": [ref("DatabaseGroup")],
                "ServerlessV2ScalingConfiguration": {"MinCapacity": 2, "MaxCapacity": 4},
            },
        },
        "DatabaseInstance": {
            "Type": "AWS::RDS::DBInstance",
            "Condition": "DatabaseOn",
            "Properties": {"DBClusterIdentifier": ref("Database"), "DBInstanceClass": "db.serverless"},
        },
    }
    for tier, table in (("Public", "PublicTable"), ("Private", "PrivateTable")):
        for index in (1, 2):
            third = (0 if tier == "Public" else 2) + index
            resources[f"{tier}{index}"] = {
                "Type": "AWS::EC2::Subnet",
                "Properties": {
                    "VpcId": ref("Vpc"),
                    "CidrBlock": f"10.9.{third}.0/24",
                    "AvailabilityZone": {"Fn::Select": [index - 1, {"Fn::GetAZs": ""}]},
                },
            }
            resources[f"{tier}{index}Association"] = {
                "Type": "AWS::EC2::SubnetRouteTableAssociation",
                "Properties": {"SubnetId": ref(f"{tier}{index}"), "RouteTableId": ref(table)},
            }
    app = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "DesiredCount": {"Type": "Number"},
            "EnableDatabase": {"Type": "String", "AllowedValues": ["true", "false"]},
        },
        "Conditions": {"DatabaseOn": {"Fn::Equals": [ref("EnableDatabase"), "true"]}},
        "Resources": resources,
    }
    root = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "DesiredCount": {"Type": "Number", "Default": "3", "MinValue": 0},
            "EnableDatabase": {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"]},
        },
        "Resources": {
            "App": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {
                    "TemplateURL": "app.json",
                    "Tags": TAGS,
                    "Parameters": {"DesiredCount": ref("DesiredCount"), "EnableDatabase": ref("EnableDatabase")},
                },
            }
        },
    }
    manifest = {
        "system": "small",
        "environment": "dev",
        "region": "eu-central-1",
        "account_id": None,
        "production": False,
        "bootstrap_stack_name": "small-dev-bootstrap",
        "bootstrap_template": "bootstrap.json",
        "required_parameters": [],
        "stack_name": "small-dev",
        "root_template": "root.json",
        "nested_stacks": {"App": "app.json"},
        "parameters": {"DesiredCount": "3", "EnableDatabase": "false"},
        "services": {},
        "hosted_zone": None,
    }
    for name, content in (("root.json", root), ("app.json", app), ("manifest.json", manifest)):
        (folder / name).write_text(json.dumps(content, indent=2), encoding="utf-8")
    return folder


def priced(folder: Path, params: dict | None = None, prices: dict = PRICES, **assumptions) -> cost.Estimate:
    return cost.estimate(inventory(Built(folder, params)), prices, {**HOURS, **assumptions})


def line(result: cost.Estimate, component: str) -> float:
    found = [item.monthly for item in result.lines if item.component == component]
    assert len(found) == 1, f"no single line {component!r}: {[item.component for item in result.lines]}"
    return found[0]


@pytest.fixture
def small(tmp_path) -> Path:
    return small_environment(tmp_path / "small")


# ------------------------------------------------------------------------------------------ arithmetic


def test_nat_gateway_hours_data_and_elastic_ip(small):
    """GIVEN one NAT gateway, 100 h and 50 GB through NAT WHEN priced THEN 100 × 0.05, 50 × 0.05 and 100 × 0.005."""
    result = priced(small)
    assert line(result, "NAT gateways") == 5.00
    assert line(result, "NAT data processed") == 2.50
    assert line(result, "Public IPv4: NAT Elastic IPs") == 0.50


def test_alb_hours_lcu_assumption_and_public_addresses(small):
    """GIVEN an internet-facing ALB in 2 subnets and 1 LCU WHEN priced THEN hours, LCU-hours and one IPv4 per AZ."""
    result = priced(small)
    assert line(result, "ALB small-alb") == 2.00
    assert line(result, "ALB small-alb LCUs") == 1.00
    assert line(result, "Public IPv4: ALB small-alb") == 1.00


def test_fargate_vcpu_and_gb_hours_per_desired_task(small):
    """GIVEN 3 desired tasks of 1024 CPU units / 2048 MiB WHEN priced THEN 3 × 100 h × (1 × 0.04 + 2 × 0.004)."""
    assert line(priced(small), "Fargate api") == 14.40


def test_desired_count_parameter_override_changes_the_fargate_line(small):
    """GIVEN --param DesiredCount=5 WHEN priced THEN 5 tasks are priced (the value flows root -> nested stack)."""
    assert line(priced(small, {"DesiredCount": "5"}), "Fargate api") == 24.00


def test_ec2_capacity_instances_and_root_volumes(small):
    """GIVEN an ASG of desired 2 × t3.medium with 30 GB gp3 WHEN priced THEN 2 × 100 × 0.05 and 2 × 30 × 0.1."""
    result = priced(small)
    assert line(result, "EC2 capacity t3.medium") == 10.00
    assert line(result, "EC2 root volumes") == 6.00


def test_elasticache_nodes_times_node_price(small):
    """GIVEN a 2-node cache.t4g.micro replication group WHEN priced THEN 2 × 100 h × 0.02."""
    assert line(priced(small), "ElastiCache redis cache.t4g.micro") == 4.00


def test_aurora_behind_a_false_condition_is_not_in_the_total_but_reported(small):
    """GIVEN EnableDatabase defaults to false WHEN priced THEN no Aurora line, and what it would add is listed."""
    result = priced(small)
    assert not [item for item in result.lines if item.component.startswith("Aurora")]
    assert any(
        "EnableDatabase=false" in item and "+$21.40/month" in item for item in result.switched_off
    ), result.switched_off


def test_aurora_minimum_acus_storage_and_io_when_enabled(small):
    """GIVEN EnableDatabase=true, min 2 ACU, 10 GB and 2 million I/Os WHEN priced THEN 2 × 100 × 0.1, 1.00, 0.40."""
    result = priced(small, {"EnableDatabase": "true"})
    assert line(result, "Aurora Serverless v2 minimum capacity") == 20.00
    assert line(result, "Aurora storage") == 1.00
    assert line(result, "Aurora I/O") == 0.40


def test_log_ingestion_and_storage_from_retention(small):
    """GIVEN 3 tasks × 2 GB of logs and 30-day retention WHEN priced THEN 6 × 0.5 ingested, 6 GB × 0.03 stored."""
    result = priced(small)
    assert line(result, "CloudWatch Logs ingestion") == 3.00
    assert line(result, "CloudWatch Logs storage") == 0.18


def test_kms_keys_and_created_secrets(small):
    """GIVEN one KMS key and one Secrets Manager secret in the templates WHEN priced THEN 1.00 and 0.40."""
    result = priced(small)
    assert line(result, "KMS keys") == 1.00
    assert line(result, "Secrets Manager secrets") == 0.40


def test_nat_cross_az_traffic_of_the_az_without_a_gateway(small):
    """GIVEN 2 AZs, one NAT gateway and 50 GB through NAT WHEN priced THEN the other AZ's half (25 GB) crosses
    AZs to the gateway and back: 25 GB × 2 directions × 0.01 = 0.50, with the assumption in a note."""
    result = priced(small)
    assert line(result, "NAT cross-AZ traffic") == 0.50
    crossing = next(item for item in result.lines if item.component == "NAT cross-AZ traffic")
    assert crossing.quantity == "25 GB × 2 directions (1 of 2 AZs' share, assumption)"
    assert crossing.unit_price == "$0.01/GB" and crossing.prices == ("inter_az_gb",)
    assert any(
        note.startswith(
            "NAT cross-AZ traffic: the 50 GB through NAT (nat_gb_per_month) spread evenly " "over the 2 AZs"
        )
        for note in result.notes
    ), result.notes


def test_nat_cross_az_traffic_follows_the_nat_assumption(small):
    """GIVEN --assume nat_gb_per_month=200 WHEN priced THEN 100 GB × 2 directions × 0.01 = 2.00 cross AZs."""
    assert line(priced(small, nat_gb_per_month=200), "NAT cross-AZ traffic") == 2.00


def test_total_is_the_sum_of_the_lines(small):
    """GIVEN the small environment WHEN priced THEN the total adds up every line (and nothing else)."""
    result = priced(small)
    assert result.total == pytest.approx(5 + 2.5 + 0.5 + 0.5 + 2 + 1 + 1 + 14.4 + 10 + 6 + 4 + 3 + 0.18 + 1 + 0.4)


def test_assumptions_change_the_lines_that_use_them(small):
    """GIVEN --assume nat_gb_per_month=200 and alb_lcu=3 WHEN priced THEN only those lines move."""
    result = priced(small, nat_gb_per_month=200, alb_lcu=3)
    assert line(result, "NAT data processed") == 10.00
    assert line(result, "ALB small-alb LCUs") == 3.00
    assert line(result, "NAT gateways") == 5.00


def test_nat_tradeoff_none_single_per_az(small):
    """GIVEN 2 AZs, one NAT now and 50 GB WHEN the trade-off is computed THEN none 0, single 5.5 + 2.5 + 0.5
    cross-AZ (25 GB × 2 × 0.01), per-az 2 × 5.5 + 2.5, deltas against the current single gateway."""
    options = {option.name: option for option in priced(small).nat_options}
    assert options["none"].monthly == 0 and options["none"].delta == pytest.approx(-8.5)
    assert options["single"].monthly == pytest.approx(8.5) and options["single"].current
    assert options["per-az"].monthly == pytest.approx(13.5) and options["per-az"].delta == pytest.approx(5.0)
    assert "ecr.api, ecr.dkr, logs, ssm, secretsmanager" in options["none"].note


NAT_LINES = ("NAT gateways", "NAT data processed", "Public IPv4: NAT Elastic IPs", "NAT cross-AZ traffic")


def nat_lines(result: cost.Estimate) -> float:
    return sum(item.monthly for item in result.lines if item.component in NAT_LINES)


def test_nat_tradeoff_now_row_equals_the_nat_lines_of_the_estimate(small):
    """GIVEN the small environment (single NAT, 2 AZs) WHEN priced THEN the trade-off's "single (now)" row is
    the sum of the estimate's NAT lines: 5 hours + 2.5 data + 0.5 Elastic IP + 0.5 cross-AZ = 8.5."""
    for assumptions in ({}, {"nat_gb_per_month": 200}):
        result = priced(small, **assumptions)
        now = next(option for option in result.nat_options if option.current)
        assert now.name == "single"
        assert now.monthly == pytest.approx(nat_lines(result))
    assert nat_lines(priced(small)) == pytest.approx(8.5)


def per_az_environment(folder: Path) -> Path:
    """The small environment with a second NAT gateway in AZ 2, which the second private subnet routes to."""
    small_environment(folder)
    app = json.loads((folder / "app.json").read_text())
    resources = app["Resources"]
    resources["NatIp2"] = {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}}
    resources["Nat2"] = {
        "Type": "AWS::EC2::NatGateway",
        "Properties": {"SubnetId": ref("Public2"), "AllocationId": {"Fn::GetAtt": ["NatIp2", "AllocationId"]}},
    }
    resources["PrivateTable2"] = {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": ref("Vpc")}}
    resources["PrivateRoute2"] = {
        "Type": "AWS::EC2::Route",
        "Properties": {
            "RouteTableId": ref("PrivateTable2"),
            "DestinationCidrBlock": "0.0.0.0/0",
            "NatGatewayId": ref("Nat2"),
        },
    }
    resources["Private2Association"]["Properties"]["RouteTableId"] = ref("PrivateTable2")
    (folder / "app.json").write_text(json.dumps(app, indent=2), encoding="utf-8")
    return folder


def test_a_nat_gateway_per_az_has_no_cross_az_line_and_matches_its_tradeoff_row(tmp_path):
    """GIVEN a NAT gateway in each of the 2 AZs WHEN priced THEN no cross-AZ line, and the "per-az (now)" row
    equals the NAT lines: 2 × 5 hours + 2.5 data + 2 × 0.5 Elastic IPs = 13.5."""
    result = priced(per_az_environment(tmp_path / "per-az"))
    assert not [item for item in result.lines if item.component == "NAT cross-AZ traffic"]
    assert line(result, "NAT gateways") == 10.00 and line(result, "Public IPv4: NAT Elastic IPs") == 1.00
    now = next(option for option in result.nat_options if option.current)
    assert now.name == "per-az" and now.monthly == pytest.approx(nat_lines(result)) == pytest.approx(13.5)
    assert not [note for note in result.notes if note.startswith("NAT cross-AZ traffic")]


def dns_environment(folder: Path) -> Path:
    """A hand-made single-template environment for the DNS lines: a Cloud Map private DNS namespace
    `small.local`; services api (2 tasks) and worker (3 tasks) register in it, batch (4 tasks) would but is
    behind the false condition BatchOn, cron (5 tasks) does not register; an ALB with two alias records (A and
    AAAA) in the public hosted zone `small.test`. Returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    resources = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.8.0.0/16"}},
        "Namespace": {
            "Type": "AWS::ServiceDiscovery::PrivateDnsNamespace",
            "Properties": {"Name": "small.local", "Vpc": ref("Vpc")},
        },
        "Alb": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {"Name": "small-alb", "Scheme": "internal"},
        },
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Cpu": "256",
                "Memory": "512",
                "RequiresCompatibilities": ["FARGATE"],
                "ContainerDefinitions": [{"Name": "app", "Image": "public.ecr.aws/docker/library/nginx:1"}],
            },
        },
    }
    for kind in ("A", "AAAA"):
        resources[f"Record{kind}"] = {
            "Type": "AWS::Route53::RecordSet",
            "Properties": {
                "HostedZoneName": "small.test.",
                "Name": "api.small.test.",
                "Type": kind,
                "AliasTarget": {
                    "DNSName": {"Fn::GetAtt": ["Alb", "DNSName"]},
                    "HostedZoneId": {"Fn::GetAtt": ["Alb", "CanonicalHostedZoneID"]},
                },
            },
        }
    for name, count, registers, condition in (
        ("api", 2, True, None),
        ("worker", 3, True, None),
        ("batch", 4, True, "BatchOn"),
        ("cron", 5, False, None),
    ):
        identifier = name.capitalize()
        service = {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "ServiceName": name,
                "TaskDefinition": ref("Task"),
                "DesiredCount": count,
                "LaunchType": "FARGATE",
            },
        }
        if registers:
            resources[f"{identifier}Discovery"] = {
                "Type": "AWS::ServiceDiscovery::Service",
                "Properties": {
                    "Name": name,
                    "NamespaceId": {"Fn::GetAtt": ["Namespace", "Id"]},
                    "DnsConfig": {"DnsRecords": [{"Type": "A", "TTL": 10}]},
                },
            }
            service["Properties"]["ServiceRegistries"] = [
                {"RegistryArn": {"Fn::GetAtt": [f"{identifier}Discovery", "Arn"]}}
            ]
        if condition:
            service["Condition"] = condition
            resources[f"{identifier}Discovery"]["Condition"] = condition
        resources[f"{identifier}Service"] = service
    root = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"EnableBatch": {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"]}},
        "Conditions": {"BatchOn": {"Fn::Equals": [ref("EnableBatch"), "true"]}},
        "Resources": resources,
    }
    manifest = {
        "system": "small",
        "environment": "dns",
        "region": "eu-central-1",
        "account_id": None,
        "production": False,
        "bootstrap_stack_name": "small-dns-bootstrap",
        "bootstrap_template": "bootstrap.json",
        "required_parameters": [],
        "stack_name": "small-dns",
        "root_template": "root.json",
        "nested_stacks": {},
        "parameters": {"EnableBatch": "false"},
        "services": {},
        "hosted_zone": "small.test",
    }
    for name, content in (("root.json", root), ("manifest.json", manifest)):
        (folder / name).write_text(json.dumps(content, indent=2), encoding="utf-8")
    return folder


def test_route53_zone_cloud_map_namespace_queries_and_registered_tasks(tmp_path):
    """GIVEN a private DNS namespace, 2 + 3 registered tasks (4 more behind a false condition, 5 unregistered),
    two alias records in one public hosted zone and --assume dns_queries_million=3
    WHEN priced
    THEN the hosted zone once (0.50), the namespace's private hosted zone (0.50), 3 million queries × 0.4
    (1.20) and 5 registered instances × 0.1 (0.50)."""
    # GIVEN
    folder = dns_environment(tmp_path / "dns")
    # WHEN
    result = priced(folder, dns_queries_million=3)
    # THEN
    lines = {item.component: item for item in result.lines}
    expected = {
        "Route53 hosted zone small.test": (
            "1 zone (existing; may be shared with other environments)",
            "$0.5/month",
            0.50,
        ),
        "Cloud Map namespace small.local": ("1 private hosted zone", "$0.5/month", 0.50),
        "Route53 queries": ("3 million (assumption)", "$0.4/million", 1.20),
        "Cloud Map registered tasks": ("5 instances", "$0.1/month", 0.50),
    }
    for component, (quantity, unit_price, monthly) in expected.items():
        assert component in lines, (component, sorted(lines))
        assert (lines[component].quantity, lines[component].unit_price, lines[component].monthly) == (
            quantity,
            unit_price,
            monthly,
        ), component
    assert [item.component for item in result.lines].count("Route53 hosted zone small.test") == 1
    assert "queries to the Route53 alias of the load balancer are free" in result.notes


def test_switching_on_a_registered_service_adds_its_tasks_to_cloud_map(tmp_path):
    """GIVEN the DNS environment WHEN priced with --param EnableBatch=true THEN batch's 4 tasks register too:
    9 instances × 0.1 = 0.90; the namespace and the default 1 million queries (0.40) do not change."""
    # GIVEN
    folder = dns_environment(tmp_path / "dns")
    # WHEN
    result = priced(folder, {"EnableBatch": "true"})
    # THEN
    assert line(result, "Cloud Map registered tasks") == 0.90
    assert line(result, "Cloud Map namespace small.local") == 0.50
    assert line(result, "Route53 queries") == 0.40


def test_an_instance_type_missing_from_the_price_table_is_listed_not_guessed(small):
    """GIVEN a price table without t3.medium WHEN priced THEN no EC2 line, and the gap is listed as not priced."""
    prices = json.loads(json.dumps(PRICES))
    del prices["prices"]["ec2_instance_hour"]["types"]["t3.medium"]
    result = priced(small, prices=prices)
    assert not [item for item in result.lines if item.component.startswith("EC2 capacity")]
    assert any("t3.medium" in item for item in result.unpriced)


def test_unknown_parameter_override_is_a_user_error(small):
    """GIVEN --param Nope=1 WHEN the environment is read THEN a UserError names the known parameters."""
    with pytest.raises(UserError, match="DesiredCount, EnableDatabase"):
        Built(small, {"Nope": "1"})


def test_override_outside_allowed_values_is_a_user_error(small):
    """GIVEN --param EnableDatabase=maybe WHEN the environment is read THEN a UserError lists true/false."""
    with pytest.raises(UserError, match="true, false"):
        Built(small, {"EnableDatabase": "maybe"})


# ------------------------------------------------------------------------------------------ the price table


def test_bundled_price_table_is_dated_and_every_figure_has_a_source():
    """GIVEN the bundled eu-central-1 table THEN it has a publication date and each price an AWS pricing URL."""
    table = cost.load_prices()
    assert table["region"] == "eu-central-1" and re.fullmatch(r"20\d\d(-\d\d)?(-\d\d)?", table["published"])
    for key, entry in table["prices"].items():
        assert entry["source"].startswith("https://aws.amazon.com/"), key
        values = [entry["usd"]] if "usd" in entry else [item["usd"] for item in entry["types"].values()]
        assert values and all(value > 0 for value in values), key


def test_bundled_table_prices_every_component_of_the_real_environments(built):
    """GIVEN the three environments WHEN priced with the bundled table THEN nothing they use is missing from it."""
    for target in ("bet2wealth/dev", "bet2wealth/production", "vanity-market/preprod"):
        result = cost.estimate(inventory(Built(built / target)))
        assert not [item for item in result.unpriced if "price table" in item], (target, result.unpriced)


# ------------------------------------------------------------------------------------------ real environments


def test_vanity_preprod_prices_nat_alb_fargate_and_the_ec2_capacity(built):
    """GIVEN vanity-market/preprod WHEN priced THEN NAT, ALB, backend on Fargate and 1 × t3.medium (yagna's host)."""
    result = cost.estimate(inventory(Built(built / "vanity-market/preprod")))
    components = {item.component for item in result.lines}
    assert {"NAT gateways", "ALB backend-alb", "Fargate backend", "EC2 capacity t3.medium"} <= components
    assert "Fargate yagna" not in components  # runs on the EC2 capacity provider
    assert any(item.startswith("Aurora") for item in result.switched_off)


def test_vanity_preprod_with_the_database_switched_on_adds_aurora(built):
    """GIVEN EnableDatabase=true WHEN priced THEN the Aurora minimum capacity (0.5 ACU × 730 h) is in the total."""
    result = cost.estimate(inventory(Built(built / "vanity-market/preprod", {"EnableDatabase": "true"})))
    price = cost.load_prices()["prices"]["aurora_serverless_v2_acu_hour"]["usd"]
    assert line(result, "Aurora Serverless v2 minimum capacity") == round(0.5 * 730 * price, 2)


def test_bet2wealth_dev_prices_redis_nodes_and_the_hosted_zone(built):
    """GIVEN bet2wealth/dev WHEN priced THEN 2 × cache.t4g.micro and the bet2wealth.co hosted zone are lines."""
    result = cost.estimate(inventory(Built(built / "bet2wealth/dev")))
    price = cost.load_prices()["prices"]["elasticache_node_hour"]["types"]["cache.t4g.micro"]["usd"]
    assert line(result, "ElastiCache redis cache.t4g.micro") == round(2 * 730 * price, 2)
    assert line(result, "Route53 hosted zone bet2wealth.co") == 0.50


def test_grouped_services_resolve_their_packed_desired_counts(tmp_path):
    """GIVEN a 120-service system (services in group stacks, desired counts packed into list parameters)
    WHEN priced THEN every service is priced with its own count, and a per-service --param reaches it."""
    folder = write(compiler.compile_environment(spec_module.parse(synthetic.spec(120))), tmp_path / "out")
    assert json.loads((folder / "manifest.json").read_text())["packed_parameters"]
    result = cost.estimate(inventory(Built(folder, {"Svc006DesiredCount": "5"})), PRICES, HOURS)
    fargate = {item.component: item for item in result.lines if item.component.startswith("Fargate ")}
    assert len(fargate) == 120
    assert fargate["Fargate svc-001"].quantity.startswith("2 tasks")
    assert fargate["Fargate svc-006"].quantity.startswith("5 tasks")


# ------------------------------------------------------------------------------------------ command


def test_cost_command_prints_lines_assumptions_sources_date_and_the_nat_tradeoff(capsys, tmp_path):
    """GIVEN vanity-market/preprod WHEN `build.py cost` runs THEN it exits 0 and prints the total, every
    assumption, the price date, the source of each figure used and the three NAT options."""
    code = main(["cost", "vanity-market/preprod", "--params", str(PARAMS), "--output", str(tmp_path)])
    printed = capsys.readouterr().out
    assert code == 0
    assert re.search(r"total +\$[\d,]+\.\d\d", printed)
    for name, assumption in cost.ASSUMPTIONS.items():  # those of parts the environment lacks (jobs) are left out
        assert (f"{name} = " in printed) == (assumption.applies is None)
    assert "as published 2025" in printed
    assert "https://aws.amazon.com/vpc/pricing/" in printed and "https://aws.amazon.com/fargate/pricing/" in printed
    for option in ("none", "single (now)", "per-az"):
        assert re.search(rf"^  {re.escape(option)} ", printed, re.MULTILINE), option


def test_cost_command_json_and_param_override(capsys, tmp_path):
    """GIVEN --json and --param BackendDesiredCount=4 WHEN `build.py cost` runs for one environment THEN the JSON
    is a list of that one environment (the shape for any number, README), showing 4 tasks."""
    code = main(
        [
            "cost",
            "vanity-market/preprod",
            "--params",
            str(PARAMS),
            "--output",
            str(tmp_path),
            "--json",
            "--param",
            "BackendDesiredCount=4",
        ]
    )
    listed = json.loads(capsys.readouterr().out)
    assert code == 0 and [item["target"] for item in listed] == ["vanity-market/preprod"]
    data = listed[0]
    assert data["parameters"]["BackendDesiredCount"] == "4"
    backend = next(item for item in data["lines"] if item["component"] == "Fargate backend")
    assert backend["quantity"].startswith("4 tasks")
    assert data["total_monthly"] == pytest.approx(sum(item["monthly"] for item in data["lines"]))


def test_cost_command_bad_assumption_is_a_usage_error(capsys, tmp_path):
    """GIVEN --assume nonsense=1 WHEN `build.py cost` runs THEN exit 2 with the assumption names, no traceback."""
    code = main(
        ["cost", "vanity-market/preprod", "--params", str(PARAMS), "--output", str(tmp_path), "--assume", "nonsense=1"]
    )
    error = capsys.readouterr().err
    assert code == 2 and "nat_gb_per_month" in error and "Traceback" not in error


def test_readme_shows_the_current_estimate_of_vanity_preprod(built):
    """GIVEN the README section WHEN its text block is compared with a fresh report THEN equal (regenerate
    with `python build.py cost vanity-market/preprod`)."""
    readme = (PARAMS.parent / "docs" / "diagrams.md").read_text(encoding="utf-8")
    section = readme[readme.index("# Architecture diagrams and cost") :]
    block = re.search(r"```text\n(.*?)```", section, re.DOTALL).group(1)
    assert block == cost_text.report(cost.estimate(inventory(Built(built / "vanity-market/preprod"))))


def test_a_region_without_a_price_table_is_not_priced_with_another_regions_prices(tmp_path, capsys):
    # GIVEN an environment in a region the bundled tables do not cover
    import yaml

    from stackloom.cli.main import main

    from ..helpers import base_spec

    params = tmp_path / "params" / "acme"
    params.mkdir(parents=True)
    (params / "dev.yaml").write_text(yaml.safe_dump(base_spec(region="sa-east-1")))
    folders = ["--params", str(tmp_path / "params"), "--output", str(tmp_path / "out")]
    # WHEN its cost is asked THEN it says plainly that it is not priced and which tables exist, exit 2
    assert main(["cost", "acme/dev", *folders]) == 2
    err = capsys.readouterr().err
    assert "sa-east-1: not priced: there is no price table for this region (tables: " in err
    assert "ap-southeast-2, eu-central-1, eu-west-1, us-east-1, us-west-2)" in err
    assert "Frankfurt" not in err
    # AND the architecture document says so instead of a total
    assert main(["diagram", "acme/dev", *folders]) == 0
    text = (tmp_path / "out" / "acme" / "dev" / "ARCHITECTURE.md").read_text()
    assert "Not priced: there is no price table for sa-east-1" in text and "per month" not in text


# ------------------------------------------------------------------------------------------ regional tables

REGIONS = ("eu-central-1", "us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2")


def test_every_region_has_a_price_table_named_after_it_with_sourced_positive_prices():
    """GIVEN the bundled tables WHEN read THEN each covered region has one, with the top-level fields, its
    region equal to its file name, and every price (and every typed price) positive with an http(s) source."""
    files = {path.stem: path for path in cost.PRICES.glob("*.json")}
    assert set(REGIONS) <= set(files), sorted(files)
    for region, path in files.items():
        table = cost.load_prices(path)
        assert {"region", "location", "currency", "published", "basis", "prices"} <= set(table), region
        assert table["region"] == region and table["currency"] == "USD" and table["basis"], region
        assert re.fullmatch(r"20\d\d(-\d\d)?(-\d\d)?", table["published"]), region
        assert table["prices"], region
        for key, entry in table["prices"].items():
            assert re.match(r"https?://\S+$", entry["source"]), (region, key)
            assert entry.get("per"), (region, key)
            if "types" in entry:
                assert entry["types"], (region, key)
                for kind, typed in entry["types"].items():
                    assert float(typed["usd"]) > 0, (region, key, kind)
            else:
                assert float(entry["usd"]) > 0, (region, key)


def us_east_params(tmp_path: Path) -> list[str]:
    import yaml

    from ..helpers import base_spec

    params = tmp_path / "params" / "acme"
    params.mkdir(parents=True)
    (params / "dev.yaml").write_text(yaml.safe_dump(base_spec(region="us-east-1")))
    return ["--params", str(tmp_path / "params"), "--output", str(tmp_path / "out")]


def test_an_environment_in_us_east_1_is_priced_from_the_us_east_1_table(tmp_path, capsys):
    """GIVEN a spec in us-east-1 WHEN `build.py cost` runs THEN it names the us-east-1 table and its location,
    and the ALB line is that table's ALB hour price × 730 h, not Frankfurt's."""
    table = cost.load_prices(cost.price_file("us-east-1"))
    frankfurt = cost.load_prices()
    hourly = table["prices"]["alb_hour"]["usd"]
    assert hourly != frankfurt["prices"]["alb_hour"]["usd"]
    assert main(["cost", "acme/dev", *us_east_params(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert f"Prices: prices/us-east-1.json, {table['location']}, as published {table['published']}" in printed
    assert "Frankfurt" not in printed
    row = re.search(r"^  ALB acme-dev-alb +730 h +(\S+)/h +(\$[\d,.]+)$", printed, re.MULTILINE)
    assert row, printed
    assert row.group(1) == f"${hourly:g}" and row.group(2) == cost.usd(round(730 * hourly, 2))


def test_a_price_the_regional_table_lacks_is_listed_as_not_priced_not_a_crash(tmp_path, capsys):
    """GIVEN us-east-1 WHEN priced with its table and with one where every price but the ALB's is removed
    THEN no error: each component whose price is absent is listed as not priced (and left out of the total)."""
    main(["cost", "acme/dev", *us_east_params(tmp_path)])
    capsys.readouterr()
    found = inventory(Built(tmp_path / "out" / "acme" / "dev"))
    table = cost.load_prices(cost.price_file("us-east-1"))
    absent = [key for key in frankfurt_keys() if key not in table["prices"]]
    result = cost.estimate(found)
    for key in absent:
        needed = [item for item in result.unpriced if f"no {key}" in item or f", {key}" in item]
        used = key in result.used_prices()
        assert not used, key
        if needed:
            assert all("us-east-1.json" in item for item in needed), needed
    assert result.gaps and set(result.gaps) <= set(result.unpriced)
    # AND a table holding only the ALB hour still prices that line and lists the rest
    only_alb = {**table, "prices": {"alb_hour": table["prices"]["alb_hour"]}}
    partial = cost.estimate(found, only_alb)
    assert [item.component for item in partial.lines] == ["ALB acme-dev-alb"]
    for component in ("NAT gateways", "Fargate api", "ALB acme-dev-alb LCUs", "CloudWatch Logs ingestion"):
        assert any(item.startswith(f"{component}: no ") for item in partial.unpriced), (component, partial.unpriced)
    assert partial.nat_options == [] and any(item.startswith("NAT trade-off") for item in partial.unpriced)
    assert "Not priced:" in cost_text.report(partial)
    assert cost_text.as_json(partial)["sources"] == {"alb_hour": table["prices"]["alb_hour"]["source"]}


def frankfurt_keys() -> list[str]:
    return list(cost.load_prices()["prices"])


def test_small_environment_without_a_price_is_listed_for_each_component_that_needs_it(small):
    """GIVEN the round made-up prices without inter_az_gb and the KMS price WHEN priced THEN no cross-AZ or
    KMS line, both listed as not priced, no NAT trade-off, and the other lines unchanged."""
    prices = json.loads(json.dumps(PRICES))
    del prices["prices"]["inter_az_gb"], prices["prices"]["kms_key_month"]
    result = priced(small, prices=prices)
    components = {item.component for item in result.lines}
    assert "NAT cross-AZ traffic" not in components and "KMS keys" not in components
    assert "NAT cross-AZ traffic: no inter_az_gb price in the bundled eu-central-1.json table" in result.unpriced
    assert "KMS keys: no kms_key_month price in the bundled eu-central-1.json table" in result.unpriced
    assert result.nat_options == []
    assert line(result, "NAT gateways") == 5.00 and line(result, "Fargate api") == 14.40


def test_a_scheduled_job_is_priced_from_its_runs_a_month_and_job_minutes_per_run(tmp_path):
    """GIVEN acme/dev with the job `report` (cron daily, 256 CPU / 512 MiB) WHEN its cost is estimated THEN its
    Fargate line is 30.4 runs × 10 minutes of the task's size, the cron count is said to be approximate, the
    Scheduler invocations are listed as not priced, and the unscheduled job costs nothing."""
    write(compiler.compile_environment(spec_module.parse(jobs_spec())), tmp_path)
    result = cost.estimate(inventory(Built(tmp_path / "acme" / "dev")))
    (line,) = [item for item in result.lines if item.component == "Fargate job report"]
    prices = cost.load_prices()
    hours = 730 / 24 * 10 / 60
    vcpu, gb = (prices["prices"][key]["usd"] for key in ("fargate_vcpu_hour", "fargate_gb_hour"))
    assert line.monthly == pytest.approx(hours * (0.25 * vcpu + 0.5 * gb), abs=0.005)  # lines are in cents
    assert not [item for item in result.lines if "migrate" in item.component]
    assert any("job report: runs a month counted approximately" in note for note in result.notes)
    assert any("EventBridge Scheduler invocations of job report" in item for item in result.unpriced)
