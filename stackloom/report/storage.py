"""The reports' handlers of the storage stack's kinds (S3 buckets, SQS queues, SNS topics, DynamoDB tables) and
of the grants that let services use them: inventory records, diagram nodes and arrows, cost lines.

Kept in one module of its own (inventory.py, mermaid.py and cost.py import it, so the handlers register with
theirs); only the storage stack's resources are read: the artifacts and access-log buckets are drawn and listed
by the bootstrap and load balancer parts as before.
"""

from __future__ import annotations

from stackloom import kinds
from stackloom.cfn.evaluate import Built, pointers, text
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


USAGE = {
    "bucket": "storage, requests and KMS requests (usage-based)",
    "queue": "requests (usage-based; the first million a month free)",
    "topic": "publishes and deliveries (usage-based)",
    "table": "requests and storage, point-in-time recovery (usage-based)",
}


@kinds.cost(*STORAGE_TYPES)
def _store_costs(found: Inventory, pricer) -> None:
    """Not priced: every store is billed by use, and the bundled tables hold no sourced S3, SQS, SNS or DynamoDB
    prices; each is listed, so the total is never silently partial."""
    for store in found.stores:
        if store.active:
            provisioned = store.kind == "table" and "provisioned" in store.details[0]
            usage = "provisioned capacity, requests and storage" if provisioned else USAGE[store.kind]
            pricer.missing(f"{TITLES[store.kind]} {store.name}: {usage}")
