"""A synthetic system of N services, shaped like a real microservice platform, for the benchmark and the
quota tests: every service has a Cloud Map name, a secret, three environment variables and two peers it
calls; every 4th is behind the ALB, every 3rd autoscales, every 5th uses Redis, every 7th PostgreSQL.
Every 10th is built here, from its own ECR repository in the bootstrap stack; the others run images of
the organisation's central registry (`image.uri`), as large platforms usually do. (The bootstrap stack is
deployed inline, so it holds at most ~28 repositories: see docs/performance.md.)

`spec(n)` is the params file as a dict; `write(folder, n)` writes it as `<folder>/synth/n<N>.yaml`.
"""

from __future__ import annotations

from pathlib import Path

SYSTEM = "synth"


REGISTRY = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/platform"


def own_repository(index: int) -> bool:
    return index % 10 == 0


def service_name(index: int) -> str:
    return f"svc-{index:03d}"


def environment_name(n: int) -> str:
    return f"n{n}"


def spec(n: int) -> dict:
    """The spec of a system with `n` services (n >= 1), deterministic."""
    if n < 1:
        raise ValueError("n must be at least 1")
    environment = environment_name(n)
    services = {}
    for index in range(1, n + 1):
        name = service_name(index)
        peers = sorted({service_name((index + step - 1) % n + 1) for step in (1, 2)} - {name})
        connects = peers + (["cache"] if index % 5 == 0 else []) + (["database"] if index % 7 == 0 else [])
        service = {
            "compute": "fargate-spot" if index % 10 == 0 else "fargate",
            "cpu": 256,
            "memory": 512,
            "port": 8080,
            "image": ({"repository": name} if own_repository(index) else {"uri": f"{REGISTRY}/{name}"})
            | {"tag": f"v1.{index}.0"},
            "desired_count": 2,
            "connects_to": connects,
            "environment": {"LOG_LEVEL": "info", "SERVICE_NAME": name, "FEATURE_FLAGS": "a,b,c"},
            "secrets": {"API_KEY": {"ssm": f"/{SYSTEM}/{environment}/{name}/api-key"}},
            "readonly_root_filesystem": True,
            "writable_paths": ["/tmp"],
            "user": "1000:1000",
            "log_retention_days": 14,
        }
        if index % 4 == 1:
            service["load_balancer"] = {
                "path_patterns": [f"/{name}/*"],
                "priority": index,
                "health_check_path": f"/{name}/health",
            }
        if index % 3 == 0:
            service["autoscaling"] = {"min_capacity": 2, "max_capacity": 6, "cpu_target_percent": 60}
        services[name] = service
    return {
        "system": SYSTEM,
        "environment": environment,
        "region": "eu-central-1",
        "network": {"cidr": "10.40.0.0/16", "availability_zones": 3, "nat": "single"},
        "load_balancer": {"http_only": True},
        "repositories": {
            service_name(index): {"name": f"{SYSTEM}-{service_name(index)}"}
            for index in range(1, n + 1)
            if own_repository(index)
        },
        "services": services,
        "database": {"enabled": False, "min_capacity": 0.5, "max_capacity": 2},
        "cache": {"node_type": "cache.t4g.small", "nodes": 2, "multi_az": True},
    }


def write(folder: Path, n: int) -> Path:
    """Write the spec of `n` services to `<folder>/synth/n<n>.yaml`; returns the file."""
    import yaml

    path = Path(folder) / SYSTEM / f"{environment_name(n)}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(spec(n), sort_keys=False), encoding="utf-8")
    return path
