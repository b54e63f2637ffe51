"""Small matchers over emitted CloudFormation (in the spirit of CDK's assertions): find resources by type,
match properties partially, so each test states only what it is about."""

from __future__ import annotations

import json
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PARAMS = PROJECT / "params"
TARGETS = ("bet2wealth/dev", "bet2wealth/production", "ledger/production", "ledger/staging", "vanity-market/preprod")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def resources(template: dict, type_: str) -> dict[str, dict]:
    """Logical ID -> resource, for every resource of the given type."""
    return {key: value for key, value in template.get("Resources", {}).items() if value["Type"] == type_}


def only(template: dict, type_: str) -> dict:
    found = resources(template, type_)
    assert len(found) == 1, f"expected exactly one {type_}, found {sorted(found)}"
    return next(iter(found.values()))


def matches(actual, expected) -> bool:
    """Partial match: dicts need the expected keys (recursively), lists need each expected item somewhere."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and matches(actual[key], value) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and all(any(matches(item, want) for item in actual) for want in expected)
    return actual == expected


def has_resource(template: dict, type_: str, properties: dict) -> bool:
    return any(matches(resource.get("Properties", {}), properties) for resource in resources(template, type_).values())


def assert_has_resource(template: dict, type_: str, properties: dict) -> None:
    assert has_resource(template, type_, properties), (
        f"no {type_} matches {json.dumps(properties)[:400]}; have "
        f"{json.dumps([r.get('Properties') for r in resources(template, type_).values()])[:1500]}"
    )


def templates_of(env_dir: Path) -> dict[str, dict]:
    """Every CloudFormation template of a built environment (root, nested, bootstrap), by file name."""
    manifest = load(env_dir / "manifest.json")
    names = [manifest["root_template"], manifest["bootstrap_template"], *manifest["nested_stacks"].values()]
    return {name: load(env_dir / name) for name in names}


def base_spec(**overrides) -> dict:
    """A small valid spec as a dict; tests override the part they are about."""
    spec = {
        "system": "acme",
        "environment": "dev",
        "network": {"cidr": "10.20.0.0/16", "availability_zones": 2, "nat": "single"},
        "load_balancer": {"http_only": True},
        "repositories": {"api": {"name": "acme-api"}},
        "services": {
            "api": {
                "port": 8080,
                "image": {"repository": "api", "tag": "v1"},
                "load_balancer": {"health_check_path": "/health"},
            },
        },
    }
    spec.update(overrides)
    return spec


def compile_dict(data: dict):
    """Validate a spec dict and compile it in memory: file name -> parsed template."""
    import json as _json

    from stackloom import build as compiler
    from templates.spec import parse

    build = compiler.compile_environment(parse(data))
    return {name: _json.loads(body) for name, body in build.files.items()}


def storage_spec(**overrides) -> dict:
    """`base_spec` with one of each storage kind and a service granted each (the storage tests, the audit, e2e)."""
    spec = base_spec(
        buckets={
            "uploads": {
                "expiry_days": 365,
                "cors": {"allowed_origins": ["https://app.example.com"], "allowed_methods": ["GET", "PUT"]},
            }
        },
        queues={"jobs": {"dead_letter_after": 5, "visibility_timeout_seconds": 60}},
        topics={"events": {"subscribe": ["jobs"], "raw_message_delivery": True}},
        tables={
            "sessions": {
                "partition_key": {"name": "id"},
                "sort_key": {"name": "at", "type": "N"},
                "ttl_attribute": "expires",
            }
        },
    )
    spec["services"]["api"]["grants"] = {
        "uploads": "read-write",
        "jobs": "consume",
        "events": "publish",
        "sessions": "read",
    }
    spec.update(overrides)
    return spec


def private_storage_spec() -> dict:
    """`storage_spec` without the load balancer, its service running read-only as a non-root user: an environment
    whose only audit findings could be the storage stack's (the audit and the local deploy use it)."""
    spec = storage_spec()
    del spec["load_balancer"]
    service = spec["services"]["api"]
    del service["load_balancer"]
    service.update(user="1000", readonly_root_filesystem=True)
    return spec


def jobs_spec() -> dict:
    """`private_storage_spec` with a cache and two jobs of the service's image: `report`, scheduled, connecting to
    the api and the cache and granted the queue; `migrate`, on demand only. Both run read-only as a non-root user
    (the job tests, the audit and the e2e run)."""
    spec = private_storage_spec()
    spec["cache"] = {"node_type": "cache.t4g.micro", "nodes": 2, "multi_az": True}

    def task() -> dict:
        return {"image": {"repository": "api", "tag": "v1"}, "user": "1000", "readonly_root_filesystem": True}

    spec["jobs"] = {
        "report": {
            **task(),
            "command": ["python", "-m", "report"],
            "schedule": "cron(0 3 * * ? *)",
            "timezone": "Europe/Berlin",
            "connects_to": ["api", "cache"],
            "grants": {"jobs": "send"},
            "secrets": {"TOKEN": {"ssm": "/acme/dev/token"}},
        },
        "migrate": {**task(), "command": ["migrate"]},
    }
    return spec


def options_spec() -> dict:
    """`base_spec` with every container option (templates/spec_options.py) on its one service: health check and
    stickiness, a UDP and a TCP public port, the Fargate / Fargate Spot mix (the options tests, the audit, e2e)."""
    spec = base_spec(ip_ranges={"office": ["203.0.113.0/24"], "partners": ["198.51.100.0/24", "192.0.2.0/25"]})
    api = spec["services"]["api"]
    api["load_balancer"].update(
        health_check={
            "matcher": "200,204",
            "interval_seconds": 30,
            "timeout_seconds": 10,
            "healthy_threshold": 3,
            "unhealthy_threshold": 5,
        },
        stickiness={"duration_seconds": 3600},
    )
    api["public_ports"] = [
        {"port": 5060, "protocol": "udp", "inbound": ["office", "partners"]},
        {"port": 7000, "inbound": ["office"]},
    ]
    api["capacity"] = {"fargate": 1, "fargate-spot": 3, "base": 1}
    api["desired_count"] = 5
    return spec
