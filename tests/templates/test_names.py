"""templates/names.py: one name per wiring pair. Every FromStack names an output its producer declares,
the names do not collide, and the per-service and per-group names are the ones the golden output/ uses."""

from __future__ import annotations

import ast
import inspect
import json

import pytest

from bench import synthetic
from stackloom import build as compiler
from stackloom import manifest as manifests
from stackloom.params import load_spec
from templates import (
    bootstrap,
    cache,
    cluster,
    data,
    database,
    keys,
    loadbalancer,
    names,
    network,
    registry,
    root,
    security,
    service,
)
from templates import spec as spec_module
from templates.base import FromRoot, FromStack, OwnDefault, Stack

from ..helpers import PARAMS, PROJECT, TARGETS, load, resources

STACK = "AWS::CloudFormation::Stack"
FIXED = {
    names.NETWORK: names.NETWORK_FILE,
    names.SECURITY: names.SECURITY_FILE,
    names.CLUSTER: names.CLUSTER_FILE,
    names.LOAD_BALANCER: names.LOAD_BALANCER_FILE,
    names.DATA: names.DATA_FILE,
}
STACK_MODULES = (network, security, cluster, loadbalancer, data, service)


def spec_of(target: str):
    return load_spec(PARAMS / f"{target}.yaml")


def env_dir(target: str):
    return PROJECT / "output" / target


@pytest.fixture(scope="module", params=TARGETS)
def target(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def grouped() -> compiler.Build:
    # 120 services: past the root's parameter quota, so the services move into group stacks
    return compiler.compile_environment(spec_module.parse(synthetic.spec(120)))


# ---- wiring ----------------------------------------------------------------------------------------------


def _wired_outputs(files: dict[str, dict], file_name: str):
    """(consumer, parameter, producer id, producer file, output) for every GetAtt Outputs.* wiring a nested
    stack parameter in `file_name`, and the same for the group stacks it nests."""
    template = files[file_name]
    stacks = resources(template, STACK)
    for consumer, resource in stacks.items():
        for parameter, value in resource.get("Properties", {}).get("Parameters", {}).items():
            if isinstance(value, dict) and "Fn::GetAtt" in value:
                producer, attribute = value["Fn::GetAtt"]
                assert attribute.startswith("Outputs."), f"{file_name}: {consumer}.{parameter} = {value}"
                yield consumer, parameter, producer, stacks[producer]["Properties"]["TemplateURL"], attribute[8:]
        yield from _wired_outputs(files, resource["Properties"]["TemplateURL"])


def test_every_wired_output_of_every_emitted_environment_is_declared_by_its_producer(target):
    # GIVEN the emitted templates of an environment WHEN every GetAtt Outputs.X between nested stacks is followed
    manifest = load(env_dir(target) / "manifest.json")
    files = {
        name: load(env_dir(target) / name) for name in [manifest["root_template"], *manifest["nested_stacks"].values()]
    }
    wired = list(_wired_outputs(files, manifest["root_template"]))
    assert wired
    for consumer, parameter, producer, producer_file, output in wired:
        # THEN the producer's template declares that output, and the consumer's parameter carries its name
        assert output in files[producer_file].get(
            "Outputs", {}
        ), f"{target}: {consumer}.{parameter} <- {producer}.{output}"
        assert parameter == output, f"{target}: {consumer}.{parameter} is fed from {producer}.{output}"


def test_every_from_stack_in_memory_names_a_declared_output_of_an_earlier_stack(target):
    # GIVEN the nested stacks of an environment as built WHEN every input is checked
    stacks = root.all_stacks(root.children(spec_of(target)))
    seen: dict = {}
    for stack in stacks:
        for parameter, source in stack.inputs.items():
            assert isinstance(source, (FromStack, FromRoot, OwnDefault)), (stack.logical_id, parameter, source)
            if isinstance(source, FromStack):
                # THEN the producer exists, comes earlier and declares the output
                assert source.stack in seen, f"{stack.logical_id}.{parameter}: {source.stack} is not earlier"
                assert source.output in seen[source.stack].template.outputs, (stack.logical_id, source)
        seen[stack.logical_id] = stack


def test_fixed_stacks_have_the_ids_and_files_of_names(target):
    # GIVEN the manifest WHEN the fixed stacks are looked up by their names.* id THEN their files are names.*_FILE
    nested = load(env_dir(target) / "manifest.json")["nested_stacks"]
    for logical_id, file_name in FIXED.items():
        if logical_id in nested:
            assert nested[logical_id] == file_name
    assert {names.NETWORK, names.SECURITY, names.CLUSTER} <= set(nested)


def test_stack_modules_have_one_interface():
    # GIVEN every nested-stack module WHEN its build is inspected THEN build(spec, ...) -> NestedStack, documented
    for module in STACK_MODULES:
        signature = inspect.signature(module.build)
        assert list(signature.parameters)[0] == "spec", module.__name__
        assert signature.return_annotation == "NestedStack", module.__name__
        doc = inspect.getdoc(module.build)
        assert doc and "Reads spec." in doc and "Exports names." in doc, module.__name__
        assert inspect.getdoc(module), module.__name__


def test_top_level_stacks_return_the_same_kind_of_record():
    # GIVEN the root and bootstrap builders WHEN built THEN a Stack (what NestedStack extends) with names.* ids
    spec = load_spec(PARAMS / "bet2wealth" / "dev.yaml")
    top, boot = root.build(spec, root.children(spec)), bootstrap.build(spec)
    assert isinstance(top, Stack) and (top.logical_id, top.file_name) == (names.ROOT, names.ROOT_FILE)
    assert isinstance(boot, Stack) and (boot.logical_id, boot.file_name) == (names.BOOTSTRAP, names.BOOTSTRAP_FILE)
    assert all(isinstance(stack, Stack) for stack in root.children(spec))
    for module in (root, bootstrap):
        assert inspect.signature(module.build).return_annotation == "Stack", module.__name__


def test_stack_modules_wire_and_declare_through_names_not_literals():
    # GIVEN the source of the stack modules WHEN FromStack, output and NestedStack calls are read
    # THEN none of them spells a stack id or an output name as a string literal
    for module in (*STACK_MODULES, cache, database, keys, registry, bootstrap, root):
        tree = ast.parse(inspect.getsource(module))
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
                continue
            literal = {"FromStack": call.args[:2], "output": call.args[1:2], "NestedStack": call.args[:2]}.get(
                call.func.id, []
            )
            bad = [arg.value for arg in literal if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
            assert not bad, f"{module.__name__}:{call.lineno}: {call.func.id} with literal {bad}"


# ---- uniqueness ------------------------------------------------------------------------------------------


def test_fixed_stack_ids_and_files_are_unique():
    assert len(set(FIXED)) == len(FIXED)
    files = [*FIXED.values(), names.ROOT_FILE, names.BOOTSTRAP_FILE]
    assert len(set(files)) == len(files)


@pytest.mark.parametrize("name", ["api", "web", "s01", "services", "worker-2", "a-b-c", "network", "data"])
def test_service_and_group_names_never_collide_with_fixed_names(name):
    # GIVEN a service name WHEN its stack id, file and group are named THEN none is a fixed stack's
    stack_id = names.service_stack(name)
    group = names.group_id(name)
    assert stack_id not in FIXED and group not in FIXED and stack_id != group
    assert not stack_id.startswith(names.GROUP_PREFIX + "0") and not stack_id.startswith(names.GROUP_PREFIX + "1")
    assert names.service_file(name) not in FIXED.values() and names.group_file(group) not in FIXED.values()
    assert names.service_file(name) != names.group_file(group)
    assert names.image_parameter(name) != names.count_parameter(name)


def test_output_names_of_each_stack_are_unique_and_every_constant_is_a_distinct_name():
    # GIVEN the output constants grouped by their producer THEN no two outputs of one stack share a name
    outputs = {
        names.NETWORK: [
            names.VPC_ID,
            names.VPC_CIDR,
            names.PUBLIC_SUBNET_IDS,
            names.PRIVATE_SUBNET_IDS,
            names.ENVIRONMENT_KEY_ARN,
        ],
        names.SECURITY: [
            names.LOAD_BALANCER_SECURITY_GROUP_ID,
            names.DATABASE_SECURITY_GROUP_ID,
            names.CACHE_SECURITY_GROUP_ID,
            names.security_group_id(names.service_group("api")),
        ],
        names.CLUSTER: [
            names.CLUSTER_NAME,
            names.CLUSTER_ARN,
            names.NAMESPACE_ID,
            names.NAMESPACE_NAME,
            names.EC2_CAPACITY_PROVIDER_NAME,
        ],
        names.LOAD_BALANCER: [
            names.LOAD_BALANCER_ARN,
            names.LOAD_BALANCER_FULL_NAME,
            names.LOAD_BALANCER_DNS_NAME,
            names.LISTENER_ARN,
            names.BASE_URL,
        ],
        names.DATA: [
            names.DATABASE_ENDPOINT,
            names.DATABASE_PORT,
            names.DATABASE_NAME,
            names.DATABASE_SECRET_ARN,
            names.CACHE_ENDPOINT,
            names.CACHE_PORT,
            names.CACHE_AUTH_SECRET_ARN,
        ],
    }
    for stack, declared in outputs.items():
        assert len(set(declared)) == len(declared), stack
    # outputs consumed by another stack are that stack's parameters too: they must not clash across producers
    every = [name for declared in outputs.values() for name in declared]
    assert len(set(every)) == len(every)
    assert not {names.ENABLE_DATABASE, names.HOSTED_ZONE_ID} & set(every)


# ---- per-service and per-group names match the golden output ----------------------------------------------


def test_per_service_names_are_the_golden_ones(target):
    # GIVEN the golden root.json and manifest WHEN each service is named through names.*
    manifest = load(env_dir(target) / "manifest.json")
    root_template = load(env_dir(target) / names.ROOT_FILE)
    stacks = resources(root_template, STACK)
    assert manifest["services"]
    for name, entry in manifest["services"].items():
        stack_id = names.service_stack(name)
        # THEN the root has the service stack, its file and both deploy-time parameters under those names
        assert entry["stack"] == stack_id
        assert stacks[stack_id]["Properties"]["TemplateURL"] == names.service_file(name)
        assert manifest["nested_stacks"][stack_id] == names.service_file(name)
        assert entry["image_parameter"] == names.image_parameter(name) in root_template["Parameters"]
        assert entry["desired_count_parameter"] == names.count_parameter(name) in root_template["Parameters"]
        service_template = load(env_dir(target) / names.service_file(name))
        if names.SERVICE_URL in service_template["Outputs"]:
            assert names.service_url_output(stack_id) in root_template["Outputs"]


def test_root_and_bootstrap_names_are_the_golden_ones(target):
    manifest = load(env_dir(target) / "manifest.json")
    root_template = load(env_dir(target) / names.ROOT_FILE)
    assert manifest["root_template"] == names.ROOT_FILE
    assert manifest["bootstrap_template"] == names.BOOTSTRAP_FILE
    assert manifest["bootstrap_stack_name"] == names.bootstrap_stack_name(spec_of(target))
    assert root_template["Outputs"][names.BOOTSTRAP_STACK_NAME]["Value"] == manifest["bootstrap_stack_name"]
    bootstrap_template = load(env_dir(target) / names.BOOTSTRAP_FILE)
    assert names.ARTIFACTS_BUCKET_NAME in bootstrap_template["Outputs"]
    for key in spec_of(target).repositories:
        assert names.repository_uri_output(key) in bootstrap_template["Outputs"]
        assert names.repository_name_output(key) in bootstrap_template["Outputs"]
    for stack_id, forwarded in root.FORWARDED.items():
        if stack_id in manifest["nested_stacks"]:
            child = load(env_dir(target) / manifest["nested_stacks"][stack_id])
            assert {name for name in forwarded if name in child["Outputs"]} <= set(root_template["Outputs"])


def test_deploy_time_switches_are_root_parameters_under_their_names(target):
    spec = spec_of(target)
    parameters = load(env_dir(target) / names.ROOT_FILE)["Parameters"]
    assert (names.ENABLE_DATABASE in parameters) == (spec.database is not None)
    zone_looked_up = (
        spec.load_balancer is not None and spec.load_balancer.dns is not None and spec.load_balancer.dns.zone_id is None
    )
    assert (names.HOSTED_ZONE_ID in parameters) == zone_looked_up


def test_per_group_names_are_the_ones_the_grouped_layout_uses(grouped):
    # GIVEN a system big enough for group stacks WHEN its manifest is read THEN groups are named by names.*
    manifest = json.loads(grouped.files[compiler.MANIFEST_FILE])
    root_parameters = json.loads(grouped.files[names.ROOT_FILE])["Parameters"]
    for name, entry in manifest["services"].items():
        group = names.group_id(name)
        assert entry["group"] == group
        assert manifest["nested_stacks"][group] == names.group_file(group)
        assert entry["image_list_parameter"] == names.group_image_tags(group) in root_parameters
        assert entry["desired_count_list_parameter"] == names.group_desired_counts(group) in root_parameters
        assert manifest["packed_parameters"][names.group_image_tags(group)][name] == names.image_parameter(name)
        assert names.image_parameter(name) not in root_parameters


def test_the_tools_old_entry_points_are_the_names_functions():
    # the tool and other tests call these through the stack modules: they are names.py's, not copies
    assert service.stack_id is names.service_stack
    assert service.image_parameter is names.image_parameter
    assert service.count_parameter is names.count_parameter
    assert bootstrap.FILE_NAME == names.BOOTSTRAP_FILE and bootstrap.stack_name is names.bootstrap_stack_name
    assert root.group_id is names.group_id and root.group_file is names.group_file
    assert (root.GROUPS, root.GROUP_PREFIX) == (names.GROUPS, names.GROUP_PREFIX)
    assert security.group_name("api-gw") == names.service_group("api-gw") == "ServiceApiGw"
    assert keys.OUTPUT == names.ENVIRONMENT_KEY_ARN
    assert manifests.ROOT_FILE == names.ROOT_FILE
