"""`python build.py diagram SYSTEM/ENV`: ARCHITECTURE.md with a Mermaid diagram drawn from the emitted templates.

Everything here reads output/<system>/<env>/ (manifest.json, root.json and the nested templates), never the
spec: the picture is what CloudFormation will create. Three layers, each usable on its own:

* `Built` evaluates the templates the way CloudFormation would with a given set of root parameter values
  (defaults, plus `--param` overrides): parameters flow from the root into nested stacks, `GetAtt
  Child.Outputs.X` is followed into the child, conditions are decided, and a `Ref`/`GetAtt` of a resource
  becomes a `Pointer` to it (file + logical ID), so a security group handed through three stacks is still
  recognised as the same group. Values only known at deploy time (account ID, physical IDs, a required
  parameter) stay `Unknown`.
* `inventory(built)` turns that into plain records: subnets and their tier (from the route tables), NAT
  gateways, load balancers and listeners, ECS services (capacity, CPU/memory, ports, desired count, routes,
  Cloud Map name, log group, image, secrets, roles), data stores, security-group flows, log groups... Each
  record says whether it exists with these parameter values (`active`) and, if not, why.
  `templates/cost.py` prices the same inventory.
* `mermaid(inventory)` / `markdown(...)` draw it.

Special cases are kept to one table, `EXTERNAL_NETWORKS`: a service whose image repository is named there
and that has internet egress gets an arrow to that named network (yagna -> Golem network) instead of the
generic "Internet (egress)". Everything else is derived from the templates.
"""
from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from stackloom.errors import UserError
from stackloom.params import select
from stackloom.output import write

ARCHITECTURE_FILE = "ARCHITECTURE.md"

# Image repository name (last path segment, without tag) -> the external network such a service talks to.
EXTERNAL_NETWORKS = {"yagna": "Golem network<br/>(providers, P2P via NAT)"}


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


def _as_list(value) -> list:
    if isinstance(value, list):
        return value
    if isinstance(value, Joined) and value.separator == ",":
        return list(value.parts)
    if isinstance(value, str):
        return value.split(",") if value else []
    return [value]


def _is_list_type(parameter_type: str) -> bool:
    return parameter_type == "CommaDelimitedList" or parameter_type.startswith("List<")


# ------------------------------------------------------------------------------------------ evaluation


class Stack:
    """One template of the environment, evaluated with the parameter values its parent hands it."""

    def __init__(self, built: "Built", file: str, template: dict, parent: "Stack | None" = None,
                 logical_id: str | None = None, inputs: dict | None = None, values: dict | None = None):
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
            if resource.get("Type") == "AWS::CloudFormation::Stack":
                child_file = resource.get("Properties", {}).get("TemplateURL")
                if isinstance(child_file, str):
                    self.children[child_id] = Stack(built, child_file, built.load(child_file), self, child_id,
                                                    resource.get("Properties", {}).get("Parameters", {}))

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
                    value = str(definition["Default"])
                else:
                    value = Unknown(name)
                if _is_list_type(definition.get("Type", "String")) and not isinstance(value, Unknown):
                    value = _as_list(value)
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
        if isinstance(expression, bool):
            return expression
        if isinstance(expression, str):
            return {"true": True, "false": False}.get(expression.lower())
        if not isinstance(expression, dict) or len(expression) != 1:
            return None
        (function, argument), = expression.items()
        if function == "Condition":
            return self.condition(argument)
        if function == "Fn::Equals":
            left, right = (self.eval(item) for item in argument)
            if any(isinstance(item, (Unknown, Pointer, Joined)) for item in (left, right)):
                return None
            return text(left) == text(right)
        if function == "Fn::Not":
            value = self.test(argument[0])
            return None if value is None else not value
        if function in ("Fn::And", "Fn::Or"):
            values = [self.test(item) for item in argument]
            decisive = function == "Fn::Or"
            if decisive in values:
                return decisive
            return None if None in values else not decisive
        return None

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
                (key, argument), = value.items()
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
            return child.output(attribute[len("Outputs."):])
        return Pointer(self.file, logical_id, attribute)

    def output(self, name: str):
        definition = self.template.get("Outputs", {}).get(name)
        return Unknown(f"{self.logical_id}.Outputs.{name}") if definition is None else self.eval(definition.get("Value"))

    def _function(self, function: str, argument):
        if function == "Fn::GetAtt":
            logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
            return self.getatt(logical_id, self.eval(attribute) if isinstance(attribute, dict) else attribute)
        if function == "Fn::If":
            chosen = self.condition(argument[0])
            return self.eval(argument[1] if chosen is not False else argument[2])
        if function == "Fn::Select":
            index, items = self.eval(argument[0]), self.eval(argument[1])
            items = _as_list(items) if isinstance(items, Joined) else items
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
    """Parameter names a condition expression refers to (directly or through other conditions)."""
    found: set[str] = set()
    if isinstance(expression, dict):
        for key, value in expression.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            else:
                found |= _refs(value)
    elif isinstance(expression, list):
        for item in expression:
            found |= _refs(item)
    return found


class Built:
    """A built environment folder, evaluated with its root parameter defaults plus `overrides`."""

    def __init__(self, folder: Path, overrides: dict[str, str] | None = None, optimistic: bool = False):
        self.folder = Path(folder)
        self.optimistic = optimistic  # every condition true: what a switched-off resource would look like
        self._what_if: Built | None = None
        self._cache: dict[str, dict] = {}
        self.manifest = self.load("manifest.json")
        self.region = self.manifest.get("region", "eu-central-1")
        self.account_id = self.manifest.get("account_id")
        root_file = self.manifest.get("root_template", "root.json")
        root_template = self.load(root_file)
        self.overrides = dict(overrides or {})
        self.values = self._root_values(root_template, self.overrides)
        self.root = Stack(self, root_file, root_template, values=self.values)
        bootstrap_file = self.manifest.get("bootstrap_template")
        self.bootstrap = (Stack(self, bootstrap_file, self.load(bootstrap_file), values={})
                          if bootstrap_file and (self.folder / bootstrap_file).is_file() else None)

    @property
    def what_if(self) -> "Built":
        """The same environment with every condition true (shares the loaded templates)."""
        if self._what_if is None:
            self._what_if = Built.__new__(Built)
            self._what_if.__dict__.update(folder=self.folder, optimistic=True, _what_if=None, _cache=self._cache,
                                          manifest=self.manifest, region=self.region, account_id=self.account_id,
                                          overrides=self.overrides, values=self.values)
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
                raise UserError(f"{path}: cannot read ({error}); run `python build.py` first") from None
        return self._cache[file]

    def pseudo(self, name: str):
        if name == "AWS::Region":
            return self.region
        if name == "AWS::AccountId":
            return self.account_id or Unknown(name)
        if name == "AWS::StackName" and self.manifest.get("stack_name"):
            return self.manifest["stack_name"]
        return {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}.get(name, Unknown(name))

    def _root_values(self, template: dict, overrides: dict[str, str]) -> dict:
        declared = dict(template.get("Parameters", {}))
        packed = self.manifest.get("packed_parameters") or {}
        own = {}  # a grouped service's own parameter (ApiDesiredCount) -> its definition in the service stack
        for entries in packed.values():
            for service, name in entries.items():
                stack = self.manifest.get("services", {}).get(service, {}).get("stack")
                file = self.manifest.get("nested_stacks", {}).get(stack)
                if file:
                    own[name] = self.load(file).get("Parameters", {}).get(name, {})
        for name, value in sorted(overrides.items()):
            definition = declared.get(name, own.get(name))
            if definition is None:
                raise UserError(f"--param {name}: not a deploy-time parameter of {self.manifest.get('stack_name')}; "
                                f"known: {', '.join(sorted(set(declared) | set(own))) or 'none'}")
            allowed = definition.get("AllowedValues")
            if allowed and value not in [str(item) for item in allowed]:
                raise UserError(f"--param {name}={value}: allowed values are {', '.join(map(str, allowed))}")
            if definition.get("Type") == "Number" and number(value) is None:
                raise UserError(f"--param {name}={value}: a number is expected")
        if overrides and packed:
            from stackloom.build import pack_overrides
            overrides = pack_overrides(self.manifest, overrides)
        values = {name: str(definition["Default"]) for name, definition in declared.items() if "Default" in definition}
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
        packed = self.manifest.get("packed_parameters") or {}
        parts = []
        for name, value in sorted(self.values.items()):
            if name.endswith("ImageTag") or name.endswith("ImageTags"):
                continue
            default = defaults.get(name, {}).get("Default")
            if name in packed:  # a group's list: only the services whose value was overridden
                from templates.root import unpack
                before = unpack(str(default))
                parts += [f"{packed[name].get(service, service)}={count} (--param)"
                          for service, count in sorted(unpack(value).items()) if before.get(service) != count]
                continue
            parts.append(f"{name}={value}" + (" (default)" if default is not None and str(default) == value
                                                 else " (--param)"))
        return ", ".join(parts)


# ------------------------------------------------------------------------------------------ inventory


@dataclass
class Subnet:
    key: tuple
    tier: str  # public | private | isolated
    cidr: str
    zone: str
    nat: tuple | None = None  # key of the NAT gateway its default route goes to


@dataclass
class Nat:
    key: tuple
    zone: str
    active: bool = True


@dataclass
class Listener:
    protocol: str
    port: int | None
    action: str


@dataclass
class LoadBalancer:
    key: tuple
    name: str
    scheme: str
    kind: str
    zones: int
    tier: str
    listeners: list[Listener] = field(default_factory=list)
    certificates: list[str] = field(default_factory=list)
    access_logs: bool = False
    active: bool = True


@dataclass
class Record:
    name: str
    type: str
    zone: str
    alias_of: tuple | None
    active: bool = True


@dataclass
class Capacity:
    key: tuple
    instance_type: str
    desired: int | None
    minimum: int | None
    maximum: int | None
    volume_gib: float
    volume_type: str
    ecs: bool
    tier: str
    active: bool = True


@dataclass
class Secret:
    variable: str
    store: str  # ssm | secretsmanager
    name: str
    active: bool = True
    note: str = ""


@dataclass
class Route:
    load_balancer: tuple | None
    paths: list[str]
    hosts: list[str]
    port: int | None
    priority: int | None


@dataclass
class Service:
    name: str
    file: str
    compute: str  # Fargate | Fargate Spot | EC2 | ...
    cpu: int | None
    memory: int | None
    ports: list[int]
    desired: int | None
    desired_parameter: str | None
    autoscaling: tuple[int, int] | None
    routes: list[Route]
    discovery: str | None
    log_group: str | None
    log_retention: int | None
    repository: str | None  # ECR repository name
    image: str
    tag: str
    secrets: list[Secret]
    roles: dict[str, list[str]]  # execution/task -> AWS service prefixes it may call
    groups: list[tuple]
    tier: str
    egress: bool  # security group allows 0.0.0.0/0 out
    active: bool = True
    reason: str = ""

    @property
    def fargate(self) -> bool:
        return self.compute.startswith("Fargate")


@dataclass
class Database:
    key: tuple
    engine: str
    version: str
    serverless: tuple[float, float] | None
    instances: int
    instance_class: str
    groups: list[tuple]
    managed_secret: bool
    log_exports: list[str]
    active: bool = True
    reason: str = ""


@dataclass
class Cache:
    key: tuple
    engine: str
    version: str
    node_type: str
    nodes: int
    multi_az: bool
    tls: bool
    groups: list[tuple]
    active: bool = True
    reason: str = ""


@dataclass
class Flow:
    source: tuple
    target: tuple
    protocol: str
    ports: str
    active: bool = True


@dataclass
class LogGroup:
    key: tuple
    name: str
    retention: int | None
    owner: str  # a service name, "flow-logs", ...
    active: bool = True


@dataclass
class Function:
    """A Lambda function; `deploy_time` when it backs a custom resource (CloudFormation invokes it on deploy)."""

    key: tuple
    name: str
    purpose: str  # from the custom resource type (Custom::RestrictDefaultSecurityGroup) or the function name
    runtime: str
    log_group: str | None  # the log group it writes to (LoggingConfig, else /aws/lambda/<FunctionName>)
    custom_resources: list[str] = field(default_factory=list)  # types of the custom resources it backs
    targets: list[tuple[str, str]] = field(default_factory=list)  # (component: "vpc", what it does to it)
    in_vpc: bool = False
    active: bool = True

    @property
    def deploy_time(self) -> bool:
        return bool(self.custom_resources)


@dataclass
class Inventory:
    built: Built
    system: str
    environment: str
    region: str
    stack_name: str
    vpc_cidr: str = ""
    vpc_key: tuple | None = None
    subnets: list[Subnet] = field(default_factory=list)
    nats: list[Nat] = field(default_factory=list)
    internet_gateway: bool = False
    load_balancers: list[LoadBalancer] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    hosted_zone: str | None = None
    cluster: str = ""
    container_insights: bool = False
    capacity: list[Capacity] = field(default_factory=list)
    namespace: str | None = None
    namespace_kind: str = ""
    services: list[Service] = field(default_factory=list)
    databases: list[Database] = field(default_factory=list)
    caches: list[Cache] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    internet_ingress: dict[tuple, list[str]] = field(default_factory=dict)
    owners: dict[tuple, str] = field(default_factory=dict)  # security group key -> component id
    log_groups: list[LogGroup] = field(default_factory=list)
    repositories: list[str] = field(default_factory=list)
    kms_keys: int = 0
    created_secrets: list[tuple[str, bool]] = field(default_factory=list)
    flow_logs: str | None = None  # log group name of the VPC flow logs
    instance_role: bool = False
    functions: list[Function] = field(default_factory=list)

    @property
    def zones(self) -> list[str]:
        return sorted({subnet.zone for subnet in self.subnets})

    def subnets_of(self, tier: str) -> list[Subnet]:
        return [subnet for subnet in self.subnets if subnet.tier == tier]

    @property
    def active_nats(self) -> list[Nat]:
        return [nat for nat in self.nats if nat.active]


def inventory(built: Built) -> Inventory:
    manifest = built.manifest
    found = Inventory(built, manifest.get("system", "?"), manifest.get("environment", "?"), built.region,
                      manifest.get("stack_name", ""), hosted_zone=manifest.get("hosted_zone"))
    _network(built, found)
    tiers = {subnet.key: subnet.tier for subnet in found.subnets}

    def tier_of(value) -> str:
        kinds = sorted({tiers.get(pointer.key, "unknown") for pointer in pointers(value)})
        return kinds[0] if len(kinds) == 1 else ("mixed" if kinds else "unknown")

    _load_balancers(built, found, tier_of)
    _cluster(built, found, tier_of)
    _services(built, found, tier_of)
    found.services.sort(key=lambda service: service.name)
    _stores(built, found)
    _security(built, found)
    _functions(built, found)
    function_logs = {function.log_group: function.name for function in found.functions if function.log_group}
    for stack, logical_id, resource in built.resources("AWS::Logs::LogGroup"):
        props = stack.eval(resource.get("Properties", {}))
        name = text(props.get("LogGroupName"))
        owner = next((service.name for service in found.services if service.log_group == name),
                     "flow-logs" if name == found.flow_logs else
                     f"function:{function_logs[name]}" if name in function_logs else stack.logical_id or stack.file)
        found.log_groups.append(LogGroup((stack.file, logical_id), text(props.get("LogGroupName", logical_id)),
                                         _int(props.get("RetentionInDays")), owner, stack.active(logical_id)))
    for stack, logical_id, resource in built.resources("AWS::ECR::Repository"):
        found.repositories.append(text(stack.eval(resource.get("Properties", {})).get("RepositoryName", logical_id)))
    found.kms_keys = sum(1 for stack, logical_id, _ in built.resources("AWS::KMS::Key") if stack.active(logical_id))
    for stack, logical_id, resource in built.resources("AWS::SecretsManager::Secret"):
        found.created_secrets.append((text(stack.eval(resource.get("Properties", {})).get("Name", logical_id)),
                                      stack.active(logical_id)))
    for database in found.databases:
        if database.managed_secret:
            found.created_secrets.append(("RDS-managed master user secret", database.active))
    found.instance_role = any(True for _ in built.resources("AWS::IAM::InstanceProfile"))
    return found


def _int(value) -> int | None:
    parsed = number(value) if not isinstance(value, (Unknown, Pointer, Joined, list, dict)) else None
    return int(parsed) if parsed is not None else None


def _network(built: Built, found: Inventory) -> None:
    for stack, logical_id, resource in built.resources("AWS::EC2::VPC"):
        found.vpc_cidr = text(stack.eval(resource.get("Properties", {})).get("CidrBlock", ""))
        found.vpc_key = (stack.file, logical_id)
    found.internet_gateway = any(True for _ in built.resources("AWS::EC2::InternetGateway"))
    gateways = {(stack.file, logical_id): resource["Type"] for stack, logical_id, resource in
                built.resources("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway")}
    default_routes: dict[tuple, tuple] = {}  # route table -> gateway
    for stack, logical_id, resource in built.resources("AWS::EC2::Route"):
        props = stack.eval(resource.get("Properties", {}))
        if props.get("DestinationCidrBlock") != "0.0.0.0/0" or not stack.active(logical_id):
            continue
        for target in ("GatewayId", "NatGatewayId"):
            for pointer in pointers(props.get(target)):
                for table in pointers(props.get("RouteTableId")):
                    default_routes[table.key] = pointer.key
    table_of: dict[tuple, tuple] = {}
    for stack, logical_id, resource in built.resources("AWS::EC2::SubnetRouteTableAssociation"):
        props = stack.eval(resource.get("Properties", {}))
        for subnet in pointers(props.get("SubnetId")):
            for table in pointers(props.get("RouteTableId")):
                table_of[subnet.key] = table.key
    zone_of_subnet = {}
    for stack, logical_id, resource in built.resources("AWS::EC2::Subnet"):
        props = stack.eval(resource.get("Properties", {}))
        key = (stack.file, logical_id)
        gateway = default_routes.get(table_of.get(key))
        kind = gateways.get(gateway)
        tier = {"AWS::EC2::InternetGateway": "public", "AWS::EC2::NatGateway": "private"}.get(kind, "isolated")
        zone = text(props.get("AvailabilityZone", "?"))
        zone_of_subnet[key] = zone
        found.subnets.append(Subnet(key, tier, text(props.get("CidrBlock", "?")), zone,
                                    gateway if kind == "AWS::EC2::NatGateway" else None))
    for stack, logical_id, resource in built.resources("AWS::EC2::NatGateway"):
        props = stack.eval(resource.get("Properties", {}))
        zone = next((zone_of_subnet.get(pointer.key, "?") for pointer in pointers(props.get("SubnetId"))), "?")
        found.nats.append(Nat((stack.file, logical_id), zone, stack.active(logical_id)))
    for stack, logical_id, resource in built.resources("AWS::EC2::FlowLog"):
        props = stack.eval(resource.get("Properties", {}))
        group = props.get("LogGroupName")
        if isinstance(group, Pointer):
            group = built.properties(group).get("LogGroupName", group)
        if stack.active(logical_id):
            found.flow_logs = text(group)


def _load_balancers(built: Built, found: Inventory, tier_of) -> None:
    for stack, logical_id, resource in built.resources("AWS::ElasticLoadBalancingV2::LoadBalancer"):
        props = stack.eval(resource.get("Properties", {}))
        attributes = {text(item.get("Key")): text(item.get("Value")) for item in props.get("LoadBalancerAttributes", [])
                      if isinstance(item, dict)}
        subnets = props.get("Subnets", [])
        found.load_balancers.append(LoadBalancer(
            (stack.file, logical_id), text(props.get("Name", logical_id)), text(props.get("Scheme", "internet-facing")),
            text(props.get("Type", "application")), len(_as_list(subnets)) if subnets else 0, tier_of(subnets),
            access_logs=attributes.get("access_logs.s3.enabled") == "true", active=stack.active(logical_id)))
        for group in pointers(props.get("SecurityGroups")):
            found.owners[group.key] = "alb"
    by_key = {balancer.key: balancer for balancer in found.load_balancers}
    for stack, logical_id, resource in built.resources("AWS::ElasticLoadBalancingV2::Listener"):
        props = stack.eval(resource.get("Properties", {}))
        balancer = next((by_key.get(pointer.key) for pointer in pointers(props.get("LoadBalancerArn"))), None)
        if balancer is None:
            continue
        actions = props.get("DefaultActions", [])
        action = _action(actions[0]) if actions else ""
        balancer.listeners.append(Listener(text(props.get("Protocol", "")), _int(props.get("Port")), action))
        for certificate in props.get("Certificates", []):
            arn = certificate.get("CertificateArn") if isinstance(certificate, dict) else None
            if isinstance(arn, Pointer):
                cert = built.properties(arn)
                balancer.certificates.append(f"ACM {text(cert.get('DomainName', '?'))} "
                                             f"({text(cert.get('ValidationMethod', 'DNS')).lower()}-validated)")
            elif arn is not None:
                balancer.certificates.append(f"ACM {text(arn).rsplit('/', 1)[-1]} (given ARN)")
    for stack, logical_id, resource in built.resources("AWS::Route53::RecordSet"):
        props = stack.eval(resource.get("Properties", {}))
        alias = props.get("AliasTarget", {})
        target = next((pointer.key for pointer in pointers(alias.get("DNSName") if isinstance(alias, dict) else None)),
                      None)
        zone = props.get("HostedZoneName") or found.hosted_zone or text(props.get("HostedZoneId", "?"))
        found.records.append(Record(text(props.get("Name", "?")).rstrip("."), text(props.get("Type", "A")),
                                    text(zone).rstrip("."), target, stack.active(logical_id)))


def _action(action) -> str:
    if not isinstance(action, dict):
        return ""
    kind = text(action.get("Type", ""))
    if kind == "redirect":
        config = action.get("RedirectConfig", {})
        return f"redirect to {text(config.get('Protocol', ''))} {text(config.get('Port', ''))}".strip()
    if kind == "fixed-response":
        return f"fixed {text(action.get('FixedResponseConfig', {}).get('StatusCode', ''))}"
    return kind


def _cluster(built: Built, found: Inventory, tier_of) -> None:
    for stack, logical_id, resource in built.resources("AWS::ECS::Cluster"):
        props = stack.eval(resource.get("Properties", {}))
        found.cluster = text(props.get("ClusterName", logical_id))
        settings = {text(item.get("Name")): text(item.get("Value")) for item in props.get("ClusterSettings", [])}
        found.container_insights = settings.get("containerInsights") in ("enabled", "enhanced")
    providers = set()
    for stack, logical_id, resource in built.resources("AWS::ECS::CapacityProvider"):
        props = stack.eval(resource.get("Properties", {}))
        for group in pointers(props.get("AutoScalingGroupProvider", {}).get("AutoScalingGroupArn")):
            providers.add(group.key)
    for stack, logical_id, resource in built.resources("AWS::AutoScaling::AutoScalingGroup"):
        props = stack.eval(resource.get("Properties", {}))
        template = props.get("LaunchTemplate", {})
        data = built.properties(template.get("LaunchTemplateId")).get("LaunchTemplateData", {})
        volume = next((mapping.get("Ebs", {}) for mapping in data.get("BlockDeviceMappings", [])), {})
        for group in pointers(data.get("SecurityGroupIds")):
            found.owners[group.key] = "ec2"
        found.capacity.append(Capacity(
            (stack.file, logical_id), text(data.get("InstanceType", props.get("InstanceType", "?"))),
            _int(props.get("DesiredCapacity")), _int(props.get("MinSize")), _int(props.get("MaxSize")),
            float(number(text(volume.get("VolumeSize", 0))) or 0), text(volume.get("VolumeType", "gp3")),
            (stack.file, logical_id) in providers, tier_of(props.get("VPCZoneIdentifier")), stack.active(logical_id)))
    for kind, label in (("AWS::ServiceDiscovery::PrivateDnsNamespace", "private DNS"),
                        ("AWS::ServiceDiscovery::PublicDnsNamespace", "public DNS"),
                        ("AWS::ServiceDiscovery::HttpNamespace", "HTTP")):
        for stack, logical_id, resource in built.resources(kind):
            found.namespace = text(stack.eval(resource.get("Properties", {})).get("Name", logical_id))
            found.namespace_kind = label


def _services(built: Built, found: Inventory, tier_of) -> None:
    rules = []
    for stack, logical_id, resource in built.resources("AWS::ElasticLoadBalancingV2::ListenerRule"):
        props = stack.eval(resource.get("Properties", {}))
        listener = built.properties(next(iter(pointers(props.get("ListenerArn"))), None))
        balancer = next((pointer.key for pointer in pointers(listener.get("LoadBalancerArn"))), None)
        paths, hosts = [], []
        for condition in props.get("Conditions", []):
            values = condition.get("Values") or condition.get("PathPatternConfig", {}).get("Values") \
                or condition.get("HostHeaderConfig", {}).get("Values") or []
            (paths if condition.get("Field") == "path-pattern" else hosts).extend(text(value) for value in values)
        for action in props.get("Actions", []):
            for group in pointers(action.get("TargetGroupArn")):
                rules.append((group.key, balancer, paths, hosts, _int(props.get("Priority"))))
    for stack, logical_id, resource in built.resources("AWS::ECS::Service"):
        props = stack.eval(resource.get("Properties", {}))
        task_pointer = props.get("TaskDefinition")
        task_stack, task_resource = built.find(task_pointer)
        task = task_stack.eval(task_resource.get("Properties", {})) if task_stack else {}
        containers = task.get("ContainerDefinitions", [])
        raw_containers = task_resource.get("Properties", {}).get("ContainerDefinitions", []) if task_resource else []
        name = text(props.get("ServiceName", logical_id))
        network = props.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {})
        groups = [pointer.key for pointer in pointers(network.get("SecurityGroups"))]
        for group in groups:
            found.owners.setdefault(group, f"svc:{name}")
        cpu = _int(task.get("Cpu")) or sum(_int(container.get("Cpu")) or 0 for container in containers) or None
        memory = _int(task.get("Memory")) or sum(_int(container.get("Memory")) or 0 for container in containers) or None
        ports = [_int(mapping.get("ContainerPort")) for container in containers
                 for mapping in container.get("PortMappings", []) if _int(mapping.get("ContainerPort"))]
        routes = []
        for balancer in props.get("LoadBalancers", []):
            for group in pointers(balancer.get("TargetGroupArn")):
                for target, on, paths, hosts, priority in rules:
                    if target == group.key:
                        routes.append(Route(on, paths, hosts, _int(balancer.get("ContainerPort")), priority))
        discovery = None
        for registry in props.get("ServiceRegistries", []):
            for pointer in pointers(registry.get("RegistryArn")):
                entry = built.properties(pointer)
                namespace = built.properties(next(iter(pointers(entry.get("NamespaceId"))), None)).get("Name")
                discovery = f"{text(entry.get('Name', name))}.{text(namespace or found.namespace or '?')}"
        log_name, retention = None, None
        image, repository, tag = "", None, ""
        secrets: list[Secret] = []
        for container, raw in zip(containers, raw_containers + [{}] * len(containers)):
            options = container.get("LogConfiguration", {}).get("Options", {})
            group = options.get("awslogs-group")
            if isinstance(group, Pointer):
                log = built.properties(group)
                log_name, retention = text(log.get("LogGroupName", group.logical_id)), _int(log.get("RetentionInDays"))
            elif group is not None:
                log_name = text(group)
            if not image:
                image, repository, tag = _image(text(container.get("Image", "")))
            secrets += _secrets(built, task_stack, raw.get("Secrets", []) if isinstance(raw, dict) else [])
        roles = {kind: _role_services(built.properties(task.get(field_name)))
                 for kind, field_name in (("execution", "ExecutionRoleArn"), ("task", "TaskRoleArn"))
                 if task.get(field_name) is not None}
        autoscaling = None
        for scaling_stack, scaling_id, scaling in built.resources("AWS::ApplicationAutoScaling::ScalableTarget"):
            if scaling_stack is stack and f'"{logical_id}"' in json.dumps(scaling.get("Properties", {}).get("ResourceId")):
                scaling_props = scaling_stack.eval(scaling.get("Properties", {}))
                autoscaling = (_int(scaling_props.get("MinCapacity")) or 0, _int(scaling_props.get("MaxCapacity")) or 0)
        raw_count = resource.get("Properties", {}).get("DesiredCount")
        found.services.append(Service(
            name, stack.file, _compute(built, props, task), cpu, memory, ports, _int(props.get("DesiredCount")),
            raw_count.get("Ref") if isinstance(raw_count, dict) else None, autoscaling, routes, discovery,
            log_name, retention, repository, image, tag, secrets, roles, groups, tier_of(network.get("Subnets")),
            False, stack.active(logical_id), stack.why_inactive(logical_id)))


def _compute(built: Built, props: dict, task: dict) -> str:
    names = []
    for item in props.get("CapacityProviderStrategy", []):
        provider = item.get("CapacityProvider")
        if provider in ("FARGATE", "FARGATE_SPOT"):
            names.append({"FARGATE": "Fargate", "FARGATE_SPOT": "Fargate Spot"}[provider])
        else:
            names.append("EC2")
    if not names:
        launch = text(props.get("LaunchType", ""))
        names = ["Fargate" if launch == "FARGATE" else "EC2" if launch == "EC2" else
                 "Fargate" if "FARGATE" in task.get("RequiresCompatibilities", []) else "EC2"]
    return " + ".join(dict.fromkeys(names))


def _image(uri: str) -> tuple[str, str | None, str]:
    """`123.dkr.ecr.eu-central-1.amazonaws.com/backend:latest` -> (uri, "backend", "latest")."""
    host, _, path = uri.partition("/")
    name, _, tag = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "latest")
    repository = name if ".dkr.ecr." in host else None
    return uri, repository, tag


def _secrets(built: Built, stack: Stack | None, raw: list) -> list[Secret]:
    """Container secrets, including those behind a false condition (marked inactive)."""
    found = []
    if stack is None:
        return found
    for item in raw:
        active = True
        if isinstance(item, dict) and list(item) == ["Fn::If"]:
            condition, yes, no = item["Fn::If"]
            decided = stack.condition(condition)
            chosen = yes if decided is not False or no == {"Ref": "AWS::NoValue"} else no
            active = decided is not False
            item = chosen
        source = built if active else built.what_if
        value = (source.stack(stack.file) or stack).eval(item)
        if not isinstance(value, dict):
            continue
        reference = value.get("ValueFrom")
        store, name, note = "secretsmanager", text(reference), ""
        if isinstance(reference, Pointer):
            origin = source.find(reference)[1] or {}
            if origin.get("Type") == "AWS::SecretsManager::Secret":
                name = text(source.properties(reference).get("Name", reference.logical_id))
            elif origin.get("Type") == "AWS::RDS::DBCluster":
                name, note = "RDS-managed master user secret", "database"
        else:
            arn = text(reference)
            match = re.search(r":ssm:[^:]*:(?:\$\{[^}]*\}|[^:]*):parameter(/.*)$", arn)
            if match:
                store, name = "ssm", match.group(1)
            else:
                match = re.search(r":secretsmanager:[^:]*:(?:\$\{[^}]*\}|[^:]*):secret:([^:]+)(?::([^:]*))?", arn)
                if match:
                    name = match.group(1) + (f" (key {match.group(2)})" if match.group(2) else "")
                elif arn.startswith("/") or ":ssm:" in arn:
                    store = "ssm"
        found.append(Secret(text(value.get("Name", "?")), store, name, active, note))
    return found


def _role_services(role: dict) -> list[str]:
    """The AWS services a role's inline policies allow (`ecr`, `logs`, `ssm`, ...) and managed policy names."""
    prefixes = set()
    for policy in role.get("Policies", []):
        for statement in policy.get("PolicyDocument", {}).get("Statement", []):
            actions = statement.get("Action", [])
            for action in actions if isinstance(actions, list) else [actions]:
                prefixes.add(text(action).split(":", 1)[0])
    for arn in role.get("ManagedPolicyArns", []):
        prefixes.add(text(arn).rsplit("/", 1)[-1])
    return sorted(prefixes)


def _stores(built: Built, found: Inventory) -> None:
    instances: dict[tuple, list[str]] = {}
    for stack, logical_id, resource in built.resources("AWS::RDS::DBInstance"):
        props = stack.eval(resource.get("Properties", {}))
        for cluster in pointers(props.get("DBClusterIdentifier")):
            instances.setdefault(cluster.key, []).append(text(props.get("DBInstanceClass", "?")))
    for stack, logical_id, resource in built.resources("AWS::RDS::DBCluster"):
        props = stack.eval(resource.get("Properties", {}))
        scaling = props.get("ServerlessV2ScalingConfiguration")
        classes = instances.get((stack.file, logical_id), [])
        groups = [pointer.key for pointer in pointers(props.get("VpcSecurityGroupIds"))]
        for group in groups:
            found.owners[group] = f"db:{logical_id}"
        found.databases.append(Database(
            (stack.file, logical_id), text(props.get("Engine", "?")), text(props.get("EngineVersion", "")),
            (float(number(text(scaling.get("MinCapacity"))) or 0), float(number(text(scaling.get("MaxCapacity"))) or 0))
            if isinstance(scaling, dict) else None,
            len(classes), classes[0] if classes else "?", groups,
            props.get("ManageMasterUserPassword") in (True, "true"), [text(item) for item in
                                                                     props.get("EnableCloudwatchLogsExports", [])],
            stack.active(logical_id), stack.why_inactive(logical_id)))
    for stack, logical_id, resource in built.resources("AWS::ElastiCache::ReplicationGroup",
                                                       "AWS::ElastiCache::CacheCluster"):
        props = stack.eval(resource.get("Properties", {}))
        if resource["Type"] == "AWS::ElastiCache::CacheCluster":
            nodes = _int(props.get("NumCacheNodes")) or 1
            groups = pointers(props.get("VpcSecurityGroupIds"))
        else:
            shards = _int(props.get("NumNodeGroups"))
            nodes = (shards * ((_int(props.get("ReplicasPerNodeGroup")) or 0) + 1) if shards
                     else _int(props.get("NumCacheClusters")) or 1)
            groups = pointers(props.get("SecurityGroupIds"))
        for group in groups:
            found.owners[group.key] = f"cache:{logical_id}"
        found.caches.append(Cache(
            (stack.file, logical_id), text(props.get("Engine", "redis")), text(props.get("EngineVersion", "")),
            text(props.get("CacheNodeType", "?")), nodes, props.get("MultiAZEnabled") in (True, "true"),
            props.get("TransitEncryptionEnabled") in (True, "true"), [group.key for group in groups],
            stack.active(logical_id), stack.why_inactive(logical_id)))


CUSTOM_RESOURCE = "AWS::CloudFormation::CustomResource"


def _words(name: str) -> str:
    """`RestrictDefaultSecurityGroup` -> `restrict default security group`."""
    return " ".join(re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name)).lower() or name


def _actions(role: dict) -> set[str]:
    """Every action a role's inline policies allow (`ec2:RevokeSecurityGroupIngress`, ...)."""
    found = set()
    for policy in role.get("Policies", []):
        for statement in policy.get("PolicyDocument", {}).get("Statement", []):
            actions = statement.get("Action", [])
            found.update(text(action) for action in (actions if isinstance(actions, list) else [actions]))
    return found


def _functions(built: Built, found: Inventory) -> None:
    """Lambda functions, the custom resources they back (their ServiceToken) and what those act on."""
    backing: dict[tuple, list[tuple[str, dict]]] = {}  # function key -> (custom resource type, properties)
    for stack in built.stacks():
        for logical_id, resource in sorted(stack.resources.items()):
            kind = str(resource.get("Type", ""))
            if not (kind.startswith("Custom::") or kind == CUSTOM_RESOURCE):
                continue
            props = stack.eval(resource.get("Properties", {}))
            for token in pointers(props.get("ServiceToken")):
                backing.setdefault(token.key, []).append((kind, props))
    for stack, logical_id, resource in built.resources("AWS::Lambda::Function"):
        props = stack.eval(resource.get("Properties", {}))
        key = (stack.file, logical_id)
        name = text(props.get("FunctionName", logical_id))
        logging = props.get("LoggingConfig")
        group = logging.get("LogGroup") if isinstance(logging, dict) else None
        if isinstance(group, Pointer):
            log_group = text(built.properties(group).get("LogGroupName", group.logical_id))
        elif group is not None:
            log_group = text(group)
        else:  # Lambda's default: /aws/lambda/<function name>, known only when the name is given
            log_group = f"/aws/lambda/{name}" if isinstance(props.get("FunctionName"), str) else None
        actions = _actions(built.properties(props.get("Role")))
        custom = backing.get(key, [])
        targets = []
        for kind, custom_props in custom:
            acted_on = [value for name_, value in custom_props.items() if name_ != "ServiceToken"]
            for pointer in pointers(acted_on):
                if pointer.key != found.vpc_key:
                    continue
                if pointer.attribute == "DefaultSecurityGroup":
                    revokes = any(action.startswith("ec2:RevokeSecurityGroup") for action in actions)
                    words = "revokes default security group rules" if revokes else "acts on the default security group"
                else:
                    words = "acts on the VPC"
                if ("vpc", words) not in targets:
                    targets.append(("vpc", words))
        types = [kind for kind, _ in custom]
        purpose = (_words(types[0].split("::", 1)[1]) if types and types[0] != CUSTOM_RESOURCE
                   else _words(logical_id.removesuffix("Function")) if types else name)
        vpc_config = props.get("VpcConfig")
        found.functions.append(Function(key, name, purpose, text(props.get("Runtime", "")), log_group, types, targets,
                                        isinstance(vpc_config, dict) and bool(vpc_config.get("SubnetIds")),
                                        stack.active(logical_id)))


def _ports(rule: dict) -> str:
    protocol = text(rule.get("IpProtocol", "tcp"))
    low, high = _int(rule.get("FromPort")), _int(rule.get("ToPort"))
    if protocol == "-1":
        return "all traffic"
    if low is None or (low, high) == (0, 65535):
        return f"{protocol} all ports"
    return f"{protocol} {low}" if low == high or high is None else f"{protocol} {low}-{high}"


def _security(built: Built, found: Inventory) -> None:
    egress_groups = set()
    for stack, logical_id, resource in built.resources("AWS::EC2::SecurityGroup"):
        props = stack.eval(resource.get("Properties", {}))
        key = (stack.file, logical_id)
        for rule in props.get("SecurityGroupIngress", []):
            if rule.get("CidrIp") == "0.0.0.0/0":
                found.internet_ingress.setdefault(key, []).append(_ports(rule))
            for source in pointers(rule.get("SourceSecurityGroupId")):
                found.flows.append(Flow(source.key, key, text(rule.get("IpProtocol", "tcp")), _ports(rule),
                                        stack.active(logical_id)))
        for rule in props.get("SecurityGroupEgress", []):
            if rule.get("CidrIp") == "0.0.0.0/0":
                egress_groups.add(key)
    for stack, logical_id, resource in built.resources("AWS::EC2::SecurityGroupIngress"):
        props = stack.eval(resource.get("Properties", {}))
        for target in pointers(props.get("GroupId")):
            if props.get("CidrIp") == "0.0.0.0/0":
                found.internet_ingress.setdefault(target.key, []).append(_ports(props))
            for source in pointers(props.get("SourceSecurityGroupId")):
                found.flows.append(Flow(source.key, target.key, text(props.get("IpProtocol", "tcp")), _ports(props),
                                        stack.active(logical_id)))
    for stack, logical_id, resource in built.resources("AWS::EC2::SecurityGroupEgress"):
        props = stack.eval(resource.get("Properties", {}))
        if props.get("CidrIp") == "0.0.0.0/0":
            egress_groups.update(pointer.key for pointer in pointers(props.get("GroupId")))
    for service in found.services:
        service.egress = any(group in egress_groups for group in service.groups)


# ------------------------------------------------------------------------------------------ Mermaid

STYLES = {
    "aws": "fill:#ff9900,stroke:#232f3e,stroke-width:1px,color:#000",
    "ecs": "fill:#0066cc,stroke:#00264d,stroke-width:1px,color:#fff",
    "data": "fill:#7a3db8,stroke:#2e1050,stroke-width:1px,color:#fff",
    "support": "fill:#fff4e0,stroke:#b36b00,stroke-width:1px,color:#000",
    "external": "fill:#90ee90,stroke:#1b5e20,stroke-width:1px,color:#000",
    "disabled": "fill:#e6e6e6,stroke:#999,stroke-width:1px,stroke-dasharray:4 3,color:#888",
}
DISABLED_LINK = "stroke:#b0b0b0,stroke-width:1px,stroke-dasharray:4 3,color:#999"
MAX_LISTED = 6
_ESCAPES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;", "|": "#124;",
            "%": "#37;", "{": "#123;", "}": "#125;", "[": "#91;", "]": "#93;"}
_UNSAFE = re.compile("[" + re.escape("".join(_ESCAPES)) + "]")


def label(*lines: str) -> str:
    """A quoted Mermaid label: each argument a line (joined with <br/>), every character Mermaid could read
    as syntax written as an entity code, so names from templates cannot break the diagram."""
    escaped = [_UNSAFE.sub(lambda match: _ESCAPES[match.group(0)], str(line)) for line in lines if line != ""]
    return '"' + "<br/>".join(" ".join(line.split()) for line in escaped) + '"'


def node_id(prefix: str, name: str) -> str:
    return prefix + "_" + re.sub(r"[^A-Za-z0-9]", "_", name)


class Chart:
    """Collects Mermaid flowchart lines; edge indices are remembered so disabled ones can be greyed."""

    SHAPES = {"box": ('[', ']'), "store": ('[(', ')]'), "round": ('(', ')'), "circle": ('((', '))'),
              "hexagon": ('{{', '}}'), "stadium": ('([', '])'), "flag": ('>', ']')}

    def __init__(self, direction: str = "TB"):
        self.lines = [f"flowchart {direction}"]
        self.depth = 1
        self.edges = 0
        self.disabled_edges: list[int] = []
        self.classes: dict[str, list[str]] = {}
        self.nodes: set[str] = set()
        self.groups: set[str] = set()

    def comment(self, words: str) -> None:
        self.lines.append("  " * self.depth + "%% " + words.replace("\n", " "))

    def node(self, identifier: str, lines: list[str] | str, shape: str = "box", kind: str = "aws",
             active: bool = True) -> str:
        opening, closing = self.SHAPES[shape]
        lines = [lines] if isinstance(lines, str) else lines
        self.lines.append("  " * self.depth + f"{identifier}{opening}{label(*lines)}{closing}")
        self.classes.setdefault(kind if active else "disabled", []).append(identifier)
        self.nodes.add(identifier)
        return identifier

    def edge(self, source: str, target: str, words: str = "", arrow: str = "-->", active: bool = True) -> None:
        if not {source, target} <= self.nodes | self.groups:
            return
        self.lines.append("  " * self.depth + f"{source} {arrow}" + (f"|{label(words)}|" if words else "") + f" {target}")
        if not active:
            self.disabled_edges.append(self.edges)
        self.edges += 1

    def open(self, identifier: str, title: list[str] | str, direction: str | None = None) -> None:
        title = [title] if isinstance(title, str) else title
        self.lines.append("  " * self.depth + f"subgraph {identifier}[{label(*title)}]")
        self.groups.add(identifier)
        self.depth += 1
        if direction:
            self.lines.append("  " * self.depth + f"direction {direction}")

    def close(self) -> None:
        self.depth -= 1
        self.lines.append("  " * self.depth + "end")

    def render(self) -> str:
        lines = list(self.lines)
        lines.append("")
        for kind, style in STYLES.items():
            lines.append(f"  classDef {kind} {style}")
        for kind, members in self.classes.items():
            lines.append(f"  class {','.join(members)} {kind}")
        if self.disabled_edges:
            lines.append(f"  linkStyle {','.join(map(str, self.disabled_edges))} {DISABLED_LINK}")
        body = "\n".join(lines) + "\n"
        # Mermaid draws an error box instead of a large diagram (more than maxEdges, 500, or maxTextSize, 50,000)
        limits = {}
        if self.edges > 400:
            limits["maxEdges"] = self.edges + 100
        if len(body) > 40_000:
            limits["maxTextSize"] = len(body) * 2
        if limits:
            body = "%%{init: " + json.dumps(limits) + "}%%\n" + body
        return body


def _listed(items: list[str]) -> list[str]:
    return items[:MAX_LISTED] + ([f"... {len(items) - MAX_LISTED} more"] if len(items) > MAX_LISTED else [])


def _off(active: bool) -> str:
    return "" if active else "OFF with these parameters"


def _service_lines(service: Service, compact: bool = False) -> list[str]:
    size = (f"{service.cpu} CPU units / {service.memory} MiB" if service.cpu or service.memory else "")
    count = f"desired {service.desired if service.desired is not None else '?'}"
    if service.autoscaling:
        count += f" (autoscaling {service.autoscaling[0]}-{service.autoscaling[1]})"
    ports = "port " + ", ".join(map(str, service.ports)) if service.ports else "no ports"
    if compact:
        return [service.name, f"{service.compute} · {service.cpu}/{service.memory} · ×{service.desired}",
                _off(service.active)]
    return [f"ECS service {service.name}", f"{service.compute} · {size}", f"{ports} · {count}",
            _off(service.active)]


COMPACT_SERVICES = 20  # above this many services, platform links are summarised per cluster, not per service
MERMAID_MAX_EDGES = 500  # Mermaid's defaults (secure settings: a diagram cannot raise them itself)
MERMAID_MAX_TEXT = 50_000


def mermaid(found: Inventory) -> str:
    """The flowchart of one environment, within Mermaid's default size limits (large systems are summarised:
    see `COMPACT_SERVICES`; service-to-service arrows are left to the table if even that is too big)."""
    compact = len(found.services) > COMPACT_SERVICES
    drawing = _draw(found, compact, flows=True)
    if drawing.count("\n") > 0 and (_edge_count(drawing) >= MERMAID_MAX_EDGES or len(drawing) >= MERMAID_MAX_TEXT):
        drawing = _draw(found, True, flows=False)
    return drawing


def _edge_count(drawing: str) -> int:
    return sum(1 for line in drawing.splitlines() if re.search(r" (-->|-\.->|==>)", line))


def _draw(found: Inventory, compact: bool, flows: bool) -> str:
    chart = Chart("TB")
    chart.comment(f"generated by `python build.py diagram {found.system}/{found.environment}` from the emitted "
                  f"templates; do not edit")
    if compact:
        chart.comment(f"{len(found.services)} services: images, secrets, logs and roles summarised per cluster"
                      + ("" if flows else "; service-to-service flows omitted (see the table)"))
    chart.node("INTERNET", ["Internet", "users and clients"], "circle", "external")
    service_ids = {service.name: node_id("SVC", service.name) for service in found.services}
    component = {"alb": "ALB", "ec2": "EC2CAP"}
    component.update({f"svc:{name}": identifier for name, identifier in service_ids.items()})
    component.update({f"db:{database.key[1]}": node_id("DB", database.key[1]) for database in found.databases})
    component.update({f"cache:{cache.key[1]}": node_id("CACHE", cache.key[1]) for cache in found.caches})
    balancer_ids = {balancer.key: ("ALB" if index == 0 else f"ALB{index + 1}")
                    for index, balancer in enumerate(found.load_balancers)}
    nat_ids = {nat.key: f"NAT{index + 1}" for index, nat in enumerate(found.nats)}
    cluster_ids = {}

    chart.open("AWS", f"AWS {found.region} · stack {found.stack_name}")
    for index, record in enumerate(found.records):
        chart.node(f"R53_{index + 1}", [f"Route53 {record.type} alias", record.name, f"zone {record.zone}",
                                        _off(record.active)], "box", "aws", record.active)
    for balancer in found.load_balancers:
        for number_, certificate in enumerate(balancer.certificates):
            chart.node(f"ACM_{balancer_ids[balancer.key]}_{number_ + 1}", [certificate], "box", "support")

    zones = len(found.zones)
    chart.open("VPC", f"VPC {found.vpc_cidr} · {zones} AZ{'s' if zones != 1 else ''}")
    if found.internet_gateway:
        chart.node("IGW", ["Internet gateway", "default route of the public subnets"], "box", "aws")
    for tier in ("public", "private", "isolated"):
        subnets = found.subnets_of(tier)
        if not subnets and not _tier_members(found, tier):
            continue
        ranges = [f"{subnet.cidr} ({subnet.zone})" for subnet in sorted(subnets, key=lambda item: item.zone)]
        chart.open(tier.upper(), [f"{tier.capitalize()} subnets", *ranges])
        for balancer in (item for item in found.load_balancers if item.tier in (tier, "unknown" if tier == "public" else "")):
            listeners = [f"{item.protocol} {item.port}: {item.action}" for item in balancer.listeners]
            chart.node(balancer_ids[balancer.key],
                       [f"Application Load Balancer {balancer.name}", f"{balancer.scheme} · {balancer.zones} AZs",
                        *listeners, _off(balancer.active)], "box", "aws", balancer.active)
        if tier == "public":
            for nat in found.nats:
                chart.node(nat_ids[nat.key], [f"NAT gateway {nat_ids[nat.key][3:]} ({nat.zone})", "Elastic IP",
                                              _off(nat.active)], "box", "aws", nat.active)
        services = [service for service in found.services if service.tier == tier]
        capacity = [item for item in found.capacity if item.tier == tier]
        if services or capacity:
            insights = " · Container Insights" if found.container_insights else ""
            cluster_ids[tier] = f"CLUSTER_{tier.upper()}"
            chart.open(cluster_ids[tier], f"ECS cluster {found.cluster}{insights}")
            for service in services:
                chart.node(service_ids[service.name], _service_lines(service, compact), "box", "ecs", service.active)
            for index, item in enumerate(capacity):
                identifier = "EC2CAP" if index == 0 else f"EC2CAP{index + 1}"
                sizes = f"desired {item.desired} (min {item.minimum}, max {item.maximum})"
                chart.node(identifier, ["EC2 capacity provider" if item.ecs else "EC2 Auto Scaling group",
                                        f"{item.instance_type} × {sizes}",
                                        f"{item.volume_gib:g} GiB {item.volume_type} root volume", _off(item.active)],
                           "box", "ecs", item.active)
            chart.close()
        if tier == "private":
            for database in found.databases:
                acu = (f"Serverless v2 {database.serverless[0]:g}-{database.serverless[1]:g} ACU"
                       if database.serverless else database.instance_class)
                chart.node(component[f"db:{database.key[1]}"],
                           [f"Aurora {database.engine} {database.version}".replace("aurora-", ""),
                            f"{acu} · {database.instances} instance{'s' if database.instances != 1 else ''}",
                            "" if database.active else f"OFF: {database.reason}"], "store", "data", database.active)
            for cache in found.caches:
                chart.node(component[f"cache:{cache.key[1]}"],
                           [f"ElastiCache {cache.engine} {cache.version}", f"{cache.nodes} × {cache.node_type}",
                            " · ".join(word for word, on in (("Multi-AZ", cache.multi_az), ("TLS", cache.tls)) if on),
                            "" if cache.active else f"OFF: {cache.reason}"], "store", "data", cache.active)
        chart.close()
    chart.close()  # VPC

    if found.namespace:
        registered = sum(1 for service in found.services if service.discovery)
        chart.node("CLOUDMAP", [f"Cloud Map {found.namespace_kind} namespace", found.namespace,
                                "" if registered else "no service registers"], "box", "aws")
    function_ids = _functions_drawn(chart, found)
    image_ids = _images(chart, found, compact)
    store_ids = _secret_stores(chart, found)
    log_ids = _logs(chart, found, compact)
    role_ids = _roles(chart, found, compact)
    if any(balancer.access_logs for balancer in found.load_balancers):
        chart.node("S3LOGS", ["S3 bucket", "ALB access logs"], "store", "support")
    chart.close()  # AWS

    externals = {}
    for service in found.services:
        network = EXTERNAL_NETWORKS.get(service.repository or service.image.rsplit("/", 1)[-1].split(":")[0])
        if network and service.egress:
            identifier = node_id("EXT", network.split("<")[0])
            if identifier not in chart.nodes:
                chart.node(identifier, network.split("<br/>"), "hexagon", "external")
            externals[service.name] = identifier

    # ---- traffic in: internet, DNS, certificates
    for balancer in found.load_balancers:
        identifier = balancer_ids[balancer.key]
        ports = ", ".join(f"{item.protocol} {item.port}" for item in balancer.listeners)
        chart.edge("INTERNET", identifier, ports or "HTTP(S)", "-->", balancer.active)
        for number_, _ in enumerate(balancer.certificates):
            chart.edge(f"ACM_{identifier}_{number_ + 1}", identifier, "TLS certificate", "-.->")
        if balancer.access_logs:
            chart.edge(identifier, "S3LOGS", "access logs", "-.->")
    for index, record in enumerate(found.records):
        chart.edge("INTERNET", f"R53_{index + 1}", "DNS", "-.->", record.active)
        if record.alias_of in balancer_ids:
            chart.edge(f"R53_{index + 1}", balancer_ids[record.alias_of], "alias", "-.->", record.active)
    routed = set()
    for service in found.services:
        for route in service.routes:
            source = balancer_ids.get(route.load_balancer)
            if source is not None:
                match = ", ".join(route.hosts + route.paths)
                chart.edge(source, service_ids[service.name], f"{match} → port {route.port}", "-->", service.active)
                routed.add(service.name)
    # ---- traffic between components (security group flows)
    discovery = {f"svc:{service.name}": service.discovery for service in found.services}
    for flow in found.flows:
        source, target = found.owners.get(flow.source), found.owners.get(flow.target)
        if source is None or target is None:
            continue
        if source == "alb" and target.startswith("svc:") and target[4:] in routed:
            continue  # drawn as the route above
        if not flows and source.startswith("svc:") and target.startswith("svc:"):
            continue
        active = flow.active and _is_active(found, source) and _is_active(found, target)
        words = flow.ports + (f" via {discovery[target]}" if discovery.get(target) and not compact else "")
        chart.edge(component.get(source, ""), component.get(target, ""), words, "-->", active)
    # ---- egress
    for tier, cluster in cluster_ids.items():
        egress = [service for service in found.services if service.tier == tier and service.egress]
        if compact and egress and tier == "private":
            for nat in _nats_of(found):
                chart.edge(cluster, nat_ids[nat], f"egress of {len(egress)} services", "-.->")
    for service in found.services:
        identifier = service_ids[service.name]
        if not compact and service.egress and service.tier == "private":
            for nat in _nats_of(found):
                chart.edge(identifier, nat_ids[nat], "egress", "-.->", service.active)
        if service.name in externals:
            chart.edge(identifier, externals[service.name], "outbound via NAT", "==>", service.active)
    for nat in found.nats:
        chart.edge(nat_ids[nat.key], "IGW", "0.0.0.0/0", "-.->", nat.active)
    # ---- platform: Cloud Map, capacity, images, secrets, logs, roles
    if compact:
        for tier, cluster in cluster_ids.items():
            members = [service for service in found.services if service.tier == tier]
            registered = sum(1 for service in members if service.discovery)
            if registered:
                chart.edge(cluster, "CLOUDMAP", f"{registered} services register", "-.->")
            chart.edge("REGISTRY", cluster, "images", "-.->")
            chart.edge(cluster, "LOGS", "awslogs", "-.->")
            for store, identifier in sorted(store_ids.items()):
                chart.edge(identifier, cluster, "secrets", "-.->")
            chart.edge("IAM", cluster, "task and execution roles", "-.->")
    for service in found.services:
        identifier = service_ids[service.name]
        if service.compute == "EC2" and found.capacity:
            chart.edge(identifier, "EC2CAP", "placed on", "-.->", service.active)
        if compact:
            continue
        if service.discovery:
            chart.edge(identifier, "CLOUDMAP", f"registers {service.discovery}", "-.->", service.active)
        if service.name in image_ids:
            chart.edge(image_ids[service.name], identifier, f"pull :{service.tag}", "-->", service.active)
        by_store: dict[str, list[Secret]] = {}
        for secret in service.secrets:
            by_store.setdefault(secret.store, []).append(secret)
        for store, secrets in sorted(by_store.items()):
            for active in (True, False):
                names = [secret.variable for secret in secrets if secret.active == active]
                if names:
                    chart.edge(store_ids[store], identifier, ", ".join(_listed(names)), "-.->", active and service.active)
        if service.log_group in log_ids:
            chart.edge(identifier, log_ids[service.log_group], "awslogs", "-.->", service.active)
        for kind in ("execution", "task"):
            if (service.name, kind) in role_ids:
                chart.edge(role_ids[(service.name, kind)], identifier,
                           "ECS agent: pull, secrets, logs" if kind == "execution" else "app credentials", "-.->",
                           service.active)
    if found.flow_logs in log_ids:
        chart.edge("VPC", log_ids[found.flow_logs], "flow logs", "-.->")
    if "ROLE_instance" in chart.nodes:
        chart.edge("ROLE_instance", "EC2CAP", "instance profile", "-.->")
    # ---- Lambda functions (custom resources run at deploy time)
    for function in found.functions:
        identifier = function_ids[function.key]
        if function.log_group in log_ids:
            chart.edge(identifier, log_ids[function.log_group], "logs", "-.->", function.active)
        for target, words in function.targets:
            if target == "vpc":
                chart.edge(identifier, "VPC", words, "-.->", function.active)
    return chart.render()


def _functions_drawn(chart: Chart, found: Inventory) -> dict[tuple, str]:
    """A small node per Lambda function, in the AWS area (beside the VPC, not in a subnet: an arrow from a node
    to the subgraph holding it is not drawable)."""
    ids = {}
    for function in found.functions:
        when = "runs at deploy time" if function.deploy_time else "Lambda function"
        details = " · ".join(item for item in (when, function.runtime, "VPC-attached" if function.in_vpc else "")
                             if item)
        ids[function.key] = chart.node(node_id("FN", function.key[1]), [f"Lambda {function.purpose}", details,
                                                                         _off(function.active)],
                                       "round", "aws", function.active)
    return ids


def _tier_members(found: Inventory, tier: str) -> bool:
    return any(service.tier == tier for service in found.services) or \
        any(balancer.tier == tier for balancer in found.load_balancers)


def _is_active(found: Inventory, owner: str) -> bool:
    kind, _, name = owner.partition(":")
    if kind == "svc":
        return all(service.active for service in found.services if service.name == name)
    if kind == "db":
        return all(database.active for database in found.databases if database.key[1] == name)
    if kind == "cache":
        return all(cache.active for cache in found.caches if cache.key[1] == name)
    return True


def _nats_of(found: Inventory) -> list[tuple]:
    """NAT gateways the private subnets route to (all of them: a service's tasks spread over every AZ)."""
    return sorted({subnet.nat for subnet in found.subnets_of("private") if subnet.nat is not None
                   and any(nat.key == subnet.nat and nat.active for nat in found.nats)})


def _images(chart: Chart, found: Inventory, compact: bool) -> dict[str, str]:
    ids = {}
    used = [service for service in found.services if service.repository or service.image]
    if not used:
        return ids
    chart.open("REGISTRY", "Container images")
    external = sorted({service.image.rsplit(":", 1)[0] for service in used if not service.repository})
    if compact:
        repositories = sorted({service.repository for service in used if service.repository})
        if repositories:
            chart.node("ECR_ALL", [f"ECR: {len(repositories)} repositories", *_listed(repositories)], "store", "ecs")
        if external:
            chart.node("IMG_ALL", [f"external images: {len(external)}", *_listed(external)], "store", "ecs")
        chart.close()
        return ids
    for service in used:
        if service.repository:
            identifier = node_id("ECR", service.repository)
            known = service.repository in found.repositories
            if identifier not in chart.nodes:
                chart.node(identifier, [f"ECR {service.repository}", "bootstrap stack" if known else "existing repository"],
                           "store", "ecs")
        else:
            registry = service.image.rsplit(":", 1)[0] if ":" in service.image.rsplit("/", 1)[-1] else service.image
            identifier = node_id("IMG", registry)
            if identifier not in chart.nodes:
                chart.node(identifier, ["external image", registry], "store", "ecs")
        ids[service.name] = identifier
    chart.close()
    return ids


def _secret_stores(chart: Chart, found: Inventory) -> dict[str, str]:
    stores: dict[str, list[tuple[str, bool]]] = {}
    for service in found.services:
        for secret in service.secrets:
            entries = stores.setdefault(secret.store, [])
            if (secret.name, secret.active) not in entries:
                entries.append((secret.name, secret.active))
    ids = {}
    titles = {"ssm": "SSM Parameter Store", "secretsmanager": "Secrets Manager"}
    for store, entries in sorted(stores.items()):
        names = [name + ("" if active else " (off)") for name, active in entries]
        ids[store] = chart.node(f"SECRETS_{store.upper()}", [titles.get(store, store), *_listed(names)], "store",
                                "aws", any(active for _, active in entries))
    return ids


def _logs(chart: Chart, found: Inventory, compact: bool) -> dict[str, str]:
    ids = {}
    if not found.log_groups:
        return ids
    chart.open("LOGS", "CloudWatch Logs")
    groups = found.log_groups
    if compact:
        names = {service.name for service in found.services}
        services = [group for group in groups if group.owner in names]
        retention = sorted({group.retention for group in services if group.retention})
        chart.node("LOG_SERVICES", [f"{len(services)} service log groups",
                                    f"retention {', '.join(map(str, retention))} days" if retention else ""],
                   "store", "aws")
        groups = [group for group in groups if group.owner not in names]
    for index, group in enumerate(groups):
        retention = f"retention {group.retention} days" if group.retention else "never expires"
        ids[group.name] = chart.node(f"LOG_{index + 1}", [group.name, retention, _off(group.active)], "store", "aws",
                                     group.active)
    chart.close()
    return ids


def _roles(chart: Chart, found: Inventory, compact: bool) -> dict[tuple[str, str], str]:
    ids = {}
    if not any(service.roles for service in found.services) and not found.instance_role:
        return ids
    chart.open("IAM", "IAM roles")
    if compact:
        chart.node("ROLE_SERVICES", [f"{len(found.services)} execution roles and {len(found.services)} task roles",
                                     "one pair per service, scoped to its own image, secrets and logs"],
                   "stadium", "support")
    else:
        for service in found.services:
            for kind, allowed in sorted(service.roles.items()):
                identifier = node_id("ROLE", f"{service.name}_{kind}")
                ids[(service.name, kind)] = chart.node(
                    identifier, [f"{kind} role · {service.name}", ", ".join(allowed) if allowed else "no permissions"],
                    "stadium", "support", service.active)
    if found.instance_role and found.capacity:
        chart.node("ROLE_instance", ["instance role · ECS container instances", "ECS agent, SSM"], "stadium", "support")
    chart.close()
    return ids


# ------------------------------------------------------------------------------------------ ARCHITECTURE.md

LEGEND = ("Orange: AWS managed services; blue: ECS services, capacity and images; purple: data stores; "
          "light: IAM roles, certificates, buckets; green: outside AWS; **grey and dashed: not created with these "
          "parameter values** (behind a CloudFormation Condition that is false). Solid arrows carry traffic or "
          "image pulls, dotted ones registration, secret injection, logs and roles, thick ones traffic leaving AWS.")


def markdown(found: Inventory, drawing: str, estimate: str | None = None) -> str:
    built = found.built
    target = f"{found.system}/{found.environment}"
    lines = [
        f"# Architecture: {found.system} {found.environment}",
        "",
        f"Generated by `python build.py diagram {target}` from the emitted CloudFormation templates in "
        f"`output/{target}/` (not from the spec); do not edit, rebuild instead.",
        f"Drawn with the deploy-time parameters {built.parameter_note() or '(none)'}.",
        "",
        "```mermaid",
        drawing.rstrip("\n"),
        "```",
        "",
        LEGEND,
        "",
    ]
    if estimate:
        lines += [estimate, ""]
    lines += ["## Services", "",
              "| service | compute | CPU units / MiB | ports | desired count | ALB route | Cloud Map name | image | "
              "secrets | log group |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for service in found.services:
        routes = "; ".join(", ".join(route.hosts + route.paths) for route in service.routes) or "-"
        count = str(service.desired if service.desired is not None else "?")
        if service.desired_parameter:
            count += f" (`{service.desired_parameter}`)"
        if service.autoscaling:
            count += f", autoscaling {service.autoscaling[0]}-{service.autoscaling[1]}"
        secrets = ", ".join(f"{secret.variable} ({'SSM' if secret.store == 'ssm' else 'Secrets Manager'}"
                            f"{'' if secret.active else ', off'})" for secret in service.secrets) or "-"
        image = (f"ECR `{service.repository}`:`{service.tag}`" if service.repository else f"`{service.image}`")
        retention = f", {service.log_retention} days" if service.log_retention else ""
        lines.append(f"| {service.name}{'' if service.active else ' (off)'} | {service.compute} | "
                     f"{service.cpu} / {service.memory} | {', '.join(map(str, service.ports)) or '-'} | {count} | "
                     f"{_cell(routes)} | {service.discovery or '-'} | {_cell(image)} | {_cell(secrets)} | "
                     f"`{service.log_group}`{retention} |")
    lines += ["", "## Network and entry points", ""]
    order = {"public": 0, "private": 1, "isolated": 2}
    lines.append(f"- VPC `{found.vpc_cidr}` over {len(found.zones)} availability zone(s); subnets: " + ", ".join(
        f"{subnet.tier} `{subnet.cidr}` ({subnet.zone})"
        for subnet in sorted(found.subnets, key=lambda item: (order.get(item.tier, 3), item.zone))) + ".")
    nats = found.active_nats
    lines.append(f"- NAT gateways: {len(nats)}" + (f" (in {', '.join(nat.zone for nat in nats)}), each with an Elastic IP; "
                                                    f"the private subnets route 0.0.0.0/0 through "
                                                    f"{'it' if len(nats) == 1 else 'the one of their AZ'}."
                                                    if nats else "; the private subnets have no internet egress."))
    for balancer in found.load_balancers:
        listeners = "; ".join(f"{item.protocol} {item.port}: {item.action}" for item in balancer.listeners)
        lines.append(f"- Load balancer `{balancer.name}` ({balancer.scheme}, {balancer.zones} AZs): {listeners}"
                     + (f"; certificate: {', '.join(balancer.certificates)}" if balancer.certificates else "")
                     + ("; access logs to S3" if balancer.access_logs else "") + ".")
    for record in found.records:
        lines.append(f"- Route53 `{record.name}` ({record.type} alias to the load balancer) in zone `{record.zone}`.")
    if found.namespace:
        lines.append(f"- Cloud Map {found.namespace_kind} namespace `{found.namespace}`.")
    for item in found.capacity:
        lines.append(f"- EC2 capacity: `{item.instance_type}` × {item.desired} (min {item.minimum}, max {item.maximum}), "
                     f"{item.volume_gib:g} GiB {item.volume_type} root volume.")
    for function in found.functions:
        backs = (f", behind the custom resource {', '.join(f'`{kind}`' for kind in function.custom_resources)}: "
                 f"runs at deploy time" if function.deploy_time else "")
        does = "".join(f"; {words}" for _, words in function.targets)
        logs = f"; logs to `{function.log_group}`" if function.log_group else ""
        lines.append(f"- Lambda function `{function.name}` ({function.runtime or 'runtime ?'}){backs}{does}{logs}"
                     + ("" if function.active else " (not created)") + ".")
    stores = [*found.databases, *found.caches]
    if stores:
        lines += ["", "## Data stores", ""]
        for database in found.databases:
            size = (f"Serverless v2 {database.serverless[0]:g}-{database.serverless[1]:g} ACU" if database.serverless
                    else database.instance_class)
            lines.append(f"- {database.engine} {database.version}, {size}, {database.instances} instance(s)"
                         + ("" if database.active else f": **not created** ({database.reason})") + ".")
        for cache in found.caches:
            lines.append(f"- ElastiCache {cache.engine} {cache.version}: {cache.nodes} × `{cache.node_type}`"
                         + (", Multi-AZ" if cache.multi_az else "") + (", TLS" if cache.tls else "")
                         + ("" if cache.active else f": **not created** ({cache.reason})") + ".")
    names = {"alb": "load balancer", "ec2": "EC2 instances"}
    names.update({f"svc:{service.name}": service.name for service in found.services})
    names.update({f"db:{database.key[1]}": "database" for database in found.databases})
    names.update({f"cache:{cache.key[1]}": "cache" for cache in found.caches})
    lines += ["", "## Allowed traffic (security groups)", "", "| from | to | ports |", "|---|---|---|"]
    for group, ports in sorted(found.internet_ingress.items()):
        lines.append(f"| internet | {names.get(found.owners.get(group, ''), group[1])} | {', '.join(ports)} |")
    for flow in found.flows:
        source, target = found.owners.get(flow.source, ""), found.owners.get(flow.target, "")
        off = "" if flow.active and _is_active(found, source) and _is_active(found, target) else " (off)"
        lines.append(f"| {names.get(source, flow.source[1])} | {names.get(target, flow.target[1])}{off} | {flow.ports} |")
    special = [service.name for service in found.services
               if EXTERNAL_NETWORKS.get(service.repository or "") and service.egress]
    lines += ["", "## How this is derived", "",
              "- Tiers of subnets from their route tables (0.0.0.0/0 to the internet gateway: public; to a NAT "
              "gateway: private); where each component runs from the subnets it is given.",
              "- Arrows between components from the security group rules (source group to target group and port); "
              "ALB routes from listener rules and target groups; secrets from the container definitions; roles "
              "from the task definitions and their inline policies (the AWS services each may call).",
              "- Greyed parts: resources whose Condition is false for the parameter values above; "
              "`--param NAME=VALUE` draws another combination (e.g. `EnableDatabase=true`)."]
    if special:
        lines.append(f"- One named special case: the image repository of {', '.join(special)} is listed in "
                     f"`templates/diagram.py` `EXTERNAL_NETWORKS`, so its internet egress is drawn to "
                     f"{', '.join(sorted({EXTERNAL_NETWORKS[s.repository].split('<')[0] for s in found.services if s.name in special}))}.")
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    return value.replace("|", "\\|")


# ------------------------------------------------------------------------------------------ command


def parse_params(items: list[str] | None) -> dict[str, str]:
    values = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--param {item!r}: expected NAME=VALUE (e.g. EnableDatabase=true)")
        values[name.strip()] = value.strip()
    return values


def environment_folders(args: argparse.Namespace) -> list[Path]:
    """Build the targets first (in-process, unchanged files are not rewritten) unless --no-build; the
    folders of output/<system>/<env>/ to read."""
    from stackloom import build as compiler
    if args.no_build:
        folders = []
        for target in args.targets:
            found = sorted(path.parent for path in (args.output / target.strip("/")).glob("**/manifest.json"))
            if not found:
                raise UserError(f"{args.output / target}: no built environment (run `python build.py {target}` "
                                f"or drop --no-build)")
            folders += found
        return folders
    builds = compiler.compile_all(select(args.params, args.targets))
    return [write(build, args.output) for build in builds]


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    from stackloom.cli.main import add_common

    parser.add_argument("targets", nargs="+", metavar="TARGET", help="system/env (e.g. vanity-market/preprod) or system")
    parser.add_argument("--param", action="append", metavar="NAME=VALUE", default=[],
                        help="deploy-time parameter value instead of its default (repeatable), e.g. EnableDatabase=true")
    parser.add_argument("--no-build", action="store_true",
                        help="read output/ as it is instead of building the targets first")
    add_common(parser)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "diagram", help="write output/<system>/<env>/ARCHITECTURE.md: a Mermaid diagram of the emitted templates")
    add_common_arguments(parser)
    parser.add_argument("--docs", type=Path, metavar="DIR",
                        help="also write DIR/<system>-<env>.md (the committed copies live in docs/)")
    parser.add_argument("--stdout", action="store_true", help="print the Mermaid source instead of writing files")
    parser.set_defaults(handler=command)


def architecture(folder: Path, overrides: dict[str, str] | None = None) -> tuple[Inventory, str]:
    """(inventory, ARCHITECTURE.md text) of one built environment folder."""
    from stackloom.report import cost

    found = inventory(Built(folder, overrides))
    estimate = cost.estimate(found)
    summary = (f"Estimated on-demand cost with these parameters: **${estimate.total:,.2f} per month** "
               f"(prices {cost.PRICES_LABEL(estimate.prices)}); `python build.py cost {found.system}/{found.environment}` "
               f"prints every line, assumption and the NAT trade-off.")
    return found, markdown(found, mermaid(found), summary)


def command(args: argparse.Namespace) -> int:
    overrides = parse_params(args.param)
    for folder in environment_folders(args):
        found, document = architecture(folder, overrides)
        if args.stdout:
            print(mermaid(found), end="")
            continue
        written = [folder / ARCHITECTURE_FILE]
        if args.docs is not None:
            args.docs.mkdir(parents=True, exist_ok=True)
            written.append(args.docs / f"{found.system}-{found.environment}.md")
        for path in written:
            if not path.exists() or path.read_text(encoding="utf-8") != document:
                path.write_text(document, encoding="utf-8")
        print(f"{found.system}/{found.environment}: {len(found.services)} service(s) -> "
              + ", ".join(str(path) for path in written))
    return 0
