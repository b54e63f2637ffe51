"""`python build.py cost` and `diagram` on the alarms: CloudWatch bills a standard alarm per alarm metric (a
metric-math alarm per metric it reads), checked with a round made-up price; a table without the price lists the
alarms as not priced; the topic's notifications are a note, and the diagram draws one Alarms topic node."""

from __future__ import annotations

import json

import pytest

from stackloom import build as compiler
from stackloom.cfn.evaluate import Built
from stackloom.output import write
from stackloom.report import cost, mermaid
from stackloom.report.inventory import inventory
from templates import spec as spec_module

from ..helpers import base_spec
from .test_cost import HOURS, PRICES


@pytest.fixture(scope="module")
def alarmed(tmp_path_factory):
    """The base spec (api behind the ALB: 5 alarms, 6 alarm metrics), a two-node cache (4 alarms over 2 nodes:
    8 alarm metrics) and an e-mail subscriber."""
    spec = base_spec(cache={"nodes": 2, "multi_az": True}, alarms={"email": ["ops@example.com"]})
    spec["services"]["api"]["connects_to"] = ["cache"]
    folder = tmp_path_factory.mktemp("alarms") / "out"
    return write(compiler.compile_environment(spec_module.parse(spec)), folder)


def priced(folder, usd=None):
    prices = json.loads(json.dumps(PRICES))
    if usd is not None:
        prices["prices"]["cloudwatch_alarm_metric_month"] = {
            "usd": usd,
            "per": "alarm metric",
            "source": "https://example.test",
        }
    return cost.estimate(inventory(Built(folder)), prices, HOURS)


def test_the_alarms_are_priced_per_alarm_metric(alarmed):
    # GIVEN 9 alarms reading 14 metrics (CPU, memory, 5xx, unhealthy: 1 each; running tasks: 2; Redis: 4 × 2 nodes)
    # WHEN priced at $0.10 an alarm metric-month
    found = {line.component: line for line in priced(alarmed, 0.1).lines}
    line = found["CloudWatch alarms (standard resolution)"]
    # THEN one line: 14 × $0.10
    assert (line.quantity, line.unit_price, line.monthly) == (
        "9 alarms, 14 alarm metrics (metric math: each metric)",
        "$0.1/alarm metric-month",
        1.4,
    )
    assert "cloudwatch_alarm_metric_month" in priced(alarmed, 0.1).used_prices()


def test_without_a_price_the_alarms_are_listed_as_not_priced_and_the_topic_is_a_note(alarmed):
    # GIVEN a price table without the alarm price WHEN priced
    result = priced(alarmed)
    # THEN no alarm line, the alarms are a gap of the table, and the topic's notifications are said to cost ~0
    assert not [line for line in result.lines if line.component.startswith("CloudWatch alarms")]
    assert any(
        item.startswith("CloudWatch alarms (9 alarms, 14 alarm metrics): no cloudwatch_alarm_metric_month")
        for item in result.gaps
    )
    assert any("alarm topic's notifications are not priced" in note for note in result.notes)


def test_the_diagram_draws_one_alarms_topic_node_with_its_counts(alarmed):
    # GIVEN the environment WHEN drawn
    chart = mermaid.mermaid(inventory(Built(alarmed)))
    # THEN exactly one node for the topic, with the alarm and subscriber counts, and none per alarm
    nodes = [line for line in chart.splitlines() if "ALARMS_TOPIC>" in line]
    assert nodes == [
        '    ALARMS_TOPIC>"Alarms topic<br/>SNS acme-dev-alarms · SSE-KMS<br/>9 CloudWatch alarms<br/>1 e-mail subscriber"]'
    ]
    assert "CpuHighAlarm" not in chart and "cpu-high" not in chart
