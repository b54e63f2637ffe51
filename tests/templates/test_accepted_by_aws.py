"""Specs that validate but AWS would refuse (or that would deploy and hang) are refused at build time, in
words: certificates of another region or account, route hosts the certificate cannot cover, EC2 tasks that
do not fit their instances, an image of the wrong architecture, namespace labels past DNS's 63 characters.
Where the compiler can make it right instead (the AMI for an arm64 type, a certificate name per route host
in the zone), the emitted template says so."""

from __future__ import annotations

import copy

import pytest

from templates.spec import SpecInvalid, parse

from ..helpers import base_spec, compile_dict, only, resources

ARN = "arn:aws:acm:eu-central-1:123456789012:certificate/0b5c7a94-1d2e-4f3a-9b8c-7d6e5f4a3b2c"


def https(**load_balancer) -> dict:
    data = base_spec()
    data["load_balancer"] = load_balancer
    return data


def with_hosts(data: dict, *hosts: str) -> dict:
    data = copy.deepcopy(data)
    data["services"]["api"]["load_balancer"]["host_headers"] = list(hosts)
    return data


DNS = {"dns": {"name": "api.dev.example.com", "zone_name": "example.com"}}

# ------------------------------------------------------------------------------------------ certificates


def test_a_certificate_of_another_region_is_refused():
    data = https(certificate_arn=ARN.replace("eu-central-1", "us-east-1"))
    with pytest.raises(SpecInvalid, match="the certificate is in us-east-1, but a load balancer in eu-central-1"):
        parse(data)


def test_a_certificate_of_another_account_is_refused():
    data = https(certificate_arn=ARN)
    data["account_id"] = "210987654321"
    with pytest.raises(SpecInvalid, match="belongs to account 123456789012, not to this environment's account"):
        parse(data)
    data["account_id"] = "123456789012"
    parse(data)


def test_route_hosts_in_the_zone_become_names_of_the_certificate_each_with_an_alias_record():
    # GIVEN a route for admin.dev.example.com and one for any api-*.example.com host
    files = compile_dict(with_hosts(https(**DNS), "admin.dev.example.com", "api-*.example.com"))
    template = files["loadbalancer.json"]
    certificate = only(template, "AWS::CertificateManager::Certificate")["Properties"]
    # THEN the certificate names both as a certificate can (the wildcard as *.example.com), validated in the zone
    assert certificate["DomainName"] == "api.dev.example.com"
    assert certificate["SubjectAlternativeNames"] == ["*.example.com", "admin.dev.example.com"]
    assert [option["DomainName"] for option in certificate["DomainValidationOptions"]] == [
        "api.dev.example.com",
        "*.example.com",
        "admin.dev.example.com",
    ]
    # AND each host the rules match as written gets an alias record to the load balancer; no zone-wide wildcard
    records = {r["Properties"]["Name"]: r for r in resources(template, "AWS::Route53::RecordSet").values()}
    assert sorted(records) == ["admin.dev.example.com", "api.dev.example.com"]
    assert records["admin.dev.example.com"]["Properties"]["AliasTarget"]["DNSName"] == {
        "Fn::GetAtt": ["LoadBalancer", "DNSName"]
    }


def test_without_route_hosts_the_certificate_names_only_the_record():
    certificate = only(compile_dict(https(**DNS))["loadbalancer.json"], "AWS::CertificateManager::Certificate")
    assert "SubjectAlternativeNames" not in certificate["Properties"]


def test_a_route_host_outside_the_zone_is_refused_naming_it():
    with pytest.raises(SpecInvalid, match="host headers shop.other.org are not in zone example.com"):
        parse(with_hosts(https(**DNS), "admin.example.com", "shop.other.org"))


def test_a_wildcard_past_the_first_label_is_refused():
    with pytest.raises(SpecInvalid, match=r"a\.\*\.example\.com have a wildcard past their first label"):
        parse(with_hosts(https(**DNS), "a.*.example.com"))


def test_more_names_than_acms_default_quota_are_refused():
    data = https(**DNS)
    for index in range(5):
        data["services"][f"web{index}"] = copy.deepcopy(data["services"]["api"])
        data["services"][f"web{index}"]["load_balancer"] = {
            "priority": 10 + index,
            "host_headers": [f"a{index}.example.com", f"b{index}.example.com"],
        }
    with pytest.raises(SpecInvalid, match="would name 11 hosts .* more than ACM's default quota of 10"):
        parse(data)


def test_a_record_name_too_long_for_a_certificates_domain_name_is_refused():
    name = "a" * 60 + ".example.com"
    with pytest.raises(SpecInvalid, match="at most 64 characters for the domain name of an ACM certificate, got 72"):
        parse(https(dns={"name": name, "zone_name": "example.com"}))


def test_hosts_served_with_a_given_certificate_are_a_warning_the_build_cannot_check():
    from stackloom import build as compiler

    built = compiler.compile_environment(parse(with_hosts(https(certificate_arn=ARN), "shop.other.org")))
    assert any("shop.other.org are served with load_balancer.certificate_arn" in w for w in built.warnings)


# ------------------------------------------------------------------------------------------ names


def test_a_namespace_label_longer_than_63_characters_is_refused_in_words():
    data = base_spec(cluster={"service_discovery_namespace": "a" * 64 + ".local"})
    with pytest.raises(SpecInvalid, match="each label at most 63 characters \\(DNS\\), got 64"):
        parse(data)


def test_a_given_alb_name_too_long_says_the_limit_in_words():
    with pytest.raises(SpecInvalid, match="at most 32 characters, got 37"):
        parse(base_spec(load_balancer={"http_only": True, "name": "a" * 37}))


# ------------------------------------------------------------------------------------------ EC2 capacity


def on_ec2(instance_type: str = "t3.medium", max_size: int = 2, **service) -> dict:
    data = base_spec(cluster={"ec2_capacity": {"instance_type": instance_type, "min_size": 1, "max_size": max_size}})
    data["services"]["api"].update(compute="ec2", **service)
    return data


def test_a_task_larger_than_one_instance_is_refused():
    with pytest.raises(SpecInvalid, match="a task asks for 1024 CPU units and 3900 MiB, but one t3.medium offers"):
        parse(on_ec2(cpu=1024, memory=3900))
    with pytest.raises(SpecInvalid, match="a task asks for 4096 CPU units"):
        parse(on_ec2(cpu=4096, memory=1024))
    parse(on_ec2(cpu=2048, memory=3800))


def test_desired_tasks_that_do_not_fit_max_size_instances_are_refused():
    # t3.medium: 3 network interfaces, so 2 awsvpc tasks per instance; 5 small tasks need 3 instances
    with pytest.raises(SpecInvalid, match=r"cluster.ec2_capacity.max_size: .*do not fit on 2 instances"):
        parse(on_ec2(cpu=256, memory=512, desired_count=5))
    parse(on_ec2(max_size=3, cpu=256, memory=512, desired_count=5))


def test_an_arm64_instance_type_gets_the_arm64_ecs_image():
    files = compile_dict(on_ec2(instance_type="t4g.medium", cpu=512, memory=1024))
    default = files["cluster.json"]["Parameters"]["EcsAmiId"]["Default"]
    assert default == "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"
    files = compile_dict(on_ec2(cpu=512, memory=1024))
    default = files["cluster.json"]["Parameters"]["EcsAmiId"]["Default"]
    assert default == "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"


def test_an_ecs_image_of_the_other_architecture_is_refused():
    data = on_ec2(instance_type="t4g.medium", cpu=512, memory=1024)
    data["cluster"]["ec2_capacity"]["ami_parameter"] = (
        "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    )
    with pytest.raises(SpecInvalid, match="is an x86_64 image, but t4g.medium has arm64 CPUs"):
        parse(data)
