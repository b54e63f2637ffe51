"""Deploy-time parameter values, checked the way CloudFormation checks them (and with its messages).

The local endpoint raises these messages as CloudFormation's ValidationError; `diagram`/`cost --param`
and `deploy --param` report them as user errors before anything is sent.
"""

from __future__ import annotations

import re


def as_value(value) -> str:
    """A parameter value or default as CloudFormation holds it: a string (lists comma-joined)."""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_list_type(parameter_type: str) -> bool:
    return parameter_type == "CommaDelimitedList" or parameter_type.startswith("List<")


def declared(template: dict) -> dict[str, dict]:
    found = template.get("Parameters") if isinstance(template, dict) else None
    return found if isinstance(found, dict) else {}


def values(template: dict, given: dict) -> dict[str, str]:
    """Each declared parameter's value: the given one, else its default (parameters with neither left out)."""
    result = {}
    for name, definition in declared(template).items():
        if name in given:
            result[name] = as_value(given[name])
        elif "Default" in definition:
            result[name] = as_value(definition["Default"])
    return result


def unknown(template: dict, given: dict) -> list[str]:
    return sorted(set(given) - set(declared(template)))


def missing(template: dict, given: dict) -> list[str]:
    return sorted(
        name for name, definition in declared(template).items() if name not in given and "Default" not in definition
    )


def problem(name: str, definition: dict, value: str) -> str | None:
    """CloudFormation's message for a value its parameter's constraints refuse, None when accepted.
    (AWS-specific types such as `AWS::Route53::HostedZone::Id` also need the account: the caller checks those.)"""
    kind = definition.get("Type", "String")
    if kind == "Number":
        try:
            number = float(value)
        except ValueError:
            return f"Parameter '{name}' must be a number"
        if "MinValue" in definition and number < float(definition["MinValue"]):
            return f"Parameter '{name}' must be a number not less than {definition['MinValue']}"
        if "MaxValue" in definition and number > float(definition["MaxValue"]):
            return f"Parameter '{name}' must be a number not greater than {definition['MaxValue']}"
    if "AllowedValues" in definition and value not in [as_value(item) for item in definition["AllowedValues"]]:
        return f"Parameter '{name}' must be one of AllowedValues"
    if "AllowedPattern" in definition and not re.fullmatch(definition["AllowedPattern"], value):
        return f"Parameter '{name}' must match pattern {definition['AllowedPattern']}"
    if "MinLength" in definition and len(value) < int(definition["MinLength"]):
        return f"Parameter '{name}' must contain at least {definition['MinLength']} characters"
    if "MaxLength" in definition and len(value) > int(definition["MaxLength"]):
        return f"Parameter '{name}' must contain at most {definition['MaxLength']} characters"
    return None


def constraint_message(name: str, definition: dict, found: str) -> str:
    """What CloudFormation says for a refused value: the parameter's ConstraintDescription when it has one."""
    description = definition.get("ConstraintDescription")
    return f"Parameter '{name}' failed to satisfy constraint: {description}" if description else found
