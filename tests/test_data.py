"""data.json: Aurora Serverless v2 behind a deploy-time switch; Redis Multi-AZ, encrypted, AUTH from Secrets Manager."""
from __future__ import annotations

from .helpers import base_spec, compile_dict, only, resources


def _data(**extra):
    data = base_spec(**extra)
    data["services"]["api"]["connects_to"] = [name for name in ("cache", "database") if name in extra]
    return compile_dict(data)


def test_database_is_behind_the_enable_switch_and_off_by_default():
    template = _data(database={"min_capacity": 0.5, "max_capacity": 1})["data.json"]
    assert template["Parameters"]["EnableDatabase"]["Default"] == "false"
    assert template["Conditions"]["DatabaseEnabled"] == {"Fn::Equals": [{"Ref": "EnableDatabase"}, "true"]}
    for key in ("DatabaseCluster", "DatabaseInstance1", "DatabaseSubnetGroup", "DatabaseParameterGroup"):
        assert template["Resources"][key]["Condition"] == "DatabaseEnabled", key


def test_database_is_serverless_v2_encrypted_with_managed_password_and_snapshot_on_delete():
    cluster = only(_data(database={"min_capacity": 0.5, "max_capacity": 1})["data.json"], "AWS::RDS::DBCluster")
    props = cluster["Properties"]
    assert props["Engine"] == "aurora-postgresql"
    assert props["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 1.0}
    assert props["StorageEncrypted"] is True and props["ManageMasterUserPassword"] is True
    assert "MasterUserPassword" not in props
    assert (cluster["DeletionPolicy"], cluster["UpdateReplacePolicy"]) == ("Snapshot", "Snapshot")
    assert props["DeletionProtection"] is True


def test_deletion_protection_can_be_lifted_outside_production_only():
    dev = _data(database={"deletion_protection": False})["data.json"]
    assert only(dev, "AWS::RDS::DBCluster")["Properties"]["DeletionProtection"] is False
    prod = _data(database={"deletion_protection": False}, production=True)["data.json"]
    assert only(prod, "AWS::RDS::DBCluster")["Properties"]["DeletionProtection"] is True


def test_database_instances_have_enhanced_monitoring():
    template = _data(database={})["data.json"]
    instance = resources(template, "AWS::RDS::DBInstance")["DatabaseInstance1"]["Properties"]
    assert instance["MonitoringInterval"] == 60
    assert instance["MonitoringRoleArn"] == {"Fn::GetAtt": ["DatabaseMonitoringRole", "Arn"]}


def test_database_switch_is_a_root_parameter_shared_with_services():
    built = _data(database={"enabled": True})
    root = built["root.json"]
    assert root["Parameters"]["EnableDatabase"]["Default"] == "true"
    for stack in ("Data", "ServiceApi"):
        assert root["Resources"][stack]["Properties"]["Parameters"]["EnableDatabase"] == {"Ref": "EnableDatabase"}


def test_redis_is_multi_az_encrypted_with_auth_token_reference():
    template = _data(cache={"nodes": 2, "multi_az": True})["data.json"]
    group = only(template, "AWS::ElastiCache::ReplicationGroup")
    props = group["Properties"]
    assert (props["MultiAZEnabled"], props["AutomaticFailoverEnabled"], props["NumCacheClusters"]) == (True, True, 2)
    assert props["AtRestEncryptionEnabled"] is True and props["TransitEncryptionEnabled"] is True
    assert props["AuthToken"] == {"Fn::Sub": ["{{resolve:secretsmanager:${Secret}:SecretString}}",
                                              {"Secret": {"Ref": "CacheAuthToken"}}]}
    assert group["DeletionPolicy"] == "Snapshot"
    assert only(template, "AWS::SecretsManager::Secret")["DeletionPolicy"] == "RetainExceptOnCreate"


def test_no_data_stack_without_stores():
    assert "data.json" not in compile_dict(base_spec())
