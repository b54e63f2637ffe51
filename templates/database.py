"""Aurora PostgreSQL Serverless v2 behind the deploy-time `EnableDatabase` switch (the seed's `count = 0`).

The security group and outputs always exist, so services can be wired whether the switch is on or off;
the subnet group, cluster and instances exist only while it is on. RDS generates and rotates the master
password in Secrets Manager: no password ever appears in a template or a parameter file.
"""

from __future__ import annotations

from troposphere import Equals, GetAtt, If, Ref, Sub, Template, iam, rds

from . import iam as policies
from . import names
from .base import FromRoot, FromStack, output, parameter, tags
from .spec import EnvironmentSpec

CONDITION = names.DATABASE_ENABLED
PORT = 5432


def add_switch(template: Template, spec: EnvironmentSpec, inputs: dict) -> None:
    """The deploy-time `EnableDatabase` parameter and its condition; identical in every stack that needs it.
    Reads spec.database.enabled (the parameter's default)."""
    if names.ENABLE_DATABASE in template.parameters:
        return
    switch = parameter(
        template,
        names.ENABLE_DATABASE,
        "Create the Aurora PostgreSQL cluster (true) or not (false)",
        Default=str(spec.database.enabled).lower(),
        AllowedValues=["true", "false"],
    )
    inputs[names.ENABLE_DATABASE] = FromRoot()
    template.add_condition(CONDITION, Equals(Ref(switch), "true"))


def add(template: Template, spec: EnvironmentSpec, subnets, inputs: dict) -> None:
    """The switch, cluster and instances in the data stack's `template`, wiring into `inputs`.

    Reads spec.database (.enabled, .engine_version, .database_name, .master_username, .min_capacity,
    .max_capacity, .instances, .backup_retention_days, .deletion_protection, .monitoring_interval_seconds),
    spec.prefix. Exports names.DATABASE_ENDPOINT, names.DATABASE_PORT, names.DATABASE_NAME,
    names.DATABASE_SECRET_ARN.
    """
    settings = spec.database
    add_switch(template, spec, inputs)
    security_group = parameter(
        template, names.DATABASE_SECURITY_GROUP_ID, "Security group of the database", "AWS::EC2::SecurityGroup::Id"
    )
    inputs[names.DATABASE_SECURITY_GROUP_ID] = FromStack(names.SECURITY, names.DATABASE_SECURITY_GROUP_ID)
    subnet_group = template.add_resource(
        rds.DBSubnetGroup(
            "DatabaseSubnetGroup",
            Condition=CONDITION,
            DBSubnetGroupDescription=f"{spec.prefix} database subnets",
            SubnetIds=Ref(subnets),
            Tags=tags(spec),
        )
    )
    family = f"aurora-postgresql{settings.engine_version.split('.')[0]}"
    parameters = template.add_resource(
        rds.DBClusterParameterGroup(
            "DatabaseParameterGroup",
            Condition=CONDITION,
            Family=family,
            Description=f"{spec.prefix}: TLS required, statement logging of DDL",
            Parameters={"rds.force_ssl": "1", "log_statement": "ddl"},
            Tags=tags(spec),
        )
    )
    stateful = "Snapshot"
    cluster = template.add_resource(
        rds.DBCluster(
            "DatabaseCluster",
            Condition=CONDITION,
            DeletionPolicy=stateful,
            UpdateReplacePolicy=stateful,
            Engine="aurora-postgresql",
            EngineVersion=settings.engine_version,
            Port=PORT,
            DatabaseName=settings.database_name,
            MasterUsername=settings.master_username,
            ManageMasterUserPassword=True,
            ServerlessV2ScalingConfiguration=rds.ServerlessV2ScalingConfiguration(
                MinCapacity=settings.min_capacity, MaxCapacity=settings.max_capacity
            ),
            DBSubnetGroupName=Ref(subnet_group),
            VpcSecurityGroupIds=[Ref(security_group)],
            DBClusterParameterGroupName=Ref(parameters),
            StorageEncrypted=True,
            EnableIAMDatabaseAuthentication=True,
            BackupRetentionPeriod=settings.backup_retention_days,
            CopyTagsToSnapshot=True,
            DeletionProtection=settings.deletion_protection,  # a production spec cannot turn it off (spec.py)
            EnableCloudwatchLogsExports=["postgresql"],
            Tags=tags(spec, f"{spec.prefix}-database"),
        )
    )
    monitoring = {}
    if settings.monitoring_interval_seconds:
        role = template.add_resource(
            iam.Role(
                "DatabaseMonitoringRole",
                Condition=CONDITION,
                AssumeRolePolicyDocument=policies.assume_role("monitoring.rds.amazonaws.com"),
                ManagedPolicyArns=[
                    Sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole")
                ],
                Tags=tags(spec),
            )
        )
        monitoring = {
            "MonitoringInterval": settings.monitoring_interval_seconds,
            "MonitoringRoleArn": GetAtt(role, "Arn"),
        }
    for index in range(settings.instances):
        template.add_resource(
            rds.DBInstance(
                f"DatabaseInstance{index + 1}",
                Condition=CONDITION,
                DeletionPolicy="Delete",
                UpdateReplacePolicy="Delete",  # instances hold no data: the cluster does
                DBClusterIdentifier=Ref(cluster),
                DBInstanceClass="db.serverless",
                Engine="aurora-postgresql",
                PubliclyAccessible=False,
                AutoMinorVersionUpgrade=True,
                EnablePerformanceInsights=True,
                **monitoring,
                Tags=tags(spec, f"{spec.prefix}-database-{index + 1}"),
            )
        )
    output(
        template,
        names.DATABASE_ENDPOINT,
        If(CONDITION, GetAtt(cluster, "Endpoint.Address"), ""),
        "Writer endpoint (empty while EnableDatabase is false)",
    )
    output(template, names.DATABASE_PORT, str(PORT), "PostgreSQL port")
    output(template, names.DATABASE_NAME, settings.database_name, "Initial database name")
    output(
        template,
        names.DATABASE_SECRET_ARN,
        If(CONDITION, GetAtt(cluster, "MasterUserSecret.SecretArn"), ""),
        "Secrets Manager secret with the master credentials (empty while EnableDatabase is false)",
    )
