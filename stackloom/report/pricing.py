"""What a cost estimate is made of: the bundled price tables, the assumptions, the lines and options of an
estimate, and the `Pricer` the per-type pricers of `stackloom/report/cost.py` add lines with."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from stackloom.errors import UserError
from stackloom.report.records import Inventory

PRICES = Path(__file__).resolve().parent / "prices"
PRICE_FILE = PRICES / "eu-central-1.json"


class NotPriced(UserError):
    """No price table for the environment's region: nothing is priced rather than another region's rates."""


def price_file(region: str) -> Path:
    """The price table of a region, or NotPriced saying which regions have one."""
    path = PRICES / f"{region}.json"
    if not path.is_file():
        known = ", ".join(sorted(item.stem for item in PRICES.glob("*.json")))
        raise NotPriced(
            f"{region}: not priced: there is no price table for this region (tables: {known}), and another "
            f"region's prices under its name would mislead; add stackloom/report/prices/{region}.json, "
            "each price with the page it came from"
        )
    return path


GIB = 1024  # MiB per GiB: Fargate bills memory in GB of the task size in MiB / 1024


# --- Fargate by CPU architecture, and ephemeral storage above the included 20 GiB (templates/spec_sidecars.py)
FARGATE_EPHEMERAL_KEY = "fargate_ephemeral_gb_hour"
FREE_EPHEMERAL_GIB = 20


def fargate_keys(architecture: str) -> tuple[str, str]:
    """The price keys of a Fargate Linux task's vCPU-hour and GB-hour for its CPU architecture: Graviton (ARM64)
    has its own, lower rates, so an arm64 task is never priced at the x86 ones (nor the reverse)."""
    if architecture == "ARM64":
        return "fargate_arm_vcpu_hour", "fargate_arm_gb_hour"
    return "fargate_vcpu_hour", "fargate_gb_hour"


@dataclass(frozen=True)
class Assumption:
    value: float
    unit: str
    description: str
    applies: str | None = None  # an Inventory list that must be non-empty for the assumption to matter (and show)


ASSUMPTIONS = {
    "hours_per_month": Assumption(730, "h", "hours in a month (8,760 / 12, the AWS pricing pages' convention)"),
    "nat_gb_per_month": Assumption(
        50,
        "GB",
        "data processed by the NAT gateways per month, all of them together "
        "(image pulls, AWS API calls, outbound calls of the services), spread evenly over "
        "the AZs (the share of an AZ without a NAT gateway of its own also crosses AZs)",
    ),
    "endpoint_gb_per_month": Assumption(
        50,
        "GB",
        "data processed by the VPC interface endpoints per month, all of them together (image manifests, logs, "
        "AWS API calls; image layers come through the free S3 gateway endpoint); the NAT trade-off's none "
        "option counts the same",
    ),
    "alb_lcu": Assumption(
        1,
        "LCU",
        "average load balancer capacity units per hour (1 LCU: 25 new connections/s, "
        "3,000 active connections, 1 GB/h processed or 1,000 rule evaluations/s)",
    ),
    "nlb_lcu": Assumption(
        1,
        "NLCU",
        "average network load balancer capacity units per hour of a service's NLB (public_ports; 1 NLCU: "
        "800 new TCP or 400 new UDP flows/s, 100,000 active TCP or 50,000 active UDP flows, or 1 GB/h processed)",
        applies="network_load_balancers",
    ),
    "log_gb_per_task": Assumption(2, "GB", "application logs ingested per month per running task"),
    "flow_log_gb": Assumption(5, "GB", "VPC flow logs ingested per month (priced as standard log ingestion)"),
    "aurora_storage_gb": Assumption(10, "GB", "Aurora storage in use"),
    "aurora_io_million": Assumption(2, "million", "Aurora I/O requests per month (Aurora Standard)"),
    "job_minutes_per_run": Assumption(
        10,
        "min",
        "how long a scheduled job's task runs per invocation (Fargate bills the task's vCPU and memory meanwhile)",
        applies="jobs",
    ),
    "dns_queries_million": Assumption(
        1,
        "million",
        "DNS queries per month to non-alias records (Cloud Map names); " "alias queries to the load balancer are free",
    ),
    # the storage stack (stackloom/report/storage.py): per store, as the templates say nothing of use; free tiers
    # (S3's first 5 GB, SQS's and SNS's first million requests, DynamoDB's first 25 GB) are ignored
    "s3_gb_per_bucket": Assumption(
        10, "GB", "S3 Standard storage per bucket of the storage stack (older versions of a versioned bucket count)"
    ),
    "s3_put_thousands_per_bucket": Assumption(
        10, "thousand", "PUT, COPY, POST and LIST requests per bucket per month (the free tier ignored)"
    ),
    "s3_get_thousands_per_bucket": Assumption(
        100, "thousand", "GET, SELECT and all other requests per bucket per month (the free tier ignored)"
    ),
    "sqs_million_per_queue": Assumption(
        1,
        "million",
        "SQS requests per queue per month: sends, receives (empty long polls too) and deletes, each 64 KB chunk a "
        "request (the first million a month free ignored; dead-letter queues not counted)",
    ),
    "sns_million_per_topic": Assumption(
        1, "million", "SNS publishes per topic per month (the first million free ignored; deliveries to SQS are free)"
    ),
    "dynamodb_gb_per_table": Assumption(
        1, "GB", "DynamoDB table storage per table, also the point-in-time recovery size (the 25 GB free ignored)"
    ),
    "dynamodb_write_million_per_table": Assumption(
        1, "million", "write request units per on-demand table per month (1 per standard write of up to 1 KB)"
    ),
    "dynamodb_read_million_per_table": Assumption(
        5, "million", "read request units per on-demand table per month (1 per strongly consistent read up to 4 KB)"
    ),
}


@dataclass
class Line:
    component: str
    quantity: str
    unit_price: str
    monthly: float
    prices: tuple[str, ...] = ()


@dataclass
class Option:
    name: str
    gateways: int
    monthly: float
    delta: float
    current: bool
    note: str


@dataclass
class Estimate:
    inventory: Inventory
    prices: dict
    assumptions: dict[str, float]
    lines: list[Line] = field(default_factory=list)
    switched_off: list[str] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)  # the unpriced items whose price the table lacks
    notes: list[str] = field(default_factory=list)
    nat_options: list[Option] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(line.monthly for line in self.lines), 2)

    def used_prices(self) -> list[str]:
        return list(dict.fromkeys(key for line in self.lines for key in line.prices))


def load_prices(path: Path = PRICE_FILE) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def PRICES_LABEL(prices: dict) -> str:  # noqa: N802 - reads as a phrase where it is used
    return f"{prices.get('location', prices.get('region'))}, as published {prices.get('published', '(undated)')}"


def usd(value: float) -> str:
    return f"${value:,.2f}"


def rate(value: float) -> str:
    return f"${value:g}"


def spot_split(tasks: int, strategy: tuple) -> tuple[float, float]:
    """(on-demand, Spot) tasks of `tasks` under a capacity provider strategy ((provider, weight, base), ...): the
    base tasks first, the rest in proportion to the weights (ECS's placement, as an expected share)."""
    weights = {"FARGATE": 0, "FARGATE_SPOT": 0}
    based = {"FARGATE": 0, "FARGATE_SPOT": 0}
    for provider, weight, base in strategy:
        if provider in weights:
            weights[provider] += weight
            based[provider] += base
    if not weights["FARGATE_SPOT"] and not based["FARGATE_SPOT"]:
        return float(tasks), 0.0
    first = min(tasks, sum(based.values()))
    on_demand = min(first, based["FARGATE"])
    rest = tasks - first
    total = sum(weights.values())
    spot_share = weights["FARGATE_SPOT"] / total if total else 0.0
    return on_demand + rest * (1 - spot_share), first - on_demand + rest * spot_share


SPOT_KEYS = ("fargate_spot_vcpu_hour", "fargate_spot_gb_hour")


class Pricer:
    """Adds lines to an estimate; every figure it uses is looked up (and so listed) by its key."""

    def __init__(self, estimate: Estimate):
        self.estimate = estimate
        self.table = estimate.prices.get("prices", {})
        self.hours = estimate.assumptions["hours_per_month"]

    def price(self, key: str, kind: str | None = None) -> float | None:
        entry = self.table.get(key)
        if entry is None:
            return None
        if kind is not None:
            typed = entry.get("types", {}).get(kind)
            return None if typed is None else float(typed["usd"])
        return float(entry["usd"])

    def add(self, component: str, quantity: str, unit_price: str, monthly: float, *keys: str) -> float:
        self.estimate.lines.append(Line(component, quantity, unit_price, round(monthly, 2), keys))
        return monthly

    def missing(self, what: str) -> None:
        self.estimate.unpriced.append(what)

    def need(self, component: str, *keys: str) -> list[float] | None:
        """The prices of `keys`, or None when the table lacks any of them: `component` is then listed as not
        priced (naming the absent keys), so a partial table never crashes an estimate nor shrinks it silently."""
        values = [self.price(key) for key in keys]
        absent = [key for key, value in zip(keys, values) if value is None]
        if absent:
            self.gap(f"{component}: no {', '.join(absent)} price in the bundled {self.file} table")
            return None
        return values

    def one(self, component: str, key: str) -> float | None:
        """The price of `key`, or None with `component` listed as not priced (see `need`)."""
        found = self.need(component, key)
        return None if found is None else found[0]

    def gap(self, what: str) -> None:
        """Not priced because the price table lacks the figure (not because the templates do not say)."""
        self.missing(what)
        self.estimate.gaps.append(what)

    @property
    def file(self) -> str:
        return f"{self.estimate.prices.get('region', '<region>')}.json"
