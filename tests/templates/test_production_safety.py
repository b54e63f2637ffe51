"""`production: true` cannot be combined with switching data safety off, and the emitted templates keep it."""

from __future__ import annotations

import pytest

from templates import spec as spec_module
from templates.spec import SpecInvalid

from ..helpers import base_spec, compile_dict, only


def _production(**overrides) -> dict:
    spec = base_spec(production=True, database={"enabled": True}, cache={})
    spec["services"]["api"]["connects_to"] = ["database", "cache"]
    for section, values in overrides.items():
        spec[section] = {**(spec.get(section) or {}), **values}
    return spec


@pytest.mark.parametrize(
    "section, values, message",
    [
        ("load_balancer", {"deletion_protection": False}, "load_balancer.deletion_protection: false"),
        ("database", {"deletion_protection": False}, "database.deletion_protection: false"),
        ("database", {"backup_retention_days": 3}, "database.backup_retention_days: 3 (production keeps at least 7)"),
        ("cache", {"snapshot_retention_days": 0}, "cache.snapshot_retention_days: 0"),
    ],
)
def test_production_refuses_a_spec_that_turns_data_safety_off(section, values, message):
    # GIVEN a production spec WHEN one of its safeguards is switched off THEN validation names it
    with pytest.raises(
        SpecInvalid, match=r"production: true does not allow .*" + message.replace("(", r"\(").replace(")", r"\)")
    ):
        spec_module.parse(_production(**{section: values}))


def test_the_same_settings_are_allowed_outside_production():
    # GIVEN the same weakened settings WHEN production is false THEN the spec is valid
    spec = _production(
        load_balancer={"deletion_protection": False},
        database={"deletion_protection": False, "backup_retention_days": 1},
        cache={"snapshot_retention_days": 0},
    )
    spec["production"] = False
    spec_module.parse(spec)


def test_production_templates_protect_the_data():
    # GIVEN a valid production spec WHEN it is built
    built = compile_dict(_production())
    # THEN the ALB and the Aurora cluster have deletion protection, backups last 7 days, Redis keeps snapshots
    attributes = {
        a["Key"]: a["Value"]
        for a in only(built["loadbalancer.json"], "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"][
            "LoadBalancerAttributes"
        ]
    }
    assert attributes["deletion_protection.enabled"] == "true"
    cluster = only(built["data.json"], "AWS::RDS::DBCluster")
    assert cluster["Properties"]["DeletionProtection"] is True and cluster["Properties"]["BackupRetentionPeriod"] >= 7
    assert (cluster["DeletionPolicy"], cluster["UpdateReplacePolicy"]) == ("Snapshot", "Snapshot")
    cache = only(built["data.json"], "AWS::ElastiCache::ReplicationGroup")
    assert cache["Properties"]["SnapshotRetentionLimit"] >= 1
    assert (cache["DeletionPolicy"], cache["UpdateReplacePolicy"]) == ("Snapshot", "Snapshot")


def test_production_refuses_six_days_of_backups_one_below_the_floor():
    import re

    # GIVEN a production spec keeping Aurora backups 6 days, one below the production floor of 7
    # WHEN it is validated
    # THEN it is refused, naming the field, the value and the floor
    with pytest.raises(
        SpecInvalid,
        match=re.escape(
            "production: true does not allow database.backup_retention_days: 6 (production keeps at least 7)"
        ),
    ):
        spec_module.parse(_production(database={"backup_retention_days": 6}))


def test_production_accepts_exactly_seven_days_of_backups():
    # GIVEN a production spec keeping Aurora backups exactly 7 days, the production floor
    # WHEN it is validated and built
    built = compile_dict(_production(database={"backup_retention_days": 7}))
    # THEN it is accepted, and the cluster keeps its backups those 7 days
    assert only(built["data.json"], "AWS::RDS::DBCluster")["Properties"]["BackupRetentionPeriod"] == 7
