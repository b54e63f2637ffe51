"""`mermaid(inventory)`: the Mermaid flowchart of an environment's inventory (`stackloom.report.inventory`).

`Chart` collects the flowchart lines (labels escaped so names from templates cannot break the diagram,
disabled parts greyed); `mermaid()` draws the internet, DNS, the VPC with its subnet tiers, the ECS
clusters, data stores and the platform around them (Cloud Map, images, secrets, logs, roles, Lambda), and
the arrows from the inventory's routes, security-group flows and references, within Mermaid's size limits.
"""

from __future__ import annotations

import json
import re

from stackloom import kinds
from stackloom.report.records import EXTERNAL_NETWORKS, Inventory, Secret, Service, is_active

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
_ESCAPES = {
    "#": "#35;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "`": "#96;",
    "|": "#124;",
    "%": "#37;",
    "{": "#123;",
    "}": "#125;",
    "[": "#91;",
    "]": "#93;",
}
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

    SHAPES = {
        "box": ("[", "]"),
        "store": ("[(", ")]"),
        "round": ("(", ")"),
        "circle": ("((", "))"),
        "hexagon": ("{{", "}}"),
        "stadium": ("([", "])"),
        "flag": (">", "]"),
    }

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

    def node(
        self, identifier: str, lines: list[str] | str, shape: str = "box", kind: str = "aws", active: bool = True
    ) -> str:
        opening, closing = self.SHAPES[shape]
        lines = [lines] if isinstance(lines, str) else lines
        self.lines.append("  " * self.depth + f"{identifier}{opening}{label(*lines)}{closing}")
        self.classes.setdefault(kind if active else "disabled", []).append(identifier)
        self.nodes.add(identifier)
        return identifier

    def edge(self, source: str, target: str, words: str = "", arrow: str = "-->", active: bool = True) -> None:
        if not {source, target} <= self.nodes | self.groups:
            return
        self.lines.append(
            "  " * self.depth + f"{source} {arrow}" + (f"|{label(words)}|" if words else "") + f" {target}"
        )
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
    size = f"{service.cpu} CPU units / {service.memory} MiB" if service.cpu or service.memory else ""
    count = f"desired {service.desired if service.desired is not None else '?'}"
    if service.autoscaling:
        count += f" (autoscaling {service.autoscaling[0]}-{service.autoscaling[1]})"
    ports = "port " + ", ".join(map(str, service.ports)) if service.ports else "no ports"
    if compact:
        return [
            service.name,
            f"{service.compute} · {service.cpu}/{service.memory} · ×{service.desired}",
            _off(service.active),
        ]
    return [f"ECS service {service.name}", f"{service.compute} · {size}", f"{ports} · {count}", _off(service.active)]


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
    chart.comment(
        f"generated by `python build.py diagram {found.system}/{found.environment}` from the emitted "
        f"templates; do not edit"
    )
    if compact:
        chart.comment(
            f"{len(found.services)} services: images, secrets, logs and roles summarised per cluster"
            + ("" if flows else "; service-to-service flows omitted (see the table)")
        )
    chart.node("INTERNET", ["Internet", "users and clients"], "circle", "external")
    service_ids = {service.name: node_id("SVC", service.name) for service in found.services}
    component = {"alb": "ALB", "ec2": "EC2CAP"}
    component.update({f"svc:{name}": identifier for name, identifier in service_ids.items()})
    component.update({f"db:{database.key[1]}": node_id("DB", database.key[1]) for database in found.databases})
    component.update({f"cache:{cache.key[1]}": node_id("CACHE", cache.key[1]) for cache in found.caches})
    balancer_ids = {
        balancer.key: ("ALB" if index == 0 else f"ALB{index + 1}")
        for index, balancer in enumerate(found.load_balancers)
    }
    nat_ids = {nat.key: f"NAT{index + 1}" for index, nat in enumerate(found.nats)}
    cluster_ids = {}

    chart.open("AWS", f"AWS {found.region} · stack {found.stack_name}")
    for index, record in enumerate(found.records):
        chart.node(
            f"R53_{index + 1}",
            [f"Route53 {record.type} alias", record.name, f"zone {record.zone}", _off(record.active)],
            "box",
            "aws",
            record.active,
        )
    for balancer in found.load_balancers:
        for number_, certificate in enumerate(balancer.certificates):
            chart.node(f"ACM_{balancer_ids[balancer.key]}_{number_ + 1}", [certificate], "box", "support")

    zones = len(found.zones)
    chart.open("VPC", f"VPC {found.vpc_cidr} · {zones} AZ{'s' if zones != 1 else ''}")
    if found.internet_gateway:
        chart.node("IGW", ["Internet gateway", "default route of the public subnets"], "box", "aws")
    # the data stores sit among the private subnets, or the isolated ones when there is no NAT (nat: none)
    stores = "isolated" if found.subnets_of("isolated") and not found.subnets_of("private") else "private"
    for tier in ("public", "private", "isolated"):
        subnets = found.subnets_of(tier)
        if not subnets and not _tier_members(found, tier):
            continue
        ranges = [f"{subnet.cidr} ({subnet.zone})" for subnet in sorted(subnets, key=lambda item: item.zone)]
        chart.open(tier.upper(), [f"{tier.capitalize()} subnets", *ranges])
        for balancer in (
            item for item in found.load_balancers if item.tier in (tier, "unknown" if tier == "public" else "")
        ):
            listeners = [f"{item.protocol} {item.port}: {item.action}" for item in balancer.listeners]
            chart.node(
                balancer_ids[balancer.key],
                [
                    f"Application Load Balancer {balancer.name}",
                    f"{balancer.scheme} · {balancer.zones} AZs",
                    *listeners,
                    _off(balancer.active),
                ],
                "box",
                "aws",
                balancer.active,
            )
        if tier == "public":
            for nat in found.nats:
                chart.node(
                    nat_ids[nat.key],
                    [f"NAT gateway {nat_ids[nat.key][3:]} ({nat.zone})", "Elastic IP", _off(nat.active)],
                    "box",
                    "aws",
                    nat.active,
                )
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
                chart.node(
                    identifier,
                    [
                        "EC2 capacity provider" if item.ecs else "EC2 Auto Scaling group",
                        f"{item.instance_type} × {sizes}",
                        f"{item.volume_gib:g} GiB {item.volume_type} root volume",
                        _off(item.active),
                    ],
                    "box",
                    "ecs",
                    item.active,
                )
            chart.close()
        if tier == stores:  # the data stores, each kind drawn by the handler registered for its type
            for draw in kinds.handlers("diagram"):
                if not getattr(draw, "regional", False):
                    draw(chart, found, component)
        chart.close()
    chart.close()  # VPC
    for draw in kinds.handlers("diagram"):  # regional stores (buckets, queues, ...), outside the VPC
        if getattr(draw, "regional", False):
            draw(chart, found, component)

    if found.namespace:
        registered = sum(1 for service in found.services if service.discovery)
        chart.node(
            "CLOUDMAP",
            [
                f"Cloud Map {found.namespace_kind} namespace",
                found.namespace,
                "" if registered else "no service registers",
            ],
            "box",
            "aws",
        )
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
        active = flow.active and is_active(found, source) and is_active(found, target)
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
                    chart.edge(
                        store_ids[store], identifier, ", ".join(_listed(names)), "-.->", active and service.active
                    )
        if service.log_group in log_ids:
            chart.edge(identifier, log_ids[service.log_group], "awslogs", "-.->", service.active)
        for kind in ("execution", "task"):
            if (service.name, kind) in role_ids:
                chart.edge(
                    role_ids[(service.name, kind)],
                    identifier,
                    "ECS agent: pull, secrets, logs" if kind == "execution" else "app credentials",
                    "-.->",
                    service.active,
                )
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
        details = " · ".join(
            item for item in (when, function.runtime, "VPC-attached" if function.in_vpc else "") if item
        )
        ids[function.key] = chart.node(
            node_id("FN", function.key[1]),
            [f"Lambda {function.purpose}", details, _off(function.active)],
            "round",
            "aws",
            function.active,
        )
    return ids


def _tier_members(found: Inventory, tier: str) -> bool:
    return any(service.tier == tier for service in found.services) or any(
        balancer.tier == tier for balancer in found.load_balancers
    )


def _nats_of(found: Inventory) -> list[tuple]:
    """NAT gateways the private subnets route to (all of them: a service's tasks spread over every AZ)."""
    return sorted(
        {
            subnet.nat
            for subnet in found.subnets_of("private")
            if subnet.nat is not None and any(nat.key == subnet.nat and nat.active for nat in found.nats)
        }
    )


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
                chart.node(
                    identifier,
                    [f"ECR {service.repository}", "bootstrap stack" if known else "existing repository"],
                    "store",
                    "ecs",
                )
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
        ids[store] = chart.node(
            f"SECRETS_{store.upper()}",
            [titles.get(store, store), *_listed(names)],
            "store",
            "aws",
            any(active for _, active in entries),
        )
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
        chart.node(
            "LOG_SERVICES",
            [
                f"{len(services)} service log groups",
                f"retention {', '.join(map(str, retention))} days" if retention else "",
            ],
            "store",
            "aws",
        )
        groups = [group for group in groups if group.owner not in names]
    for index, group in enumerate(groups):
        retention = f"retention {group.retention} days" if group.retention else "never expires"
        ids[group.name] = chart.node(
            f"LOG_{index + 1}", [group.name, retention, _off(group.active)], "store", "aws", group.active
        )
    chart.close()
    return ids


def _roles(chart: Chart, found: Inventory, compact: bool) -> dict[tuple[str, str], str]:
    ids = {}
    if not any(service.roles for service in found.services) and not found.instance_role:
        return ids
    chart.open("IAM", "IAM roles")
    if compact:
        chart.node(
            "ROLE_SERVICES",
            [
                f"{len(found.services)} execution roles and {len(found.services)} task roles",
                "one pair per service, scoped to its own image, secrets and logs",
            ],
            "stadium",
            "support",
        )
    else:
        for service in found.services:
            for kind, allowed in sorted(service.roles.items()):
                identifier = node_id("ROLE", f"{service.name}_{kind}")
                ids[(service.name, kind)] = chart.node(
                    identifier,
                    [f"{kind} role · {service.name}", ", ".join(allowed) if allowed else "no permissions"],
                    "stadium",
                    "support",
                    service.active,
                )
    if found.instance_role and found.capacity:
        chart.node("ROLE_instance", ["instance role · ECS container instances", "ECS agent, SSM"], "stadium", "support")
    chart.close()
    return ids


@kinds.diagram("AWS::RDS::DBCluster", "AWS::RDS::DBInstance")
def _database_nodes(chart: Chart, found: Inventory, component: dict[str, str]) -> None:
    for database in found.databases:
        acu = (
            f"Serverless v2 {database.serverless[0]:g}-{database.serverless[1]:g} ACU"
            if database.serverless
            else database.instance_class
        )
        chart.node(
            component[f"db:{database.key[1]}"],
            [
                f"Aurora {database.engine} {database.version}".replace("aurora-", ""),
                f"{acu} · {database.instances} instance{'s' if database.instances != 1 else ''}",
                "" if database.active else f"OFF: {database.reason}",
            ],
            "store",
            "data",
            database.active,
        )


@kinds.diagram("AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::CacheCluster")
def _cache_nodes(chart: Chart, found: Inventory, component: dict[str, str]) -> None:
    for cache in found.caches:
        chart.node(
            component[f"cache:{cache.key[1]}"],
            [
                f"ElastiCache {cache.engine} {cache.version}",
                f"{cache.nodes} × {cache.node_type}",
                " · ".join(word for word, on in (("Multi-AZ", cache.multi_az), ("TLS", cache.tls)) if on),
                "" if cache.active else f"OFF: {cache.reason}",
            ],
            "store",
            "data",
            cache.active,
        )


@kinds.diagram("AWS::EC2::VPCEndpoint")
def _endpoint_nodes(chart: Chart, found: Inventory, component: dict[str, str]) -> None:
    """One node for the VPC endpoints among the private subnets; the tasks' HTTPS flows to their group end here."""
    by_kind = {
        kind: [endpoint for endpoint in found.endpoints if endpoint.kind == kind] for kind in ("Interface", "Gateway")
    }
    if not found.endpoints:
        return
    component["endpoints"] = "VPCE"
    chart.node(
        "VPCE",
        [
            "VPC endpoints",
            *(
                f"{kind.lower()}: {', '.join(_listed([endpoint.service for endpoint in endpoints]))}"
                for kind, endpoints in by_kind.items()
                if endpoints
            ),
            "private DNS · HTTPS from the tasks" if by_kind["Interface"] else "",
        ],
        "box",
        "aws",
        any(endpoint.active for endpoint in found.endpoints),
    )
