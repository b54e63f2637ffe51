"""The kinds registry: every CloudFormation type the reports cover has its handlers there, found by the type,
and a type cannot get a second handler of the same role."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stackloom import kinds
from stackloom.report import cost, inventory, mermaid, storage

from ..helpers import PROJECT

# The types the inventory reads and the cost estimate prices (the reports' coverage; a new kind adds itself here).
INVENTORIED = {
    "AWS::Scheduler::Schedule",
    "AWS::EC2::VPC",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::Subnet",
    "AWS::EC2::Route",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::NatGateway",
    "AWS::EC2::FlowLog",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::Route53::RecordSet",
    "AWS::ECS::Cluster",
    "AWS::ECS::CapacityProvider",
    "AWS::AutoScaling::AutoScalingGroup",
    "AWS::ECS::Service",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ServiceDiscovery::PrivateDnsNamespace",
    "AWS::ServiceDiscovery::PublicDnsNamespace",
    "AWS::ServiceDiscovery::HttpNamespace",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::CacheCluster",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::Lambda::Function",
    "AWS::CloudFormation::CustomResource",
    "AWS::Logs::LogGroup",
    "AWS::CloudWatch::Alarm",  # the alarms and their topic (report/alarms.py)
    "AWS::ECR::Repository",
    "AWS::KMS::Key",
    "AWS::SecretsManager::Secret",
    "AWS::IAM::InstanceProfile",
    "AWS::EC2::VPCEndpoint",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::DynamoDB::Table",
    "AWS::SNS::Subscription",
    "AWS::IAM::Role",
}
PRICED = {
    "AWS::Scheduler::Schedule",
    "AWS::EC2::NatGateway",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ECS::Service",
    "AWS::AutoScaling::AutoScalingGroup",
    "AWS::RDS::DBCluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::CacheCluster",
    "AWS::Logs::LogGroup",
    "AWS::Route53::RecordSet",
    "AWS::ServiceDiscovery::PrivateDnsNamespace",
    "AWS::ServiceDiscovery::PublicDnsNamespace",
    "AWS::ServiceDiscovery::HttpNamespace",
    "AWS::KMS::Key",
    "AWS::SecretsManager::Secret",
    "AWS::EC2::VPCEndpoint",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::DynamoDB::Table",
    "AWS::CloudFormation::Stack",  # an addon's stack: its resources listed as not priced (report/addons.py)
    "AWS::CloudWatch::Alarm",  # alarms per alarm metric-month (report/alarms.py)
}

# The data-store types the diagram draws through the registry (a new stateful kind adds its node here).
DRAWN = {
    "AWS::Scheduler::Schedule",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::CacheCluster",
    "AWS::EC2::VPCEndpoint",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::DynamoDB::Table",
    "AWS::CloudFormation::Stack",  # an addon's stack (report/addons.py)
    "AWS::CloudWatch::Alarm",  # one "Alarms topic" node for all of them (report/alarms.py)
}


def test_registry_lists_the_handlers_of_the_types_the_reports_cover():
    """GIVEN the report modules imported WHEN the registry is asked THEN each covered type has its handlers,
    defined in the report module of its role, and inventory()/estimate() run exactly those."""
    assert set(kinds.covered("inventory")) == INVENTORIED
    assert set(kinds.covered("cost")) == PRICED
    # the storage kinds' handlers of every role live together in stackloom/report/storage.py, the jobs' in jobs.py,
    # the addon stacks' in addons.py, the alarms' (and their topic's) in alarms.py
    shared = (storage.__name__, "stackloom.report.jobs", "stackloom.report.addons", "stackloom.report.alarms")
    for role, module in (("inventory", inventory), ("cost", cost), ("diagram", mermaid)):
        assert kinds.handlers(role) and all(
            handler.__module__ in (module.__name__, *shared) for handler in kinds.handlers(role)
        )
    assert set(kinds.covered("diagram")) == DRAWN
    cache = kinds.handlers_of("AWS::ElastiCache::ReplicationGroup")
    assert (
        set(cache) == {"inventory", "cost", "diagram"}
        and cache["cost"] is kinds.HANDLERS["cost"]["AWS::ElastiCache::CacheCluster"]
    )
    assert kinds.kind("AWS::ElastiCache::ReplicationGroup").stateful  # the same key as the safety policy
    assert kinds.handlers_of("AWS::Lambda::Permission") == {}
    assert kinds.kind("AWS::DynamoDB::Table").deletion_protection == "DeletionProtectionEnabled"
    assert kinds.is_stateful("AWS::SQS::Queue") and not kinds.is_stateful("AWS::SNS::Topic")


def test_a_type_registered_twice_is_refused():
    """GIVEN a type with a cost handler WHEN a second one is registered THEN it is refused and the first stays;
    a type named twice in one registration, an unknown role or a handler without types is refused too."""
    first = kinds.HANDLERS["cost"]["AWS::KMS::Key"]
    with pytest.raises(ValueError, match="registered twice for AWS::KMS::Key"):
        kinds.cost("AWS::KMS::Key")(lambda found, pricer: None)
    assert kinds.HANDLERS["cost"]["AWS::KMS::Key"] is first
    with pytest.raises(ValueError, match="registered twice for AWS::Lambda::Permission"):
        kinds.cost("AWS::Lambda::Permission", "AWS::Lambda::Permission")(lambda found, pricer: None)
    assert "AWS::Lambda::Permission" not in kinds.HANDLERS["cost"]
    with pytest.raises(ValueError, match="not a handler role"):
        kinds.handles("sketch", "AWS::Lambda::Permission")
    with pytest.raises(ValueError, match="at least one resource type"):
        kinds.inventory()
    with pytest.raises(ValueError, match="registered twice"):
        kinds.register(kinds.Kind("AWS::KMS::Key"))


def test_kinds_imports_no_report_module():
    """GIVEN a fresh interpreter WHEN stackloom.kinds is imported (as diff and deploy do) THEN no report module is."""
    code = "import sys, stackloom.kinds; print(sorted(m for m in sys.modules if m.startswith('stackloom.report')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT)
    assert result.stdout.strip() == "[]"


def test_the_diagram_draws_data_stores_through_their_registered_handlers(built, monkeypatch):
    """GIVEN bet2wealth dev (Redis) WHEN the cache's diagram handler is replaced in the registry
    THEN the drawing uses the replacement: the node comes from the handler found by the type, not a branch."""
    from stackloom.cfn.evaluate import Built

    found = inventory.inventory(Built(built / "bet2wealth" / "dev"))
    assert "ElastiCache" in mermaid.mermaid(found)

    def stand_in(chart, found, component):
        for cache in found.caches:
            chart.node(component[f"cache:{cache.key[1]}"], ["stand-in cache node"], "store", "data")

    table = dict(kinds.HANDLERS["diagram"])
    table["AWS::ElastiCache::ReplicationGroup"] = table["AWS::ElastiCache::CacheCluster"] = stand_in
    monkeypatch.setitem(kinds.HANDLERS, "diagram", table)
    drawing = mermaid.mermaid(found)
    assert "stand-in cache node" in drawing and "ElastiCache" not in drawing
