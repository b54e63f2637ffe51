"""security.json: one group per workload; ingress only along declared flows."""

from __future__ import annotations

from ..helpers import base_spec, compile_dict, resources


def _ingress(template):
    return {
        (
            r["Properties"]["SourceSecurityGroupId"]["Ref"],
            r["Properties"]["GroupId"]["Ref"],
            r["Properties"]["FromPort"],
        )
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
    }


def test_flows_follow_alb_routes_and_connects_to():
    # GIVEN an api service on 8080 behind the ALB that connects to a worker (ports 9000 and 9001) and the cache
    data = base_spec(cache={})
    data["services"]["worker"] = {"port": 9000, "extra_ports": [9001], "image": {"uri": "public.ecr.aws/acme/worker"}}
    data["services"]["api"]["connects_to"] = ["worker", "cache"]
    # WHEN the environment is compiled
    template = compile_dict(data)["security.json"]
    # THEN the ingress rules are exactly ALB -> api:8080, api -> worker:9000 and :9001, api -> cache:6379
    assert _ingress(template) == {
        ("LoadBalancerSecurityGroup", "ServiceApiSecurityGroup", 8080),
        ("ServiceApiSecurityGroup", "ServiceWorkerSecurityGroup", 9000),
        ("ServiceApiSecurityGroup", "ServiceWorkerSecurityGroup", 9001),
        ("ServiceApiSecurityGroup", "CacheSecurityGroup", 6379),
    }


def test_stores_accept_nothing_else_and_start_no_connections():
    # GIVEN a spec with a cache that no service connects to
    # WHEN the environment is compiled
    template = compile_dict(base_spec(cache={}))["security.json"]
    # THEN the cache security group has no inline ingress rules
    cache = resources(template, "AWS::EC2::SecurityGroup")["CacheSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in cache
    # AND its only egress rule points at 127.0.0.1/32, i.e. no egress
    assert cache["SecurityGroupEgress"] == [{"CidrIp": "127.0.0.1/32", "Description": "No egress", "IpProtocol": "-1"}]


def test_load_balancer_opens_443_and_80_with_tls():
    # GIVEN a load balancer with DNS name api.acme.io (so TLS on 443 and a redirect on 80)
    data = base_spec(load_balancer={"dns": {"name": "api.acme.io", "zone_name": "acme.io"}})
    # WHEN the environment is compiled
    template = compile_dict(data)["security.json"]
    # THEN the load balancer security group accepts exactly ports 80 and 443
    group = resources(template, "AWS::EC2::SecurityGroup")["LoadBalancerSecurityGroup"]
    assert sorted(rule["FromPort"] for rule in group["Properties"]["SecurityGroupIngress"]) == [80, 443]
