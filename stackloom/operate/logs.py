"""`logs SYSTEM/ENV NAME`: the CloudWatch Logs of a service or a job, read with the FilterLogEvents paginator.

The log group is the job's (manifest `jobs.<name>.log_group`, streams `<prefix>/<container>/<task id>`) or the
service's (its deployed stack's LogGroupName output, else its AWS::Logs::LogGroup resource). `--since` takes a
duration back from now (`30s`, `10m`, `2h`, `1d`, `1w`) or an ISO 8601 time (UTC when it names no zone);
`--filter` is a CloudWatch Logs filter pattern; `--follow` polls for new events until Ctrl-C.

`--json` writes one JSON object per line and event (so `--follow` streams too):

    {"time": ISO-8601 UTC, "timestamp": epoch ms, "source": "backend", "log_group": "/ecs/...",
     "stream": "backend/backend/<task id>", "message": "...", "event_id": "..."}
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from stackloom.errors import UserError
from stackloom.manifest import Manifest
from stackloom.operate.resources import check_name, locate_service, require_deployed, stack_tree

DEFAULT_SINCE = "10m"  # as `aws logs tail`
FOLLOW_POLL = 2.0  # seconds between FilterLogEvents calls with --follow
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DURATION = re.compile(r"^(\d+)([smhdw])$")


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`10m`, `2h`, `1d` back from `now`, or an ISO 8601 time; a ValueError that says what is allowed."""
    now = now or datetime.now(timezone.utc)
    value = text.strip()
    match = DURATION.match(value)
    if match:
        return now - timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)])
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--since {text!r}: expected a duration (30s, 10m, 2h, 1d, 1w) or an ISO 8601 time "
            "(2026-12-02T10:00:00Z)"
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    if moment > now:
        raise ValueError(f"--since {text!r}: that is in the future (now is {now.isoformat(timespec='seconds')})")
    return moment


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class Source:
    """Where one service's or job's containers log."""

    name: str
    kind: str  # service | job
    log_group: str
    stream_prefix: str = ""


def source(cloudformation, manifest: Manifest, name: str) -> Source:
    """The log group of service or job `name` (a UserError naming the known ones for any other name)."""
    check_name(manifest, name)
    jobs = manifest.jobs or {}
    if name in jobs:
        return Source(name=name, kind="job", log_group=jobs[name].log_group, stream_prefix=jobs[name].log_stream_prefix)
    tree = stack_tree(cloudformation, manifest)
    require_deployed(tree, manifest)
    location = locate_service(cloudformation, manifest, tree, name)
    if not location.log_group:
        raise UserError(
            f"{manifest.target}: service {name} has no deployed log group (stack {manifest.services[name].stack} "
            "is not deployed or has no LogGroupName output); deploy the environment again"
        )
    return Source(name=name, kind="service", log_group=location.log_group)


def events(logs, where: Source, start_ms: int, pattern: str = "") -> Iterator[dict]:
    """Every event from `start_ms` on, oldest first (FilterLogEvents paginator)."""
    request = {"logGroupName": where.log_group, "startTime": start_ms}
    if pattern:
        request["filterPattern"] = pattern
    if where.stream_prefix:
        request["logStreamNamePrefix"] = where.stream_prefix
    for page in logs.get_paginator("filter_log_events").paginate(**request):
        yield from sorted(page.get("events") or [], key=lambda event: event["timestamp"])  # streams interleaved


def follow(
    logs,
    where: Source,
    start_ms: int,
    pattern: str,
    emit: Callable[[dict], None],
    poll: float = FOLLOW_POLL,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Emit every event from `start_ms`, then keep polling for new ones until interrupted (Ctrl-C).
    Events are new by eventId: several can share a millisecond, so each poll starts at the last one seen."""
    seen: set[str] = set()
    while True:
        newest = start_ms
        for event in events(logs, where, start_ms, pattern):
            key = event.get("eventId") or f"{event.get('logStreamName')}/{event['timestamp']}/{event.get('message')}"
            newest = max(newest, event["timestamp"])
            if key not in seen:
                seen.add(key)
                emit(event)
        start_ms = newest
        (sleep or pause)(poll)


def pause(seconds: float) -> None:
    """The wait between two polls of --follow (a plain sleep: new log events have no waiter)."""
    time.sleep(seconds)


def as_record(where: Source, event: dict) -> dict:
    """An event in the `--json` shape (see the module docstring)."""
    moment = datetime.fromtimestamp(event["timestamp"] / 1000, tz=timezone.utc)
    return {
        "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "timestamp": event["timestamp"],
        "source": where.name,
        "log_group": where.log_group,
        "stream": event.get("logStreamName", ""),
        "message": event.get("message", "").rstrip("\n"),
        "event_id": event.get("eventId", ""),
    }


def as_line(record: dict) -> str:
    """An event as one line of text: time, stream, message."""
    return f"{record['time']}  {record['stream']}  {record['message']}"
