"""data.json: Aurora Serverless v2 behind a deploy-time switch; Redis Multi-AZ, encrypted, AUTH from Secrets Manager."""

from __future__ import annotations

import pytest

from templates.spec import SpecInvalid

from ..helpers import base_spec, compile_dict, only, resources

SMALL_DATABASE = {"min_capacity": 0.5, "max_capacity": 1}
MULTI_AZ_CACHE = {"nodes": 2, "multi_az": True}


def _data(**extra):
    data = base_spec(**extra)
    data["services"]["api"]["connects_to"] = [name for name in ("cache", "database") if name in extra]
    return compile_dict(data)


def test_database_switch_is_off_by_default():
    # GIVEN a database of 0.5-1 ACU that does not say whether it is enabled
    # WHEN the environment is compiled
    template = _data(database=SMALL_DATABASE)["data.json"]
    # THEN the EnableDatabase parameter defaults to "false"
    assert template["Parameters"]["EnableDatabase"]["Default"] == "false"


def test_database_enabled_condition_reads_the_switch():
    # GIVEN a database of 0.5-1 ACU
    # WHEN the environment is compiled
    template = _data(database=SMALL_DATABASE)["data.json"]
    # THEN the DatabaseEnabled condition is EnableDatabase == "true"
    assert template["Conditions"]["DatabaseEnabled"] == {"Fn::Equals": [{"Ref": "EnableDatabase"}, "true"]}


def test_every_database_resource_is_behind_the_switch():
    # GIVEN a database of 0.5-1 ACU
    # WHEN the environment is compiled
    template = _data(database=SMALL_DATABASE)["data.json"]
    # THEN the cluster, its instance, subnet group and parameter group all carry the DatabaseEnabled condition
    for key in ("DatabaseCluster", "DatabaseInstance1", "DatabaseSubnetGroup", "DatabaseParameterGroup"):
        assert template["Resources"][key]["Condition"] == "DatabaseEnabled", key


def test_database_is_aurora_postgresql_serverless_v2_within_the_spec_capacity():
    # GIVEN a database of min 0.5, max 1 ACU
    # WHEN the environment is compiled
    props = only(_data(database=SMALL_DATABASE)["data.json"], "AWS::RDS::DBCluster")["Properties"]
    # THEN the one DB cluster runs aurora-postgresql
    assert props["Engine"] == "aurora-postgresql"
    # AND scales Serverless v2 between 0.5 and 1.0 ACU
    assert props["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 1.0}


def test_database_storage_is_encrypted():
    # GIVEN a database of 0.5-1 ACU
    # WHEN the environment is compiled
    props = only(_data(database=SMALL_DATABASE)["data.json"], "AWS::RDS::DBCluster")["Properties"]
    # THEN the DB cluster's storage is encrypted
    assert props["StorageEncrypted"] is True


def test_database_master_password_is_managed_by_rds_and_not_in_the_template():
    # GIVEN a database of 0.5-1 ACU
    # WHEN the environment is compiled
    props = only(_data(database=SMALL_DATABASE)["data.json"], "AWS::RDS::DBCluster")["Properties"]
    # THEN RDS manages the master user password
    assert props["ManageMasterUserPassword"] is True
    # AND no master password is written into the template
    assert "MasterUserPassword" not in props


def test_database_is_snapshotted_on_delete_and_on_replacement():
    # GIVEN a database of 0.5-1 ACU
    # WHEN the environment is compiled
    cluster = only(_data(database=SMALL_DATABASE)["data.json"], "AWS::RDS::DBCluster")
    # THEN both the deletion and the update-replace policy of the DB cluster are Snapshot
    assert (cluster["DeletionPolicy"], cluster["UpdateReplacePolicy"]) == ("Snapshot", "Snapshot")


def test_database_deletion_protection_is_on_by_default():
    # GIVEN a database of 0.5-1 ACU that says nothing about deletion protection
    # WHEN the environment is compiled
    props = only(_data(database=SMALL_DATABASE)["data.json"], "AWS::RDS::DBCluster")["Properties"]
    # THEN the DB cluster has deletion protection
    assert props["DeletionProtection"] is True


def test_deletion_protection_can_be_lifted_outside_production():
    # GIVEN a non-production database with deletion_protection false
    # WHEN the environment is compiled
    dev = _data(database={"deletion_protection": False})["data.json"]
    # THEN the DB cluster has no deletion protection
    assert only(dev, "AWS::RDS::DBCluster")["Properties"]["DeletionProtection"] is False


def test_production_keeps_deletion_protection_and_refuses_a_spec_that_lifts_it():
    # GIVEN a production database WHEN the environment is compiled THEN the DB cluster has deletion protection
    prod = _data(database={}, production=True)["data.json"]
    assert only(prod, "AWS::RDS::DBCluster")["Properties"]["DeletionProtection"] is True
    # AND a production spec that lifts it is refused before anything is built (tests/templates/test_production_safety.py)
    with pytest.raises(SpecInvalid, match="database.deletion_protection: false"):
        _data(database={"deletion_protection": False}, production=True)


def test_database_instances_have_enhanced_monitoring():
    # GIVEN a database with default settings
    # WHEN the environment is compiled
    template = _data(database={})["data.json"]
    # THEN the first DB instance reports enhanced monitoring every 60 s through the monitoring role
    instance = resources(template, "AWS::RDS::DBInstance")["DatabaseInstance1"]["Properties"]
    assert instance["MonitoringInterval"] == 60
    assert instance["MonitoringRoleArn"] == {"Fn::GetAtt": ["DatabaseMonitoringRole", "Arn"]}


def test_an_enabled_database_defaults_the_root_switch_to_true():
    # GIVEN a database with enabled true
    # WHEN the environment is compiled
    root = _data(database={"enabled": True})["root.json"]
    # THEN the root stack's EnableDatabase parameter defaults to "true"
    assert root["Parameters"]["EnableDatabase"]["Default"] == "true"


def test_root_switch_is_passed_to_the_data_and_service_stacks():
    # GIVEN an enabled database the api service connects to
    # WHEN the environment is compiled
    root = _data(database={"enabled": True})["root.json"]
    # THEN the Data and ServiceApi nested stacks both get EnableDatabase from the root parameter
    for stack in ("Data", "ServiceApi"):
        assert root["Resources"][stack]["Properties"]["Parameters"]["EnableDatabase"] == {"Ref": "EnableDatabase"}


def test_redis_is_multi_az_with_automatic_failover_over_2_nodes():
    # GIVEN a cache of 2 nodes with multi_az true
    # WHEN the environment is compiled
    props = only(_data(cache=MULTI_AZ_CACHE)["data.json"], "AWS::ElastiCache::ReplicationGroup")["Properties"]
    # THEN the one replication group is Multi-AZ, fails over automatically and has 2 cache clusters
    assert (props["MultiAZEnabled"], props["AutomaticFailoverEnabled"], props["NumCacheClusters"]) == (True, True, 2)


def test_redis_is_encrypted_at_rest_and_in_transit():
    # GIVEN a cache of 2 Multi-AZ nodes
    # WHEN the environment is compiled
    props = only(_data(cache=MULTI_AZ_CACHE)["data.json"], "AWS::ElastiCache::ReplicationGroup")["Properties"]
    # THEN the replication group encrypts at rest and in transit
    assert props["AtRestEncryptionEnabled"] is True and props["TransitEncryptionEnabled"] is True


def test_redis_auth_token_is_resolved_from_the_secrets_manager_secret():
    # GIVEN a cache of 2 Multi-AZ nodes
    # WHEN the environment is compiled
    props = only(_data(cache=MULTI_AZ_CACHE)["data.json"], "AWS::ElastiCache::ReplicationGroup")["Properties"]
    # THEN the AUTH token is a dynamic reference to the CacheAuthToken secret's string, not a literal
    assert props["AuthToken"] == {
        "Fn::Sub": ["{{resolve:secretsmanager:${Secret}:SecretString}}", {"Secret": {"Ref": "CacheAuthToken"}}]
    }


def test_redis_is_snapshotted_on_delete_and_its_secret_is_retained():
    # GIVEN a cache of 2 Multi-AZ nodes
    # WHEN the environment is compiled
    template = _data(cache=MULTI_AZ_CACHE)["data.json"]
    # THEN the replication group's deletion policy is Snapshot
    assert only(template, "AWS::ElastiCache::ReplicationGroup")["DeletionPolicy"] == "Snapshot"
    # AND the one Secrets Manager secret is retained on delete unless its creation failed
    assert only(template, "AWS::SecretsManager::Secret")["DeletionPolicy"] == "RetainExceptOnCreate"


def test_no_data_stack_without_stores():
    # GIVEN a spec with neither database nor cache
    # WHEN the environment is compiled
    built = compile_dict(base_spec())
    # THEN there is no data.json
    assert "data.json" not in built


def test_database_requires_tls_through_rds_force_ssl():
    # GIVEN a database of 0.5-1 ACU
    # WHEN the environment is compiled
    template = _data(database=SMALL_DATABASE)["data.json"]
    # THEN the cluster parameter group sets rds.force_ssl to "1" (Aurora refuses connections without TLS)
    group = resources(template, "AWS::RDS::DBClusterParameterGroup")
    assert list(group) == ["DatabaseParameterGroup"]
    assert group["DatabaseParameterGroup"]["Properties"]["Parameters"]["rds.force_ssl"] == "1"
    # AND the cluster runs with that parameter group, not the engine default (which leaves TLS optional)
    cluster = only(template, "AWS::RDS::DBCluster")["Properties"]
    assert cluster["DBClusterParameterGroupName"] == {"Ref": "DatabaseParameterGroup"}


def test_a_minimum_below_half_an_acu_is_refused_not_a_traceback():
    # the spec allowed 0 and troposphere's validator then crashed the build (found with the ledger example)
    from templates.spec import SpecInvalid, parse

    from ..helpers import base_spec

    with pytest.raises(SpecInvalid, match=r"database.min_capacity: expected a number >= 0.5"):
        parse(base_spec(database={"min_capacity": 0}))
