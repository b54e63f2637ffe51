"""templates/validation.py: a bad spec names every problem by its full path, in plain words."""

from __future__ import annotations

import copy

import pytest

from templates.spec import EnvironmentSpec, SpecInvalid, parse
from templates.validation import dotted

from ..helpers import base_spec


def _problems(data: dict) -> dict[str, str]:
    with pytest.raises(SpecInvalid) as caught:
        parse(data)
    return {".".join(map(str, path)): message for path, message in caught.value.problems}


def _service(**fields) -> dict:
    data = base_spec()
    data["services"]["api"].update(fields)
    return data


def test_every_problem_is_reported_at_once_with_the_key_of_each_mapping():
    # GIVEN a spec with a quoted port in one service, a boolean desired count and a misspelt network key
    data = _service(port="8080", desired_count=True)
    data["network"]["flow_log"] = False
    # WHEN it is parsed
    problems = _problems(data)
    # THEN each is named by its path through the services mapping (msgspec alone says `services[...]`)
    assert problems == {
        "network.flow_log": problems["network.flow_log"],
        "services.api.port": "expected an integer, got a string: '8080'",
        "services.api.desired_count": "expected an integer, got a boolean: True",
    }
    assert problems["network.flow_log"].startswith("unknown field (did you mean flow_logs?); allowed: cidr,")


def test_an_unknown_field_lists_the_allowed_ones_and_hints_only_when_close():
    # GIVEN a key no field resembles WHEN parsed THEN no guess, but every allowed field is listed
    data = base_spec()
    data["cache"] = {"zzz": 1}
    message = _problems(data)["cache.zzz"]
    assert message.startswith("unknown field (check the spelling); allowed: node_type, engine_version, nodes,")


def test_a_missing_required_field_is_named():
    data = base_spec()
    del data["services"]["api"]["image"]
    assert _problems(data) == {"services.api.image": "required field missing"}


def test_a_bad_key_is_named_with_the_rule_it_breaks():
    # GIVEN a service whose name has a capital and a dot WHEN parsed THEN the key is named, with the rule in words
    data = base_spec()
    data["services"]["Bad.Name"] = data["services"].pop("api")
    message = _problems(data)["services.Bad.Name"]
    assert message.startswith("not a valid name: lower-case letters, digits and hyphens, 2 to 24 characters")
    assert "regex" not in message and "^" not in message


def test_every_pattern_of_the_spec_is_explained_in_words():
    # GIVEN every regular expression anywhere in the spec's schema (fields, list items, mapping keys)
    import msgspec

    from templates.validation import PATTERN_WORDS

    found = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.add(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(msgspec.json.schema(EnvironmentSpec))
    # THEN each has words for its error messages: a user never reads a regex
    assert found and sorted(found - set(PATTERN_WORDS)) == []


def test_inside_a_union_the_matching_shape_is_followed():
    # GIVEN availability_zones (a count or a list of names) as a list with one bad name
    data = base_spec()
    data["network"]["availability_zones"] = ["eu-central-1a", "mars-1"]
    # WHEN parsed THEN the item is named, not only the field
    assert list(_problems(data)) == ["network.availability_zones.1"]
    # AND a value of neither shape says both
    data["network"]["availability_zones"] = "two"
    assert _problems(data) == {"network.availability_zones": "expected an integer or a list, got a string: 'two'"}


def test_a_literal_lists_its_allowed_values():
    assert _problems(_service(compute="lambda")) == {
        "services.api.compute": "allowed values are 'fargate', 'fargate-spot' or 'ec2' (got 'lambda')"
    }


def test_a_check_across_fields_blames_the_field_it_names():
    # GIVEN a Fargate task whose memory does not fit its CPU (a __post_init__ check, not a type)
    # WHEN parsed THEN the memory field is named inside its service
    assert _problems(_service(cpu=256, memory=4096)) == {
        "services.api.memory": "4096 does not fit Fargate cpu 256; allowed: 512..2048 MiB in steps of 512"
    }


def test_a_check_of_the_whole_spec_names_the_path_itself():
    data = base_spec()
    data["services"]["api"]["connects_to"] = ["redis"]
    assert _problems(data) == {"services.api.connects_to": "'redis' is unknown; allowed: ['cache', 'database']"}


def test_cross_field_checks_wait_for_valid_fields():
    # GIVEN a missing image and an out-of-place SSM secret in the same service
    data = _service(secrets={"TOKEN": {"ssm": "/other/token"}})
    del data["services"]["api"]["image"]
    # WHEN parsed THEN only the missing field is reported (the secret check needs a whole, typed spec)
    assert _problems(data) == {"services.api.image": "required field missing"}


def test_surrounding_whitespace_is_trimmed_from_values_and_keys():
    # GIVEN names padded with spaces and a newline, as a quoted YAML scalar can carry
    data = base_spec(system=" acme\n")
    data["services"] = {" api ": data["services"]["api"]}
    # WHEN parsed THEN the trimmed text is what the templates get
    spec = parse(data)
    assert spec.system == "acme" and list(spec.services) == ["api"]


def test_two_keys_equal_once_trimmed_are_refused():
    data = base_spec()
    data["services"]["api "] = copy.deepcopy(data["services"]["api"])
    assert _problems(data) == {"services.api": "given twice (once with surrounding spaces)"}


def test_a_flood_of_problems_is_cut_at_ten():
    # GIVEN 15 unknown top-level keys WHEN parsed THEN ten are named and the rest counted
    data = base_spec()
    data.update({f"extra{index:02}": index for index in range(15)})
    with pytest.raises(SpecInvalid) as caught:
        parse(data)
    problems = caught.value.problems
    assert len(problems) == 11 and problems[-1] == ((), "... and 5 more")
    assert "extra00: unknown field" in str(caught.value)


def test_a_good_spec_is_typed_and_immutable():
    spec = parse(base_spec())
    assert spec.services["api"].port == 8080
    with pytest.raises(AttributeError):
        spec.system = "other"


def test_a_path_is_one_line_whatever_its_keys_hold():
    # GIVEN paths through a plain key, a list index, a key with a dot, one with blank lines and a very long one
    # WHEN written for the error message
    # THEN plain keys stay plain, the others are quoted with their newlines escaped and cut to 60 characters
    assert dotted(("services", "api", "writable_paths", 1)) == "services.api.writable_paths.1"
    assert dotted(("services", "Bad.Name")) == "services.'Bad.Name'"
    assert dotted(("0\n\n0",)) == "'0\\n\\n0'"
    assert len(dotted(("k" * 10_000,))) == 60 and "\n" not in dotted(("a\u2028b\nc",))


FREE_TEXT = [
    (
        lambda d: d.update(load_balancer={"dns": {"name": "https://api.acme.example", "zone_name": "acme.example"}}),
        "load_balancer.dns.name",
        "a DNS name",
    ),
    (
        lambda d: d.update(load_balancer={"dns": {"name": "api.acme.example", "zone_name": "acme example"}}),
        "load_balancer.dns.zone_name",
        "a DNS zone name",
    ),
    (
        lambda d: d["services"]["api"].setdefault("load_balancer", {}).update(health_check_path="/health\nX-Evil: 1"),
        "services.api.load_balancer.health_check_path",
        "printable ASCII",
    ),
    (
        lambda d: d.setdefault("load_balancer", {}).update(ssl_policy="ELBSecurityPolicy-2016-08"),
        "load_balancer.ssl_policy",
        "ELB predefined policy of TLS 1.2 or newer",
    ),
    (
        lambda d: d.setdefault("load_balancer", {}).update(ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06\n\x1b[31m"),
        "load_balancer.ssl_policy",
        "ELB predefined policy of TLS 1.2 or newer",
    ),
    (
        lambda d: d["services"]["api"].setdefault("load_balancer", {}).update(path_patterns=["api/*"]),
        "services.api.load_balancer.path_patterns.0",
        "starts with /",
    ),
    (
        lambda d: d["services"]["api"].setdefault("load_balancer", {}).update(path_patterns=["/" + "a" * 200]),
        "services.api.load_balancer.path_patterns.0",
        "at most 128 characters, got 201",
    ),
    (
        lambda d: d["services"]["api"].setdefault("load_balancer", {}).update(host_headers=["https://api.example/x"]),
        "services.api.load_balancer.host_headers.0",
        "no scheme, port or path",
    ),
    (
        lambda d: d["services"]["api"].setdefault("load_balancer", {}).update(host_headers=["a" * 100_000]),
        "services.api.load_balancer.host_headers.0",
        "at most 128 characters, got 100000",
    ),
    (
        lambda d: d["services"]["api"]
        .setdefault("load_balancer", {})
        .update(path_patterns=["/a", "/b", "/c"], host_headers=["a.example", "b.example", "c.example"]),
        "services.api.load_balancer.path_patterns",
        "at most 5 path and host values together, got 6",
    ),
    (
        lambda d: d.setdefault("cluster", {}).update(
            ec2_capacity={"instance_type": "t3.small", "ami_parameter": "x${Cluster}"}
        ),
        "cluster.ec2_capacity.ami_parameter",
        "an SSM parameter path",
    ),
]


@pytest.mark.parametrize("edit, field, words", FREE_TEXT, ids=[case[1] + ":" + case[2][:20] for case in FREE_TEXT])
def test_free_text_that_lands_in_a_template_is_checked_in_words(edit, field, words):
    # GIVEN text AWS would refuse (or that would read as CloudFormation syntax) in a field copied into a template
    data = base_spec()
    edit(data)
    # WHEN parsed THEN one problem at that field, in words, never a regular expression
    with pytest.raises(SpecInvalid) as caught:
        parse(data)
    (problem,) = [(dotted(path), message) for path, message in caught.value.problems]
    assert problem[0] == field and words in problem[1] and "regex" not in problem[1]


CAPACITY = [
    (
        lambda d: d["services"]["api"].update(writable_paths=["/tmp"]),
        "services.api.writable_paths",
        "applies only with readonly_root_filesystem: true",
    ),
    (
        lambda d: d["services"]["api"].update(desired_count=9, autoscaling={"min_capacity": 1, "max_capacity": 4}),
        "services.api.desired_count",
        "9 is outside autoscaling's 1..4",
    ),
    (
        lambda d: d["services"]["api"].update(connects_to=["api"]),
        "services.api.connects_to",
        "'api' is the service itself",
    ),
]


@pytest.mark.parametrize("edit, field, words", CAPACITY, ids=[case[1] for case in CAPACITY])
def test_capacity_and_wiring_that_cannot_work_are_refused(edit, field, words):
    data = base_spec()
    edit(data)
    with pytest.raises(SpecInvalid) as caught:
        parse(data)
    (problem,) = [(dotted(path), message) for path, message in caught.value.problems]
    assert problem[0] == field and words in problem[1]


def test_writable_paths_with_a_read_only_root_are_accepted_and_default_to_tmp():
    data = base_spec()
    data["services"]["api"].update(readonly_root_filesystem=True)
    assert parse(data).services["api"].scratch_paths == ["/tmp"]
    data["services"]["api"].update(writable_paths=["/var/cache"])
    assert parse(data).services["api"].scratch_paths == ["/var/cache"]


def _two_routes(api: dict, web: dict) -> dict:
    data = base_spec()
    data["services"]["web"] = {"port": 3000, "image": {"uri": "nginx"}, "load_balancer": web}
    data["services"]["api"]["load_balancer"] = api
    return data


def test_a_rule_that_can_never_match_names_the_rule_that_covers_it():
    # GIVEN web's /* evaluated before api's /api/* (priority 10 before 100)
    data = _two_routes({"path_patterns": ["/api/*"], "priority": 100}, {"path_patterns": ["/*"], "priority": 10})
    # WHEN parsed THEN api's rule is refused, naming web's rule, its priority and paths
    with pytest.raises(SpecInvalid) as caught:
        parse(data)
    (problem,) = caught.value.problems
    assert dotted(problem[0]) == "services.api.load_balancer"
    assert "can never match: web's rule (priority 10, paths /*)" in problem[1] and "below 10" in problem[1]


@pytest.mark.parametrize(
    "api, web",
    [
        ({"path_patterns": ["/api/*"], "priority": 10}, {"path_patterns": ["/*"], "priority": 100}),  # narrower first
        (
            {"path_patterns": ["/api/*"], "priority": 100},
            {"path_patterns": ["/*"], "host_headers": ["www.acme.example"], "priority": 10},
        ),  # other host only
        ({"path_patterns": ["/api*"], "priority": 100}, {"path_patterns": ["/api/*"], "priority": 10}),  # /api too
    ],
)
def test_rules_that_can_still_match_are_accepted(api, web):
    parse(_two_routes(api, web))


def test_a_host_wildcard_evaluated_first_covers_its_hosts():
    data = _two_routes(
        {"path_patterns": ["/*"], "host_headers": ["api.acme.example"], "priority": 100},
        {"path_patterns": ["/*"], "host_headers": ["*.acme.example"], "priority": 10},
    )
    with pytest.raises(SpecInvalid, match="hosts \\*.acme.example"):
        parse(data)


def test_availability_zones_must_belong_to_the_specs_region():
    data = base_spec(region="us-east-1")
    data["network"]["availability_zones"] = ["eu-central-1a", "us-east-1b"]
    with pytest.raises(SpecInvalid) as caught:
        parse(data)
    (problem,) = caught.value.problems
    assert dotted(problem[0]) == "network.availability_zones"
    assert "eu-central-1a is not in region us-east-1" in problem[1]
    data["network"]["availability_zones"] = ["us-east-1a", "us-east-1b"]
    assert parse(data).network.availability_zones == ["us-east-1a", "us-east-1b"]
