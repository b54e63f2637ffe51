"""The reports' handlers of the environment's alarms (templates/alarms.py): the CloudWatch alarms of every stack
and the one SNS topic they notify. Inventory: the alarms (each with the metrics it is billed for) and the topic
with its e-mail subscribers; the diagram: one "Alarms topic" node, never one node per alarm; the cost: CloudWatch
bills a standard-resolution alarm per metric it watches (a metric-math alarm per metric in its expression),
an e-mail notification to an SNS subscriber costs (next to) nothing and is said so rather than priced.
"""

from __future__ import annotations

from stackloom import kinds
from stackloom.cfn.evaluate import Built, pointers, text
from stackloom.report.pricing import rate
from stackloom.report.records import Alarm, AlarmTopic, Inventory

ALARM = "AWS::CloudWatch::Alarm"
TOPIC = "AlarmTopic"  # the logical ID of the topic in the network stack (templates/alarms.py)
PRICE = "cloudwatch_alarm_metric_month"


def _metrics(props: dict) -> int:
    """The metrics CloudWatch bills the alarm for: one, or each metric (not expression) of a metric-math alarm."""
    queries = props.get("Metrics")
    if not isinstance(queries, list):
        return 1
    return sum(1 for query in queries if isinstance(query, dict) and "MetricStat" in query) or 1


@kinds.inventory(ALARM)
def _alarms(built: Built, found: Inventory) -> None:
    """Every alarm of the environment, and the topic named `AlarmTopic` with its e-mail subscriptions."""
    for stack, logical_id, resource in built.resources(ALARM):
        props = stack.eval(resource.get("Properties", {}))
        found.alarms.append(
            Alarm(
                stack.file,
                logical_id,
                text(props.get("AlarmName", logical_id)),
                _metrics(props),
                stack.active(logical_id),
            )
        )
    topics = {}
    for stack, logical_id, resource in built.resources("AWS::SNS::Topic"):
        if logical_id == TOPIC and not stack.file.startswith("storage"):
            props = stack.eval(resource.get("Properties", {}))
            found.alarm_topic = AlarmTopic(text(props.get("TopicName", logical_id)), active=stack.active(logical_id))
            topics[(stack.file, logical_id)] = found.alarm_topic
    for stack, logical_id, resource in built.resources("AWS::SNS::Subscription"):
        props = stack.eval(resource.get("Properties", {}))
        for topic in pointers(props.get("TopicArn")):
            if topic.key in topics and text(props.get("Protocol", "")) == "email":
                topics[topic.key].subscribers += 1


@kinds.diagram(ALARM, regional=True)
def _alarm_topic_node(chart, found: Inventory, component: dict[str, str]) -> None:
    """One node for the topic: how many alarms notify it and how many addresses it mails."""
    topic = found.alarm_topic
    if topic is None:
        return
    active = [alarm for alarm in found.alarms if alarm.active]
    subscribers = f"{topic.subscribers} e-mail subscriber{'s' if topic.subscribers != 1 else ''}"
    chart.node(
        "ALARMS_TOPIC",
        ["Alarms topic", f"SNS {topic.name} · SSE-KMS", f"{len(active)} CloudWatch alarms", subscribers],
        "flag",
        "support",
        topic.active,
    )


@kinds.cost(ALARM)
def _alarm_costs(found: Inventory, pricer) -> None:
    """Standard-resolution alarms per alarm metric-month; the topic's e-mail notifications are not billed
    in any meaningful amount (said in a note, not priced)."""
    active = [alarm for alarm in found.alarms if alarm.active]
    if not active:
        return
    metrics = sum(alarm.metrics for alarm in active)
    found_price = pricer.need(f"CloudWatch alarms ({len(active)} alarms, {metrics} alarm metrics)", PRICE)
    if found_price is not None:
        (price,) = found_price
        pricer.add(
            "CloudWatch alarms (standard resolution)",
            f"{len(active)} alarms, {metrics} alarm metrics (metric math: each metric)",
            f"{rate(price)}/alarm metric-month",
            metrics * price,
            PRICE,
        )
    if found.alarm_topic is not None:
        pricer.estimate.notes.append(
            "the alarm topic's notifications are not priced: SNS publishes from CloudWatch alarms and e-mail "
            "deliveries cost next to nothing at alarm volumes (first 1,000 e-mails a month free)"
        )
