"""CloudFormation quotas: large systems are grouped and split so every emitted template fits; small ones
keep their layout; over-quota input is a clear error. The synthetic systems come from bench/synthetic.py."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import troposphere
from troposphere import GetAtt, Output, Parameter, Ref, Template, ec2

from bench import synthetic
from stackloom import build as compiler
from stackloom.manifest import from_dict, pack_overrides
from stackloom.output import write
from stackloom.params import select
from stackloom.render import render
from templates import bootstrap, names, quotas, root
from templates import spec as spec_module
from templates.base import FromStack, NestedStack

from ..helpers import PARAMS, PROJECT, resources

STACK = "AWS::CloudFormation::Stack"


def build_of(n: int) -> compiler.Build:
    return compiler.compile_environment(spec_module.parse(synthetic.spec(n)))


def parsed(build: compiler.Build) -> dict[str, dict]:
    return {name: json.loads(body) for name, body in build.files.items()}


@pytest.fixture(scope="module")
def big() -> compiler.Build:
    return build_of(200)


@pytest.fixture(scope="module")
def big_files(big) -> dict[str, dict]:
    return parsed(big)


def templates_in(files: dict[str, dict]) -> dict[str, dict]:
    manifest = files[compiler.MANIFEST_FILE]
    names = [manifest["root_template"], manifest["bootstrap_template"], *manifest["nested_stacks"].values()]
    return {name: files[name] for name in names}


# ---- the 200-service system -------------------------------------------------------------------------


def test_every_template_of_200_services_is_within_every_quota(big):
    # GIVEN the synthetic 200-service system WHEN compiled THEN no template is over any quota
    assert [error for usage in big.usages for error in usage.findings()[0]] == []
    assert {usage.file_name for usage in big.usages} == set(templates_in(parsed(big)))


def test_every_template_of_200_services_stays_under_the_warning_line(big):
    # THEN the split and the groups leave headroom: nothing reaches 80 % of a quota either
    assert [warning for usage in big.usages for warning in usage.findings()[1]] == []


def test_200_services_each_appear_exactly_once(big_files):
    # GIVEN every emitted template WHEN ECS services and service stacks are counted THEN each service once
    templates = templates_in(big_files)
    names = [
        resource["Properties"]["ServiceName"]
        for template in templates.values()
        for resource in resources(template, "AWS::ECS::Service").values()
    ]
    assert sorted(names) == [synthetic.service_name(index) for index in range(1, 201)]
    urls = [
        resource["Properties"]["TemplateURL"]
        for template in templates.values()
        for resource in resources(template, STACK).values()
    ]
    service_files = [url for url in urls if url.startswith("service-")]
    assert sorted(service_files) == sorted(f"service-{name}.json" for name in names)


def test_every_nested_template_is_reached_from_the_root_exactly_once(big_files):
    # GIVEN the manifest's nested stacks WHEN the tree is walked from root.json THEN each file is one node of it
    seen = []

    def walk(file_name):
        for logical_id, resource in sorted(resources(big_files[file_name], STACK).items()):
            seen.append((logical_id, resource["Properties"]["TemplateURL"]))
            walk(resource["Properties"]["TemplateURL"])

    walk(names.ROOT_FILE)
    assert sorted(seen) == sorted(big_files[compiler.MANIFEST_FILE]["nested_stacks"].items())


def test_services_of_200_are_grouped_and_the_security_groups_split(big_files):
    root_template = big_files[names.ROOT_FILE]
    children = set(resources(root_template, STACK))
    assert {f"Services{index:02d}" for index in range(1, root.GROUPS + 1)} <= children
    assert not any(child.startswith("Service") and not child.startswith("Services") for child in children)
    assert "SecurityGroups" not in children and "SecurityGroupsPart01" in children
    assert len(root_template["Parameters"]) <= 2 * root.GROUPS + 1


def test_every_nested_stack_gets_every_parameter_it_needs(big_files):
    # GIVEN every Stack resource at any depth THEN it passes each required parameter and nothing unknown
    for file_name, template in templates_in(big_files).items():
        for logical_id, stack in resources(template, STACK).items():
            child = big_files[stack["Properties"]["TemplateURL"]]
            declared = child.get("Parameters", {})
            required = {key for key, value in declared.items() if "Default" not in value}
            passed = set(stack["Properties"].get("Parameters", {}))
            assert required <= passed, f"{file_name}/{logical_id}: unwired {required - passed}"
            assert passed <= set(declared), f"{file_name}/{logical_id}: unknown {passed - set(declared)}"


def test_every_output_wired_between_parts_and_groups_exists(big_files):
    # GIVEN every GetAtt Child.Outputs.X THEN the child template has output X
    for file_name, template in templates_in(big_files).items():
        stacks = resources(template, STACK)
        for reference in _getatts(template):
            stack, attribute = reference
            if stack in stacks and attribute.startswith("Outputs."):
                child = big_files[stacks[stack]["Properties"]["TemplateURL"]]
                assert attribute[len("Outputs.") :] in child.get("Outputs", {}), (file_name, reference)


def _getatts(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::GetAtt":
                yield tuple(value)
            else:
                yield from _getatts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _getatts(item)


def test_grouped_and_split_templates_pass_cfn_lint(big, tmp_path):
    # GIVEN the root, a group, a service and both tiers of a security part WHEN linted THEN clean
    from stackloom.audit import lint

    folder = write(big, tmp_path)
    files = [
        names.ROOT_FILE,
        "services-01.json",
        "security-part-01.json",
        "security-part-01-tier-1.json",
        "service-svc-001.json",
        "bootstrap.json",
    ]
    findings = lint.lint_files([folder / name for name in files])
    assert {path.name: found for path, found in findings.items() if found} == {}


# ---- deploy-time parameters of grouped services -------------------------------------------------------


def evaluate(node, parameters: dict):
    """The few intrinsic functions a group uses to hand each service its value (Ref, Select, Split, Join)."""
    if isinstance(node, dict):
        ((key, value),) = node.items()
        if key == "Ref":
            return parameters[value]
        if key == "Fn::Select":
            index, items = value
            return evaluate(items, parameters)[index]
        if key == "Fn::Split":
            return evaluate(value[1], parameters).split(value[0])
        if key == "Fn::Join":
            return value[0].join(evaluate(item, parameters) for item in value[1])
        raise AssertionError(f"unexpected {key}")
    return node


def given_to_services(files: dict[str, dict], root_values: dict[str, str]) -> dict[str, dict[str, str]]:
    """What each service stack receives for its image tag and desired count, for these root values."""
    received = {}
    for stack in resources(files[names.ROOT_FILE], STACK).values():
        url = stack["Properties"]["TemplateURL"]
        if not url.startswith("services-"):
            continue
        group = files[url]
        values = {
            name: root_values[name].split(",")
            for name in group["Parameters"]
            if group["Parameters"][name]["Type"] == "CommaDelimitedList"
        }
        for member in resources(group, STACK).values():
            name = member["Properties"]["TemplateURL"][len("service-") : -len(".json")]
            passed = member["Properties"]["Parameters"]
            received[name] = {
                key: evaluate(value, values)
                for key, value in passed.items()
                if key.endswith(("ImageTag", "DesiredCount"))
            }
    return received


def test_each_grouped_service_receives_its_own_image_tag_and_desired_count(big_files):
    # GIVEN the default root parameters WHEN the groups' expressions are evaluated THEN each service gets its spec values
    received = given_to_services(big_files, big_files[compiler.MANIFEST_FILE]["parameters"])
    spec = synthetic.spec(200)["services"]
    assert len(received) == 200
    for name, values in received.items():
        pascal = "Svc" + name.split("-")[1]
        assert values == {
            f"{pascal}ImageTag": spec[name]["image"]["tag"],
            f"{pascal}DesiredCount": str(spec[name]["desired_count"]),
        }


def test_a_list_with_entries_in_another_order_fails_instead_of_swapping_images(big_files):
    # GIVEN a group's image list with two entries swapped WHEN evaluated THEN no value (the deploy fails)
    values = dict(big_files[compiler.MANIFEST_FILE]["parameters"])
    entries = values["Services01ImageTags"].split(",")
    entries[0], entries[1] = entries[1], entries[0]
    values["Services01ImageTags"] = ",".join(entries)
    with pytest.raises(IndexError):
        given_to_services(big_files, values)


def test_pack_overrides_changes_one_service_and_keeps_the_others_deployed_values(big_files):
    manifest = big_files[compiler.MANIFEST_FILE]
    service = manifest["services"]["svc-042"]
    group = service["image_list_parameter"]
    deployed = root.unpack(manifest["parameters"][group])
    deployed = {name: f"deployed-{name}" for name in deployed}
    current = {group: root.pack(deployed)}
    # GIVEN a deployed stack WHEN svc-042's image is overridden by its own parameter name
    values = pack_overrides(from_dict(manifest), {service["image_parameter"]: "v9", "EnableDatabase": "true"}, current)
    # THEN only its entry changes, other parameters pass through, and every list is given whole
    assert root.unpack(values[group]) == {**deployed, "svc-042": "v9"}
    assert values["EnableDatabase"] == "true"
    assert set(manifest["packed_parameters"]) <= set(values)
    assert service["image_parameter"] not in values


def test_pack_overrides_merges_by_name_when_a_group_gained_a_service(big_files):
    manifest = big_files[compiler.MANIFEST_FILE]
    group = manifest["services"]["svc-042"]["desired_count_list_parameter"]
    members = list(root.unpack(manifest["parameters"][group]))
    # GIVEN a deployed list without svc-042, in another order WHEN packed THEN by name, the new one from its default
    current = {group: root.pack({name: "7" for name in reversed(members) if name != "svc-042"})}
    values = root.unpack(pack_overrides(from_dict(manifest), {}, current)[group])
    assert list(values) == members
    assert values == {name: ("2" if name == "svc-042" else "7") for name in members}


def test_pack_overrides_leaves_small_environments_alone():
    manifest = json.loads(compiler.compile_all(select(PARAMS, ["bet2wealth/dev"]))[0].files[compiler.MANIFEST_FILE])
    assert "packed_parameters" not in manifest
    assert pack_overrides(from_dict(manifest), {"BackendImageTag": "v2"}, {}) == {"BackendImageTag": "v2"}


def test_a_services_group_depends_on_its_name_only():
    # GIVEN 200 services WHEN one more is added THEN no other service changes group
    before = json.loads(build_of(200).files[compiler.MANIFEST_FILE])["services"]
    data = synthetic.spec(200)
    data["services"]["zz-new"] = {"port": 8080, "image": {"uri": f"{synthetic.REGISTRY}/zz-new"}}
    after = json.loads(compiler.compile_environment(spec_module.parse(data)).files[compiler.MANIFEST_FILE])
    assert {name: entry["group"] for name, entry in before.items()} == {
        name: entry["group"] for name, entry in after["services"].items() if name != "zz-new"
    }


# ---- where the layout changes ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["bet2wealth/dev", "bet2wealth/production", "vanity-market/preprod"])
def test_real_environments_keep_the_flat_layout(target):
    build = compiler.compile_all(select(PARAMS, [target]))[0]
    manifest = json.loads(build.files[compiler.MANIFEST_FILE])
    assert "packed_parameters" not in manifest
    assert not any("-part-" in name or name.startswith("services-") for name in build.files)


def test_a_system_whose_root_fits_stays_flat_with_a_warning_near_the_limit():
    # GIVEN 90 services (181 root parameters) WHEN compiled THEN flat, warned at 90 % and told what comes next
    build = build_of(90)
    assert "packed_parameters" not in json.loads(build.files[compiler.MANIFEST_FILE])
    assert "synth/n90: root.json: 181 parameters is 90% of the quota of 200" in build.warnings
    assert any("beyond 99 the service stacks move into 16 group stacks" in warning for warning in build.warnings)


def test_a_system_whose_root_would_pass_200_parameters_is_grouped():
    build = build_of(100)  # 2 x 100 service parameters + EnableDatabase
    manifest = json.loads(build.files[compiler.MANIFEST_FILE])
    assert manifest["services"]["svc-001"]["group"].startswith("Services")
    assert [usage.parameters for usage in build.usages if usage.file_name == names.ROOT_FILE][0] < 160


def test_a_bootstrap_too_big_to_deploy_inline_is_a_quota_error():
    # GIVEN 40 repositories in the bootstrap stack (deployed with --template-body) WHEN compiled THEN a QuotaError
    data = synthetic.spec(400)
    with pytest.raises(
        quotas.QuotaError,
        match=r"synth/n400: bootstrap\.json: [\d,]+ bytes \(deployed inline\), "
        r"over the CloudFormation quota of 51,200",
    ):
        compiler.compile_environment(spec_module.parse(data))


def test_the_cli_reports_a_quota_error_without_a_traceback(tmp_path):
    synthetic.write(tmp_path / "params", 400)
    result = subprocess.run(
        [
            sys.executable,
            str(PROJECT / "build.py"),
            "--params",
            str(tmp_path / "params"),
            "--output",
            str(tmp_path / "output"),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "bootstrap.json" in result.stderr
    assert not (tmp_path / "output").exists()


def test_troposphere_limits_are_restored_after_a_build(big):
    assert (troposphere.MAX_PARAMETERS, troposphere.MAX_RESOURCES, troposphere.MAX_OUTPUTS) == (200, 500, 200)


# ---- the 80 % warning line and the quota, exactly ------------------------------------------------------------

# (quota, deployed inline, the quota, 80 % of it): every quota the compiler checks on every emitted template
BOUNDARIES = [
    pytest.param("resources", False, 500, 400, id="resources"),
    pytest.param("parameters", False, 200, 160, id="parameters"),
    pytest.param("outputs", False, 200, 160, id="outputs"),
    pytest.param("mappings", False, 200, 160, id="mappings"),
    pytest.param("bytes", False, 1_000_000, 800_000, id="bytes-from-s3"),
    pytest.param("bytes", True, 51_200, 40_960, id="bytes-inline"),
]


def _pad(template: Template, key: str, used: int) -> None:
    """Add items to `template` until it holds exactly `used` of the countable quota `key` (within unbounded())."""
    for index in range(used - quotas.counts(template)[key]):
        name = f"Pad{index:04d}"
        if key == "resources":
            template.add_resource(troposphere.cloudformation.WaitConditionHandle(name))
        elif key == "parameters":
            template.add_parameter(Parameter(name, Type="String", Default="x"))
        elif key == "outputs":
            template.add_output(Output(name, Value="x"))
        else:
            template.add_mapping(name, {"Key": {"Value": "x"}})
    assert quotas.counts(template)[key] == used


def _usage_with(key: str, inline: bool, used: int) -> quotas.Usage:
    """The usage of `x.json` holding exactly `used` of quota `key` (a body of `used` bytes for the bytes quota)."""
    template = Template()
    with quotas.unbounded():
        if key != "bytes":
            _pad(template, key, used)
    body = "x" * used if key == "bytes" else render(template)
    return quotas.usage("x.json", template, body, inline=inline)


def _what(key: str, inline: bool) -> str:
    return "bytes (deployed inline)" if key == "bytes" and inline else key


def test_the_boundaries_tested_are_the_quotas_the_compiler_checks():
    # GIVEN quotas.py WHEN its limits are read THEN they are CloudFormation's, each tested below at 80 %
    assert quotas.LIMITS == {"resources": 500, "parameters": 200, "outputs": 200, "mappings": 200, "bytes": 1_000_000}
    assert quotas.INLINE_BYTES == 51_200 and quotas.WARN_AT == 0.8
    assert {(param.values[0], param.values[1]) for param in BOUNDARIES} == {
        *((key, False) for key in quotas.LIMITS),
        ("bytes", True),
    }


@pytest.mark.parametrize("key, inline, limit, at_80", BOUNDARIES)
def test_exactly_80_percent_of_a_quota_warns_naming_the_file_and_the_quota(key, inline, limit, at_80):
    # GIVEN a template holding exactly 80 % of the quota
    # WHEN its usage is checked
    errors, warnings = _usage_with(key, inline, at_80).findings()
    # THEN one warning, naming the file, the quota and its limit; no error
    assert errors == []
    assert warnings == [f"x.json: {at_80:,} {_what(key, inline)} is 80% of the quota of {limit:,}"]


@pytest.mark.parametrize("key, inline, limit, at_80", BOUNDARIES)
def test_just_below_80_percent_of_a_quota_is_silent(key, inline, limit, at_80):
    # GIVEN a template holding one less than 80 % of the quota
    # WHEN its usage is checked
    # THEN neither a warning nor an error
    assert _usage_with(key, inline, at_80 - 1).findings() == ([], [])


@pytest.mark.parametrize("key, inline, limit, at_80", BOUNDARIES)
def test_exactly_the_quota_still_fits_with_a_warning(key, inline, limit, at_80):
    # GIVEN a template holding exactly the quota WHEN checked THEN it fits (CloudFormation accepts it), warned at 100 %
    assert _usage_with(key, inline, limit).findings() == (
        [],
        [f"x.json: {limit:,} {_what(key, inline)} is 100% of the quota of {limit:,}"],
    )


@pytest.mark.parametrize("key, inline, limit, at_80", BOUNDARIES)
def test_one_over_a_quota_is_an_error_naming_the_file_and_the_quota(key, inline, limit, at_80):
    # GIVEN a template holding one more than the quota
    # WHEN its usage is checked
    errors, warnings = _usage_with(key, inline, limit + 1).findings()
    # THEN one error naming the file, the quota and its limit (and no warning on top)
    assert errors == [f"x.json: {limit + 1:,} {_what(key, inline)}, over the CloudFormation quota of {limit:,}"]
    assert warnings == []


def _compiled_with(monkeypatch, key: str, inline: bool, used: int) -> compiler.Build:
    """The 1-service synthetic system, its root.json (or bootstrap.json, for the inline bytes) holding exactly
    `used` of quota `key`: padded as it is built, inside the compiler, so the compiler's own check sees it."""
    spec = spec_module.parse(synthetic.spec(1))
    module = bootstrap if inline else root
    original = getattr(module.build, "__wrapped__", module.build)  # not the padding of an earlier call
    file_name = bootstrap.FILE_NAME if inline else names.ROOT_FILE
    padding = {"length": 0}

    def padded(*args):
        stack = original(*args)
        template = stack.template
        if key == "bytes":  # one ASCII character in a JSON string is one byte of the rendered body
            template.set_metadata({**template.metadata, "Padding": "x" * padding["length"]})
        else:
            _pad(template, key, used)
        return stack

    padded.__wrapped__ = original
    monkeypatch.setattr(module, "build", padded)
    if key == "bytes":  # measure the body without padding, then pad it to exactly `used` bytes
        unpadded = next(usage for usage in compiler.compile_environment(spec).usages if usage.file_name == file_name)
        padding["length"] = used - unpadded.bytes
    build = compiler.compile_environment(spec)
    assert next(usage for usage in build.usages if usage.file_name == file_name).limit(key) == (
        quotas.INLINE_BYTES if inline else quotas.LIMITS[key]
    )
    assert getattr(next(usage for usage in build.usages if usage.file_name == file_name), key) == used
    return build


def _compile_raises(monkeypatch, key: str, inline: bool, used: int) -> quotas.QuotaError:
    with pytest.raises(quotas.QuotaError) as raised:
        _compiled_with(monkeypatch, key, inline, used)
    return raised.value


@pytest.mark.parametrize("key, inline, limit, at_80", BOUNDARIES)
def test_the_compiler_warns_at_exactly_80_percent_and_not_just_below(monkeypatch, key, inline, limit, at_80):
    file_name = bootstrap.FILE_NAME if inline else names.ROOT_FILE
    # GIVEN an emitted template at exactly 80 % of a quota WHEN the environment is compiled
    build = _compiled_with(monkeypatch, key, inline, at_80)
    # THEN the build warns, naming the environment, the file and the quota
    assert f"synth/n1: {file_name}: {at_80:,} {_what(key, inline)} is 80% of the quota of {limit:,}" in build.warnings
    # GIVEN the same template one below 80 % WHEN compiled THEN no quota warning at all
    build = _compiled_with(monkeypatch, key, inline, at_80 - 1)
    assert [warning for warning in build.warnings if "of the quota of" in warning] == []


@pytest.mark.parametrize("key, inline, limit, at_80", BOUNDARIES)
def test_the_compiler_refuses_one_over_a_quota_with_a_quota_error(monkeypatch, key, inline, limit, at_80):
    file_name = bootstrap.FILE_NAME if inline else names.ROOT_FILE
    # GIVEN an emitted template one over a quota WHEN the environment is compiled
    error = _compile_raises(monkeypatch, key, inline, limit + 1)
    # THEN a QuotaError naming the environment, the file and the quota
    assert str(error) == (
        f"synth/n1: {file_name}: {limit + 1:,} {_what(key, inline)}, " f"over the CloudFormation quota of {limit:,}"
    )
    # AND at exactly the quota the build goes through (warned at 100 %)
    build = _compiled_with(monkeypatch, key, inline, limit)
    assert f"synth/n1: {file_name}: {limit:,} {_what(key, inline)} is 100% of the quota of {limit:,}" in build.warnings


# ---- split() on its own ---------------------------------------------------------------------------------


def _firewall(groups: int) -> NestedStack:
    """A stack of `groups` security groups, each opened to the next: 2 x groups resources, an output each."""
    template = Template()
    vpc = template.add_parameter(Parameter("VpcId", Type="String"))
    with quotas.unbounded():
        made = [
            template.add_resource(ec2.SecurityGroup(f"Group{index}", GroupDescription="x", VpcId=Ref(vpc)))
            for index in range(groups)
        ]
        for index, group in enumerate(made):
            peer = made[(index + 1) % groups]
            template.add_resource(
                ec2.SecurityGroupIngress(
                    f"Rule{index}",
                    GroupId=Ref(group),
                    SourceSecurityGroupId=Ref(peer),
                    IpProtocol="tcp",
                    FromPort=1,
                    ToPort=1,
                )
            )
            template.add_output(Output(f"Group{index}Id", Value=GetAtt(group, "GroupId")))
    return NestedStack("Firewall", "firewall.json", template, {"VpcId": FromStack("Network", "VpcId")})


def test_split_leaves_a_stack_that_fits_alone():
    stack = _firewall(10)
    assert root.split(stack) == [stack]


def test_split_parts_fit_and_wire_each_other_through_outputs():
    # GIVEN 300 groups and 300 rules (600 resources, 300 outputs) WHEN split
    with quotas.unbounded():
        parts = root.split(_firewall(300))
    # THEN every part is under 80 % of each quota, each resource is in one part, and imports name real exports
    assert all(root._comfortable(part.template) for part in parts)
    names = [name for part in parts for name in part.template.resources]
    assert sorted(names) == sorted([f"Group{index}" for index in range(300)] + [f"Rule{index}" for index in range(300)])
    known = {part.logical_id: part for part in parts}
    for part in parts:
        for name, source in part.inputs.items():
            if source.stack != "Network":
                assert source.output in known[source.stack].template.outputs
                assert list(known).index(source.stack) < list(known).index(part.logical_id)


def test_split_keeps_a_rule_with_the_group_it_opens():
    with quotas.unbounded():
        parts = root.split(_firewall(300))
    part_of = {name: part.logical_id.replace("Tier1", "") for part in parts for name in part.template.resources}
    assert all(part_of[f"Rule{index}"] == part_of[f"Group{index}"] for index in range(300))


def test_split_refuses_a_getatt_across_parts():
    stack = _firewall(300)
    for index in range(300):  # the rule now needs an attribute of its peer, which another part may hold
        stack.template.resources[f"Rule{index}"].SourceSecurityGroupId = GetAtt(f"Group{(index + 7) % 300}", "GroupId")
    with quotas.unbounded(), pytest.raises(root.WiringError, match="cannot split: Rule"):
        root.split(stack)


def _hub(clients: int, groups: int = 340) -> NestedStack:
    """`groups` security groups, the first `clients` of them opened into one shared group (a hot owner)."""
    template = Template()
    with quotas.unbounded():
        hub = template.add_resource(ec2.SecurityGroup("Hub", GroupDescription="x"))
        made = [
            template.add_resource(ec2.SecurityGroup(f"Group{index}", GroupDescription="x")) for index in range(groups)
        ]
        for index in range(clients):
            template.add_resource(
                ec2.SecurityGroupIngress(
                    f"Rule{index}",
                    GroupId=Ref(hub),
                    IpProtocol="tcp",
                    SourceSecurityGroupId=Ref(made[index]),
                    FromPort=1,
                    ToPort=1,
                )
            )
    return NestedStack("Firewall", "firewall.json", template, {})


def test_split_goes_past_the_warning_line_when_one_owner_needs_it():
    # GIVEN 170 rules into one group (170 imports in its part: 85 % of the parameter quota) WHEN split
    with quotas.unbounded():
        parts = root.split(_hub(170))
    # THEN the parts fit the quotas, and the fullest is over the warning line (the compiler warns about it)
    assert all(root._within(quotas.counts(part.template), 1.0) for part in parts)
    assert max(len(part.template.parameters) for part in parts) == 171  # and the hub itself


def test_split_names_the_owner_that_cannot_fit_in_any_part():
    with (
        quotas.unbounded(),
        pytest.raises(
            quotas.QuotaError,
            match=r"firewall\.json: cannot be split within the "
            r"quotas: .* the part with the 250 resources tied to Hub",
        ),
    ):
        root.split(_hub(250))


def test_consumers_of_a_split_stack_are_pointed_at_the_part_with_each_output():
    spec = spec_module.parse(synthetic.spec(10))
    consumer = NestedStack("Consumer", "consumer.json", Template(), {"X": FromStack("Firewall", "Group123Id")})
    consumer.template.add_parameter(Parameter("X", Type="String"))
    network = NestedStack("Network", "network.json", Template(), {})
    network.template.add_output(Output("VpcId", Value="vpc"))
    with quotas.unbounded():
        fitted = root.fit(spec, [network, _firewall(300), consumer])
    (rewired,) = [stack for stack in fitted if stack.logical_id == "Consumer"]
    home = rewired.inputs["X"].stack
    assert home.startswith("FirewallPart") and "Group123Id" in {s.logical_id: s for s in fitted}[home].template.outputs
    root.build(spec, fitted)  # and the wiring checks accept it


# ---- wiring checks inside groups --------------------------------------------------------------------------


def test_an_unwired_parameter_of_a_grouped_service_fails_the_build():
    spec = spec_module.parse(synthetic.spec(100))
    with quotas.unbounded():
        stacks = root.children(spec)
    group = next(stack for stack in stacks if isinstance(stack, root.ServiceGroup))
    member = group.members[0]
    member.template.add_parameter(Parameter("Orphan", Type="String"))
    with (
        quotas.unbounded(),
        pytest.raises(root.WiringError, match=f"{member.logical_id}: parameter Orphan is not wired"),
    ):
        root.group_services(spec, [s for s in stacks if not isinstance(s, root.ServiceGroup)] + group.members)


def test_a_grouped_service_wired_to_a_missing_output_fails_the_build():
    spec = spec_module.parse(synthetic.spec(100))
    with quotas.unbounded():
        stacks = root.children(spec)
        group = next(stack for stack in stacks if isinstance(stack, root.ServiceGroup))
        member = group.members[0]
        member.template.add_parameter(Parameter("Ghost", Type="String"))
        member.inputs["Ghost"] = FromStack("Cluster", "GhostOutput")
        regrouped = root.group_services(
            spec, [s for s in stacks if not isinstance(s, root.ServiceGroup)] + group.members
        )
        with pytest.raises(
            root.WiringError, match=rf"{group.logical_id}\.Ghost: stack Cluster has no output GhostOutput"
        ):
            root.build(spec, regrouped)


# ---- rendering ---------------------------------------------------------------------------------------------


def test_render_matches_the_standard_json_encoder_on_every_template(big):
    # GIVEN every template of the real environments and the 200-service system THEN byte for byte json.dumps
    builds = compiler.compile_all(select(PARAMS, [])) + [big]
    for build in builds:
        for name, body in build.files.items():
            if name.endswith(".json") and name not in (
                compiler.PARAMETERS_FILE,
                compiler.OVERRIDES_FILE,
                compiler.MANIFEST_FILE,
            ):
                assert body == json.dumps(json.loads(body), indent=2, sort_keys=True, ensure_ascii=False) + "\n", name


def test_render_writes_characters_as_utf8_and_counts_their_bytes():
    template = Template(Description="caf\u00e9 \U0001f642")
    template.add_output(Output("X", Value="\u00e9", Description="1.5"))
    body = render(template)
    assert "caf\u00e9 \U0001f642" in body and "\\u" not in body
    assert body == json.dumps(template.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert quotas.usage("x.json", template, body).bytes == len(body.encode("utf-8"))


def test_deploy_accepts_a_grouped_services_own_parameters_and_image(big_files):
    from stackloom.deploy.deploy import parameter_overrides

    manifest = big_files[compiler.MANIFEST_FILE]
    service = manifest["services"]["svc-042"]
    # GIVEN --image and --param naming one grouped service WHEN turned into overrides and packed (as deploy does)
    overrides = parameter_overrides(from_dict(manifest), ["svc-042=v9"], [f"{service['desired_count_parameter']}=5"])
    values = pack_overrides(from_dict(manifest), overrides, {})
    # THEN they land in that service's entries of the group lists, and no service-level name reaches the root
    assert root.unpack(values[service["image_list_parameter"]])["svc-042"] == "v9"
    assert root.unpack(values[service["desired_count_list_parameter"]])["svc-042"] == "5"
    assert not {service["image_parameter"], service["desired_count_parameter"]} & set(values)


# ---- the production stack policy of a grouped system ------------------------------------------------------


def test_root_stack_policy_denies_replacing_or_deleting_every_service_group(big_files):
    # GIVEN the 200-service system, whose services sit in ServicesNN group stacks: the stateful resources
    # (each service's log group) are two levels below the root, none directly in a group
    from stackloom.cfn.model import is_stateful
    from stackloom.deploy import stack_policy

    root_template = big_files[names.ROOT_FILE]
    groups = sorted(
        key
        for key, stack in resources(root_template, STACK).items()
        if stack["Properties"]["TemplateURL"].startswith("services-")
    )
    assert len(groups) >= 2 and all(key.startswith("Services") for key in groups)
    group_files = {key: big_files[resources(root_template, STACK)[key]["Properties"]["TemplateURL"]] for key in groups}
    assert not any(
        is_stateful(resource["Type"])
        for template in group_files.values()
        for resource in template["Resources"].values()
    )
    # WHEN the production stack policies are derived from the templates, as deploy does
    policies = stack_policy.environment_policies(lambda name: big_files[name], names.ROOT_FILE)
    # THEN the root's Deny statement covers Update:Replace and Update:Delete on every group stack
    (deny,) = [statement for statement in policies[()]["Statement"] if statement["Effect"] == "Deny"]
    assert deny["Action"] == ["Update:Replace", "Update:Delete"] and deny["Principal"] == "*"
    missing = sorted(set(f"LogicalResourceId/{key}" for key in groups) - set(deny["Resource"]))
    assert missing == [], f"root stack policy leaves these service groups replaceable: {missing}"
    # AND each group's own policy denies the same on every service stack it holds
    for key, template in group_files.items():
        (group_deny,) = [s for s in policies[(key,)]["Statement"] if s["Effect"] == "Deny"]
        assert set(group_deny["Resource"]) == {f"LogicalResourceId/{member}" for member in resources(template, STACK)}
