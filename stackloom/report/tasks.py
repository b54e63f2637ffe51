"""What an ECS task definition says about its service, for the inventory: where it runs (Fargate, Spot,
EC2), its image (repository and tag), its secrets and their stores, the roles that name the service."""

from __future__ import annotations

import re

from stackloom.cfn.evaluate import Built, Pointer, Stack, text
from stackloom.report.records import Secret


def compute(built: Built, props: dict, task: dict) -> str:
    names = []
    for item in props.get("CapacityProviderStrategy", []):
        provider = item.get("CapacityProvider")
        if provider in ("FARGATE", "FARGATE_SPOT"):
            names.append({"FARGATE": "Fargate", "FARGATE_SPOT": "Fargate Spot"}[provider])
        else:
            names.append("EC2")
    if not names:
        launch = text(props.get("LaunchType", ""))
        names = [
            "Fargate"
            if launch == "FARGATE"
            else "EC2"
            if launch == "EC2"
            else "Fargate"
            if "FARGATE" in task.get("RequiresCompatibilities", [])
            else "EC2"
        ]
    return " + ".join(dict.fromkeys(names))


def strategy(props: dict) -> tuple:
    """A service's capacity provider strategy as ((provider, weight, base), ...); providers other than Fargate's
    named as they are written."""
    found = []
    for item in props.get("CapacityProviderStrategy", []):
        provider = item.get("CapacityProvider")
        found.append(
            (provider if isinstance(provider, str) else "EC2", int(item.get("Weight", 0)), int(item.get("Base", 0)))
        )
    return tuple(found)


def image_parts(uri: str) -> tuple[str, str | None, str]:
    """`123.dkr.ecr.eu-central-1.amazonaws.com/backend:latest` -> (uri, "backend", "latest")."""
    host, _, path = uri.partition("/")
    name, _, tag = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "latest")
    repository = name if ".dkr.ecr." in host else None
    return uri, repository, tag


def secrets_of(built: Built, stack: Stack | None, raw: list) -> list[Secret]:
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


def role_services(role: dict) -> list[str]:
    """The AWS services a role's inline policies allow (`ecr`, `logs`, `ssm`, ...) and managed policy names (an
    addon's by logical ID and addon: `OrdersAccess (addon api-orders)`)."""
    prefixes = set()
    for policy in role.get("Policies", []):
        for statement in policy.get("PolicyDocument", {}).get("Statement", []):
            actions = statement.get("Action", [])
            for action in actions if isinstance(actions, list) else [actions]:
                prefixes.add(text(action).split(":", 1)[0])
    for arn in role.get("ManagedPolicyArns", []):
        if isinstance(arn, Pointer):  # a policy of the environment's own templates (an addon's): its logical ID
            addon = arn.file.startswith("addon-") and arn.file[len("addon-") : -len(".json")]
            prefixes.add(f"{arn.logical_id} (addon {addon})" if addon else arn.logical_id)
        else:
            prefixes.add(text(arn).rsplit("/", 1)[-1])
    return sorted(prefixes)


def platform(task: dict) -> dict:
    """A task definition's CPU architecture and Fargate ephemeral storage (Service/Job `architecture`,
    `ephemeral_gib`): X86_64 when RuntimePlatform does not say, None when EphemeralStorage is not set."""
    architecture = text(task.get("RuntimePlatform", {}).get("CpuArchitecture", "X86_64")) or "X86_64"
    size = task.get("EphemeralStorage", {}).get("SizeInGiB")
    try:
        gib = int(text(size)) if size is not None else None
    except (TypeError, ValueError):
        gib = None
    return {"architecture": architecture, "ephemeral_gib": gib}
