"""The data stack: the environment's stateful stores (database and cache) in one nested stack, so their
lifecycle and stack policy are separate from the stateless services."""
from __future__ import annotations

from . import cache, database
from .base import FromStack, NestedStack, new_template, parameter
from .spec import EnvironmentSpec


def build(spec: EnvironmentSpec) -> NestedStack | None:
    if spec.database is None and spec.cache is None:
        return None
    template = new_template(spec, "data stores (Aurora PostgreSQL, ElastiCache Redis)")
    subnets = parameter(template, "PrivateSubnetIds", "Private subnets for the data stores", "List<AWS::EC2::Subnet::Id>")
    inputs = {"PrivateSubnetIds": FromStack("Network", "PrivateSubnetIds")}
    if spec.database is not None:
        database.add(template, spec, subnets, inputs)
    if spec.cache is not None:
        cache.add(template, spec, subnets, inputs)
    return NestedStack("Data", "data.json", template, inputs)
