"""stackloom/cfn: the one reader of CloudFormation JSON (model, createOnly schemas, evaluator, parameters)."""

from __future__ import annotations

import pytest

from stackloom.cfn import evaluate, model, parameters, schemas
from templates import references

from ..helpers import PROJECT, load


def test_references_name_every_kind_once():
    # GIVEN a resource using Ref, GetAtt (both forms), Sub (with a variable map and a literal), DependsOn, a condition
    resource = {
        "Condition": "On",
        "DependsOn": ["Gateway"],
        "Properties": {
            "A": {"Ref": "Vpc"},
            "B": {"Fn::GetAtt": ["Bucket", "Arn"]},
            "C": {"Fn::GetAtt": "Child.Outputs.Url"},
            "D": {"Fn::Sub": ["${Name}-${Local}-${!Literal}-${AWS::Region}", {"Local": {"Ref": "Zone"}}]},
            "E": {"Fn::If": ["Other", {"Ref": "Yes"}, {"Ref": "AWS::NoValue"}]},
        },
    }
    # WHEN its references are read THEN each is found with its attribute and kind, literals and own variables are not
    found = references.references(resource)
    assert ("Bucket", "Arn", references.GETATT) in found and ("Child", "Outputs.Url", references.GETATT) in found
    assert ("Name", None, references.SUB) in found and not any(item.name in ("Local", "Literal") for item in found)
    assert ("Zone", None, references.REF) in found and ("Gateway", None, references.DEPENDS_ON) in found
    assert {("On", None, references.CONDITION), ("Other", None, references.CONDITION)} <= found
    # AND the value references leave out pseudo parameters, conditions and ordering
    assert references.value_references(resource) == {
        ("Vpc", None),
        ("Bucket", "Arn"),
        ("Child", "Outputs.Url"),
        ("Name", None),
        ("Zone", None),
        ("Yes", None),
    }


def test_dependency_order_puts_what_is_referenced_first_and_names_a_cycle():
    resources = {
        "Service": {"Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}}},
        "Role": {"DependsOn": "Key"},
        "Key": {},
    }
    assert model.dependency_order(resources) == ["Key", "Role", "Service"]
    with pytest.raises(ValueError, match="Circular dependency between resources"):
        model.dependency_order({"A": {"DependsOn": "B"}, "B": {"DependsOn": "A"}})


def test_nested_stacks_and_their_paths_from_an_emitted_environment():
    # GIVEN bet2wealth production's templates WHEN its nested stacks are walked THEN every manifest stack has a path
    folder = PROJECT / "output" / "bet2wealth" / "production"
    manifest = load(folder / "manifest.json")
    templates = {name: load(folder / name) for name in [manifest["root_template"], *manifest["nested_stacks"].values()]}
    paths = model.stack_paths(model.children(templates))
    assert sorted(paths.values()) == sorted(manifest["nested_stacks"])
    assert model.nested_stacks(templates["root.json"])["Network"] == "network.json"


@pytest.mark.parametrize(
    "value, expected",
    [
        (True, True),
        ("true", True),
        ("True", True),
        (" TRUE ", True),
        (False, False),
        ("false", False),
        ("yes", False),
        (None, False),
    ],
)
def test_truthy_reads_booleans_as_cloudformation_does(value, expected):
    assert model.truthy(value) is expected


def test_create_only_follows_nested_paths_in_the_specs_region():
    # GIVEN cfn-lint's schemas WHEN a subnet's and a cluster's createOnly properties are read THEN nested paths appear
    assert (("VpcId",), False) in schemas.create_only("eu-central-1", "AWS::EC2::Subnet")
    assert "VpcId" in schemas.create_only_top("ap-southeast-2", "AWS::EC2::Subnet")
    # AND an unknown region falls back to the superset, an unknown type has none
    assert schemas.create_only("xx-nowhere-1", "AWS::EC2::Subnet") == schemas.create_only(
        "us-east-1", "AWS::EC2::Subnet"
    )
    assert schemas.create_only("eu-central-1", "AWS::Nowhere::Thing") == ()


def test_parameter_checks_give_cloudformations_messages():
    number = {"Type": "Number", "MinValue": 1, "MaxValue": 10}
    assert parameters.problem("Count", number, "x") == "Parameter 'Count' must be a number"
    assert parameters.problem("Count", number, "11") == "Parameter 'Count' must be a number not greater than 10"
    assert parameters.problem("Count", number, "5") is None
    switch = {"Type": "String", "AllowedValues": [True, False]}
    assert parameters.problem("On", switch, "true") is None and parameters.problem("On", switch, "maybe")
    template = {"Parameters": {"A": {"Type": "String"}, "B": {"Type": "String", "Default": ["x", "y"]}}}
    assert parameters.values(template, {"A": "1"}) == {"A": "1", "B": "x,y"}
    assert parameters.missing(template, {}) == ["A"] and parameters.unknown(template, {"C": "1"}) == ["C"]


def test_one_condition_evaluator_three_valued_and_its_two_valued_view():
    template = {
        "Conditions": {
            "On": {"Fn::Equals": [{"Ref": "Switch"}, "true"]},
            "Off": {"Fn::Not": [{"Condition": "On"}]},
            "Either": {"Fn::Or": [{"Condition": "On"}, {"Fn::Equals": [{"Ref": "Unknown"}, "x"]}]},
            "Both": {"Fn::And": [{"Condition": "On"}, {"Fn::Equals": [{"Ref": "Unknown"}, "x"]}]},
        }
    }
    # WHEN decided with Switch=true THEN Or is decided by its known side, And cannot be, and counts as true
    assert evaluate.conditions(template, {"Switch": "true"}) == {"On": True, "Off": False, "Either": True, "Both": True}
    assert evaluate.conditions(template, {"Switch": "false"}) == {
        "On": False,
        "Off": True,
        "Either": True,
        "Both": False,
    }
    # AND the three-valued core says None where the two-valued view assumed true
    operand = {"Switch": "true"}.get

    def value(node):
        return operand(node["Ref"]) if isinstance(node, dict) else node

    def condition(name):
        return evaluate.decide(template["Conditions"][name], value, condition)

    assert condition("Both") is None and condition("Either") is True
