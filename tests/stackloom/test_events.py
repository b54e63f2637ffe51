"""The deploy event stream (stackloom/deploy/events.py) over recorded event sequences: each resource's state
changes once each, columns aligned, a count of resources (not events) and the time long waits take; and the
change set's `*` legend only when a row has a `*`."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

from stackloom.deploy import changeset
from stackloom.deploy.events import HEARTBEAT, EventStream, duration, stack_resources

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
ROOT = "arn:aws:cloudformation:eu-central-1:123456789012:stack/app/1"
NESTED = "arn:aws:cloudformation:eu-central-1:123456789012:stack/app-Data-X/2"
STACK = "AWS::CloudFormation::Stack"


def event(stack: str, stack_name: str, logical: str, kind: str, status: str, second: float, reason="", physical=""):
    return {
        "EventId": f"{stack_name}-{logical}-{status}-{second}-{reason}",
        "StackId": stack,
        "StackName": stack_name,
        "LogicalResourceId": logical,
        "ResourceType": kind,
        "ResourceStatus": status,
        "ResourceStatusReason": reason,
        "PhysicalResourceId": physical,
        "Timestamp": T0 + timedelta(seconds=second),
    }


class _Pages:
    def __init__(self, fake, operation):
        self.fake, self.operation = fake, operation

    def paginate(self, StackName):
        if self.operation == "list_stack_resources":
            return [{"StackResourceSummaries": self.fake.resources[StackName]}]
        shown = [raw for raw in self.fake.recorded[: self.fake.upto] if raw["StackId"] == StackName]
        newest_first = list(reversed(shown))
        return [{"StackEvents": newest_first[:2]}, {"StackEvents": newest_first[2:]}]  # two pages, as AWS pages


class FakeCloudFormation:
    """describe_stack_events of a recorded sequence, revealed `upto` events at a time (as they happen)."""

    def __init__(self, recorded, resources=None):
        self.recorded, self.resources, self.upto = recorded, resources or {}, 0

    def describe_stack_events(self, StackName):
        return _Pages(self, "describe_stack_events").paginate(StackName)[0]

    def get_paginator(self, operation):
        return _Pages(self, operation)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


CREATE = [  # a first deploy as CloudFormation records it: root, a bucket, a nested stack with an Aurora cluster
    event(ROOT, "app", "app", STACK, "CREATE_IN_PROGRESS", 0, "User Initiated", ROOT),
    event(ROOT, "app", "Bucket", "AWS::S3::Bucket", "CREATE_IN_PROGRESS", 1),
    event(ROOT, "app", "Data", STACK, "CREATE_IN_PROGRESS", 1),
    event(ROOT, "app", "Bucket", "AWS::S3::Bucket", "CREATE_IN_PROGRESS", 2, "Resource creation Initiated", "b"),
    event(ROOT, "app", "Data", STACK, "CREATE_IN_PROGRESS", 2, "Resource creation Initiated", NESTED),
    event(NESTED, "app-Data-X", "app-Data-X", STACK, "CREATE_IN_PROGRESS", 2, "User Initiated", NESTED),
    event(NESTED, "app-Data-X", "DatabaseCluster", "AWS::RDS::DBCluster", "CREATE_IN_PROGRESS", 3),
    event(
        NESTED,
        "app-Data-X",
        "DatabaseCluster",
        "AWS::RDS::DBCluster",
        "CREATE_IN_PROGRESS",
        4,
        "Resource creation Initiated",
        "db",
    ),  # fmt: skip
    event(ROOT, "app", "Bucket", "AWS::S3::Bucket", "CREATE_COMPLETE", 5, physical="b"),
    event(NESTED, "app-Data-X", "DatabaseCluster", "AWS::RDS::DBCluster", "CREATE_COMPLETE", 133, physical="db"),
    event(NESTED, "app-Data-X", "app-Data-X", STACK, "CREATE_COMPLETE", 134, physical=NESTED),
    event(ROOT, "app", "Data", STACK, "CREATE_COMPLETE", 135, physical=NESTED),
    event(ROOT, "app", "app", STACK, "CREATE_COMPLETE", 136, physical=ROOT),
]


def _stream(recorded, steps, **options):
    fake = FakeCloudFormation(recorded, options.pop("stack_resources", None))
    lines: list[str] = []
    clock = Clock()
    stream = EventStream(fake, ROOT, printer=lines.append, clock=clock, **options)
    for upto in steps:  # each poll sees the events recorded so far
        fake.upto = upto
        stream.poll()
    return stream, lines, fake, clock


def _rows(lines):
    """(path, status, progress) of each printed line, without the elapsed column."""
    rows = []
    for line in lines:
        match = re.match(r"\s*\d+s \[\s*(\d+)/(\d+)\s*\] (\S+)\s+(?:\(\S+\)\s+)?(\S+)", line)
        rows.append((match[4], match[3], f"{match[1]}/{match[2]}"))
    return rows


def test_each_resource_and_nested_stack_is_printed_once_per_state_change_with_a_count_of_resources():
    # GIVEN a change set of 3 resources (the bucket, the nested stack, the cluster in it) and their 13 events
    _, lines, _, _ = _stream(CREATE, [3, 6, 9, 13], resources=["Bucket", "Data", "Data/DatabaseCluster"])
    # THEN each shows once per state: no second CREATE_IN_PROGRESS "Resource creation Initiated", no nested
    # stack's own events; and the count is of those 3 resources, reaching 3/3 with the root
    assert _rows(lines) == [
        ("app", "CREATE_IN_PROGRESS", "0/3"),
        ("Bucket", "CREATE_IN_PROGRESS", "0/3"),
        ("Data", "CREATE_IN_PROGRESS", "0/3"),
        ("Data/DatabaseCluster", "CREATE_IN_PROGRESS", "0/3"),
        ("Bucket", "CREATE_COMPLETE", "1/3"),
        ("Data/DatabaseCluster", "CREATE_COMPLETE", "2/3"),
        ("Data", "CREATE_COMPLETE", "3/3"),
        ("app", "CREATE_COMPLETE", "3/3"),
    ]
    assert not any("Resource creation Initiated" in line for line in lines)
    # AND the cluster's 2 minutes show on its completion (the bucket's 4 seconds do not)
    assert [line for line in lines if "(" in line] == [
        line for line in lines if line.endswith("Data/DatabaseCluster") and "CREATE_COMPLETE (2m10s) " in line
    ]


def test_a_first_deploy_whose_change_set_lists_only_the_root_counts_the_templates_resources():
    # GIVEN a CREATE change set that lists the root's 2 resources, and the templates' 3 (expected)
    _, lines, _, _ = _stream(CREATE, [13], resources=["Bucket", "Data"], expected=3)
    # THEN the count is of the 3, and ends at 3/3
    assert _rows(lines)[-1] == ("app", "CREATE_COMPLETE", "3/3")


def test_columns_stay_aligned_for_long_paths():
    long = "Data/" + "A" * 70
    recorded = [*CREATE[:9], event(NESTED, "app-Data-X", "A" * 70, "AWS::SNS::Topic", "CREATE_IN_PROGRESS", 6)]
    _, lines, _, _ = _stream(recorded, [10], resources=["Bucket", "Data", "Data/DatabaseCluster", long])
    # THEN every status and every path starts in the same column, whatever the paths' lengths
    assert len({re.search(r"CREATE_\w+", line).start() for line in lines}) == 1
    paths = {line.index(path) for line in lines for path in ("Bucket", "Data", "app", long) if line.endswith(path)}
    assert len(paths) == 1 and any(line.endswith(long) for line in lines)


def test_an_update_counts_the_change_sets_resources_and_shows_a_replacement_notice():
    recorded = [
        event(ROOT, "app", "app", STACK, "UPDATE_IN_PROGRESS", 0, "User Initiated", ROOT),
        event(ROOT, "app", "Topic", "AWS::SNS::Topic", "UPDATE_IN_PROGRESS", 1, physical="t1"),
        event(
            ROOT,
            "app",
            "Topic",
            "AWS::SNS::Topic",
            "UPDATE_IN_PROGRESS",
            2,
            "Requested update requires the creation of a new physical resource; hence creating one.",
            "t2",
        ),  # fmt: skip
        event(ROOT, "app", "Topic", "AWS::SNS::Topic", "UPDATE_COMPLETE", 3, physical="t2"),
        event(ROOT, "app", "app", STACK, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", 4, physical=ROOT),
        event(ROOT, "app", "Topic", "AWS::SNS::Topic", "DELETE_IN_PROGRESS", 5, physical="t1"),
        event(ROOT, "app", "Topic", "AWS::SNS::Topic", "DELETE_COMPLETE", 6, physical="t1"),
        event(ROOT, "app", "app", STACK, "UPDATE_COMPLETE", 7, physical=ROOT),
    ]
    _, lines, _, _ = _stream(recorded, [4, 8], resources=["Topic"])
    rows = _rows(lines)
    # THEN the replacement's reason is kept (not a routine repeat), and 8 events of 1 resource count 1/1
    assert ("Topic", "UPDATE_IN_PROGRESS", "0/1") in rows and any("new physical resource" in line for line in lines)
    assert {progress for _, _, progress in rows[3:]} == {"1/1"}
    assert rows[-1] == ("app", "UPDATE_COMPLETE", "1/1")


def test_a_delete_counts_the_stack_trees_resources():
    summaries = {
        ROOT: [
            {"LogicalResourceId": "Bucket", "ResourceType": "AWS::S3::Bucket", "ResourceStatus": "CREATE_COMPLETE"},
            {
                "LogicalResourceId": "Data",
                "ResourceType": STACK,
                "PhysicalResourceId": NESTED,
                "ResourceStatus": "CREATE_COMPLETE",
            },  # fmt: skip
        ],
        NESTED: [
            {
                "LogicalResourceId": "DatabaseCluster",
                "ResourceType": "AWS::RDS::DBCluster",
                "ResourceStatus": "CREATE_COMPLETE",
            },  # fmt: skip
        ],
    }
    recorded = [
        event(ROOT, "app", "app", STACK, "DELETE_IN_PROGRESS", 0, "User Initiated", ROOT),
        event(ROOT, "app", "Data", STACK, "DELETE_IN_PROGRESS", 1, physical=NESTED),
        event(NESTED, "app-Data-X", "DatabaseCluster", "AWS::RDS::DBCluster", "DELETE_IN_PROGRESS", 2, physical="db"),
        event(NESTED, "app-Data-X", "DatabaseCluster", "AWS::RDS::DBCluster", "DELETE_COMPLETE", 300, physical="db"),
        event(ROOT, "app", "Data", STACK, "DELETE_COMPLETE", 301, physical=NESTED),
        event(ROOT, "app", "Bucket", "AWS::S3::Bucket", "DELETE_SKIPPED", 302, physical="b"),
        event(ROOT, "app", "app", STACK, "DELETE_COMPLETE", 303, physical=ROOT),
    ]
    assert list(stack_resources(FakeCloudFormation([], summaries), ROOT)) == ["Bucket", "Data", "Data/DatabaseCluster"]
    fake = FakeCloudFormation(recorded, summaries)
    lines: list[str] = []
    stream = EventStream(fake, ROOT, printer=lines.append).of_stack_resources()
    for upto in (2, 7):
        fake.upto = upto
        stream.poll()
    rows = _rows(lines)
    assert rows[0] == ("app", "DELETE_IN_PROGRESS", "0/3") and rows[-1] == ("app", "DELETE_COMPLETE", "3/3")
    (cluster,) = [line for line in lines if "Data/DatabaseCluster" in line and "DELETE_COMPLETE" in line]
    assert "DELETE_COMPLETE (4m58s) " in cluster


def test_a_long_wait_shows_its_elapsed_time_on_a_heartbeat_line():
    # GIVEN the cluster in progress and nothing new for a while
    stream, lines, fake, clock = _stream(CREATE, [8], resources=["Bucket", "Data", "Data/DatabaseCluster"])
    printed = len(lines)
    clock.now += HEARTBEAT - 1
    stream.heartbeat()
    assert len(lines) == printed  # not yet
    clock.now += 71
    stream.heartbeat()
    # THEN one line says what is still in progress and for how long (the stacks themselves are not waits)
    assert lines[-1].endswith("[  0/3  ] still in progress: Bucket (2m10s), Data/DatabaseCluster (2m10s)")
    stream.heartbeat()
    assert len(lines) == printed + 1  # once per heartbeat, not per poll


def test_duration_format():
    assert [duration(s) for s in (4, 59.9, 60, 130, 3599, 3720)] == ["4s", "59s", "1m00s", "2m10s", "59m59s", "1h02m"]


def _plan(details):
    change = changeset.Change("Topic", "Modify", "AWS::SNS::Topic", "False", details)
    return changeset.Plan("app", "cs", "UPDATE", [change])


def test_the_replaces_legend_is_printed_only_when_a_row_has_a_star():
    never = [{"Target": {"Name": "DisplayName", "RequiresRecreation": "Never"}}]
    always = [{"Target": {"Name": "TopicName", "RequiresRecreation": "Always"}}]
    for details, legend in ((never, False), (always, True)):
        out = io.StringIO()
        changeset.render(_plan(details), changeset.Console(out, color=False))
        text = out.getvalue()
        assert ("*" in text.split("(* =")[0]) is legend
        assert ("(* = changing this property replaces the resource)" in text) is legend
