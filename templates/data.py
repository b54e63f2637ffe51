"""The data stack: the environment's stateful stores (database and cache) in one nested stack, so their
lifecycle and stack policy are separate from the stateless services."""

from __future__ import annotations

from . import alarms, cache, database, names
from .base import FromStack, NestedStack, new_template, parameter
from .spec import EnvironmentSpec


def needed(spec: EnvironmentSpec) -> bool:
    """Whether the environment has this stack: only with a database or a cache in the spec."""
    return spec.database is not None or spec.cache is not None


def build(spec: EnvironmentSpec) -> NestedStack:
    """The data stack (names.DATA, names.DATA_FILE); only when `needed(spec)`.

    Reads spec.database and spec.cache (their fields: database.add, cache.add), spec.prefix.
    Exports names.DATABASE_ENDPOINT, names.DATABASE_PORT, names.DATABASE_NAME, names.DATABASE_SECRET_ARN
    (with a database) and names.CACHE_ENDPOINT, names.CACHE_PORT, names.CACHE_AUTH_SECRET_ARN (with a cache). Wired inputs: names.PRIVATE_SUBNET_IDS and names.ENVIRONMENT_KEY_ARN
    from names.NETWORK, names.DATABASE_SECURITY_GROUP_ID / names.CACHE_SECURITY_GROUP_ID from
    names.SECURITY, names.ENABLE_DATABASE from the root, names.ALARM_TOPIC_ARN from names.NETWORK (the stores' alarms,
    alarms.add_database_alarms / alarms.add_cache_alarms: spec.alarms.database, spec.alarms.cache).
    """
    if not needed(spec):
        raise ValueError(f"{spec.prefix}: no database and no cache, so no data stack")
    template = new_template(spec, "data stores (Aurora PostgreSQL, ElastiCache Redis)")
    subnets = parameter(
        template, names.PRIVATE_SUBNET_IDS, "Private subnets for the data stores", "List<AWS::EC2::Subnet::Id>"
    )
    inputs = {names.PRIVATE_SUBNET_IDS: FromStack(names.NETWORK, names.PRIVATE_SUBNET_IDS)}

    def take(name: str, description: str, source):
        inputs[name] = source
        return parameter(template, name, description)

    topic = alarms.topic_parameter(take)
    if spec.database is not None:
        database.add(template, spec, subnets, inputs)
        alarms.add_database_alarms(template, spec, template.resources["DatabaseCluster"], topic, database.CONDITION)
    if spec.cache is not None:
        cache.add(template, spec, subnets, inputs)
        alarms.add_cache_alarms(template, spec, template.resources["CacheReplicationGroup"], topic)
    return NestedStack(names.DATA, names.DATA_FILE, template, inputs)
