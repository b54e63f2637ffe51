"""The reports' handlers of the storage stack's kinds (S3 buckets, SQS queues, SNS topics, DynamoDB tables) and
of the grants that let services use them: inventory records, diagram nodes and arrows, cost lines.

Kept in one module of its own (inventory.py, mermaid.py and cost.py import it, so the handlers register with
theirs); only the storage stack's resources are read: the artifacts and access-log buckets are drawn and listed
by the bootstrap and load balancer parts as before.
"""

from __future__ import annotations

from stackloom import kinds
from stackloom.cfn.evaluate import Built, pointers, text
from stackloom.report.pricing import rate
from stackloom.report.records import Grant, Inventory, Store

STORAGE_TYPES = {
    "AWS::S3::Bucket": "bucket",
    "AWS::SQS::Queue": "queue",
    "AWS::SNS::Topic": "topic",
    "AWS::DynamoDB::Table": "table",
}
TITLES = {"bucket": "S3 bucket", "queue": "SQS queue", "topic": "SNS topic", "table": "DynamoDB table"}
PARTS = ("Objects", "Indexes")  # suffixes of a grant statement's Sid after its level (templates/grants.py)


def _in_storage(file: str) -> bool:
    return file.startswith("storage")  # storage.json, or storage-part-NN.json when split


def _name(props: dict, logical_id: str) -> str:
    tags = {text(tag.get("Key")): text(tag.get("Value")) for tag in props.get("Tags", []) if isinstance(tag, dict)}
    return tags.get("Name", logical_id)


def _details(kind: str, props: dict, built: Built) -> list[str]:
    if kind == "bucket":
        versioned = text(props.get("VersioningConfiguration", {}).get("Status", "")) == "Enabled"
        return ["versioned" if versioned else "unversioned", "SSE-KMS · TLS only"]
    if kind == "queue":
        dead = props.get("RedrivePolicy")
        words = ["FIFO" if props.get("FifoQueue") in (True, "true") else "standard", "SSE-KMS"]
        if isinstance(dead, dict):
            words.append(f"dead letters after {text(dead.get('maxReceiveCount', '?'))} receives")
        return [" · ".join(words[:2]), *words[2:]]
    if kind == "topic":
        return ["FIFO · SSE-KMS" if props.get("FifoTopic") in (True, "true") else "standard · SSE-KMS"]
    billing = "on-demand" if text(props.get("BillingMode", "")) == "PAY_PER_REQUEST" else "provisioned"
    keys = ", ".join(text(item.get("AttributeName")) for item in props.get("KeySchema", []) if isinstance(item, dict))
    return [f"{billing} · key {keys}", "SSE-KMS · point-in-time recovery"]


@kinds.inventory(*STORAGE_TYPES, "AWS::SNS::Subscription", "AWS::IAM::Role")
def _stores(built: Built, found: Inventory) -> None:
    """The storage stack's resources, the queues each topic delivers to, and the grants of every role."""
    by_key: dict[tuple, Store] = {}
    dead_letters = set()
    for stack, logical_id, resource in built.resources(*STORAGE_TYPES):
        if not _in_storage(stack.file):
            continue
        props = stack.eval(resource.get("Properties", {}))
        redrive = props.get("RedrivePolicy")
        if isinstance(redrive, dict):
            dead_letters.update(pointer.key for pointer in pointers(redrive.get("deadLetterTargetArn")))
        kind = STORAGE_TYPES[resource["Type"]]
        store = Store((stack.file, logical_id), kind, _name(props, logical_id), _details(kind, props, built))
        store.active = stack.active(logical_id)
        store.fifo = props.get("FifoQueue", props.get("FifoTopic")) in (True, "true")
        if kind == "table":
            store.capacity = _capacity(props)
            recovery = props.get("PointInTimeRecoverySpecification", {})
            store.recovery = isinstance(recovery, dict) and recovery.get("PointInTimeRecoveryEnabled") in (True, "true")
        by_key[store.key] = store
    found.stores += [store for key, store in by_key.items() if key not in dead_letters]
    for stack, logical_id, resource in built.resources("AWS::SNS::Subscription"):
        props = stack.eval(resource.get("Properties", {}))
        for topic in pointers(props.get("TopicArn")):
            if topic.key in by_key:
                by_key[topic.key].delivers_to += [pointer.key for pointer in pointers(props.get("Endpoint"))]
    for stack, logical_id, resource in built.resources("AWS::IAM::Role"):
        for policy in stack.eval(resource.get("Properties", {})).get("Policies", []):
            if not isinstance(policy, dict) or text(policy.get("PolicyName")) != "grants":
                continue
            levels: dict[tuple, str] = {}
            for statement in policy.get("PolicyDocument", {}).get("Statement", []):
                for pointer in pointers(statement.get("Resource")):
                    if pointer.key in by_key:
                        words = text(statement.get("Sid", "")).removeprefix(pointer.logical_id)
                        for part in PARTS:
                            words = words.removesuffix(part)
                        levels.setdefault(pointer.key, _level(words))
            found.grants += [
                Grant(stack.file, logical_id, key, level, stack.active(logical_id)) for key, level in levels.items()
            ]


def _capacity(props: dict) -> tuple[float, float] | None:
    """A provisioned table's (read, write) capacity units from its template, else None (on-demand, or not a number)."""
    throughput = props.get("ProvisionedThroughput")
    if text(props.get("BillingMode", "")) == "PAY_PER_REQUEST" or not isinstance(throughput, dict):
        return None
    try:
        return float(throughput["ReadCapacityUnits"]), float(throughput["WriteCapacityUnits"])
    except (KeyError, TypeError, ValueError):
        return None


def _level(words: str) -> str:
    """`ReadWrite` -> `read-write`."""
    return "".join(f"-{char.lower()}" if char.isupper() else char for char in words).lstrip("-") or "use"


@kinds.diagram(*STORAGE_TYPES, regional=True)
def _store_nodes(chart, found: Inventory, component: dict[str, str]) -> None:
    """Each store a node outside the VPC; an arrow from each granted service (its level), topic -> queue."""
    if not found.stores:
        return
    ids = {
        store.key: "STORE_" + "".join(char if char.isalnum() else "_" for char in store.key[1])
        for store in found.stores
    }
    chart.open("STORAGE", "Storage (regional, encrypted with the environment key)")
    for store in found.stores:
        chart.node(
            ids[store.key], [f"{TITLES[store.kind]} {store.name}", *store.details], "store", "data", store.active
        )
    chart.close()
    workloads = {service.file: (f"svc:{service.name}", service.active) for service in found.services}
    workloads.update({job.file: (f"job:{job.name}", job.active) for job in found.jobs})
    for grant in found.grants:
        workload = workloads.get(grant.file)
        if workload is not None and grant.store in ids and workload[0] in component:
            chart.edge(component[workload[0]], ids[grant.store], grant.level, "-->", grant.active and workload[1])
    for store in found.stores:
        for queue in store.delivers_to:
            if queue in ids:
                chart.edge(ids[store.key], ids[queue], "delivers", "-->", store.active)


# ------------------------------------------------------------------------------------------ cost


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _per_store(pricer, component: str, stores: list[Store], noun: str, assumption: str, unit: str, key: str) -> None:
    """One line for the stores of a kind: count × the per-store usage assumption (in `unit`) × the price of `key`
    (per `unit`'s first word, per GB-month for GB); listed as not priced instead when the table lacks the price."""
    if not stores or (price := pricer.one(component, key)) is None:
        return
    each = pricer.estimate.assumptions[assumption]
    amount = len(stores) * each
    pricer.add(
        component,
        f"{_plural(len(stores), noun)} × {each:g} {unit} (assumption)",
        f"{rate(price)}/{'GB-month' if unit == 'GB' else unit.split(' ')[0]}",
        amount * price,
        key,
    )


@kinds.cost(*STORAGE_TYPES)
def _store_costs(found: Inventory, pricer) -> None:
    """The storage stack priced from per-store usage assumptions (the templates do not say how much is stored or
    requested), provisioned tables from their template capacities × hours; a kind whose price the table lacks is
    listed as not priced (naming the absent key), so the total is never silently partial."""
    active = [store for store in found.stores if store.active]
    pricer.estimate.switched_off += [f"{TITLES[store.kind]} {store.name}" for store in found.stores if not store.active]
    of = {kind: [store for store in active if store.kind == kind] for kind in TITLES}
    buckets = of["bucket"]
    _per_store(pricer, "S3 Standard storage", buckets, "bucket", "s3_gb_per_bucket", "GB", "s3_standard_gb_month")
    _per_store(
        pricer, "S3 PUT, COPY, POST, LIST requests", buckets, "bucket", "s3_put_thousands_per_bucket",
        "thousand requests", "s3_put_thousand",
    )  # fmt: skip
    _per_store(
        pricer, "S3 GET and other requests", buckets, "bucket", "s3_get_thousands_per_bucket",
        "thousand requests", "s3_get_thousand",
    )  # fmt: skip
    for fifo, words, key in ((False, "standard", "sqs_standard_million"), (True, "FIFO", "sqs_fifo_million")):
        queues = [store for store in of["queue"] if store.fifo == fifo]
        _per_store(pricer, f"SQS {words} requests", queues, "queue", "sqs_million_per_queue", "million", key)
    for fifo, words, key in ((False, "SNS publishes", "sns_publish_million"), (True, "SNS FIFO publishes", "")):
        topics = [store for store in of["topic"] if store.fifo == fifo]
        if fifo and topics:  # billed per publish and per GB of payload: not modelled
            pricer.missing(f"SNS FIFO topics ({', '.join(t.name for t in topics)}): publishes and payload data")
        elif topics:
            _per_store(pricer, words, topics, "topic", "sns_million_per_topic", "million", key)
    _tables(of["table"], pricer)
    notes = []
    if buckets:
        notes.append("S3 buckets encrypt with the environment's KMS key: their KMS requests are not counted")
    if any(store.delivers_to for store in of["topic"]):
        notes.append("SNS deliveries to SQS queues are free (the queues' receives are in their requests)")
    if active:
        named = "; ".join(
            f"{TITLES[kind]}s: {', '.join(store.name for store in stores)}" for kind, stores in of.items() if stores
        )
        notes.append(f"storage priced from per-store usage assumptions ({named}); dead-letter queues not counted")
    pricer.estimate.notes += notes


def _tables(tables: list[Store], pricer) -> None:
    on_demand = [table for table in tables if table.capacity is None and "provisioned" not in table.details[0]]
    _per_store(
        pricer, "DynamoDB on-demand writes", on_demand, "table", "dynamodb_write_million_per_table", "million WRU",
        "dynamodb_write_request_million",
    )  # fmt: skip
    _per_store(
        pricer, "DynamoDB on-demand reads", on_demand, "table", "dynamodb_read_million_per_table", "million RRU",
        "dynamodb_read_request_million",
    )  # fmt: skip
    for table in tables:
        if table in on_demand:
            continue
        component = f"DynamoDB provisioned capacity {table.name}"
        if table.capacity is None:
            pricer.missing(f"{component}: its capacity units are not numbers in the template")
            continue
        if (found := pricer.need(component, "dynamodb_wcu_hour", "dynamodb_rcu_hour")) is None:
            continue
        (read, write), (wcu, rcu), hours = table.capacity, found, pricer.hours
        pricer.add(
            component,
            f"({write:g} WCU + {read:g} RCU) × {hours:g} h",
            f"{rate(wcu)}/WCU-h, {rate(rcu)}/RCU-h",
            hours * (write * wcu + read * rcu),
            "dynamodb_wcu_hour",
            "dynamodb_rcu_hour",
        )
    _per_store(pricer, "DynamoDB storage", tables, "table", "dynamodb_gb_per_table", "GB", "dynamodb_storage_gb_month")
    recovering = [table for table in tables if table.recovery]
    _per_store(
        pricer, "DynamoDB point-in-time recovery", recovering, "table", "dynamodb_gb_per_table", "GB",
        "dynamodb_pitr_gb_month",
    )  # fmt: skip
