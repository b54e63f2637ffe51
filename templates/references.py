"""What a CloudFormation JSON fragment refers to: the one reference walker of the project.

The compiler needs it (root.py splits an over-quota stack along its references) and so does the tool
(diff follows replacements through references, the local endpoint orders resources by them), so it lives
at the bottom layer; `stackloom.cfn.model` builds the rest of the template model on it.

A reference is (name, attribute, kind):
* `Ref X` and `${X}` in a `Fn::Sub` refer to X with no attribute;
* `Fn::GetAtt X.Attr` / `[X, Attr]` and `${X.Attr}` refer to X with attribute Attr;
* the `DependsOn` attribute and the condition names of `Condition` / `Fn::If` are references too (kinds
  DEPENDS_ON, CONDITION), which a caller that wants only value references leaves out.
`${!Literal}` is text, and a `Fn::Sub` variable of its own mapping is not a reference.
"""

from __future__ import annotations

import re
from typing import NamedTuple

REF = "Ref"
GETATT = "GetAtt"
SUB = "Sub"
DEPENDS_ON = "DependsOn"
CONDITION = "Condition"
VALUE_KINDS = frozenset((REF, GETATT, SUB))

SUB_NAME = re.compile(r"\$\{(?!!)\s*([A-Za-z0-9:_]+)(?:\.([A-Za-z0-9_.]+))?\s*\}")


class Reference(NamedTuple):
    name: str
    attribute: str | None
    kind: str

    @property
    def strong(self) -> bool:
        """Needs the named thing itself, not only its value (an attribute or an ordering)."""
        return self.kind in (GETATT, DEPENDS_ON) or (self.kind == SUB and self.attribute is not None)


def references(value) -> set[Reference]:
    """Every reference in a JSON fragment (a template, a resource, a property value), pseudo parameters
    (`AWS::Region`) included."""
    found: set[Reference] = set()
    _collect(value, found)
    return found


def value_references(value) -> set[tuple[str, str | None]]:
    """(name, attribute) pairs reached through Ref / Fn::GetAtt / Fn::Sub; pseudo parameters left out."""
    return {
        (item.name, item.attribute)
        for item in references(value)
        if item.kind in VALUE_KINDS and not item.name.startswith("AWS::")
    }


def _collect(value, found: set[Reference]) -> None:
    if isinstance(value, list):
        for item in value:
            _collect(item, found)
        return
    if not isinstance(value, dict):
        return
    for key, argument in value.items():
        if key == "Ref" and isinstance(argument, str):
            found.add(Reference(argument, None, REF))
        elif key == "Fn::GetAtt":
            if isinstance(argument, str):
                name, _, attribute = argument.partition(".")
                found.add(Reference(name, attribute or None, GETATT))
            elif isinstance(argument, list) and argument and isinstance(argument[0], str):
                attribute = argument[1] if len(argument) > 1 and isinstance(argument[1], str) else None
                found.add(Reference(argument[0], attribute, GETATT))
                _collect(argument[1:], found)
        elif key == "Fn::Sub":
            text, variables = (
                (argument, {})
                if isinstance(argument, str)
                else ((argument + [None, None])[:2] if isinstance(argument, list) else (None, None))
            )
            variables = variables if isinstance(variables, dict) else {}
            if isinstance(text, str):
                for name, attribute in SUB_NAME.findall(text):
                    if name not in variables:
                        found.add(Reference(name, attribute or None, SUB))
            _collect(list(variables.values()), found)
        elif key == DEPENDS_ON and isinstance(argument, (str, list)):
            for name in [argument] if isinstance(argument, str) else argument:
                if isinstance(name, str):
                    found.add(Reference(name, None, DEPENDS_ON))
        elif key in ("Condition", "Fn::If") and isinstance(argument, (str, list)):
            name = argument if isinstance(argument, str) else (argument[0] if argument else None)
            if isinstance(name, str):
                found.add(Reference(name, None, CONDITION))
            _collect(argument, found)
        else:
            _collect(argument, found)
