"""security.json: one group per workload; ingress only along declared flows."""
from __future__ import annotations

from .helpers import base_spec, compile_dict, resources


def _ingress(template):
    return {(r["Properties"]["SourceSecurityGroupId"]["Ref"], r["Properties"]["GroupId"]["Ref"], r["Properties"]["FromPort"])
            for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()}


def test_flows_follow_alb_routes_and_connects_to():
    data = base_spec(cache={})
    data["services"]["worker"] = {"port": 9000, "extra_ports": [9001], "image": {"uri": "public.ecr.aws/acme/worker"}}
    data["services"]["api"]["connects_to"] = ["worker", "cache"]
    template = compile_dict(data)["security.json"]
    assert _ingress(template) == {
        ("LoadBalancerSecurityGroup", "ServiceApiSecurityGroup", 8080),
        ("ServiceApiSecurityGroup", "ServiceWorkerSecurityGroup", 9000),
        ("ServiceApiSecurityGroup", "ServiceWorkerSecurityGroup", 9001),
        ("ServiceApiSecurityGroup", "CacheSecurityGroup", 6379),
    }


def test_stores_accept_nothing_else_and_start_no_connections():
    template = compile_dict(base_spec(cache={}))["security.json"]
    cache = resources(template, "AWS::EC2::SecurityGroup")["CacheSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in cache
    assert cache["SecurityGroupEgress"] == [{"CidrIp": "127.0.0.1/32", "Description": "No egress", "IpProtocol": "-1"}]


def test_load_balancer_opens_443_and_80_with_tls():
    data = base_spec(load_balancer={"dns": {"name": "api.acme.io", "zone_name": "acme.io"}})
    group = resources(compile_dict(data)["security.json"], "AWS::EC2::SecurityGroup")["LoadBalancerSecurityGroup"]
    assert sorted(rule["FromPort"] for rule in group["Properties"]["SecurityGroupIngress"]) == [80, 443]
