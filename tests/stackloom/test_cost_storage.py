"""`python build.py cost` on the storage stack: buckets, queues, topics and tables priced from per-store usage
assumptions (provisioned tables from their template capacities × hours), checked with round made-up prices; a kind
whose price the table lacks (SNS in the bundled Frankfurt table) stays listed as not priced."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from stackloom import build as compiler
from stackloom.cfn.evaluate import Built
from stackloom.cli.main import main
from stackloom.output import write
from stackloom.report import cost
from stackloom.report.inventory import inventory
from templates import spec as spec_module

from ..helpers import storage_spec
from .test_cost import HOURS, PRICES

STORAGE_PRICES = {
    "s3_standard_gb_month": 0.02,
    "s3_put_thousand": 0.005,
    "s3_get_thousand": 0.0004,
    "sqs_standard_million": 0.4,
    "sqs_fifo_million": 0.5,
    "dynamodb_write_request_million": 0.75,
    "dynamodb_read_request_million": 0.15,
    "dynamodb_storage_gb_month": 0.3,
    "dynamodb_pitr_gb_month": 0.2,
    "dynamodb_wcu_hour": 0.001,
    "dynamodb_rcu_hour": 0.0002,
}  # no sns_publish_million: the topic stays not priced


def every_store() -> dict:
    """`storage_spec` (bucket uploads, standard queue jobs with a dead-letter queue, topic events, on-demand table
    sessions) plus a second bucket, a FIFO queue and a provisioned table (4 RCU, 2 WCU)."""
    spec = storage_spec()
    spec["buckets"]["reports"] = {}
    spec["queues"]["orders"] = {"fifo": True}
    spec["tables"]["ledger"] = {
        "partition_key": {"name": "id"},
        "billing": "provisioned",
        "read_capacity": 4,
        "write_capacity": 2,
    }
    return spec


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    folder = tmp_path_factory.mktemp("storage") / "out"
    return write(compiler.compile_environment(spec_module.parse(every_store())), folder)


def priced(folder, assumptions=None, table=None):
    prices = json.loads(json.dumps(PRICES))
    for key, usd in (table if table is not None else STORAGE_PRICES).items():
        prices["prices"][key] = {"usd": usd, "per": key, "source": f"https://example.test/{key}"}
    return cost.estimate(inventory(Built(folder)), prices, {**HOURS, **(assumptions or {})})


def lines(result) -> dict:
    return {line.component: line for line in result.lines}


def test_a_line_per_priced_kind_from_the_assumptions_and_the_table(stores):
    """GIVEN 2 buckets, a standard and a FIFO queue, a topic, an on-demand and a provisioned table (100 h months)
    WHEN priced THEN each line is stores × the per-store assumption × the price (capacities × hours for the
    provisioned table), and all of them are in the total."""
    found = lines(priced(stores))
    expected = {
        "S3 Standard storage": ("2 buckets × 10 GB (assumption)", "$0.02/GB-month", 2 * 10 * 0.02),
        "S3 PUT, COPY, POST, LIST requests": ("2 buckets × 10 thousand requests (assumption)", "$0.005/thousand",
                                              2 * 10 * 0.005),
        "S3 GET and other requests": ("2 buckets × 100 thousand requests (assumption)", "$0.0004/thousand",
                                      2 * 100 * 0.0004),
        "SQS standard requests": ("1 queue × 1 million (assumption)", "$0.4/million", 0.4),
        "SQS FIFO requests": ("1 queue × 1 million (assumption)", "$0.5/million", 0.5),
        "DynamoDB on-demand writes": ("1 table × 1 million WRU (assumption)", "$0.75/million", 0.75),
        "DynamoDB on-demand reads": ("1 table × 5 million RRU (assumption)", "$0.15/million", 5 * 0.15),
        "DynamoDB provisioned capacity acme-dev-ledger": ("(2 WCU + 4 RCU) × 100 h", "$0.001/WCU-h, $0.0002/RCU-h",
                                                          100 * (2 * 0.001 + 4 * 0.0002)),
        "DynamoDB storage": ("2 tables × 1 GB (assumption)", "$0.3/GB-month", 2 * 0.3),
        "DynamoDB point-in-time recovery": ("2 tables × 1 GB (assumption)", "$0.2/GB-month", 2 * 0.2),
    }  # fmt: skip
    for component, (quantity, unit_price, monthly) in expected.items():
        line = found[component]
        assert (line.quantity, line.unit_price, line.monthly) == (quantity, unit_price, round(monthly, 2)), component
    assert not [name for name in found if name.startswith("SNS")]


def test_the_priced_storage_keys_are_listed_as_the_lines_sources(stores):
    """GIVEN the estimate WHEN its used prices are read THEN every storage key priced is among them."""
    assert set(STORAGE_PRICES) <= set(priced(stores).used_prices())


def test_a_price_the_table_lacks_leaves_its_kind_not_priced(stores):
    """GIVEN no SNS price (and, in a second table, no SQS FIFO price) WHEN priced THEN the topic and the FIFO queue
    are listed as not priced naming the absent key, with no line and nothing added to the total."""
    result = priced(stores)
    assert "SNS publishes: no sns_publish_million price in the bundled eu-central-1.json table" in result.unpriced
    assert "SNS publishes: no sns_publish_million price in the bundled eu-central-1.json table" in result.gaps
    without_fifo = {key: usd for key, usd in STORAGE_PRICES.items() if key != "sqs_fifo_million"}
    partial = priced(stores, table=without_fifo)
    assert "SQS FIFO requests" not in lines(partial) and "SQS standard requests" in lines(partial)
    assert "SQS FIFO requests: no sqs_fifo_million price in the bundled eu-central-1.json table" in partial.unpriced
    assert partial.total == pytest.approx(result.total - 0.5)


def test_changing_a_storage_assumption_changes_its_lines(stores):
    """GIVEN --assume s3_gb_per_bucket=250 and dynamodb_read_million_per_table=20 WHEN priced THEN those lines follow."""
    found = lines(priced(stores, {"s3_gb_per_bucket": 250, "dynamodb_read_million_per_table": 20}))
    assert found["S3 Standard storage"].monthly == round(2 * 250 * 0.02, 2)
    assert found["DynamoDB on-demand reads"].monthly == round(20 * 0.15, 2)
    assert found["DynamoDB on-demand writes"].monthly == 0.75


def test_storage_notes_name_the_stores_and_the_free_sns_to_sqs_delivery(stores):
    """GIVEN the estimate THEN its notes name every store priced by assumption and say SNS -> SQS delivery is free."""
    notes = " ".join(priced(stores).notes)
    for name in ("acme-dev-uploads", "acme-dev-reports", "acme-dev-jobs", "acme-dev-orders", "acme-dev-events"):
        assert name in notes, name
    assert "SNS deliveries to SQS queues are free" in notes


def test_cost_command_prints_the_storage_lines_their_assumptions_and_sources(tmp_path, capsys):
    """GIVEN every storage kind in eu-central-1 WHEN `build.py cost` runs with the bundled table THEN the S3, SQS and
    DynamoDB lines are the bundled prices × the printed assumptions, SNS is listed as not priced, and every storage
    assumption and price source is printed."""
    params = tmp_path / "params" / "acme"
    params.mkdir(parents=True)
    (params / "dev.yaml").write_text(yaml.safe_dump(every_store()))
    assert main(["cost", "acme/dev", "--params", str(tmp_path / "params"), "--output", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    table = cost.load_prices()["prices"]
    assumptions = {name: item.value for name, item in cost.ASSUMPTIONS.items()}

    def row(component: str) -> float:
        found = re.search(rf"^  {re.escape(component)}  .*  \$([\d,.]+)$", printed, re.MULTILINE)
        assert found, component
        return float(found.group(1).replace(",", ""))

    assert row("S3 Standard storage") == round(
        2 * assumptions["s3_gb_per_bucket"] * table["s3_standard_gb_month"]["usd"], 2
    )
    assert row("SQS standard requests") == round(
        assumptions["sqs_million_per_queue"] * table["sqs_standard_million"]["usd"], 2
    )
    assert row("DynamoDB provisioned capacity acme-dev-ledger") == round(
        730 * (2 * table["dynamodb_wcu_hour"]["usd"] + 4 * table["dynamodb_rcu_hour"]["usd"]), 2
    )
    assert "  - SNS publishes: no sns_publish_million price in the bundled eu-central-1.json table" in printed
    for name in ("s3_gb_per_bucket", "sqs_million_per_queue", "sns_million_per_topic", "dynamodb_gb_per_table"):
        assert f"  {name} = " in printed, name
    for key in ("s3_standard_gb_month", "sqs_fifo_million", "dynamodb_wcu_hour", "dynamodb_pitr_gb_month"):
        assert f"  {key}: {table[key]['per']} - {table[key]['source']}" in printed, key


def test_frankfurt_storage_prices_carry_their_dated_source():
    """GIVEN the bundled Frankfurt table THEN each storage price has an AWS pricing page, a date and a note naming
    the document that quotes the figure; there is no SNS price (none could be sourced)."""
    table = cost.load_prices()["prices"]
    for key in STORAGE_PRICES:
        entry = table[key]
        assert entry["source"].startswith("https://aws.amazon.com/"), key
        assert re.fullmatch(r"20\d\d-\d\d-\d\d", entry["as_of"]) and "https://github.com/" in entry["note"], key
    assert "sns_publish_million" not in table
