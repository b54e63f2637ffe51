"""Stand-in models for resource types moto cannot create (ElastiCache, RDS DBCluster, ServiceDiscovery, ECS
CapacityProvider, Application Auto Scaling, ACM, Secrets Manager, ...), and the settings moto's own S3
bucket and ECS service models leave out (and a cluster's capacity provider associations)."""

from __future__ import annotations

import copy
import re
from typing import Any

from moto.acm.models import CertBundle, acm_backends
from moto.cloudformation import parsing
from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat, cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.ecs.models import ecs_backends
from moto.moto_api._internal import mock_random
from moto.s3.models import s3_backends

# (Ref returns an ARN, default port) for the types whose identifier is not a plain name.
_ARN_REF = {
    "AWS::CertificateManager::Certificate",
    "AWS::SecretsManager::Secret",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::WAFv2::WebACL",
}
_PORTS = {
    "AWS::ElastiCache::ReplicationGroup": 6379,
    "AWS::ElastiCache::CacheCluster": 6379,
    "AWS::RDS::DBCluster": 5432,
    "AWS::RDS::DBInstance": 5432,
}
# resource type -> its stand-in class, made on first use (see stand_in_class)
STAND_INS: dict[str, type] = {}
LOWERCASE_NAMES = ("AWS::RDS::", "AWS::ElastiCache::")


def _certificate(properties: dict, account_id: str, region: str) -> str:
    """A certificate other services can find (the ALB listener checks that it exists)."""
    return acm_backends[account_id][region].request_certificate(
        properties.get("DomainName", "example.com"), None, properties.get("SubjectAlternativeNames") or [], []
    )


CERTIFICATE_ARN = re.compile(
    r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):certificate/[A-Za-z0-9-]+$"
)


def existing_certificate(arn: str, domain_name: str = "stand-in.invalid") -> bool:
    """An issued ACM certificate under exactly `arn`, in the account and region the ARN names (as one made
    outside the stack would be): for a spec's `certificate_arn`, which the ALB listener checks exists there
    (CertificateNotFound otherwise). Its key and body are generated. False when it already existed."""
    match = CERTIFICATE_ARN.match(arn)
    if match is None:
        raise ValueError(f"not an ACM certificate ARN: {arn}")
    backend = acm_backends[match["account"]][match["region"]]
    if arn in backend._certificates:
        return False
    bundle = CertBundle.generate_cert(domain_name, account_id=match["account"], region=match["region"])
    bundle.arn, bundle.type, bundle.status = arn, "IMPORTED", "ISSUED"
    backend._certificates[arn] = bundle
    return True


def _dimensions(items) -> list:
    return [{"Name": str(item["Name"]), "Value": str(item["Value"])} for item in items or []]


def _query(query: dict) -> MetricDataQuery:
    """One entry of an alarm's `Metrics` (the PutMetricAlarm MetricDataQuery shape, as the template writes it)."""
    stat = query.get("MetricStat")
    metric_stat = None
    if isinstance(stat, dict):
        metric = stat.get("Metric", {})
        dimensions = [Dimension(item["Name"], item["Value"]) for item in _dimensions(metric.get("Dimensions"))]
        metric_stat = MetricStat(
            metric=Metric(
                metric_name=metric.get("MetricName"), namespace=metric.get("Namespace"), dimensions=dimensions
            ),
            period=stat.get("Period"),
            stat=stat.get("Stat"),
            unit=stat.get("Unit"),
        )
    return MetricDataQuery(
        query_id=query.get("Id"),
        label=query.get("Label"),
        period=query.get("Period"),
        return_data=query.get("ReturnData"),
        expression=query.get("Expression"),
        metric_stat=metric_stat,
    )


def _alarm(properties: dict, account_id: str, region: str) -> str:
    """An AWS::CloudWatch::Alarm put into moto's CloudWatch backend (PutMetricAlarm, which moto implements but its
    CloudFormation does not), so DescribeAlarms lists it as it would after a real deploy; returns its ARN."""
    alarm = cloudwatch_backends[account_id][region].put_metric_alarm(
        name=properties["AlarmName"],
        namespace=properties.get("Namespace"),
        metric_name=properties.get("MetricName"),
        metric_data_queries=[_query(query) for query in properties.get("Metrics") or []] or None,
        comparison_operator=properties["ComparisonOperator"],
        evaluation_periods=int(properties["EvaluationPeriods"]),
        period=properties.get("Period"),
        threshold=float(properties["Threshold"]),
        statistic=properties.get("Statistic"),
        description=properties.get("AlarmDescription", ""),
        dimensions=_dimensions(properties.get("Dimensions")),
        alarm_actions=list(properties.get("AlarmActions") or []),
        ok_actions=list(properties.get("OKActions") or []),
        insufficient_data_actions=list(properties.get("InsufficientDataActions") or []),
        treat_missing_data=properties.get("TreatMissingData"),
        datapoints_to_alarm=properties.get("DatapointsToAlarm"),
    )
    return alarm.alarm_arn


def _delete_alarm(instance: Any) -> None:
    cloudwatch_backends[instance.account_id][instance.region].delete_alarms([instance.properties["AlarmName"]])


# Types whose stand-in also creates the real thing in moto, because other moto models look it up (or a client
# does); an update makes it again from the new properties, a delete removes what `_UNBACKING` names.
# (Not S3 bucket policies: moto enforces them ignoring Conditions, so a TLS-only Deny would deny everything.)
_BACKING = {"AWS::CertificateManager::Certificate": _certificate, "AWS::CloudWatch::Alarm": _alarm}
_UNBACKING = {"AWS::CloudWatch::Alarm": _delete_alarm}
# Types whose Ref is a property of theirs (CloudFormation: an alarm's Ref is its name)
_NAME_REF = {"AWS::CloudWatch::Alarm": "AlarmName"}


def _bucket_settings(instance: Any, properties: dict) -> None:
    """What moto's S3 bucket model leaves out of CloudFormation: versioning, public access block, lifecycle."""
    backend = s3_backends[instance.account_id]["aws"]
    name = instance.name
    if "VersioningConfiguration" in properties:
        backend.put_bucket_versioning(name, properties["VersioningConfiguration"].get("Status", "Suspended"))
    if "PublicAccessBlockConfiguration" in properties:
        backend.put_public_access_block(name, properties["PublicAccessBlockConfiguration"])
    rules = (properties.get("LifecycleConfiguration") or {}).get("Rules") or []
    if rules:
        converted = []
        for rule in rules:
            item = {
                "ID": rule.get("Id"),
                "Status": rule.get("Status", "Enabled"),
                "Filter": {"Prefix": rule.get("Prefix", "")},
            }
            for key in ("NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload"):
                if key in rule:
                    item[key] = {k: str(v) for k, v in rule[key].items()}
            if "ExpirationInDays" in rule:
                item["Expiration"] = {"Days": str(rule["ExpirationInDays"])}
            converted.append(item)
        backend.put_bucket_lifecycle(name, converted)


def _camel(value: Any) -> Any:
    """A template's PascalCase property structure in the camelCase of the ECS API (CapacityProvider ->
    capacityProvider), as moto's ECS backend stores it."""
    if isinstance(value, list):
        return [_camel(item) for item in value]
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _camel(item) for key, item in value.items()}
    return value


def _service_settings(instance: Any, properties: dict) -> None:
    """What moto's ECS service model leaves out of CloudFormation: how its tasks are placed (the capacity provider
    strategy, or the launch type) and the target groups it registers with, as DescribeServices reports them."""
    strategy = _camel(properties.get("CapacityProviderStrategy") or [])
    instance.capacity_provider_strategy = [{"base": 0, **item} for item in strategy]
    # ECS reports a launch type only for a service created with one (moto defaults it to EC2)
    instance.launch_type = properties.get("LaunchType") if not strategy else None
    for deployment in getattr(instance, "deployments", []):
        deployment["launchType"] = instance.launch_type
        if strategy:
            deployment["capacityProviderStrategy"] = instance.capacity_provider_strategy
    instance.load_balancers = _camel(properties.get("LoadBalancers") or [])


def _cluster_capacity_providers(instance: Any, properties: dict) -> None:
    """An AWS::ECS::ClusterCapacityProviderAssociations stand-in sets its cluster's capacity providers and default
    strategy in moto's ECS backend (PutClusterCapacityProviders), so DescribeClusters reports them."""
    ecs_backends[instance.account_id][instance.region].put_cluster_capacity_providers(
        str(properties["Cluster"]),
        list(properties.get("CapacityProviders") or []),
        _camel(properties.get("DefaultCapacityProviderStrategy") or []),
    )


# Applied after moto created a resource of the type, with its resolved properties.
AFTER_CREATE = {
    "AWS::S3::Bucket": _bucket_settings,
    "AWS::ECS::Service": _service_settings,
    "AWS::ECS::ClusterCapacityProviderAssociations": _cluster_capacity_providers,
}


def stand_in_class(resource_type: str) -> type:
    """A model for a type moto cannot create: it remembers its properties and returns placeholder
    identifiers and attributes (ARNs, endpoints, ports), which is all the rest of a template needs.

    Made on first use, never at import: moto caches `CloudFormationModel.__subclasses__()` as its model map
    the first time it looks a type up, and a subclass that exists by then would join that map."""
    if resource_type in STAND_INS:
        return STAND_INS[resource_type]
    service = resource_type.split("::")[1].lower()
    kind = resource_type.split("::")[2].lower()

    class StandIn(CloudFormationModel):
        def __init__(self, name: str, properties: dict, account_id: str, region: str):
            self.name = name
            self.properties = properties
            self.account_id = account_id
            self.region = region
            self.suffix = mock_random.get_random_string(length=8, lower_case=True)

        @staticmethod
        def cloudformation_type() -> str:
            return resource_type

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return True

        @property
        def arn(self) -> str:
            return (
                getattr(self, "backing_arn", None)
                or f"arn:aws:{service}:{self.region}:{self.account_id}:{kind}/{self.name}"
            )

        @property
        def physical_resource_id(self) -> str:
            if resource_type in _NAME_REF and self.properties.get(_NAME_REF[resource_type]):
                return str(self.properties[_NAME_REF[resource_type]])
            return self.arn if resource_type in _ARN_REF else self.name

        def get_cfn_attribute(self, attribute: str) -> Any:
            last = attribute.split(".")[-1]
            if last.endswith("Arn") or last == "Arn":
                return self.arn
            if last.endswith("Port"):
                return str(self.properties.get("Port", _PORTS.get(resource_type, 443)))
            if last.endswith(("Address", "Endpoint", "DNSName", "Name")) or "Endpoint" in attribute:
                return f"{self.name.lower()}.{self.suffix}.{service}.{self.region}.amazonaws.com"
            if last.endswith("Id"):
                return f"{kind[:4]}-{self.suffix}"
            return self.physical_resource_id

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            properties = cloudformation_json.get("Properties", {})
            instance = cls(str(resource_name).lower()[:63], properties, account_id, region_name)
            if resource_type in _BACKING:
                instance.backing_arn = _BACKING[resource_type](properties, account_id, region_name)
            return instance

        @classmethod
        def update_from_cloudformation_json(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        ):
            original_resource.properties = cloudformation_json.get("Properties", {})
            if resource_type in _BACKING:
                original_resource.backing_arn = _BACKING[resource_type](
                    original_resource.properties, account_id, region_name
                )
            return original_resource

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
            return None

        def delete(self, account_id: str, region_name: str) -> None:
            if resource_type in _UNBACKING:
                _UNBACKING[resource_type](self)

        def is_created(self) -> bool:
            return True

    StandIn.__name__ = StandIn.__qualname__ = "StandIn" + "".join(resource_type.split("::")[1:])
    STAND_INS[resource_type] = StandIn
    return StandIn


def create_stand_in(logical_id: str, resource_json: dict, resources_map, account_id: str, region: str):
    """A stand-in instead of moto's model for one resource (moto's model could not take its properties)."""
    # parsing's functions through the module: the patched ones
    cleaned = parsing.clean_json(copy.deepcopy(resource_json), resources_map)
    name = parsing.generate_resource_name(resource_json["Type"], resources_map["AWS::StackName"], logical_id)
    instance = stand_in_class(resource_json["Type"]).create_from_cloudformation_json(name, cleaned, account_id, region)
    instance.cf_resource_type = resource_json["Type"]
    instance.logical_resource_id = logical_id
    return instance
