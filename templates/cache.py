"""ElastiCache Redis (OSS) replication group: Multi-AZ with automatic failover, encrypted at rest and in
transit, AUTH token generated into Secrets Manager and resolved by CloudFormation (never in the template)."""

from __future__ import annotations

from troposphere import GetAtt, Ref, Sub, Template, elasticache, secretsmanager

from . import names
from .base import RETAIN, FromStack, output, parameter, tags
from .spec import EnvironmentSpec

PORT = 6379


def add(template: Template, spec: EnvironmentSpec, subnets, inputs: dict) -> None:
    """The replication group and its AUTH token in the data stack's `template`, wiring into `inputs`.

    Reads spec.cache (.engine_version, .node_type, .nodes, .multi_az, .snapshot_retention_days),
    spec.system, spec.environment, spec.prefix. Exports names.CACHE_ENDPOINT, names.CACHE_PORT,
    names.CACHE_AUTH_SECRET_ARN.
    """
    settings = spec.cache
    security_group = parameter(
        template, names.CACHE_SECURITY_GROUP_ID, "Security group of the cache", "AWS::EC2::SecurityGroup::Id"
    )
    inputs[names.CACHE_SECURITY_GROUP_ID] = FromStack(names.SECURITY, names.CACHE_SECURITY_GROUP_ID)
    subnet_group = template.add_resource(
        elasticache.SubnetGroup(
            "CacheSubnetGroup",
            Description=f"{spec.prefix} cache subnets",
            SubnetIds=Ref(subnets),
            Tags=tags(spec),
        )
    )
    key = parameter(template, names.ENVIRONMENT_KEY_ARN, "KMS key of the environment")
    inputs[names.ENVIRONMENT_KEY_ARN] = FromStack(names.NETWORK, names.ENVIRONMENT_KEY_ARN)
    token = template.add_resource(
        secretsmanager.Secret(
            "CacheAuthToken",
            Name=f"{spec.system}/{spec.environment}/cache-auth-token",
            Description=f"{spec.prefix} Redis AUTH token (generated)",
            KmsKeyId=Ref(key),
            GenerateSecretString=secretsmanager.GenerateSecretString(PasswordLength=64, ExcludePunctuation=True),
            DeletionPolicy=RETAIN,
            UpdateReplacePolicy="Retain",
            Tags=tags(spec),
        )
    )
    group = template.add_resource(
        elasticache.ReplicationGroup(
            "CacheReplicationGroup",
            DeletionPolicy="Snapshot",
            UpdateReplacePolicy="Snapshot",
            ReplicationGroupDescription=f"{spec.prefix} Redis",
            Engine="redis",
            EngineVersion=settings.engine_version,
            CacheNodeType=settings.node_type,
            NumCacheClusters=settings.nodes,
            MultiAZEnabled=settings.multi_az,
            AutomaticFailoverEnabled=settings.multi_az,
            AtRestEncryptionEnabled=True,
            TransitEncryptionEnabled=True,
            AuthToken=Sub("{{resolve:secretsmanager:${Secret}:SecretString}}", Secret=Ref(token)),
            CacheSubnetGroupName=Ref(subnet_group),
            SecurityGroupIds=[Ref(security_group)],
            Port=PORT,
            SnapshotRetentionLimit=settings.snapshot_retention_days,
            AutoMinorVersionUpgrade=True,
            Tags=tags(spec, f"{spec.prefix}-cache"),
        )
    )
    output(template, names.CACHE_ENDPOINT, GetAtt(group, "PrimaryEndPoint.Address"), "Redis primary endpoint (TLS)")
    output(template, names.CACHE_PORT, str(PORT), "Redis port")
    output(template, names.CACHE_AUTH_SECRET_ARN, Ref(token), "Secrets Manager secret holding the Redis AUTH token")
