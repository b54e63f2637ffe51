"""Container options of a service (templates/spec_options.py): the target group's health check and stickiness,
ports served to named CIDR ranges through a Network Load Balancer (TCP and UDP), and the Fargate / Fargate Spot
mix, each in the emitted CloudFormation, lint-clean, rejected in words when invalid, and priced."""

from __future__ import annotations

import copy

import msgspec
import pytest

from stackloom import build as compiler
from stackloom.audit import audit
from stackloom.audit.lint import lint_files
from stackloom.cfn.evaluate import Built
from stackloom.output import write
from stackloom.report import cost
from stackloom.report.inventory import inventory
from stackloom.report.pricing import spot_split
from templates import spec_options
from templates.spec import SpecInvalid, parse

from ..helpers import assert_has_resource, base_spec, compile_dict, only, options_spec, resources


@pytest.fixture(scope="module")
def built() -> dict:
    return compile_dict(options_spec())


def rejected(spec: dict) -> str:
    with pytest.raises(SpecInvalid) as caught:
        parse(spec)
    return str(caught.value)


def with_service(**changes) -> dict:
    spec = options_spec()
    spec["services"]["api"].update(changes)
    return spec


def with_route(**changes) -> dict:
    spec = options_spec()
    spec["services"]["api"]["load_balancer"].update(changes)
    return spec


# ------------------------------------------------------------------------------------------ health check, stickiness


def test_health_check_settings_reach_the_target_group(built):
    """GIVEN a route's health_check WHEN built THEN the ALB target group has that matcher, interval, timeout and
    thresholds."""
    group = built["service-api.json"]["Resources"]["TargetGroup"]["Properties"]
    assert group["Matcher"] == {"HttpCode": "200,204"}
    assert group["HealthCheckIntervalSeconds"] == 30
    assert group["HealthCheckTimeoutSeconds"] == 10
    assert (group["HealthyThresholdCount"], group["UnhealthyThresholdCount"]) == (3, 5)
    assert group["HealthCheckPath"] == "/health" and group["Protocol"] == "HTTP"


def test_without_options_the_target_group_keeps_its_defaults():
    """GIVEN no health_check or stickiness WHEN built THEN 200-399 every 15 s, 2/3, ELB's timeout, no stickiness."""
    group = compile_dict(base_spec())["service-api.json"]["Resources"]["TargetGroup"]["Properties"]
    assert group["Matcher"] == {"HttpCode": "200-399"} and group["HealthCheckIntervalSeconds"] == 15
    assert "HealthCheckTimeoutSeconds" not in group
    assert (group["HealthyThresholdCount"], group["UnhealthyThresholdCount"]) == (2, 3)
    assert [item["Key"] for item in group["TargetGroupAttributes"]] == ["deregistration_delay.timeout_seconds"]


def test_stickiness_sets_the_lb_cookie_attributes(built):
    """GIVEN stickiness of 3600 s WHEN built THEN the target group enables lb_cookie stickiness for 3600 s."""
    attributes = {
        item["Key"]: item["Value"]
        for item in built["service-api.json"]["Resources"]["TargetGroup"]["Properties"]["TargetGroupAttributes"]
    }
    assert attributes["stickiness.enabled"] == "true"
    assert attributes["stickiness.type"] == "lb_cookie"
    assert attributes["stickiness.lb_cookie.duration_seconds"] == "3600"
    assert attributes["deregistration_delay.timeout_seconds"] == "30"


@pytest.mark.parametrize(
    "health_check, words",
    [
        (
            {"interval_seconds": 10, "timeout_seconds": 10},
            "timeout_seconds: 10 s must be less than interval_seconds 10",
        ),
        ({"interval_seconds": 5}, "timeout_seconds: 5 s (the default) must be less than interval_seconds 5"),
        ({"matcher": "200-600"}, "matcher: 600 outside the HTTP codes an ALB health check accepts (200 to 499)"),
        ({"matcher": "199"}, "matcher: 199 outside"),
        ({"matcher": "299-200"}, "matcher: range 299-200 must go from a lower code to a higher one"),
        ({"matcher": "200-299,302"}, "HTTP codes as a comma-separated list (200,202) or one range (200-299)"),
        ({"interval_seconds": 301}, "interval_seconds"),
        ({"timeout_seconds": 1}, "timeout_seconds"),
        ({"healthy_threshold": 11}, "healthy_threshold"),
        ({"unhealthy_threshold": 1}, "unhealthy_threshold"),
    ],
)
def test_invalid_health_checks_are_rejected_naming_the_field(health_check, words):
    """GIVEN a health check ELB would refuse WHEN parsed THEN the error names the field and what is allowed."""
    message = rejected(with_route(health_check=health_check))
    assert "services.api.load_balancer.health_check" in message and words in message, message


@pytest.mark.parametrize("duration", [0, 604801])
def test_stickiness_duration_outside_one_second_to_seven_days_is_rejected(duration):
    message = rejected(with_route(stickiness={"duration_seconds": duration}))
    assert "services.api.load_balancer.stickiness.duration_seconds" in message, message


def test_udp_on_the_application_load_balancer_is_an_error():
    """GIVEN protocol: udp on an ALB route WHEN parsed THEN an error says ALBs forward TCP and points to public_ports."""
    message = rejected(with_route(protocol="udp"))
    assert "services.api.load_balancer.protocol" in message and "public_ports" in message, message


# ------------------------------------------------------------------------------------------ public ports (NLB)


def test_public_ports_get_an_internet_facing_network_load_balancer(built):
    """GIVEN a UDP and a TCP public port WHEN built THEN the service stack has a network load balancer in the
    public subnets behind its own security group, a listener and an IP target group per port."""
    template = built["service-api.json"]
    balancer = template["Resources"]["NetworkLoadBalancer"]["Properties"]
    assert balancer["Type"] == "network" and balancer["Scheme"] == "internet-facing"
    assert balancer["Subnets"] == {"Ref": "PublicSubnetIds"}
    assert balancer["SecurityGroups"] == [{"Ref": "NlbApiSecurityGroupId"}]
    assert balancer["Name"] == "acme-dev-api-nlb"
    assert_has_resource(
        template,
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 5060,
            "Protocol": "UDP",
            "LoadBalancerArn": {"Ref": "NetworkLoadBalancer"},
            "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "PublicTargetGroupUdp5060"}}],
        },
    )
    assert_has_resource(template, "AWS::ElasticLoadBalancingV2::Listener", {"Port": 7000, "Protocol": "TCP"})
    udp = template["Resources"]["PublicTargetGroupUdp5060"]["Properties"]
    assert (udp["Protocol"], udp["TargetType"], udp["Port"]) == ("UDP", "ip", 5060)
    assert (udp["HealthCheckProtocol"], udp["HealthCheckPort"]) == ("TCP", "8080")  # UDP health goes over TCP
    tcp = template["Resources"]["PublicTargetGroupTcp7000"]["Properties"]
    assert (tcp["Protocol"], tcp["HealthCheckProtocol"], tcp["HealthCheckPort"]) == ("TCP", "TCP", "traffic-port")
    assert "NetworkLoadBalancerDnsName" in template["Outputs"]


def test_the_service_registers_each_public_port_and_waits_for_the_listeners(built):
    """GIVEN public ports WHEN built THEN the ECS service registers every target group with its container port,
    depends on the listeners, and the container maps 5060/udp beside its TCP ports."""
    template = built["service-api.json"]
    service = template["Resources"]["Service"]
    entries = {
        (item["ContainerPort"], item["TargetGroupArn"]["Ref"]) for item in service["Properties"]["LoadBalancers"]
    }
    assert entries == {(8080, "TargetGroup"), (5060, "PublicTargetGroupUdp5060"), (7000, "PublicTargetGroupTcp7000")}
    assert {"PublicListenerUdp5060", "PublicListenerTcp7000", "ListenerRule"} <= set(service["DependsOn"])
    mappings = only(template, "AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"][0]["PortMappings"]
    assert mappings == [
        {"ContainerPort": 8080, "Protocol": "tcp"},
        {"ContainerPort": 5060, "Protocol": "udp"},
        {"ContainerPort": 7000, "Protocol": "tcp"},
    ]


def test_only_the_named_ranges_reach_the_load_balancer_and_only_it_reaches_the_tasks(built):
    """GIVEN inbound office and partners WHEN built THEN the NLB group admits exactly their CIDRs on each port
    and protocol, and the service group admits the NLB group on 5060/udp, 7000/tcp and 8080/tcp (health checks)."""
    template = built["security.json"]
    group = template["Resources"]["NlbApiSecurityGroup"]["Properties"]
    rules = {
        (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["CidrIp"]) for rule in group["SecurityGroupIngress"]
    }
    assert rules == {
        ("udp", 5060, 5060, "203.0.113.0/24"),
        ("udp", 5060, 5060, "198.51.100.0/24"),
        ("udp", 5060, 5060, "192.0.2.0/25"),
        ("tcp", 7000, 7000, "203.0.113.0/24"),
    }
    flows = {
        (props["IpProtocol"], props["FromPort"])
        for props in (item["Properties"] for item in resources(template, "AWS::EC2::SecurityGroupIngress").values())
        if props["SourceSecurityGroupId"] == {"Ref": "NlbApiSecurityGroup"}
    }
    assert flows == {("udp", 5060), ("tcp", 7000), ("tcp", 8080)}
    for props in (item["Properties"] for item in resources(template, "AWS::EC2::SecurityGroupIngress").values()):
        if props["SourceSecurityGroupId"] == {"Ref": "NlbApiSecurityGroup"}:
            assert props["GroupId"] == {"Ref": "ServiceApiSecurityGroup"}
    assert "NlbApiSecurityGroupId" in template["Outputs"]


def test_the_root_wires_the_load_balancer_group_and_public_subnets_into_the_service(built):
    """GIVEN public ports WHEN built THEN the root passes the security stack's NLB group and the network stack's
    public subnets to the service stack."""
    stacks = resources(built["root.json"], "AWS::CloudFormation::Stack")
    service = next(stack for stack in stacks.values() if "service-api" in str(stack["Properties"]["TemplateURL"]))
    parameters = service["Properties"]["Parameters"]
    assert "NlbApiSecurityGroupId" in str(parameters["NlbApiSecurityGroupId"])
    assert "PublicSubnetIds" in str(parameters["PublicSubnetIds"])


@pytest.mark.parametrize(
    "change, field, words",
    [
        (
            lambda spec: spec["services"]["api"]["public_ports"][1].update(inbound=["home"]),
            "services.api.public_ports.1.inbound",
            "home not in ip_ranges (known: ['office', 'partners'])",
        ),
        (
            lambda spec: spec["services"]["api"]["public_ports"].append({"port": 7000, "inbound": ["office"]}),
            "services.api.public_ports",
            "port 7000 given twice",
        ),
        (
            lambda spec: spec["services"]["api"]["public_ports"].extend(
                {"port": port, "inbound": ["office"]} for port in (7001, 7002, 7003)
            ),
            "services.api.public_ports",
            "6 target groups (public ports and the ALB route), more than the 5 an ECS service registers with",
        ),
        (
            lambda spec: spec["ip_ranges"].update(office=["203.0.113.1/24"]),
            "ip_ranges.office.0",
            "is not a valid IPv4 CIDR",
        ),
        (lambda spec: spec["ip_ranges"].update(office=[]), "ip_ranges.office", "lists no CIDR"),
        (
            lambda spec: spec["services"]["api"]["public_ports"][0].update(protocol="sctp"),
            "services.api.public_ports.0.protocol",
            "'tcp' or 'udp'",
        ),
    ],
)
def test_invalid_public_ports_are_rejected_naming_the_field(change, field, words):
    spec = options_spec()
    change(spec)
    message = rejected(spec)
    assert field in message and words in message, message


def test_a_udp_port_needs_a_tcp_port_for_its_health_check():
    """GIVEN a worker (no `port`) with a UDP public port WHEN parsed THEN an error says the NLB checks over TCP."""
    spec = options_spec()
    spec["services"]["api"] = {
        "image": {"repository": "api", "tag": "v1"},
        "public_ports": [{"port": 5060, "protocol": "udp", "inbound": ["office"]}],
    }
    del spec["load_balancer"]
    message = rejected(spec)
    assert "services.api.public_ports.0" in message and "over TCP" in message, message


# ------------------------------------------------------------------------------------------ Fargate / Spot mix


def test_capacity_mix_becomes_the_services_capacity_provider_strategy(built):
    """GIVEN capacity {fargate: 1, fargate-spot: 3, base: 1} WHEN built THEN the service's strategy is FARGATE
    weight 1 base 1 and FARGATE_SPOT weight 3 (no base: one provider only may have one), no launch type, and the
    cluster associates both providers."""
    props = built["service-api.json"]["Resources"]["Service"]["Properties"]
    assert props["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE", "Weight": 1, "Base": 1},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 3},
    ]
    assert "LaunchType" not in props and props["PlatformVersion"] == "LATEST"
    association = only(built["cluster.json"], "AWS::ECS::ClusterCapacityProviderAssociations")["Properties"]
    assert {"FARGATE", "FARGATE_SPOT"} <= set(association["CapacityProviders"])


def test_spot_only_with_on_demand_base_keeps_a_zero_weight_fargate_item():
    spec = with_service(capacity={"fargate-spot": 1, "base": 2})
    strategy = compile_dict(spec)["service-api.json"]["Resources"]["Service"]["Properties"]["CapacityProviderStrategy"]
    assert strategy == [
        {"CapacityProvider": "FARGATE", "Weight": 0, "Base": 2},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1},
    ]


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"capacity": {"fargate": 0, "fargate-spot": 0}}, "services.api.capacity.fargate", "both 0"),
        ({"capacity": {"fargate-spot": 1001}}, "services.api.capacity.fargate-spot", "1000"),
        ({"capacity": {"fargate": 1, "spot": 2}}, "services.api.capacity", "spot"),
        ({"compute": "fargate-spot"}, "services.api.capacity", "needs compute: fargate (got fargate-spot)"),
    ],
)
def test_invalid_capacity_is_rejected_naming_the_field(changes, field, words):
    message = rejected(with_service(**changes))
    assert field in message and words in message, message


def test_capacity_cannot_mix_with_an_ec2_capacity_provider():
    """GIVEN compute: ec2 on a cluster with EC2 capacity and a capacity mix WHEN parsed THEN an error says an EC2
    capacity provider cannot be mixed with Fargate."""
    spec = with_service(compute="ec2", desired_count=1)
    spec["cluster"] = {"ec2_capacity": {"instance_type": "t3.medium"}}
    message = rejected(spec)
    assert "services.api.capacity" in message and "cannot be mixed with Fargate" in message, message


# ------------------------------------------------------------------------------------------ lint, schema, pricing


def test_every_emitted_template_with_all_options_is_lint_clean(tmp_path):
    """GIVEN every option WHEN the templates are linted with cfn-lint's API (the project's settings, through the
    run's shared result cache) THEN clean."""
    build = compiler.compile_environment(parse(options_spec()))
    templates = [name for name in build.files if name not in ("parameters.json", "overrides.json", "manifest.json")]
    assert "service-api.json" in templates and "security.json" in templates
    paths = []
    for name in sorted(templates):
        paths.append(tmp_path / name)
        paths[-1].write_text(build.files[name], encoding="utf-8")
    assert {path.name: found for path, found in lint_files(paths, "eu-central-1").items() if found} == {}


CERTIFICATE = "arn:aws:acm:eu-central-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """One audit run (cfn-lint, checkov, cfn-guard) of every option, on a non-production environment whose ALB has
    HTTPS and deletion protection and whose task runs read-only as a non-root user: the findings left are the
    options' own."""
    data = options_spec()
    data["load_balancer"] = {"certificate_arn": CERTIFICATE, "deletion_protection": True}
    data["services"]["api"].update(user="1000", readonly_root_filesystem=True)
    folder = tmp_path_factory.mktemp("audit")
    write(compiler.compile_environment(parse(data)), folder)
    return audit.audit([folder / "acme" / "dev"])


@pytest.mark.parametrize("tool", ["cfn-lint", "checkov", "cfn-guard"])
def test_every_option_audits_clean(audited, tool):
    """GIVEN health check, stickiness, a UDP and a TCP public port and the Spot mix WHEN audited THEN no tool
    reports an unsuppressed finding."""
    (report,) = [item for item in audited if item.tool.startswith(tool)]
    assert report.passed > 0
    assert [(f.rule, f.file, f.resource, f.message) for f in report.failed] == []


def test_the_network_load_balancers_accepted_findings_carry_their_reasons(audited):
    """GIVEN the options' audit THEN the NLB's access-log and (outside production) deletion-protection findings are
    suppressed with the recorded reasons, and nothing else of the service stack is."""
    suppressed = {
        (f.rule, f.resource): f.suppressed_because
        for report in audited
        for f in report.suppressed
        if f.file.endswith("service-api.json") and f.resource == "NetworkLoadBalancer"
    }
    assert set(suppressed) == {
        ("CKV_AWS_91", "NetworkLoadBalancer"),
        ("elbv2_logging_enabled_check", "NetworkLoadBalancer"),
        ("elbv2_deletion_protection_enabled_check", "NetworkLoadBalancer"),
    }
    assert "TLS listeners only" in suppressed[("CKV_AWS_91", "NetworkLoadBalancer")]
    assert "production" in suppressed[("elbv2_deletion_protection_enabled_check", "NetworkLoadBalancer")]


def test_the_network_load_balancer_is_deletion_protected_in_production():
    data = options_spec()
    data["production"] = True
    balancer = compile_dict(data)["service-api.json"]["Resources"]["NetworkLoadBalancer"]["Properties"]
    attributes = {item["Key"]: item["Value"] for item in balancer["LoadBalancerAttributes"]}
    assert attributes["deletion_protection.enabled"] == "true"


@pytest.mark.parametrize(
    "model",
    [
        spec_options.TargetHealthCheckSpec,
        spec_options.StickinessSpec,
        spec_options.PublicPortSpec,
        spec_options.CapacitySpec,
    ],
)
def test_every_option_field_has_a_description(model):
    (_, components) = msgspec.json.schema_components([model])
    definition = components[model.__name__]
    assert definition.get("description", "").strip()
    assert all(item.get("description", "").strip() for item in definition["properties"].values()), definition


@pytest.mark.parametrize(
    "tasks, strategy, expected",
    [
        (5, (("FARGATE", 1, 1), ("FARGATE_SPOT", 3, 0)), (2.0, 3.0)),  # 1 base, then 4 split 1:3
        (1, (("FARGATE", 1, 1), ("FARGATE_SPOT", 3, 0)), (1.0, 0.0)),  # the base only
        (4, (("FARGATE", 0, 2), ("FARGATE_SPOT", 1, 0)), (2.0, 2.0)),
        (3, (("FARGATE_SPOT", 1, 0),), (0.0, 3.0)),
        (3, (("FARGATE", 1, 0),), (3.0, 0.0)),
        (3, (), (3.0, 0.0)),
    ],
)
def test_spot_split_places_the_base_first_then_by_weight(tasks, strategy, expected):
    assert spot_split(tasks, strategy) == expected


def test_the_cost_estimate_prices_spot_tasks_at_the_sourced_spot_rate(tmp_path):
    """GIVEN 5 tasks of 0.25 vCPU / 0.5 GB with base 1 and 1:3 WHEN priced with the bundled Frankfurt table THEN
    2 tasks at the on-demand rate and 3 at the Fargate Spot rate, with a note dating the Spot figure."""
    folder = write(compiler.compile_environment(parse(options_spec())), tmp_path)
    result = cost.estimate(inventory(Built(folder)))
    prices = cost.load_prices()["prices"]
    hours = cost.ASSUMPTIONS["hours_per_month"].value
    lines = {item.component: item for item in result.lines if item.component.startswith("Fargate")}
    assert set(lines) == {"Fargate api", "Fargate Spot api"}
    assert lines["Fargate api"].quantity.startswith("2 tasks")
    on_demand = 2 * hours * (0.25 * prices["fargate_vcpu_hour"]["usd"] + 0.5 * prices["fargate_gb_hour"]["usd"])
    spot = 3 * hours * (0.25 * prices["fargate_spot_vcpu_hour"]["usd"] + 0.5 * prices["fargate_spot_gb_hour"]["usd"])
    assert lines["Fargate api"].monthly == round(on_demand, 2)
    assert lines["Fargate Spot api"].monthly == round(spot, 2)
    assert lines["Fargate Spot api"].prices == ("fargate_spot_vcpu_hour", "fargate_spot_gb_hour")
    assert any("Fargate Spot" in note and prices["fargate_spot_vcpu_hour"]["as_of"] in note for note in result.notes)


def test_without_a_spot_price_spot_tasks_are_priced_on_demand_as_a_labelled_upper_bound(tmp_path):
    """GIVEN a table without Fargate Spot prices WHEN priced THEN the Spot share is at the on-demand rate, its line
    says upper bound, and a note says why."""
    folder = write(compiler.compile_environment(parse(options_spec())), tmp_path)
    table = copy.deepcopy(cost.load_prices())
    for key in ("fargate_spot_vcpu_hour", "fargate_spot_gb_hour"):
        del table["prices"][key]
    result = cost.estimate(inventory(Built(folder)), table)
    (line,) = [item for item in result.lines if item.component.startswith("Fargate Spot api")]
    assert "upper bound" in line.component and line.prices == ("fargate_vcpu_hour", "fargate_gb_hour")
    assert any("upper bound" in note and "no Fargate Spot price" in note for note in result.notes)


def test_the_network_load_balancer_is_priced_at_nlb_rates_and_named_so(tmp_path):
    """GIVEN public ports (an NLB) and the ALB WHEN priced with the us-east-1 table (sourced NLB prices) THEN the NLB
    lines say NLB and use nlb_hour and nlb_lcu_hour (with the nlb_lcu assumption), the ALB keeps its own rates."""
    folder = write(compiler.compile_environment(parse(options_spec())), tmp_path)
    table = cost.load_prices(cost.price_file("us-east-1"))
    prices = table["prices"]
    result = cost.estimate(inventory(Built(folder)), table, {"nlb_lcu": 2})
    lines = {item.component: item for item in result.lines}
    hours = cost.ASSUMPTIONS["hours_per_month"].value
    nlb = lines["NLB acme-dev-api-nlb"]
    assert nlb.prices == ("nlb_hour",) and nlb.monthly == round(hours * prices["nlb_hour"]["usd"], 2)
    units = lines["NLB acme-dev-api-nlb NLCUs"]
    assert units.prices == ("nlb_lcu_hour",) and units.quantity.startswith("2 NLCU (assumption)")
    assert units.monthly == round(2 * hours * prices["nlb_lcu_hour"]["usd"], 2)
    assert lines["Public IPv4: NLB acme-dev-api-nlb"].prices == ("public_ipv4_hour",)
    assert lines["ALB acme-dev-alb"].prices == ("alb_hour",)
    assert not any(name.startswith("ALB acme-dev-api-nlb") for name in lines)
    assert (
        prices["nlb_hour"]["usd"] != prices["alb_hour"]["usd"]
        or prices["nlb_lcu_hour"]["usd"] != (prices["alb_lcu_hour"]["usd"])
    )


def test_a_table_without_nlb_prices_lists_the_nlb_as_not_priced_never_at_alb_rates(tmp_path):
    """GIVEN the Frankfurt table, which has no sourced NLB price WHEN priced THEN the NLB's hours and NLCUs are listed
    as not priced (naming the missing keys) and no line prices it with an ALB figure."""
    folder = write(compiler.compile_environment(parse(options_spec())), tmp_path)
    result = cost.estimate(inventory(Built(folder)))
    assert not any("acme-dev-api-nlb" in item.component and "IPv4" not in item.component for item in result.lines)
    assert any("NLB acme-dev-api-nlb: no nlb_hour price" in item for item in result.unpriced), result.unpriced
    assert any("NLB acme-dev-api-nlb NLCUs: no nlb_lcu_hour price" in item for item in result.unpriced)
