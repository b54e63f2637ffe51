"""`python build.py cost SYSTEM/ENV`: the monthly on-demand cost of an environment, from its emitted templates.

The same inventory as the diagram (`stackloom/report/inventory.py`: the templates evaluated with the
deploy-time parameter values, defaults unless `--param` says otherwise) is priced from the bundled, dated table
of the environment's region (`stackloom/report/prices/<region>.json`, every figure with its source page; a
region without a table is not priced at all). A table may lack a price (one that could not be sourced for
that region is left out rather than guessed): every component needing it is then listed as not priced. Each pricer is registered in
`stackloom.kinds` for the CloudFormation types whose records it prices (`@kinds.cost(TYPE, ...)`);
`estimate()` runs them in registration order, the order of the lines below. What the templates cannot
say (traffic, log volume, storage) is an assumption: each is printed with its value and can be changed with
`--assume NAME=VALUE`. What is not priced is listed, so the total is never silently partial. The NAT
trade-off (none / single / per-AZ) is computed for the environment's own AZ count and traffic assumption.
"""

from __future__ import annotations

from stackloom import kinds
from stackloom.report.pricing import (  # noqa: F401 - re-exported: the estimate's parts are importable from here
    ASSUMPTIONS,
    FARGATE_EPHEMERAL_KEY,
    FREE_EPHEMERAL_GIB,
    GIB,
    PRICE_FILE,
    PRICES,
    PRICES_LABEL,
    SPOT_KEYS,
    Assumption,
    Estimate,
    Line,
    NotPriced,
    Option,
    fargate_keys,
    load_prices,
    price_file,
    spot_split,
    usd,
)
from stackloom.report.pricing import Pricer as _Pricer
from stackloom.report.pricing import rate as _rate
from stackloom.report.records import EXTERNAL_NETWORKS, Inventory


def estimate(found: Inventory, prices: dict | None = None, assumptions: dict[str, float] | None = None) -> Estimate:
    """Monthly on-demand estimate of an inventory (see `stackloom.report.inventory.inventory`)."""
    values = {name: item.value for name, item in ASSUMPTIONS.items()}
    values.update(assumptions or {})
    result = Estimate(found, prices if prices is not None else load_prices(price_file(found.region)), values)
    pricer = _Pricer(result)
    for price in kinds.handlers("cost"):
        price(found, pricer)
    result.unpriced += [
        "data transfer out to the internet (first 100 GB/month free, then per GB)",
        "CloudWatch Container Insights metrics" if found.container_insights else "",
        "ECR image storage and S3 (ALB access logs, artifacts)",
        "CloudWatch metrics and API requests (the alarms are a line of their own); Secrets Manager and KMS API requests",
    ]
    result.unpriced = [item for item in result.unpriced if item]
    result.nat_options = nat_tradeoff(found, pricer)
    return result


@kinds.cost("AWS::EC2::NatGateway")
def _network(found: Inventory, pricer: _Pricer) -> None:
    nats = found.active_nats
    if not nats:
        return
    gigabytes = pricer.estimate.assumptions["nat_gb_per_month"]
    if (hourly := pricer.one("NAT gateways", "nat_gateway_hour")) is not None:
        pricer.add(
            "NAT gateways",
            f"{len(nats)} × {pricer.hours:g} h",
            f"{_rate(hourly)}/h",
            len(nats) * pricer.hours * hourly,
            "nat_gateway_hour",
        )
    if (per_gb := pricer.one("NAT data processed", "nat_gateway_gb")) is not None:
        pricer.add(
            "NAT data processed",
            f"{gigabytes:g} GB (assumption)",
            f"{_rate(per_gb)}/GB",
            gigabytes * per_gb,
            "nat_gateway_gb",
        )
    if (ipv4 := pricer.one("Public IPv4: NAT Elastic IPs", "public_ipv4_hour")) is not None:
        pricer.add(
            "Public IPv4: NAT Elastic IPs",
            f"{len(nats)} × {pricer.hours:g} h",
            f"{_rate(ipv4)}/h",
            len(nats) * pricer.hours * ipv4,
            "public_ipv4_hour",
        )
    zones = nat_zones(found)
    crossing = cross_az_gb(gigabytes, zones, len(nats))
    if crossing and (inter_az := pricer.one("NAT cross-AZ traffic", "inter_az_gb")) is not None:
        without = zones - len(nats)
        pricer.add(
            "NAT cross-AZ traffic",
            f"{crossing / 2:g} GB × 2 directions ({without} of {zones} AZs' share, " f"assumption)",
            f"{_rate(inter_az)}/GB",
            crossing * inter_az,
            "inter_az_gb",
        )
        pricer.estimate.notes.append(
            f"NAT cross-AZ traffic: the {gigabytes:g} GB through NAT (nat_gb_per_month) spread evenly over the "
            f"{zones} AZs; the {crossing / 2:g} GB of the {without} AZ(s) without a NAT gateway of its own goes to "
            f"one in another AZ and back, charged in each direction (the NAT trade-off counts the same)"
        )


@kinds.cost("AWS::EC2::VPCEndpoint")
def _endpoints(found: Inventory, pricer: _Pricer) -> None:
    """Interface endpoints per AZ-hour (a network interface in each subnet) and per GB processed; gateway
    endpoints (S3, DynamoDB) cost nothing."""
    interface = [endpoint for endpoint in found.endpoints if endpoint.active and endpoint.kind == "Interface"]
    gateways = [endpoint.service for endpoint in found.endpoints if endpoint.active and endpoint.kind == "Gateway"]
    if interface and (hourly := pricer.one("VPC interface endpoints", "vpc_interface_endpoint_hour")) is not None:
        zones = sorted({endpoint.zones or 1 for endpoint in interface})
        count = sum(endpoint.zones or 1 for endpoint in interface)
        pricer.add(
            "VPC interface endpoints",
            f"{len(interface)} × {zones[0]} AZs × {pricer.hours:g} h"
            if len(zones) == 1
            else f"{count} endpoint-AZs × {pricer.hours:g} h",
            f"{_rate(hourly)}/AZ-h",
            count * pricer.hours * hourly,
            "vpc_interface_endpoint_hour",
        )
    gigabytes = pricer.estimate.assumptions["endpoint_gb_per_month"]
    if interface and (per_gb := pricer.one("VPC endpoint data processed", "vpc_interface_endpoint_gb")) is not None:
        pricer.add(
            "VPC endpoint data processed",
            f"{gigabytes:g} GB (assumption)",
            f"{_rate(per_gb)}/GB",
            gigabytes * per_gb,
            "vpc_interface_endpoint_gb",
        )
    if interface:
        pricer.estimate.notes.append(
            "VPC interface endpoints: " + ", ".join(endpoint.service for endpoint in interface)
        )
    if gateways:
        pricer.estimate.notes.append(f"gateway endpoints ({', '.join(gateways)}) cost nothing, nor does their traffic")


def nat_zones(found: Inventory) -> int:
    """The AZs whose tasks send traffic through NAT: those of the private subnets (else the isolated ones, else
    every subnet's), the count both the estimate and the NAT trade-off use."""
    return len(
        {subnet.zone for subnet in found.subnets_of("private")}
        or {subnet.zone for subnet in found.subnets_of("isolated")}
    ) or len(found.zones)


def cross_az_gb(gigabytes: float, zones: int, gateways: int) -> float:
    """GB charged for crossing AZs on the way to a NAT gateway: the NAT traffic is spread evenly over the AZs,
    the share of each AZ without a gateway of its own (zones - gateways of them) goes to a gateway in another AZ
    and back, so it is charged in both directions. None with a gateway per AZ (or a single AZ)."""
    if zones <= 1 or gateways <= 0 or gateways >= zones:
        return 0.0
    return gigabytes * (zones - gateways) / zones * 2


# a load balancer's label, hourly price, capacity unit price and assumption, by its Type (application, network)
BALANCER_PRICES = {
    "application": ("ALB", "alb_hour", "alb_lcu_hour", "alb_lcu", "LCU"),
    "network": ("NLB", "nlb_hour", "nlb_lcu_hour", "nlb_lcu", "NLCU"),
}


@kinds.cost("AWS::ElasticLoadBalancingV2::LoadBalancer")
def _load_balancers(found: Inventory, pricer: _Pricer) -> None:
    for balancer in found.load_balancers:
        if not balancer.active:
            pricer.estimate.switched_off.append(f"load balancer {balancer.name}")
            continue
        label, hour_key, unit_key, assumption, unit = BALANCER_PRICES.get(balancer.kind, BALANCER_PRICES["application"])
        units = pricer.estimate.assumptions[assumption]
        name = f"{label} {balancer.name}"
        if (hourly := pricer.one(name, hour_key)) is not None:
            pricer.add(name, f"{pricer.hours:g} h", f"{_rate(hourly)}/h", pricer.hours * hourly, hour_key)
        if (unit_price := pricer.one(f"{name} {unit}s", unit_key)) is not None:
            pricer.add(
                f"{name} {unit}s",
                f"{units:g} {unit} (assumption) × {pricer.hours:g} h",
                f"{_rate(unit_price)}/{unit}-h",
                units * pricer.hours * unit_price,
                unit_key,
            )
        if (
            balancer.scheme == "internet-facing"
            and balancer.zones
            and (ipv4 := pricer.one(f"Public IPv4: {name}", "public_ipv4_hour")) is not None
        ):
            pricer.add(
                f"Public IPv4: {name}",
                f"{balancer.zones} (one per AZ) × {pricer.hours:g} h",
                f"{_rate(ipv4)}/h",
                balancer.zones * pricer.hours * ipv4,
                "public_ipv4_hour",
            )


def fargate_monthly(
    cpu_units: int, memory_mib: int, tasks: int, hours: float, vcpu_price: float, gb_price: float
) -> float:
    """tasks × hours × (vCPU × vCPU-hour price + GB × GB-hour price); CPU units / 1024 = vCPU, MiB / 1024 = GB."""
    return tasks * hours * (cpu_units / 1024 * vcpu_price + memory_mib / GIB * gb_price)


@kinds.cost("AWS::ECS::Service")
def _services(found: Inventory, pricer: _Pricer) -> None:
    for service in found.services:
        if not service.active:
            pricer.estimate.switched_off.append(f"service {service.name}: {service.reason}")
            continue
        if not service.fargate:
            continue
        tasks = service.desired or 0
        if service.cpu is None or service.memory is None:
            pricer.missing(f"service {service.name}: no task CPU/memory in the task definition")
            continue
        keys = fargate_keys(service.architecture)
        if not (found_price := pricer.need(f"Fargate {service.name}", *keys)):
            continue
        vcpu, memory = found_price
        on_demand, spot = spot_split(tasks, service.strategy)
        if on_demand or not spot:
            label = f"Fargate {service.name}" + (" (ARM64)" if service.architecture == "ARM64" else "")
            _fargate_line(pricer, label, service, on_demand, (vcpu, memory), keys)
        if spot:  # Fargate Spot runs X86_64 tasks only (the spec refuses arm64 there): the x86 Spot rates
            _spot_line(pricer, service, spot, (vcpu, memory))
        _ephemeral(pricer, f"Fargate ephemeral storage {service.name}", service.ephemeral_gib, tasks * pricer.hours)
        if service.autoscaling and service.autoscaling[1] != tasks:
            top = fargate_monthly(service.cpu, service.memory, service.autoscaling[1], pricer.hours, vcpu, memory)
            pricer.estimate.notes.append(
                f"{service.name} autoscales {service.autoscaling[0]}-{service.autoscaling[1]} "
                f"tasks: {usd(top)}/month if it ran at the maximum all month "
                f"(the line above uses the desired count {tasks})"
            )


def _ephemeral(pricer: _Pricer, component: str, size: int | None, task_hours: float) -> None:
    """Fargate ephemeral storage above the 20 GiB every task gets, billed per GB-hour of the configured size."""
    if size is None or size <= FREE_EPHEMERAL_GIB:
        return
    if (price := pricer.one(component, FARGATE_EPHEMERAL_KEY)) is None:
        return
    extra = size - FREE_EPHEMERAL_GIB
    pricer.add(
        component,
        f"{extra} GB (of {size}, 20 included) × {task_hours:g} task-h",
        f"{_rate(price)}/GB-h",
        extra * task_hours * price,
        FARGATE_EPHEMERAL_KEY,
    )


FARGATE_KEYS = ("fargate_vcpu_hour", "fargate_gb_hour")


def _fargate_line(pricer: _Pricer, component: str, service, tasks: float, prices: tuple, keys: tuple) -> None:
    """One Fargate line: `tasks` (a share of a Spot mix may be fractional) × the task size × the hours."""
    vcpu, memory = prices
    quantity = (
        f"{tasks:g} task{'s' if tasks != 1 else ''} × ({service.cpu / 1024:g} vCPU + "
        f"{service.memory / GIB:g} GB) × {pricer.hours:g} h"
    )
    monthly = fargate_monthly(service.cpu, service.memory, tasks, pricer.hours, vcpu, memory)
    pricer.add(component, quantity, f"{_rate(vcpu)}/vCPU-h, {_rate(memory)}/GB-h", monthly, *keys)


def _spot_line(pricer: _Pricer, service, tasks: float, on_demand: tuple) -> None:
    """The Fargate Spot share of a service at the table's Spot price (a dated point in time: Spot floats), or,
    when the table has none, at the on-demand price, labelled as the upper bound it is."""
    spot = [pricer.price(key) for key in SPOT_KEYS]
    if None not in spot:
        _fargate_line(pricer, f"Fargate Spot {service.name}", service, tasks, tuple(spot), SPOT_KEYS)
        dates = sorted({pricer.table[key].get("as_of", "undated") for key in SPOT_KEYS})
        pricer.estimate.notes.append(
            f"{service.name}: {tasks:g} of its tasks on Fargate Spot, priced at the table's Spot rate of "
            f"{', '.join(dates)}; Spot prices float and AWS may interrupt Spot tasks at two minutes' notice"
        )
        return
    component = f"Fargate Spot {service.name} (on-demand rate: upper bound)"
    _fargate_line(pricer, component, service, tasks, on_demand, FARGATE_KEYS)
    pricer.estimate.notes.append(
        f"{service.name}: {tasks:g} of its tasks on Fargate Spot, priced at the on-demand Fargate rate because "
        f"the bundled {pricer.file} table has no Fargate Spot price: an upper bound (Spot is usually far cheaper)"
    )


@kinds.cost("AWS::AutoScaling::AutoScalingGroup")
def _capacity(found: Inventory, pricer: _Pricer) -> None:
    on_ec2 = [service for service in found.services if service.active and not service.fargate]
    for item in found.capacity:
        if not item.active:
            continue
        instances = item.desired or 0
        price = pricer.price("ec2_instance_hour", item.instance_type)
        if price is None:
            pricer.gap(
                f"EC2 {item.instance_type} × {instances}: not in the bundled price table "
                f"(add it to {pricer.estimate.prices.get('region', '<region>')}.json)"
            )
        else:
            pricer.add(
                f"EC2 capacity {item.instance_type}",
                f"{instances} instance{'s' if instances != 1 else ''} × " f"{pricer.hours:g} h",
                f"{_rate(price)}/h",
                instances * pricer.hours * price,
                "ec2_instance_hour",
            )
            spec = pricer.table["ec2_instance_hour"]["types"][item.instance_type]
            _fit(pricer, item, on_ec2, spec)
        volume_key = f"ebs_{item.volume_type}_gb_month"
        volume_price = pricer.price(volume_key)
        if item.volume_gib and volume_price is not None:
            pricer.add(
                "EC2 root volumes",
                f"{instances} × {item.volume_gib:g} GB {item.volume_type}",
                f"{_rate(volume_price)}/GB-month",
                instances * item.volume_gib * volume_price,
                volume_key,
            )
        elif item.volume_gib:
            pricer.need(f"EBS {item.volume_type} root volumes", volume_key)
    if on_ec2:
        pricer.estimate.notes.append(
            "tasks on the EC2 capacity provider ("
            + ", ".join(s.name for s in on_ec2)
            + ") cost nothing beyond the instances"
        )


def _fit(pricer: _Pricer, item, services, spec: dict) -> None:
    """A note when the desired EC2 tasks do not fit the desired instances (managed scaling would add some)."""
    cpu = sum((service.cpu or 0) * (service.desired or 0) for service in services)
    memory = sum((service.memory or 0) * (service.desired or 0) for service in services)
    instances = item.desired or 0
    if cpu > instances * spec["vcpu"] * 1024 or memory > instances * spec["memory_gib"] * 1024 * 0.9:
        pricer.estimate.notes.append(
            f"the EC2 tasks ask for {cpu} CPU units / {memory} MiB, more than {instances} × {item.instance_type} "
            f"offers: ECS managed scaling will start more instances (up to {item.maximum}), each "
            f"{usd(pricer.price('ec2_instance_hour', item.instance_type) * pricer.hours)}/month"
        )


@kinds.cost("AWS::RDS::DBCluster")
def _databases(found: Inventory, pricer: _Pricer) -> None:
    assumptions = pricer.estimate.assumptions
    for database in found.databases:
        lines = []
        if database.serverless is None:
            pricer.missing(f"Aurora provisioned instances ({database.instance_class})")
            continue
        minimum, count, hours = database.serverless[0], database.instances, pricer.hours
        storage_gb, io_million = assumptions["aurora_storage_gb"], assumptions["aurora_io_million"]
        wanted = (  # (component, quantity, unit, amount, key)
            ("Aurora Serverless v2 minimum capacity", f"{minimum:g} ACU × {count} instance"
             f"{'s' if count != 1 else ''} × {hours:g} h", "ACU-h", minimum * count * hours,
             "aurora_serverless_v2_acu_hour"),
            ("Aurora storage", f"{storage_gb:g} GB (assumption)", "GB-month", storage_gb, "aurora_storage_gb_month"),
            ("Aurora I/O", f"{io_million:g} million requests (assumption)", "million", io_million, "aurora_io_million"),
        )  # fmt: skip
        absent = [(component, key) for component, _, _, _, key in wanted if pricer.price(key) is None]
        for component, quantity, unit, amount, key in wanted:
            if (price := pricer.price(key)) is not None:
                lines.append((component, quantity, f"{_rate(price)}/{unit}", amount * price, key))
        acu = pricer.price("aurora_serverless_v2_acu_hour")
        if database.active:
            for line in lines:
                pricer.add(*line)
            for component, key in absent:
                pricer.need(component, key)
            if minimum == 0:
                pricer.estimate.notes.append(
                    "Aurora minimum capacity 0 ACU: the cluster pauses when idle; "
                    "every active hour is billed at the ACUs used"
                )
            if acu is not None:
                pricer.estimate.notes.append(
                    f"Aurora scales up to {database.serverless[1]:g} ACU under load: "
                    f"{usd(database.serverless[1] * database.instances * pricer.hours * acu)}"
                    f"/month of compute if it stayed at the maximum"
                )
        else:
            would = sum(line[3] for line in lines)
            unpriced = (
                f"; not priced: {', '.join(key for _, key in absent)} (not in the bundled {pricer.file} table)"
                if absent
                else ""
            )
            pricer.estimate.switched_off.append(
                f"Aurora {database.engine} ({database.reason}): +{usd(would)}/month when switched on "
                f"(minimum {minimum:g} ACU, storage and I/O assumptions{unpriced})"
            )


@kinds.cost("AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::CacheCluster")
def _caches(found: Inventory, pricer: _Pricer) -> None:
    for cache in found.caches:
        if not cache.active:
            pricer.estimate.switched_off.append(f"ElastiCache {cache.node_type} ({cache.reason})")
            continue
        price = pricer.price("elasticache_node_hour", cache.node_type)
        if price is None:
            pricer.gap(
                f"ElastiCache {cache.nodes} × {cache.node_type}: not in the bundled price table "
                f"(add it to {pricer.file})"
            )
            continue
        pricer.add(
            f"ElastiCache {cache.engine} {cache.node_type}",
            f"{cache.nodes} node{'s' if cache.nodes != 1 else ''} × " f"{pricer.hours:g} h",
            f"{_rate(price)}/h",
            cache.nodes * pricer.hours * price,
            "elasticache_node_hour",
        )


@kinds.cost("AWS::Logs::LogGroup")
def _logs(found: Inventory, pricer: _Pricer) -> None:
    assumptions = pricer.estimate.assumptions
    volumes = []  # (GB per month, retention days)
    for group in found.log_groups:
        if not group.active:
            continue
        if group.owner == "flow-logs":
            volumes.append((assumptions["flow_log_gb"], group.retention))
            continue
        tasks = sum(
            service.desired or 0 for service in found.services if service.name == group.owner and service.active
        )
        volumes.append((tasks * assumptions["log_gb_per_task"], group.retention))
    gigabytes = sum(volume for volume, _ in volumes)
    if not gigabytes:
        return
    if (ingest := pricer.one("CloudWatch Logs ingestion", "cloudwatch_logs_ingest_gb")) is not None:
        pricer.add(
            "CloudWatch Logs ingestion",
            f"{gigabytes:g} GB ({len(volumes)} log groups, assumptions)",
            f"{_rate(ingest)}/GB",
            gigabytes * ingest,
            "cloudwatch_logs_ingest_gb",
        )
    stored = sum(volume * min(retention or 365, 365) / 30 for volume, retention in volumes)
    if (storage := pricer.one("CloudWatch Logs storage", "cloudwatch_logs_storage_gb_month")) is None:
        return
    pricer.add(
        "CloudWatch Logs storage",
        f"{stored:.1f} GB kept (ingestion × retention, uncompressed)",
        f"{_rate(storage)}/GB-month",
        stored * storage,
        "cloudwatch_logs_storage_gb_month",
    )


@kinds.cost("AWS::Route53::RecordSet")
def _dns(found: Inventory, pricer: _Pricer) -> None:
    zones = sorted({record.zone for record in found.records if record.active})
    for name in zones:
        if (zone := pricer.one(f"Route53 hosted zone {name}", "route53_hosted_zone_month")) is None:
            continue
        pricer.add(
            f"Route53 hosted zone {name}",
            "1 zone (existing; may be shared with other environments)",
            f"{_rate(zone)}/month",
            zone,
            "route53_hosted_zone_month",
        )
    if any(record.active for record in found.records):
        pricer.estimate.notes.append("queries to the Route53 alias of the load balancer are free")


@kinds.cost(
    "AWS::ServiceDiscovery::PrivateDnsNamespace",
    "AWS::ServiceDiscovery::PublicDnsNamespace",
    "AWS::ServiceDiscovery::HttpNamespace",
)
def _cloud_map(found: Inventory, pricer: _Pricer) -> None:
    instances = sum(service.desired or 0 for service in found.services if service.discovery and service.active)
    if (
        found.namespace
        and found.namespace_kind == "private DNS"
        and (zone := pricer.one(f"Cloud Map namespace {found.namespace}", "route53_hosted_zone_month")) is not None
    ):
        pricer.add(
            f"Cloud Map namespace {found.namespace}",
            "1 private hosted zone",
            f"{_rate(zone)}/month",
            zone,
            "route53_hosted_zone_month",
        )
    if found.namespace and instances and (query_price := pricer.one("Route53 queries", "route53_queries_million")):
        queries = pricer.estimate.assumptions["dns_queries_million"]
        pricer.add(
            "Route53 queries",
            f"{queries:g} million (assumption)",
            f"{_rate(query_price)}/million",
            queries * query_price,
            "route53_queries_million",
        )
    if instances and (price := pricer.one("Cloud Map registered tasks", "cloud_map_instance_month")) is not None:
        pricer.add(
            "Cloud Map registered tasks",
            f"{instances} instance{'s' if instances != 1 else ''}",
            f"{_rate(price)}/month",
            instances * price,
            "cloud_map_instance_month",
        )


@kinds.cost("AWS::KMS::Key")
def _kms_keys(found: Inventory, pricer: _Pricer) -> None:
    if found.kms_keys and (price := pricer.one("KMS keys", "kms_key_month")) is not None:
        pricer.add(
            "KMS keys",
            f"{found.kms_keys} key{'s' if found.kms_keys != 1 else ''}",
            f"{_rate(price)}/month",
            found.kms_keys * price,
            "kms_key_month",
        )


@kinds.cost("AWS::SecretsManager::Secret")
def _secrets(found: Inventory, pricer: _Pricer) -> None:
    secrets = [name for name, active in found.created_secrets if active]
    price = pricer.price("secrets_manager_secret_month")
    if secrets and (price := pricer.one("Secrets Manager secrets", "secrets_manager_secret_month")) is not None:
        pricer.add(
            "Secrets Manager secrets",
            f"{len(secrets)} created by the stacks",
            f"{_rate(price)}/month",
            len(secrets) * price,
            "secrets_manager_secret_month",
        )
    referenced = sorted(
        {
            secret.name.split(" (key")[0]
            for service in found.services
            for secret in service.secrets
            if secret.store == "secretsmanager" and secret.active and not secret.note
        }
        - set(secrets)
    )
    if referenced:
        each = f"{_rate(price)}/month each" if price is not None else f"no price in the bundled {pricer.file} table"
        pricer.estimate.notes.append(
            f"{len(referenced)} Secrets Manager secret(s) the services read exist outside these stacks ({each}, "
            f"not counted)"
        )


# ------------------------------------------------------------------------------------------ NAT trade-off


def endpoints_needed(found: Inventory) -> list[str]:
    """Interface endpoints private tasks need without NAT, as `nat: none` adds them (templates/endpoints.py):
    ECR (API + registry), logs, the secret stores used, and the ECS agent's three with EC2 container instances."""
    needed = ["ecr.api", "ecr.dkr", "logs"]
    stores = {secret.store for service in found.services for secret in service.secrets if secret.active}
    needed += [name for name in ("ssm", "secretsmanager") if name in stores]
    if any(item.ecs for item in found.capacity):
        needed += ["ecs", "ecs-agent", "ecs-telemetry"]
    return needed


TRADEOFF_PRICES = ("nat_gateway_hour", "public_ipv4_hour", "nat_gateway_gb", "inter_az_gb")
TRADEOFF_PRICES += ("vpc_interface_endpoint_hour", "vpc_interface_endpoint_gb")


def nat_tradeoff(found: Inventory, pricer: _Pricer) -> list[Option]:
    """Monthly NAT cost of none / single / per-az for this environment's AZ count and traffic assumption."""
    zones = nat_zones(found)
    if not zones:
        return []
    found_prices = pricer.need("NAT trade-off (none / single / per-AZ)", *TRADEOFF_PRICES)
    if not found_prices:
        return []
    nat_hour, ipv4_hour, nat_gb, inter_az, endpoint_hour, endpoint_gb = found_prices
    hours = pricer.hours
    gigabytes = pricer.estimate.assumptions["nat_gb_per_month"]
    endpoint_gb = endpoint_gb * pricer.estimate.assumptions["endpoint_gb_per_month"]
    gateway = hours * (nat_hour + ipv4_hour)
    processed = gigabytes * nat_gb
    cross = cross_az_gb(gigabytes, zones, 1) * inter_az  # the estimate's "NAT cross-AZ traffic"
    endpoints = endpoints_needed(found)
    endpoint_cost = len(endpoints) * zones * hours * endpoint_hour + endpoint_gb
    current = len(found.active_nats)
    egress = [service.name for service in found.services if service.egress and service.active]
    named = sorted(
        {
            EXTERNAL_NETWORKS[service.repository].split("<")[0]
            for service in found.services
            if service.repository in EXTERNAL_NETWORKS and service.egress
        }
    )
    options = [
        Option(
            "none",
            0,
            0.0,
            0.0,
            current == 0,
            "private subnets get no internet egress: pulling images from ECR, writing logs and reading secrets "
            f"then need VPC interface endpoints ({', '.join(endpoints)} in {zones} AZs ≈ {usd(endpoint_cost)}"
            f"/month, which nat: none adds, see network.endpoints) plus the free S3 gateway endpoint"
            + (f"; {', '.join(named)} unreachable" if named else "")
            + (f"; {len(egress)} service(s) have 0.0.0.0/0 egress rules" if egress else ""),
        ),
        Option(
            "single",
            1,
            gateway + processed + cross,
            0.0,
            current == 1,
            f"cheapest with egress; an outage of its AZ cuts egress for every AZ; traffic from the other "
            f"{zones - 1} AZ(s) crosses AZs ({usd(cross)}/month at {_rate(inter_az)}/GB "
            f"each way)"
            if zones > 1
            else "one AZ: single and per-AZ are the same",
        ),
        Option(
            "per-az",
            zones,
            zones * gateway + processed,
            0.0,
            current == zones and zones > 1,
            "egress survives an AZ outage; no cross-AZ NAT traffic",
        ),
    ]
    if zones == 1:
        options = options[:2]
    baseline = next((option.monthly for option in options if option.current), None)
    for option in options:
        option.delta = option.monthly - (baseline if baseline is not None else 0.0)
    return options


# ------------------------------------------------------------------------------------------ report
