"""Every name the compiler derives fits AWS's rules, for any system and environment names the spec accepts.

System and environment names run from 2 to 32 characters; joined (`<system>-<env>`) they are the start of
every physical name, so a long pair breaks ELB's 32 characters, a DNS label's 63 or Lambda's 64 unless the
name is shortened. Shortened names end with a hash of the whole name, so `preprod` and `preprod-2` (or two
systems) never get the same name in one account and region. The rules below are AWS's (API references of
each service), checked on top of the cfn-lint provider schemas' own maxLength and pattern.
"""

from __future__ import annotations

import re

import pytest
from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from stackloom.audit import lint
from templates.spec import parse
from templates.spec_common import NAME_PATTERN, shortened

from ..helpers import base_spec, compile_dict, resources

ELB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")  # ELBv2 CreateLoadBalancer Name
DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")  # CloudFormation CreateStack StackName


def _labels_fit(name: str) -> bool:
    return len(name) <= 253 and all(DNS_LABEL.fullmatch(label) for label in name.split("."))


# (resource type, property) -> (what AWS allows, in words; the check)
RULES = {
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", "Name"): (
        "at most 32 letters, digits and hyphens, no hyphen at either end, not internal-...",
        lambda value: bool(ELB_NAME.fullmatch(value)) and not value.lower().startswith("internal-"),
    ),
    ("AWS::ElasticLoadBalancingV2::TargetGroup", "Name"): (
        "at most 32 letters, digits and hyphens, no hyphen at either end",
        lambda value: bool(ELB_NAME.fullmatch(value)),
    ),
    ("AWS::ServiceDiscovery::PrivateDnsNamespace", "Name"): ("DNS labels of at most 63", _labels_fit),
    ("AWS::ServiceDiscovery::Service", "Name"): ("one DNS label", lambda value: bool(DNS_LABEL.fullmatch(value))),
    ("AWS::Lambda::Function", "FunctionName"): (
        "1 to 64 letters, digits, - and _",
        lambda value: bool(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value)),
    ),
    ("AWS::Logs::LogGroup", "LogGroupName"): (
        "1 to 512 of letters, digits and ._-/#",
        lambda value: bool(re.fullmatch(r"[.\-_/#A-Za-z0-9]{1,512}", value)),
    ),
    ("AWS::ECS::Cluster", "ClusterName"): (
        "1 to 255 letters, digits, - and _",
        lambda value: bool(re.fullmatch(r"[A-Za-z0-9_-]{1,255}", value)),
    ),
    ("AWS::ECS::TaskDefinition", "Family"): (
        "1 to 255 letters, digits, - and _",
        lambda value: bool(re.fullmatch(r"[A-Za-z0-9_-]{1,255}", value)),
    ),
    ("AWS::ECS::Service", "ServiceName"): (
        "1 to 255 letters, digits, - and _",
        lambda value: bool(re.fullmatch(r"[A-Za-z0-9_-]{1,255}", value)),
    ),
    ("AWS::ECS::CapacityProvider", "Name"): (
        "1 to 255 letters, digits, - and _, not starting with aws, ecs or fargate",
        lambda value: bool(re.fullmatch(r"[A-Za-z0-9_-]{1,255}", value))
        and not value.lower().startswith(("aws", "ecs", "fargate")),
    ),
    ("AWS::EC2::LaunchTemplate", "LaunchTemplateName"): (
        "3 to 128 of letters, digits and ()./_-",
        lambda value: bool(re.fullmatch(r"[A-Za-z0-9().\-/_]{3,128}", value)),
    ),
    ("AWS::KMS::Alias", "AliasName"): (
        "alias/ and at most 250 letters, digits and /_-, not alias/aws/",
        lambda value: bool(re.fullmatch(r"alias/[A-Za-z0-9/_-]{1,250}", value)) and not value.startswith("alias/aws/"),
    ),
    ("AWS::ECR::Repository", "RepositoryName"): ("2 to 256 characters", lambda value: 2 <= len(value) <= 256),
    ("AWS::SecretsManager::Secret", "Name"): (
        "at most 512 of letters, digits and /_+=.@-",
        lambda value: bool(re.fullmatch(r"[A-Za-z0-9/_+=.@-]{1,512}", value)),
    ),
    ("AWS::SQS::Queue", "QueueName"): (
        "1 to 80 letters, digits, - and _ (a FIFO queue's ending in .fifo)",
        lambda value: bool(re.fullmatch(r"[A-Za-z0-9_-]{1,75}(\.fifo)?|[A-Za-z0-9_-]{1,80}", value)),
    ),
    ("AWS::SNS::Topic", "TopicName"): (
        "1 to 256 letters, digits, - and _ (a FIFO topic's ending in .fifo)",
        lambda value: bool(re.fullmatch(r"[A-Za-z0-9_-]{1,251}(\.fifo)?|[A-Za-z0-9_-]{1,256}", value)),
    ),
    ("AWS::DynamoDB::Table", "TableName"): (
        "3 to 255 letters, digits and _.-",
        lambda value: bool(re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", value)),
    ),
    ("AWS::IAM::Role", "RoleName"): (
        "at most 64 of \\w+=,.@-",
        lambda value: bool(re.fullmatch(r"[\w+=,.@-]{1,64}", value)),
    ),
}
# names CloudFormation generates from the stack name (`<stack>-<resource>-<random>`) when none is given
GENERATED_FROM_STACK = {("AWS::ECS::CapacityProvider", "Name"): RULES[("AWS::ECS::CapacityProvider", "Name")]}


def _schema_rule(type_: str, prop: str) -> dict:
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("eu-central-1", type_).schema
    return schema.get("properties", {}).get(prop, {})


def broken_names(files: dict[str, dict], stack_name: str) -> list[str]:
    """Every derived name that breaks a rule: `file: Type.Property = value (allowed)`."""
    found = []
    for file_name, template in files.items():
        if not isinstance(template, dict) or "Resources" not in template:
            continue  # parameters.json, overrides.json, manifest.json
        for logical_id, resource in template["Resources"].items():
            type_, properties = resource["Type"], resource.get("Properties", {})
            for (rule_type, prop), (words, check) in RULES.items():
                value = properties.get(prop)
                if rule_type == type_ and isinstance(value, str) and not check(value):
                    found.append(f"{file_name}: {logical_id}.{prop} = {value!r} ({words})")
            for (rule_type, prop), (words, check) in GENERATED_FROM_STACK.items():
                if rule_type == type_ and prop not in properties and not check(stack_name):
                    found.append(f"{file_name}: {logical_id}.{prop} generated from {stack_name!r} ({words})")
            for prop, value in properties.items():  # and what the provider schemas say of plain strings
                if not isinstance(value, str):
                    continue
                rule = _schema_rule(type_, prop)
                if "maxLength" in rule and len(value) > rule["maxLength"]:
                    found.append(f"{file_name}: {logical_id}.{prop} longer than {rule['maxLength']}")
                if "pattern" in rule and not re.search(rule["pattern"].replace("\\Z", "$"), value):
                    found.append(f"{file_name}: {logical_id}.{prop} = {value!r} breaks {rule['pattern']}")
    if not STACK_NAME.fullmatch(f"{stack_name}-bootstrap"):
        found.append(f"stack name {stack_name}-bootstrap")
    return found


def edge_spec(system: str, environment: str) -> dict:
    """Every part that derives a name: EC2 capacity, HTTPS with DNS, cache, database, long service names."""
    data = base_spec(system=system, environment=environment)
    data["load_balancer"] = {"dns": {"name": "api.example.com", "zone_name": "example.com"}}
    data["cluster"] = {"ec2_capacity": {"instance_type": "t3.large", "min_size": 1, "max_size": 2}}
    data["cache"] = {"node_type": "cache.t4g.micro", "multi_az": False, "nodes": 1}
    data["database"] = {}
    data["buckets"] = {"uploads-of-the-customers": {}}
    data["queues"] = {"orders-placed-per-region": {"fifo": True, "dead_letter_after": 3}}
    data["topics"] = {"order-events-of-the-shop": {"fifo": True, "subscribe": ["orders-placed-per-region"]}}
    data["tables"] = {"sessions-of-the-web-shop": {"partition_key": {"name": "id"}}}
    data["services"]["api"]["grants"] = {
        "uploads-of-the-customers": "read-write",
        "order-events-of-the-shop": "publish",
    }
    long_name = "worker-with-a-long-name1"  # 24 characters: the longest service name
    data["repositories"][long_name] = {"name": f"{system}/{long_name}"}
    data["services"][long_name] = {
        "compute": "ec2",
        "port": 9000,
        "cpu": 512,
        "memory": 1024,
        "image": {"repository": long_name, "tag": "v1"},
        "connects_to": ["cache", "database", "api"],
    }
    return data


NAMES = st.from_regex(NAME_PATTERN, fullmatch=True)
EDGE_NAMES = st.one_of(NAMES, st.from_regex(r"[a-z][a-z0-9-]{28,30}[a-z0-9]", fullmatch=True))  # near 32


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(system=EDGE_NAMES, environment=EDGE_NAMES)
@example(system="a" * 32, environment="b" * 32)
@example(system="a-" * 15 + "ab", environment="p-" * 15 + "x2")
@example(system="internal", environment="dev")
@example(system="ecs-platform", environment="production")
@example(system="fargate", environment="a1")
@example(system="aws", environment="x" * 32)
def test_every_derived_name_fits_awss_rules(system, environment):
    # GIVEN system and environment names anywhere in the allowed range, on a spec that derives every name
    # WHEN it is compiled (no traceback: any exception fails the test)
    files = compile_dict(edge_spec(system, environment))
    # THEN every name in every template is one AWS accepts
    assert broken_names(files, f"{system}-{environment}") == []


@pytest.mark.parametrize(("system", "environment"), [("a" * 32, "b" * 32), ("ecs-" + "a" * 28, "internal-" + "c" * 23)])
def test_the_longest_names_lint_clean_for_their_region(system, environment, tmp_path):
    # GIVEN the longest names a spec accepts WHEN built and written THEN cfn-lint finds nothing
    from stackloom import build as compiler

    built = compiler.compile_environment(parse(edge_spec(system, environment)))
    for name, body in built.files.items():
        (tmp_path / name).write_text(body)
    found = lint.lint_files(lint.template_files(tmp_path), "eu-central-1")
    assert {path.name: problems for path, problems in found.items() if problems} == {}


def _load_balancer_name(system: str, environment: str) -> str:
    files = compile_dict(base_spec(system=system, environment=environment))
    (balancer,) = resources(files["loadbalancer.json"], "AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    return balancer["Properties"]["Name"]


def test_a_long_load_balancer_name_is_shortened_with_a_hash_that_keeps_environments_apart():
    # GIVEN two environments whose default ALB names (`<system>-<env>-alb`) differ only past 32 characters
    system = "marketplace-frontend-platform"
    first, second = _load_balancer_name(system, "preprod"), _load_balancer_name(system, "preprod-2")
    # THEN both fit ELB's 32 characters, end in a letter or digit, and are different
    assert len(first) == len(second) == 32
    assert first != second and first[:25] == second[:25] == "marketplace-frontend-plat"
    assert ELB_NAME.fullmatch(first) and ELB_NAME.fullmatch(second)
    # AND a short one is unchanged, as it always was
    assert _load_balancer_name("acme", "dev") == "acme-dev-alb"


def test_a_system_named_internal_gets_an_alb_name_elb_accepts():
    assert _load_balancer_name("internal", "dev") == "alb-internal-dev"


def test_the_default_namespace_keeps_each_label_within_63_characters():
    files = compile_dict(base_spec(system="s" * 32, environment="e" * 32))
    (namespace,) = resources(files["cluster.json"], "AWS::ServiceDiscovery::PrivateDnsNamespace").values()
    name = namespace["Properties"]["Name"]
    assert name.endswith(".local") and len(name.split(".")[0]) == 63 and _labels_fit(name)
    assert compile_dict(base_spec())["cluster.json"]["Outputs"]["NamespaceName"]["Value"] == "acme-dev.local"


def test_a_capacity_provider_of_a_stack_named_ecs_gets_a_name_ecs_accepts():
    data = edge_spec("ecs-demo", "dev")
    (provider,) = resources(compile_dict(data)["cluster.json"], "AWS::ECS::CapacityProvider").values()
    assert provider["Properties"]["Name"] == "cp-ecs-demo-dev"
    (provider,) = resources(
        compile_dict(edge_spec("shop", "dev"))["cluster.json"], "AWS::ECS::CapacityProvider"
    ).values()
    assert "Name" not in provider["Properties"]  # CloudFormation's own name, as before


def test_shortened_is_deterministic_fits_and_never_leaves_a_dangling_hyphen():
    name = "abc-" * 20
    assert shortened(name, 32) == shortened(name, 32)
    assert len(shortened(name, 32)) <= 32 and "--" not in shortened(name, 32)
    assert shortened("short", 32) == "short"
    assert shortened("x" * 40 + "-a", 32) != shortened("x" * 40 + "-b", 32)
