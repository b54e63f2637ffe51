"""loadbalancer.json: listeners, TLS, redirect, certificate, DNS alias."""

from __future__ import annotations

from ..helpers import assert_has_resource, base_spec, compile_dict, only, resources

DNS = {"dns": {"name": "api.dev.acme.io", "zone_name": "acme.io"}}
ARN = "arn:aws:acm:eu-central-1:123456789012:certificate/abc-123"


def _loadbalancer(**extra) -> dict:
    return compile_dict(base_spec(**extra))["loadbalancer.json"]


def _attributes(template: dict) -> dict:
    props = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    return {a["Key"]: a["Value"] for a in props["LoadBalancerAttributes"]}


def test_http_only_serves_port_80_with_a_fixed_response_not_a_redirect():
    # GIVEN an http_only load balancer (the base spec)
    # WHEN the environment is compiled
    template = _loadbalancer()
    # THEN the one listener is HTTP on port 80
    listener = only(template, "AWS::ElasticLoadBalancingV2::Listener")["Properties"]
    assert (listener["Port"], listener["Protocol"]) == (80, "HTTP")
    # AND its default action is a fixed response
    assert listener["DefaultActions"][0]["Type"] == "fixed-response"


def test_http_only_creates_no_certificate():
    # GIVEN an http_only load balancer
    # WHEN the environment is compiled
    template = _loadbalancer()
    # THEN there is no ACM certificate
    assert not resources(template, "AWS::CertificateManager::Certificate")


def test_dns_gives_an_https_listener_with_the_tls13_1_2_policy_and_the_certificate():
    # GIVEN a load balancer with DNS name api.dev.acme.io in zone acme.io
    # WHEN the environment is compiled
    template = _loadbalancer(load_balancer=DNS)
    # THEN there is an HTTPS listener on 443 with policy ELBSecurityPolicy-TLS13-1-2-2021-06 and the created certificate
    assert_has_resource(
        template,
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 443,
            "Protocol": "HTTPS",
            "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "Certificates": [{"CertificateArn": {"Ref": "Certificate"}}],
        },
    )


def test_dns_redirects_http_80_to_https_443_with_a_301():
    # GIVEN a load balancer with a DNS name
    # WHEN the environment is compiled
    template = _loadbalancer(load_balancer=DNS)
    # THEN the HTTP listener on port 80 redirects to HTTPS port 443 with HTTP 301
    assert_has_resource(
        template,
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 80,
            "Protocol": "HTTP",
            "DefaultActions": [
                {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
            ],
        },
    )


def test_dns_exports_the_https_listener_for_service_routes():
    # GIVEN a load balancer with a DNS name
    # WHEN the environment is compiled
    template = _loadbalancer(load_balancer=DNS)
    # THEN the ListenerArn output is the HTTPS listener
    assert template["Outputs"]["ListenerArn"]["Value"] == {"Ref": "HttpsListener"}


def test_dns_creates_a_dns_validated_certificate_in_the_hosted_zone():
    # GIVEN a load balancer with DNS name api.dev.acme.io and no certificate ARN
    # WHEN the environment is compiled
    template = _loadbalancer(load_balancer=DNS)
    # THEN an ACM certificate for api.dev.acme.io is validated by DNS in the HostedZoneId zone
    assert_has_resource(
        template,
        "AWS::CertificateManager::Certificate",
        {
            "DomainName": "api.dev.acme.io",
            "ValidationMethod": "DNS",
            "DomainValidationOptions": [{"DomainName": "api.dev.acme.io", "HostedZoneId": {"Ref": "HostedZoneId"}}],
        },
    )


def test_dns_creates_an_alias_a_record_to_the_load_balancer():
    # GIVEN a load balancer with DNS name api.dev.acme.io
    # WHEN the environment is compiled
    template = _loadbalancer(load_balancer=DNS)
    # THEN an A record api.dev.acme.io in the HostedZoneId zone aliases the load balancer's DNS name and zone
    assert_has_resource(
        template,
        "AWS::Route53::RecordSet",
        {
            "Name": "api.dev.acme.io",
            "Type": "A",
            "HostedZoneId": {"Ref": "HostedZoneId"},
            "AliasTarget": {
                "DNSName": {"Fn::GetAtt": ["LoadBalancer", "DNSName"]},
                "HostedZoneId": {"Fn::GetAtt": ["LoadBalancer", "CanonicalHostedZoneID"]},
            },
        },
    )


def test_dns_with_only_a_zone_name_takes_the_zone_id_as_a_parameter():
    # GIVEN a DNS name with a zone name (acme.io) but no zone id
    # WHEN the environment is compiled
    template = _loadbalancer(load_balancer=DNS)
    # THEN HostedZoneId is a parameter of type AWS::Route53::HostedZone::Id
    assert template["Parameters"]["HostedZoneId"]["Type"] == "AWS::Route53::HostedZone::Id"


def test_given_certificate_arn_is_used_and_none_is_created():
    # GIVEN a load balancer with a certificate ARN and a DNS name with zone id Z123ABC
    # WHEN the environment is compiled
    template = _loadbalancer(load_balancer={"certificate_arn": ARN, "dns": {**DNS["dns"], "zone_id": "Z123ABC"}})
    # THEN no ACM certificate is created
    assert not resources(template, "AWS::CertificateManager::Certificate")
    # AND a listener serves the given certificate ARN
    assert_has_resource(template, "AWS::ElasticLoadBalancingV2::Listener", {"Certificates": [{"CertificateArn": ARN}]})


def test_given_zone_id_needs_no_hosted_zone_parameter():
    # GIVEN a load balancer with a certificate ARN and a DNS name with zone id Z123ABC
    # WHEN the environment is compiled
    template = _loadbalancer(load_balancer={"certificate_arn": ARN, "dns": {**DNS["dns"], "zone_id": "Z123ABC"}})
    # THEN there is no HostedZoneId parameter
    assert "HostedZoneId" not in template["Parameters"]


def test_alb_is_internet_facing_in_the_public_subnets():
    # GIVEN the base spec
    # WHEN the environment is compiled
    template = _loadbalancer()
    # THEN the one load balancer is internet-facing and placed in the public subnets
    props = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    assert props["Scheme"] == "internet-facing" and props["Subnets"] == {"Ref": "PublicSubnetIds"}


def test_alb_drops_invalid_header_fields():
    # GIVEN the base spec
    # WHEN the environment is compiled
    template = _loadbalancer()
    # THEN the load balancer attribute routing.http.drop_invalid_header_fields.enabled is "true"
    assert _attributes(template)["routing.http.drop_invalid_header_fields.enabled"] == "true"


def test_alb_deletion_protection_is_off_outside_production():
    # GIVEN a non-production spec
    # WHEN the environment is compiled
    template = _loadbalancer()
    # THEN the load balancer attribute deletion_protection.enabled is "false"
    assert _attributes(template)["deletion_protection.enabled"] == "false"


def test_production_turns_deletion_protection_on():
    # GIVEN a production spec
    # WHEN the environment is compiled
    template = _loadbalancer(production=True)
    # THEN the load balancer has the attribute deletion_protection.enabled = "true"
    props = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    assert {"Key": "deletion_protection.enabled", "Value": "true"} in props["LoadBalancerAttributes"]


def test_with_tls_the_service_routes_hang_on_the_https_listener_not_the_redirect():
    # GIVEN a TLS load balancer (a DNS name) and the api service behind it
    # WHEN the environment is compiled
    built = compile_dict(base_spec(load_balancer=DNS))
    # THEN the service's listener rule takes its listener from the ListenerArn parameter
    rule = only(built["service-api.json"], "AWS::ElasticLoadBalancingV2::ListenerRule")["Properties"]
    assert rule["ListenerArn"] == {"Ref": "ListenerArn"}
    # AND the root passes the load balancer stack's ListenerArn output into it
    wired = built["root.json"]["Resources"]["ServiceApi"]["Properties"]["Parameters"]["ListenerArn"]
    assert wired == {"Fn::GetAtt": ["LoadBalancer", "Outputs.ListenerArn"]}
    # AND that output is the HTTPS listener on 443, not the HTTP listener that only redirects
    loadbalancer = built["loadbalancer.json"]
    listener = loadbalancer["Outputs"]["ListenerArn"]["Value"]["Ref"]
    props = resources(loadbalancer, "AWS::ElasticLoadBalancingV2::Listener")[listener]["Properties"]
    assert (props["Port"], props["Protocol"]) == (443, "HTTPS")
    assert props["DefaultActions"][0]["Type"] != "redirect"
