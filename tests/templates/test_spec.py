"""The spec: every field documented, defaults sensible, impossible combinations rejected in plain words."""

from __future__ import annotations

import contextlib
import io
import json

import jsonschema
import msgspec
import pytest

from stackloom.cli.main import main
from stackloom.params import LOADER_FIELDS
from templates import spec as spec_module
from templates.spec import SpecInvalid

from ..helpers import PARAMS, base_spec


def _schema() -> dict:
    code, out = _run_schema_command()
    assert code == 0
    return json.loads(out)


def _run_schema_command() -> tuple[int, str]:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(["schema"])
    return code, stdout.getvalue()


SPEC_MODULES = (
    "templates.spec",
    "templates.spec_common",
    "templates.spec_services",
    "templates.spec_storage",
    "templates.spec_jobs",
    "templates.spec_escapes",
)


def _structs():
    return [
        value
        for value in vars(spec_module).values()
        if isinstance(value, type)
        and issubclass(value, msgspec.Struct)
        and value.__module__ in SPEC_MODULES
        and value is not spec_module.Model
        and value is not spec_module.TaskSpec  # a base only: its fields are checked in ServiceSpec and JobSpec
    ]


@pytest.mark.parametrize("model", _structs(), ids=lambda model: model.__name__)
def test_every_field_has_a_description(model):
    # GIVEN a spec part defined in templates.spec or the modules it is made of
    # WHEN its fields are looked up in the JSON Schema `build.py schema` prints (what editors show)
    definition = _schema()["$defs"][model.__name__]
    properties = definition["properties"]
    # THEN the part says what it is (its docstring), every field is there (but those the loader fills in), and none
    # lacks a description
    assert definition.get("description", "").strip(), f"{model.__name__} has no docstring"
    written = [field.encode_name for field in msgspec.structs.fields(model)]
    if model is spec_module.EnvironmentSpec:
        written = [name for name in written if name not in LOADER_FIELDS]
    assert sorted(properties) == sorted(written)
    missing = [name for name, field in properties.items() if not field.get("description", "").strip()]
    assert not missing, f"{model.__name__} fields without description: {missing}"


def test_the_schema_accepts_every_params_file_and_refuses_a_wrong_type():
    # GIVEN the JSON Schema of the spec and the project's environments, each with its layers merged
    from stackloom.params import discover, merged_spec

    validator = jsonschema.Draft202012Validator(_schema())
    for path in discover(PARAMS).values():
        data = merged_spec(path).data
        # WHEN a file is checked against it THEN it passes, as an editor plugin would say
        assert list(validator.iter_errors(data)) == [], path
        # AND a quoted port or an unknown key fails there as it fails the build
        service = next(iter(data["services"]))
        bad = {**data, "services": {**data["services"], service: {**data["services"][service], "port": "4000"}}}
        assert [error.json_path for error in validator.iter_errors(bad)] == [f"$.services.{service}.port"]
        assert not validator.is_valid({**data, "network": {**data["network"], "nat_gateways": 2}})


def test_unknown_keys_are_rejected():
    # GIVEN a spec whose network has a misspelt key nat_gateways
    data = base_spec()
    data["network"] = {**data["network"], "nat_gateways": 2}
    # WHEN it is validated
    # THEN validation fails naming the key
    with pytest.raises(SpecInvalid, match="nat_gateways"):
        spec_module.parse(data)


def test_subnets_are_carved_from_the_vpc_in_order():
    # GIVEN a VPC 10.20.0.0/16 over 2 availability zones with no explicit subnets
    spec = spec_module.parse(base_spec())
    # WHEN the subnet CIDRs are derived
    cidrs = spec.network.subnet_cidrs()
    # THEN the first two /20s are public and the next two private
    assert [str(c) for c in cidrs["public_subnets"]] == ["10.20.0.0/20", "10.20.16.0/20"]
    assert [str(c) for c in cidrs["private_subnets"]] == ["10.20.32.0/20", "10.20.48.0/20"]


@pytest.mark.parametrize(
    "network, message",
    [
        ({"cidr": "10.20.0.0/33"}, "not a valid IPv4 CIDR"),
        ({"cidr": "10.20.0.1/16"}, "not a valid IPv4 CIDR"),
        ({"cidr": "10.0.0.0/8"}, "between /16 and /24"),
        (
            {
                "cidr": "10.20.0.0/16",
                "public_subnets": ["10.20.0.0/24", "10.20.0.128/25"],
                "private_subnets": ["10.20.2.0/24", "10.20.3.0/24"],
            },
            "overlaps",
        ),
        (
            {
                "cidr": "10.20.0.0/16",
                "public_subnets": ["10.21.0.0/24", "10.20.1.0/24"],
                "private_subnets": ["10.20.2.0/24", "10.20.3.0/24"],
            },
            "not inside the VPC",
        ),
        (
            {"cidr": "10.20.0.0/16", "public_subnets": ["10.20.0.0/24"], "private_subnets": ["10.20.2.0/24"]},
            "one per AZ",
        ),
        ({"cidr": "10.20.0.0/24", "subnet_prefix": 25}, "holds 2 subnets"),
        ({"cidr": "10.20.0.0/16", "nat": "two"}, "'none', 'single' or 'per-az'"),
    ],
)
def test_bad_networks_are_rejected_with_the_reason(network, message):
    # GIVEN a spec with an impossible network (bad CIDR, size, overlap, outside the VPC, wrong count or NAT mode)
    # WHEN it is validated
    # THEN validation fails with the reason in plain words
    with pytest.raises(SpecInvalid, match=message):
        spec_module.parse(base_spec(network=network))


def test_alb_without_tls_must_be_an_explicit_choice():
    # GIVEN a load balancer with neither DNS, certificate nor http_only
    # WHEN the spec is validated
    # THEN validation fails asking for http_only: true
    with pytest.raises(SpecInvalid, match="set http_only: true"):
        spec_module.parse(base_spec(load_balancer={}))


def test_certificate_and_http_only_conflict():
    # GIVEN a load balancer with http_only true and a certificate ARN
    # WHEN the spec is validated
    # THEN validation fails saying http_only cannot be combined
    with pytest.raises(SpecInvalid, match="http_only cannot be combined"):
        spec_module.parse(
            base_spec(
                load_balancer={
                    "http_only": True,
                    "certificate_arn": "arn:aws:acm:eu-central-1:123456789012:certificate/abc-123",
                }
            )
        )


def test_fargate_memory_must_fit_cpu():
    # GIVEN a Fargate service with cpu 512 and memory 512
    data = base_spec()
    data["services"]["api"].update(cpu=512, memory=512)
    # WHEN the spec is validated
    # THEN validation fails saying the memory does not fit Fargate cpu 512
    with pytest.raises(SpecInvalid, match="does not fit Fargate cpu 512"):
        spec_module.parse(data)


def test_ec2_service_needs_ec2_capacity():
    # GIVEN a service with compute ec2 in a cluster without EC2 capacity
    data = base_spec()
    data["services"]["api"]["compute"] = "ec2"
    # WHEN the spec is validated
    # THEN validation fails saying it needs cluster.ec2_capacity
    with pytest.raises(SpecInvalid, match="needs cluster.ec2_capacity"):
        spec_module.parse(data)


def test_connects_to_unknown_target_lists_allowed():
    # GIVEN a service that connects to "redis", which is neither a service nor a store
    data = base_spec()
    data["services"]["api"]["connects_to"] = ["redis"]
    # WHEN the spec is validated
    # THEN validation fails naming the unknown target and listing the allowed ones (cache, database)
    with pytest.raises(SpecInvalid, match=r"'redis' is unknown; allowed: \['cache', 'database'\]"):
        spec_module.parse(data)


def test_ssm_secret_outside_the_environment_path_is_rejected():
    # GIVEN a service secret from SSM /other/dev/token in environment acme/dev
    data = base_spec()
    data["services"]["api"]["secrets"] = {"TOKEN": {"ssm": "/other/dev/token"}}
    # WHEN the spec is validated
    # THEN validation fails saying it must be under /acme/dev/
    with pytest.raises(SpecInvalid, match="must be under /acme/dev/"):
        spec_module.parse(data)


def test_listener_priorities_must_be_unique():
    # GIVEN a second service web whose listener rule priority 100 clashes with the api service's
    data = base_spec()
    data["services"]["web"] = {
        "port": 80,
        "image": {"uri": "public.ecr.aws/nginx/nginx"},
        "load_balancer": {"priority": 100},
    }
    # WHEN the spec is validated
    # THEN validation fails saying priority 100 is already used
    with pytest.raises(SpecInvalid, match="priority 100 is already used"):
        spec_module.parse(data)


def test_image_needs_exactly_one_source():
    # GIVEN a service image with both a repository and a uri
    data = base_spec()
    data["services"]["api"]["image"] = {"repository": "api", "uri": "public.ecr.aws/x/y"}
    # WHEN the spec is validated
    # THEN validation fails asking for exactly one of `repository` or `uri`
    with pytest.raises(SpecInvalid, match="exactly one of `repository`"):
        spec_module.parse(data)


def test_defaults_fill_the_environment_names():
    # GIVEN the base spec (system acme, environment dev) without region, cluster or namespace
    # WHEN it is validated
    spec = spec_module.parse(base_spec())
    # THEN the region is eu-central-1, the cluster acme-dev and the namespace acme-dev.local
    assert (spec.region, spec.cluster_name, spec.namespace) == ("eu-central-1", "acme-dev", "acme-dev.local")


def test_defaults_fill_the_service_size():
    # GIVEN the base api service without compute, cpu, memory or desired count
    # WHEN the spec is validated
    service = spec_module.parse(base_spec()).services["api"]
    # THEN it runs on Fargate with cpu 256, memory 512 and 1 task
    assert (service.compute, service.cpu, service.memory, service.desired_count) == ("fargate", 256, 512, 1)


def test_defaults_turn_on_flow_logs_and_container_insights():
    # GIVEN the base spec without flow_logs or container_insights
    # WHEN it is validated
    spec = spec_module.parse(base_spec())
    # THEN VPC flow logs and Container Insights are on
    assert spec.network.flow_logs is True and spec.cluster.container_insights is True


def test_user_tags_cannot_replace_the_tags_stackforge_sets():
    # GIVEN a spec with user tag System = other
    # WHEN it is validated
    # THEN validation fails saying 'System' is set by stackforge
    with pytest.raises(ValueError, match="'System' is set by stackforge"):
        spec_module.parse(base_spec(tags={"System": "other"}))
