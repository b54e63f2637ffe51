"""The spec parts of what applications use, created in the environment's storage stack: S3 buckets, SQS
queues, SNS topics and DynamoDB tables; and the grants by which a service names what it uses of them.

Every resource is encrypted with the environment's KMS key and kept when its stack or itself goes. The
levels a grant may take are per kind (`GRANT_LEVELS`); templates/grants.py turns each into the task role's
actions. No `from __future__ import annotations`, as in templates/spec.py: msgspec builds the annotations at
import.
"""

from typing import Annotated, Literal

from msgspec import Meta

from .spec_common import SERVICE_NAME_PATTERN, Model
from .validation import FieldError, worded

StorageName = Annotated[str, Meta(pattern=SERVICE_NAME_PATTERN)]  # as a service name: it becomes a variable name

# kind (the spec section) -> the grant levels it takes; templates/grants.py has the actions of each
GRANT_LEVELS = {
    "buckets": ("read", "write", "read-write"),
    "queues": ("send", "consume"),
    "topics": ("publish",),
    "tables": ("read", "write", "read-write"),
}
GrantLevel = Literal["read", "write", "read-write", "send", "consume", "publish"]
SQS_MAX_RETENTION = 1209600  # 14 days, SQS's longest (and the dead-letter queue's)

ORIGIN_PATTERN = worded(
    r"^(\*|https?://[A-Za-z0-9*.\-]+(:\d{1,5})?)$",
    "an origin: * or a scheme and host such as https://app.example.com (a port allowed, no path)",
)
HEADER_PATTERN = worded(r"^[A-Za-z0-9*!#$%&'+.^_`|~-]{1,128}$", "an HTTP header name (or *), at most 128 characters")
ATTRIBUTE_PATTERN = worded(
    r"^[A-Za-z0-9_.-]{1,255}$", "a DynamoDB attribute name: 1 to 255 letters, digits and _.- characters"
)
QUEUE_NAME_PATTERN = worded(
    r"^[A-Za-z0-9_-]{1,75}(\.fifo)?$",
    "an SQS queue name: letters, digits, - and _, at most 80 characters with a .fifo ending",
)


class CorsSpec(Model):
    """Cross-origin requests a browser may make to a bucket (one CORS rule)."""

    allowed_origins: Annotated[
        list[Annotated[str, Meta(pattern=ORIGIN_PATTERN)]],
        Meta(min_length=1, description="Origins allowed to call the bucket (https://app.example.com, or *)."),
    ]
    allowed_methods: Annotated[
        list[Literal["GET", "PUT", "POST", "DELETE", "HEAD"]],
        Meta(min_length=1, description="HTTP methods allowed: GET, PUT, POST, DELETE, HEAD."),
    ]
    allowed_headers: Annotated[
        list[Annotated[str, Meta(pattern=HEADER_PATTERN)]],
        Meta(description="Request headers allowed in a preflight request (* for any). Default: none."),
    ] = []
    max_age_seconds: Annotated[
        int, Meta(ge=0, le=86400, description="How long a browser may cache the preflight answer, in seconds.")
    ] = 3000


class BucketSpec(Model):
    """An S3 bucket: SSE-KMS with the environment key and a bucket key, public access blocked, TLS only,
    versioned, old versions expiring; its name is CloudFormation's (bucket names are global)."""

    versioning: Annotated[bool, Meta(description="Keep every version of an object (recover overwrites).")] = True
    noncurrent_expiry_days: Annotated[
        int,
        Meta(
            ge=1,
            le=3650,
            description="Delete an old version this many days after a newer one replaced it (with versioning).",
        ),
    ] = 90
    expiry_days: Annotated[
        Annotated[int, Meta(ge=1, le=36500)] | None,
        Meta(description="Expire current objects this many days after they were written. Default: never."),
    ] = None
    cors: Annotated[CorsSpec | None, Meta(description="Browser cross-origin access (CORS). Default: none.")] = None


class QueueSpec(Model):
    """An SQS queue (standard or FIFO), encrypted with the environment key; optionally with a dead-letter queue."""

    fifo: Annotated[bool, Meta(description="A FIFO queue: ordered, exactly-once processing.")] = False
    name: Annotated[
        Annotated[str, Meta(pattern=QUEUE_NAME_PATTERN)] | None,
        Meta(
            description="Queue name; a FIFO queue's ends with .fifo. Default: CloudFormation's (a fixed name "
            "cannot be replaced without a new name, and clashes with a queue left behind)."
        ),
    ] = None
    visibility_timeout_seconds: Annotated[
        int, Meta(ge=0, le=43200, description="How long a received message stays hidden from other consumers.")
    ] = 30
    retention_seconds: Annotated[
        int, Meta(ge=60, le=SQS_MAX_RETENTION, description="How long an unreceived message is kept (60 s to 14 days).")
    ] = 345600
    dead_letter_after: Annotated[
        Annotated[int, Meta(ge=1, le=1000)] | None,
        Meta(
            description="After this many receives without a delete a message moves to a dead-letter queue of the "
            "same kind, kept 14 days. Default: no dead-letter queue."
        ),
    ] = None

    def __post_init__(self) -> None:
        if self.name is not None and self.name.endswith(".fifo") != self.fifo:
            raise FieldError(
                "name",
                "a FIFO queue's name must end with .fifo"
                if self.fifo
                else "ends with .fifo, which only a FIFO queue's may; set fifo: true or rename it",
            )


class TopicSpec(Model):
    """An SNS topic, encrypted with the environment key; it may deliver to queues of the environment."""

    fifo: Annotated[
        bool, Meta(description="A FIFO topic (ordered); it delivers to FIFO queues only, and they only take it.")
    ] = False
    subscribe: Annotated[
        list[StorageName],
        Meta(description="Queues (keys of `queues`) the topic delivers to; each gets a queue policy for the topic."),
    ] = []
    raw_message_delivery: Annotated[
        bool, Meta(description="Deliver the message body as published, without SNS's JSON envelope.")
    ] = False

    def __post_init__(self) -> None:
        twice = sorted({name for name in self.subscribe if self.subscribe.count(name) > 1})
        if twice:
            raise FieldError("subscribe", f"lists {', '.join(twice)} more than once")


class KeyAttribute(Model):
    """A key attribute of a DynamoDB table: its name and type."""

    name: Annotated[str, Meta(pattern=ATTRIBUTE_PATTERN, description="Attribute name.")]
    type: Annotated[
        Literal["S", "N", "B"], Meta(description="Attribute type: S (string), N (number) or B (binary).")
    ] = "S"


class TableSpec(Model):
    """A DynamoDB table: encrypted with the environment key, point-in-time recovery always on."""

    partition_key: Annotated[KeyAttribute, Meta(description="The partition (hash) key.")]
    sort_key: Annotated[KeyAttribute | None, Meta(description="The sort (range) key. Default: none.")] = None
    billing: Annotated[
        Literal["on-demand", "provisioned"],
        Meta(description="on-demand (pay per request) or provisioned (read_capacity and write_capacity)."),
    ] = "on-demand"
    read_capacity: Annotated[
        Annotated[int, Meta(ge=1, le=40000)] | None,
        Meta(description="Provisioned read capacity units (billing: provisioned only)."),
    ] = None
    write_capacity: Annotated[
        Annotated[int, Meta(ge=1, le=40000)] | None,
        Meta(description="Provisioned write capacity units (billing: provisioned only)."),
    ] = None
    ttl_attribute: Annotated[
        Annotated[str, Meta(pattern=ATTRIBUTE_PATTERN)] | None,
        Meta(description="Attribute holding an item's expiry time (epoch seconds); DynamoDB deletes expired items."),
    ] = None
    deletion_protection: Annotated[
        bool | None,
        Meta(description="DynamoDB deletion protection. Default: on in production (where it cannot be turned off)."),
    ] = None

    def __post_init__(self) -> None:
        capacities = (self.read_capacity, self.write_capacity)
        if self.billing == "provisioned" and None in capacities:
            raise FieldError("billing", "provisioned needs read_capacity and write_capacity")
        if self.billing == "on-demand" and capacities != (None, None):
            raise FieldError(
                "read_capacity" if self.read_capacity is not None else "write_capacity",
                "applies only with billing: provisioned (on-demand tables have no capacity)",
            )
        if self.sort_key is not None and self.sort_key.name == self.partition_key.name:
            raise FieldError("sort_key.name", f"{self.sort_key.name!r} is already the partition key")


def variable(name: str) -> str:
    """The stem of a resource's environment variables: `user-uploads` -> `USER_UPLOADS`."""
    return name.upper().replace("-", "_")


def check(spec) -> None:
    """The storage sections against each other and the services' grants (called by EnvironmentSpec)."""
    kinds = {kind: getattr(spec, kind) for kind in GRANT_LEVELS}
    owner: dict[str, str] = {}
    for kind, declared in kinds.items():
        for name in declared:
            if name in owner:
                raise FieldError(
                    f"{kind}.{name}",
                    f"is also a key of {owner[name]}; names must be unique across buckets, queues, topics and tables "
                    "(a grant names a resource by its name alone)",
                )
            owner[name] = kind
    for name, topic in spec.topics.items():
        for queue in topic.subscribe:
            where = f"topics.{name}.subscribe"
            if queue not in spec.queues:
                raise FieldError(where, f"{queue!r} is not a key of queues (known: {sorted(spec.queues)})")
            if spec.queues[queue].fifo != topic.fifo:
                raise FieldError(
                    where,
                    f"{queue!r} is a {'FIFO' if spec.queues[queue].fifo else 'standard'} queue but {name} a "
                    f"{'FIFO' if topic.fifo else 'standard'} topic; SNS FIFO topics deliver to FIFO queues only and "
                    "standard topics to standard queues only",
                )
    workloads = [("services", spec.services), ("jobs", getattr(spec, "jobs", {}))]
    for section, service_name, service in ((s, n, w) for s, found in workloads for n, w in found.items()):
        for target, level in service.grants.items():
            where = f"{section}.{service_name}.grants.{target}"
            kind = owner.get(target)
            if kind is None:
                known = ", ".join(f"{name} ({owner[name][:-1]})" for name in sorted(owner)) or "none declared"
                raise FieldError(where, f"{target!r} is not a bucket, queue, topic or table; known: {known}")
            if level not in GRANT_LEVELS[kind]:
                raise FieldError(
                    where,
                    f"{level!r} is not a level for a {kind[:-1]}; allowed: {', '.join(GRANT_LEVELS[kind])}",
                )
    if spec.production:
        off = [
            f"tables.{name}.deletion_protection: false"
            for name, t in spec.tables.items()
            if t.deletion_protection is False
        ]
        if off:
            raise FieldError(
                "production",
                f"true does not allow {'; '.join(off)}. Set production: false for an environment whose data may go",
            )
