"""Conditions and intrinsic functions of a template, evaluated with parameter values."""
from __future__ import annotations

from stackloom.cfn.parameters import as_value


def conditions(template: dict, values: dict[str, str]) -> dict[str, bool]:
    """Every condition of the template with these parameter values (an unknown construct counts as true,
    as a condition CloudFormation can only decide while deploying would be taken to hold)."""
    definitions = template.get("Conditions") or {}
    results: dict[str, bool] = {}

    def value_of(node):
        if isinstance(node, dict) and "Ref" in node:
            return values.get(node["Ref"], node["Ref"])
        if isinstance(node, dict) and "Condition" in node:
            return condition(node["Condition"])
        if isinstance(node, dict):
            return truth(node)
        return as_value(node)

    def truth(node) -> bool:
        (operator, arguments), = node.items() if isinstance(node, dict) and len(node) == 1 else ((None, None),)
        if operator == "Fn::Equals":
            return value_of(arguments[0]) == value_of(arguments[1])
        if operator == "Fn::Not":
            return not value_of(arguments[0])
        if operator == "Fn::And":
            return all(value_of(item) for item in arguments)
        if operator == "Fn::Or":
            return any(value_of(item) for item in arguments)
        if operator == "Condition":
            return condition(arguments)
        return True

    def condition(name: str) -> bool:
        if name not in results:
            results[name] = bool(truth(definitions.get(name, {})))
        return results[name]

    for name in definitions:
        condition(name)
    return results
