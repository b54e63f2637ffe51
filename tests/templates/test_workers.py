"""A worker: a service that listens on nothing (no port, no route, no Cloud Map name) gets no port mapping and
no inbound rule, and nothing may try to reach it."""

from __future__ import annotations

import pytest

from templates.spec import SpecInvalid, parse

from ..helpers import base_spec, compile_dict, resources


def with_worker(**worker) -> dict:
    data = base_spec()
    data["services"]["worker"] = {"image": {"repository": "api", "tag": "v1"}, "connects_to": ["api"], **worker}
    return data


def test_a_worker_needs_no_port_and_gets_no_port_mapping_no_name_and_no_route():
    files = compile_dict(with_worker())
    template = files["service-worker.json"]
    (task,) = resources(template, "AWS::ECS::TaskDefinition").values()
    assert "PortMappings" not in task["Properties"]["ContainerDefinitions"][0]
    assert resources(template, "AWS::ServiceDiscovery::Service") == {}
    assert resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup") == {}
    (service,) = resources(template, "AWS::ECS::Service").values()
    assert "ServiceRegistries" not in service["Properties"] and "LoadBalancers" not in service["Properties"]


def test_a_worker_gets_no_inbound_rule_at_all_but_reaches_what_it_connects_to():
    security = compile_dict(with_worker())["security.json"]
    rules = resources(security, "AWS::EC2::SecurityGroupIngress")
    into_worker = [key for key, rule in rules.items() if "ServiceWorker" in str(rule["Properties"].get("GroupId"))]
    assert into_worker == []
    assert "ServiceWorkerToServiceApiPort8080" in rules


def test_a_service_with_a_port_is_still_discoverable_by_default():
    files = compile_dict(base_spec())
    assert resources(files["service-api.json"], "AWS::ServiceDiscovery::Service")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"load_balancer": {"priority": 5}}, "services.worker.load_balancer: needs `port`: a route forwards"),
        ({"discovery": True}, "services.worker.discovery: needs `port`: Cloud Map registers"),
        ({"extra_ports": [9000]}, "services.worker.extra_ports: needs `port`"),
    ],
)
def test_what_needs_a_port_is_refused_on_a_worker(extra, message):
    with pytest.raises(SpecInvalid, match=message.replace("`", ".")):
        parse(with_worker(**extra))


def test_nothing_may_connect_to_a_worker():
    data = with_worker()
    data["services"]["api"]["connects_to"] = ["worker"]
    with pytest.raises(SpecInvalid, match="'worker' is a worker: it listens on no port"):
        parse(data)
