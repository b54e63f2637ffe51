"""root.json: nested stacks wired by GetAtt Outputs; wiring mistakes fail the build."""

from __future__ import annotations

import pytest
from troposphere import Output, Parameter

from templates import root
from templates import spec as spec_module
from templates.base import FromStack, NestedStack, OwnDefault

from ..helpers import base_spec, compile_dict, resources


def _stack(logical_id, parameters=(), outputs=(), inputs=None, defaults=None):
    from troposphere import Template

    template = Template()
    for name in parameters:
        template.add_parameter(
            Parameter(name, Type="String", **({"Default": defaults[name]} if name in (defaults or {}) else {}))
        )
    for name in outputs:
        template.add_output(Output(name, Value="x"))
    return NestedStack(logical_id, f"{logical_id.lower()}.json", template, inputs or {})


SPEC = spec_module.parse(base_spec())


def test_children_are_wired_with_getatt_outputs_and_relative_urls():
    template = compile_dict(base_spec())["root.json"]
    stacks = resources(template, "AWS::CloudFormation::Stack")
    assert set(stacks) == {"Network", "SecurityGroups", "Cluster", "LoadBalancer", "ServiceApi"}
    assert stacks["Network"]["Properties"]["TemplateURL"] == "network.json"
    service = stacks["ServiceApi"]["Properties"]
    assert service["TemplateURL"] == "service-api.json"
    assert service["Parameters"]["ListenerArn"] == {"Fn::GetAtt": ["LoadBalancer", "Outputs.ListenerArn"]}
    assert service["Parameters"]["ApiImageTag"] == {"Ref": "ApiImageTag"}
    assert template["Outputs"]["ServiceApiUrl"]["Value"] == {"Fn::GetAtt": ["ServiceApi", "Outputs.ServiceUrl"]}


def test_every_nested_parameter_is_wired():
    # THEN each child's parameters are exactly those passed by the root or defaulted in the child
    built = compile_dict(base_spec())
    root_template = built["root.json"]
    for logical_id, stack in resources(root_template, "AWS::CloudFormation::Stack").items():
        child = built[stack["Properties"]["TemplateURL"]]
        passed = set(stack["Properties"].get("Parameters", {}))
        left = set(child.get("Parameters", {})) - passed
        # only the parameters a module leaves at their default on purpose (OwnDefault) are not passed
        assert left <= {"AvailabilityZones", "EcsAmiId"}, f"{logical_id}: unwired {left}"
        assert all("Default" in child["Parameters"][name] for name in left)
        assert passed <= set(
            child.get("Parameters", {})
        ), f"{logical_id}: passes unknown {passed - set(child['Parameters'])}"


def test_unwired_parameter_fails_the_build():
    with pytest.raises(root.WiringError, match="Cluster: parameter VpcId is not wired"):
        root.build(SPEC, [_stack("Network", outputs=["VpcId"]), _stack("Cluster", parameters=["VpcId"])])


def test_an_unwired_parameter_with_a_default_fails_the_build_too():
    # GIVEN a child parameter with a default that nobody wires (an ImageTag the root would never reach)
    stacks = [_stack("Service", parameters=["ImageTag"], defaults={"ImageTag": "latest"})]
    # WHEN the root is built THEN the build stops: a default does not stand in for wiring
    with pytest.raises(root.WiringError, match="Service: parameter ImageTag is not wired"):
        root.build(SPEC, stacks)


def test_a_parameter_left_at_its_default_on_purpose_is_not_passed():
    # GIVEN a child parameter marked OwnDefault WHEN the root is built THEN the root passes nothing for it
    stacks = [_stack("Network", parameters=["Zones"], defaults={"Zones": "a,b"}, inputs={"Zones": OwnDefault()})]
    assert "Parameters" not in root.build(SPEC, stacks).template.to_dict()["Resources"]["Network"]["Properties"]
    # AND marking one without a default is refused
    with pytest.raises(root.WiringError, match="Network: parameter Zones is left at its default but has none"):
        root.build(SPEC, [_stack("Network", parameters=["Zones"], inputs={"Zones": OwnDefault()})])


def test_wiring_to_a_missing_output_fails_the_build():
    with pytest.raises(root.WiringError, match="stack Network has no output SubnetIds"):
        root.build(
            SPEC,
            [
                _stack("Network", outputs=["VpcId"]),
                _stack("Cluster", parameters=["X"], inputs={"X": FromStack("Network", "SubnetIds")}),
            ],
        )


def test_wiring_to_a_missing_stack_fails_the_build():
    with pytest.raises(root.WiringError, match="wired to stack Data, which this environment does not have"):
        root.build(SPEC, [_stack("Cluster", parameters=["X"], inputs={"X": FromStack("Data", "Y")})])


def test_wiring_an_input_that_is_not_a_parameter_fails_the_build():
    with pytest.raises(root.WiringError, match=r"wired inputs \['Ghost'\] are not parameters"):
        root.build(
            SPEC,
            [_stack("Network", outputs=["VpcId"]), _stack("Cluster", inputs={"Ghost": FromStack("Network", "VpcId")})],
        )
