"""loadbalancer.json: listeners, TLS, redirect, certificate, DNS alias."""
from __future__ import annotations

from .helpers import assert_has_resource, base_spec, compile_dict, only, resources

DNS = {"dns": {"name": "api.dev.acme.io", "zone_name": "acme.io"}}


def test_http_only_serves_port_80_without_redirect():
    template = compile_dict(base_spec())["loadbalancer.json"]
    listener = only(template, "AWS::ElasticLoadBalancingV2::Listener")["Properties"]
    assert (listener["Port"], listener["Protocol"]) == (80, "HTTP")
    assert listener["DefaultActions"][0]["Type"] == "fixed-response"
    assert not resources(template, "AWS::CertificateManager::Certificate")


def test_dns_gives_https_with_tls12_policy_and_a_301_redirect():
    template = compile_dict(base_spec(load_balancer=DNS))["loadbalancer.json"]
    assert_has_resource(template, "AWS::ElasticLoadBalancingV2::Listener", {
        "Port": 443, "Protocol": "HTTPS", "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "Certificates": [{"CertificateArn": {"Ref": "Certificate"}}]})
    assert_has_resource(template, "AWS::ElasticLoadBalancingV2::Listener", {
        "Port": 80, "Protocol": "HTTP",
        "DefaultActions": [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}]})
    assert template["Outputs"]["ListenerArn"]["Value"] == {"Ref": "HttpsListener"}


def test_dns_creates_a_validated_certificate_and_alias_record():
    template = compile_dict(base_spec(load_balancer=DNS))["loadbalancer.json"]
    assert_has_resource(template, "AWS::CertificateManager::Certificate", {
        "DomainName": "api.dev.acme.io", "ValidationMethod": "DNS",
        "DomainValidationOptions": [{"DomainName": "api.dev.acme.io", "HostedZoneId": {"Ref": "HostedZoneId"}}]})
    assert_has_resource(template, "AWS::Route53::RecordSet", {
        "Name": "api.dev.acme.io", "Type": "A", "HostedZoneId": {"Ref": "HostedZoneId"},
        "AliasTarget": {"DNSName": {"Fn::GetAtt": ["LoadBalancer", "DNSName"]},
                        "HostedZoneId": {"Fn::GetAtt": ["LoadBalancer", "CanonicalHostedZoneID"]}}})
    assert template["Parameters"]["HostedZoneId"]["Type"] == "AWS::Route53::HostedZone::Id"


def test_given_certificate_and_zone_id_need_no_parameters():
    arn = "arn:aws:acm:eu-central-1:123456789012:certificate/abc-123"
    template = compile_dict(base_spec(load_balancer={
        "certificate_arn": arn, "dns": {**DNS["dns"], "zone_id": "Z123ABC"}}))["loadbalancer.json"]
    assert not resources(template, "AWS::CertificateManager::Certificate")
    assert "HostedZoneId" not in template["Parameters"]
    assert_has_resource(template, "AWS::ElasticLoadBalancingV2::Listener", {"Certificates": [{"CertificateArn": arn}]})


def test_alb_is_public_in_public_subnets_and_drops_invalid_headers():
    template = compile_dict(base_spec())["loadbalancer.json"]
    props = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    assert props["Scheme"] == "internet-facing" and props["Subnets"] == {"Ref": "PublicSubnetIds"}
    attributes = {a["Key"]: a["Value"] for a in props["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == "false"


def test_production_turns_deletion_protection_on():
    template = compile_dict(base_spec(production=True))["loadbalancer.json"]
    props = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    assert {"Key": "deletion_protection.enabled", "Value": "true"} in props["LoadBalancerAttributes"]
