"""Templates evaluated the way CloudFormation would with a set of parameter values.

`conditions(template, values)` decides one template's conditions (the local endpoint's view: an unknown
construct counts as true). `Built` evaluates a whole built environment folder (output/<system>/<env>/) with
its root parameter defaults plus overrides: parameters flow from the root into nested stacks, `GetAtt
Child.Outputs.X` is followed into the child, conditions are decided (three-valued: an undecidable one is
None), and a `Ref`/`GetAtt` of a resource becomes a `Pointer` to it (file + logical ID), so a security group
handed through three stacks is still recognised as the same group. Values only known at deploy time
(account ID, physical IDs, a required parameter) stay `Unknown`. The reports (inventory, cost, diagram)
read environments through `Built`.

Both decide conditions through `decide()`, three-valued: `Stack.condition()` keeps an undecidable one as
None (a report greys out only what is surely off), `conditions()` counts it as true (the endpoint must
decide to create a stack).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from stackloom import manifest as manifests
from stackloom.cfn.parameters import as_value, is_list_type, problem
from stackloom.errors import UserError, display
from stackloom.kinds import STACK_TYPE
from stackloom.manifest import pack_overrides
from templates.references import REF, references
from templates.root import unpack


def decide(expression, operand, condition) -> bool | None:
    """A condition expression of CloudFormation (Fn::Equals/Not/And/Or, Condition, a literal true/false),
    three-valued: None when it cannot be decided. `operand(expression)` gives an Fn::Equals operand as text,
    or None when it is unknown; `condition(name)` decides a named condition the same way.
    The one condition evaluator: `conditions()` and `Stack.test` both decide through it."""
    if isinstance(expression, bool):
        return expression
    if isinstance(expression, str):
        return {"true": True, "false": False}.get(expression.lower())
    if not isinstance(expression, dict) or len(expression) != 1:
        return None
    ((function, argument),) = expression.items()
    if function == "Condition":
        return condition(argument)
    if function == "Fn::Equals":
        if not isinstance(argument, list) or len(argument) != 2:
            return None
        left, right = (operand(item) for item in argument)
        return None if left is None or right is None else left == right
    if function == "Fn::Not":
        value = decide(argument[0], operand, condition) if isinstance(argument, list) and argument else None
        return None if value is None else not value
    if function in ("Fn::And", "Fn::Or"):
        values = [decide(item, operand, condition) for item in argument] if isinstance(argument, list) else [None]
        decisive = function == "Fn::Or"
        if decisive in values:
            return decisive
        return None if None in values else not decisive
    return None


def conditions(template: dict, values: dict[str, str]) -> dict[str, bool]:
    """Every condition of the template with these parameter values, decided as CloudFormation would when it
    creates the stack; one it cannot decide here (an unknown parameter or construct) counts as true."""
    definitions = template.get("Conditions") or {}
    results: dict[str, bool | None] = {}

    def operand(node) -> str | None:
        if isinstance(node, dict):
            return values.get(node["Ref"]) if set(node) == {"Ref"} else None
        return None if isinstance(node, list) else as_value(node)

    def condition(name: str) -> bool | None:
        if name not in results:
            results[name] = None  # a cycle decides nothing
            definition = definitions.get(name)
            results[name] = None if definition is None else decide(definition, operand, condition)
        return results[name]

    return {name: condition(name) is not False for name in definitions}


# ------------------------------------------------------------------------------------------ values


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


@dataclass(frozen=True)
class Unknown:
    """A value CloudFormation only knows at deploy time (account ID, a physical ID, a required parameter)."""

    text: str

    def __str__(self) -> str:
        return "${" + self.text + "}"


@dataclass(frozen=True)
class Pointer:
    """`Ref` (attribute None) or `GetAtt` of a resource: the template file and logical ID it lives in."""

    file: str
    logical_id: str
    attribute: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.file, self.logical_id

    def __str__(self) -> str:
        return "${" + self.logical_id + ("." + self.attribute if self.attribute else "") + "}"


@dataclass(frozen=True)
class Joined:
    """`Fn::Join` over parts that are not all known strings (a list of subnet pointers joined by commas)."""

    separator: str
    parts: tuple

    def __str__(self) -> str:
        return self.separator.join(str(part) for part in self.parts)


def text(value) -> str:
    """Any evaluated value as display text (unknown parts as ${Name})."""
    if isinstance(value, list):
        return ",".join(text(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def number(value) -> float | None:
    try:
        return float(str(value))
    except ValueError:
        return None


def pointers(value) -> list[Pointer]:
    """Every Pointer in an evaluated value (a list, a Joined, a single Pointer)."""
    if isinstance(value, Pointer):
        return [value]
    if isinstance(value, Joined):
        return [part for part in value.parts if isinstance(part, Pointer)]
    if isinstance(value, (list, tuple)):
        return [found for item in value for found in pointers(item)]
    return []


def as_list(value) -> list:
    if isinstance(value, list):
        return value
    if isinstance(value, Joined) and value.separator == ",":
        return list(value.parts)
    if isinstance(value, str):
        return value.split(",") if value else []
    return [value]


# ------------------------------------------------------------------------------------------ evaluation


class Stack:
    """One template of the environment, evaluated with the parameter values its parent hands it."""

    def __init__(
        self,
        built: "Built",
        file: str,
        template: dict,
        parent: "Stack | None" = None,
        logical_id: str | None = None,
        inputs: dict | None = None,
        values: dict | None = None,
    ):
        self.built = built
        self.file = file
        self.template = template
        self.parent = parent
        self.logical_id = logical_id
        self._inputs = inputs or {}  # the parent's Parameters expressions (evaluated lazily, in the parent)
        self._values = values  # explicit values (the root)
        self._parameters: dict | None = None
        self._conditions: dict[str, bool | None] = {}
        self.children: dict[str, Stack] = {}
        for child_id, resource in sorted(self.resources.items()):
            if resource.get("Type") == STACK_TYPE:
                child_file = resource.get("Properties", {}).get("TemplateURL")
                if isinstance(child_file, str):
                    self.children[child_id] = Stack(
                        built,
                        child_file,
                        built.load(child_file),
                        self,
                        child_id,
                        resource.get("Properties", {}).get("Parameters", {}),
                    )

    # -- structure
    @property
    def resources(self) -> dict[str, dict]:
        return self.template.get("Resources", {})

    @property
    def path(self) -> str:
        return self.file if self.parent is None else f"{self.parent.path} > {self.logical_id}"

    @property
    def parameters(self) -> dict:
        if self._parameters is None:
            declared = self.template.get("Parameters", {})
            values = {}
            for name, definition in declared.items():
                if self._values is not None and name in self._values:
                    value = self._values[name]
                elif name in self._inputs:
                    value = self.parent.eval(self._inputs[name])
                elif "Default" in definition:
                    value = as_value(definition["Default"])
                else:
                    value = Unknown(name)
                if is_list_type(definition.get("Type", "String")) and not isinstance(value, Unknown):
                    value = as_list(value)
                values[name] = value
            self._parameters = values
        return self._parameters

    @property
    def enabled(self) -> bool:
        """False when this stack (or a stack above it) is behind a condition that is false."""
        if self.parent is None:
            return True
        return self.parent.active(self.logical_id)

    def active(self, logical_id: str) -> bool:
        """Does the resource exist with these parameter values? (unknown conditions count as yes)"""
        if not self.enabled:
            return False
        condition = self.resources.get(logical_id, {}).get("Condition")
        return condition is None or self.condition(condition) is not False

    def why_inactive(self, logical_id: str) -> str:
        """`DatabaseEnabled is false (EnableDatabase=false)`, for a resource that is not active."""
        condition = self.resources.get(logical_id, {}).get("Condition")
        if condition is not None and self.condition(condition) is False:
            names = sorted(_refs(self.template.get("Conditions", {}).get(condition)))
            values = ", ".join(f"{name}={text(self.parameters.get(name))}" for name in names if name in self.parameters)
            return f"condition {condition} is false" + (f": {values}" if values else "")
        if self.parent is not None and not self.enabled:
            return self.parent.why_inactive(self.logical_id)
        return ""

    # -- conditions
    def condition(self, name: str) -> bool | None:
        if self.built.optimistic:
            return True
        if name not in self._conditions:
            self._conditions[name] = None  # a cycle decides nothing
            definition = self.template.get("Conditions", {}).get(name)
            self._conditions[name] = None if definition is None else self.test(definition)
        return self._conditions[name]

    def test(self, expression) -> bool | None:
        return decide(expression, self._operand, self.condition)

    def _operand(self, expression) -> str | None:
        value = self.eval(expression)
        return None if isinstance(value, (Unknown, Pointer, Joined)) else text(value)

    # -- values
    def eval(self, value):
        if isinstance(value, list):
            result = []
            for item in value:
                item = self.eval(item)
                if item is not NO_VALUE:
                    result.append(item)
            return result
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                if key == "Ref":
                    return self.ref(argument)
                if key.startswith("Fn::"):
                    return self._function(key, argument)
            result = {}
            for key, item in value.items():
                item = self.eval(item)
                if item is not NO_VALUE:
                    result[key] = item
            return result
        return value

    def ref(self, name: str):
        if name in self.template.get("Parameters", {}):
            return self.parameters[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name.startswith("AWS::"):
            return self.built.pseudo(name)
        if name in self.resources:
            return Pointer(self.file, name)
        return Unknown(name)

    def getatt(self, logical_id: str, attribute: str):
        child = self.children.get(logical_id)
        if child is not None and attribute.startswith("Outputs."):
            return child.output(attribute[len("Outputs.") :])
        return Pointer(self.file, logical_id, attribute)

    def output(self, name: str):
        definition = self.template.get("Outputs", {}).get(name)
        return (
            Unknown(f"{self.logical_id}.Outputs.{name}") if definition is None else self.eval(definition.get("Value"))
        )

    def _function(self, function: str, argument):
        if function == "Fn::GetAtt":
            logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
            return self.getatt(logical_id, self.eval(attribute) if isinstance(attribute, dict) else attribute)
        if function == "Fn::If":
            chosen = self.condition(argument[0])
            return self.eval(argument[1] if chosen is not False else argument[2])
        if function == "Fn::Select":
            index, items = self.eval(argument[0]), self.eval(argument[1])
            items = as_list(items) if isinstance(items, Joined) else items
            position = number(index)
            if isinstance(items, list) and position is not None and 0 <= int(position) < len(items):
                return items[int(position)]
            return Unknown(f"Select {text(index)}")
        if function == "Fn::Split":
            separator, source = argument[0], self.eval(argument[1])
            if isinstance(source, str):
                return source.split(separator)
            if isinstance(source, Joined) and source.separator == separator:
                return list(source.parts)
            return Unknown("Split")
        if function == "Fn::Join":
            separator, items = argument[0], self.eval(argument[1])
            if not isinstance(items, list):
                return Unknown("Join")
            if all(isinstance(item, str) for item in items):
                return separator.join(items)
            return Joined(separator, tuple(items))
        if function == "Fn::Sub":
            return self._sub(*(argument if isinstance(argument, list) else [argument, {}]))
        if function == "Fn::GetAZs":
            return [f"AZ {index}" for index in range(1, 7)]
        if function == "Fn::Base64":
            return self.eval(argument)
        if function == "Fn::FindInMap":
            keys = [self.eval(item) for item in argument]
            try:
                return self.template["Mappings"][keys[0]][keys[1]][keys[2]]
            except (KeyError, TypeError):
                return Unknown("FindInMap")
        if function in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
            return self.test({function: argument})
        return Unknown(function)

    def _sub(self, pattern: str, variables: dict):
        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return text(self.eval(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return text(self.getatt(logical_id, attribute))
            return text(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, pattern)

    def resource(self, pointer: Pointer) -> dict | None:
        return self.resources.get(pointer.logical_id) if pointer.file == self.file else None


def _refs(expression) -> set[str]:
    """Parameter names a condition expression refers to with `Ref` (the shared reference walker's)."""
    return {item.name for item in references(expression) if item.kind == REF}


def _refused(name: str, definition: dict, value: str) -> str | None:
    """Why `--param` refuses a value: CloudFormation's own checks (`parameters.problem`) of the two constraints
    the reports check (allowed values, then numbers), worded for the command line. Patterns, lengths and
    ranges are left to the deploy, as before."""
    allowed = definition.get("AllowedValues")
    if allowed and problem(name, {"AllowedValues": allowed}, value):
        return f"allowed values are {', '.join(map(str, allowed))}"
    if definition.get("Type") == "Number" and problem(name, {"Type": "Number"}, value):
        return "a number is expected"
    return None


class Built:
    """A built environment folder, evaluated with its root parameter defaults plus `overrides`."""

    def __init__(self, folder: Path, overrides: dict[str, str] | None = None, optimistic: bool = False):
        self.folder = Path(folder)
        self.optimistic = optimistic  # every condition true: what a switched-off resource would look like
        self._what_if: Built | None = None
        self._cache: dict[str, dict] = {}
        self.manifest = manifests.load(self.folder)
        self.region = self.manifest.region
        self.account_id = self.manifest.account_id
        root_file = self.manifest.root_template
        root_template = self.load(root_file)
        self.overrides = dict(overrides or {})
        self.values = self._root_values(root_template, self.overrides)
        self.root = Stack(self, root_file, root_template, values=self.values)
        bootstrap_file = self.manifest.bootstrap_template
        self.bootstrap = (
            Stack(self, bootstrap_file, self.load(bootstrap_file), values={})
            if bootstrap_file and (self.folder / bootstrap_file).is_file()
            else None
        )

    @property
    def what_if(self) -> "Built":
        """The same environment with every condition true (shares the loaded templates)."""
        if self._what_if is None:
            self._what_if = Built.__new__(Built)
            self._what_if.__dict__.update(
                folder=self.folder,
                optimistic=True,
                _what_if=None,
                _cache=self._cache,
                manifest=self.manifest,
                region=self.region,
                account_id=self.account_id,
                overrides=self.overrides,
                values=self.values,
            )
            root = self.root
            self._what_if.root = Stack(self._what_if, root.file, root.template, values=self.values)
            self._what_if.bootstrap = None
        return self._what_if

    def load(self, file: str) -> dict:
        if file not in self._cache:
            path = self.folder / file
            try:
                self._cache[file] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise UserError(f"{display(path)}: cannot read ({error}); run `stackloom build` first") from None
        return self._cache[file]

    def pseudo(self, name: str):
        if name == "AWS::Region":
            return self.region
        if name == "AWS::AccountId":
            return self.account_id or Unknown(name)
        if name == "AWS::StackName" and self.manifest.stack_name:
            return self.manifest.stack_name
        return {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}.get(name, Unknown(name))

    def _root_values(self, template: dict, overrides: dict[str, str]) -> dict:
        declared = dict(template.get("Parameters", {}))
        packed = self.manifest.packed_parameters or {}
        own = {}  # a grouped service's own parameter (ApiDesiredCount) -> its definition in the service stack
        for entries in packed.values():
            for service, name in entries.items():
                entry = self.manifest.services.get(service)
                file = self.manifest.nested_stacks.get(entry.stack) if entry is not None else None
                if file:
                    own[name] = self.load(file).get("Parameters", {}).get(name, {})
        for name, value in sorted(overrides.items()):
            definition = declared.get(name, own.get(name))
            if definition is None:
                raise UserError(
                    f"--param {name}: not a deploy-time parameter of {self.manifest.stack_name}; "
                    f"known: {', '.join(sorted(set(declared) | set(own))) or 'none'}"
                )
            refused = _refused(name, definition, value)
            if refused:
                raise UserError(f"--param {name}={value}: {refused}")
        if overrides and packed:
            overrides = pack_overrides(self.manifest, overrides)
        values = {
            name: as_value(definition["Default"]) for name, definition in declared.items() if "Default" in definition
        }
        values.update(overrides)
        return values

    def stacks(self) -> Iterator[Stack]:
        """Every template: the root, nested stacks at any depth, then the bootstrap stack."""
        pending = [self.root]
        while pending:
            stack = pending.pop(0)
            yield stack
            pending.extend(stack.children.values())
        if self.bootstrap is not None:
            yield self.bootstrap

    def resources(self, *types: str) -> Iterator[tuple[Stack, str, dict]]:
        for stack in self.stacks():
            for logical_id, resource in sorted(stack.resources.items()):
                if resource.get("Type") in types:
                    yield stack, logical_id, resource

    def stack(self, file: str) -> Stack | None:
        if not hasattr(self, "_by_file"):
            self._by_file = {stack.file: stack for stack in self.stacks()}
        return self._by_file.get(file)

    def find(self, pointer) -> tuple[Stack, dict] | tuple[None, None]:
        if not isinstance(pointer, Pointer):
            return None, None
        stack = self.stack(pointer.file)
        resource = stack.resource(pointer) if stack is not None else None
        return (stack, resource) if resource is not None else (None, None)

    def properties(self, pointer) -> dict:
        stack, resource = self.find(pointer)
        return stack.eval(resource.get("Properties", {})) if stack is not None else {}

    def parameter_note(self) -> str:
        """`EnableDatabase=false (default), BackendDesiredCount=4 (--param)` for the report headers."""
        defaults = self.root.template.get("Parameters", {})
        packed = self.manifest.packed_parameters or {}
        parts = []
        for name, value in sorted(self.values.items()):
            if name.endswith("ImageTag") or name.endswith("ImageTags"):
                continue
            default = defaults.get(name, {}).get("Default")
            if name in packed:  # a group's list: only the services whose value was overridden
                before = unpack(str(default))
                parts += [
                    f"{packed[name].get(service, service)}={count} (--param)"
                    for service, count in sorted(unpack(value).items())
                    if before.get(service) != count
                ]
                continue
            parts.append(
                f"{name}={value}" + (" (default)" if default is not None and str(default) == value else " (--param)")
            )
        return ", ".join(parts)
