"""Stack events while CloudFormation works: a boto3 waiter decides when it is done, and meanwhile the
events of the stack and of every nested stack it starts are printed in order with a progress count.
When it fails, `first_failure` finds the resource that caused it (inside nested stacks too), not the
nested stack that merely reports "Embedded stack ... was not successfully created".

What is printed is a resource's state changes, once each: CloudFormation's second `CREATE_IN_PROGRESS` of a
resource ("Resource creation Initiated") and a nested stack's own events (its parent reports it) are not
repeated. The count is of resources, not events: those of the change set (every ResourceChange across the
nested change sets) or, on delete, of the stack tree, against those of them that reached a final state. The
status comes before the path, in a column as wide as the longest status, so long paths do not shift columns.
A resource that took or is taking long (a database, a cache) shows how long: on its next event, and on a line
every HEARTBEAT seconds while nothing else is printed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from botocore.exceptions import ClientError, WaiterError

from stackloom.cfn.model import STACK_TYPE

DONE_SUFFIXES = ("_COMPLETE", "_FAILED", "_SKIPPED")
# The status column, then the path: a nested resource's path can be of any length, a status is at most this
# long (UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, with a long wait's time after a shorter one), so every
# line's columns align without knowing the paths beforehand (a first deploy's change set lists only the root's).
STATUS_WIDTH = 44
LONG_WAIT = 60.0  # seconds in progress after which a resource's elapsed time is shown
HEARTBEAT = 60.0  # seconds without a printed line after which the long waits are listed
# Reasons of a repeated state that add nothing to it (the resource's state did not change).
ROUTINE_REASONS = ("Resource creation Initiated", "Eventual consistency check initiated", "User Initiated")
# Failures that only echo another resource's failure.
ECHO_REASONS = (
    "Resource creation cancelled",
    "Resource update cancelled",
    "Embedded stack",
    "The following resource(s) failed",
)


@dataclass
class Event:
    stack_id: str
    path: str  # "ServiceBackend/LogGroup" for a resource of a nested stack
    logical_id: str
    resource_type: str
    status: str
    reason: str
    physical_id: str
    timestamp: datetime
    is_stack: bool  # the event of a stack itself (root or nested), not of a resource in it

    @property
    def failed(self) -> bool:
        return self.status.endswith("_FAILED")


@dataclass
class EventStream:
    """Reads new events of a stack tree (root + nested stacks as they appear) since `since`."""

    cloudformation: object
    root: str
    since: datetime | None = None  # events before this are history; None: every event is new
    printer: object = None
    expected: int = 0  # resources the operation will bring to a final state, when `resources` does not list them
    seen: set = field(default_factory=set)
    stacks: dict = field(default_factory=dict)  # stack id/name -> path prefix ("" for the root)
    events: list = field(default_factory=list)
    done: set = field(default_factory=set)
    resources: list[str] | None = None  # the paths the count is of (a change set's ResourceChanges)
    clock: object = time.monotonic
    states: dict = field(default_factory=dict)  # path -> its last printed status
    waiting: dict = field(default_factory=dict)  # path -> (its IN_PROGRESS event's time, our clock then)

    def __post_init__(self):
        self.stacks.setdefault(self.root, "")
        self.started = self.clock()
        self.last_line = self.started

    def prime(self) -> "EventStream":
        """Start after the stack's newest existing event (the server's clock, not ours)."""
        try:
            page = self.cloudformation.describe_stack_events(StackName=self.root)
        except ClientError as error:
            if "does not exist" in str(error):
                return self
            raise
        for raw in page["StackEvents"]:
            self.seen.add(raw["EventId"])
            timestamp = raw["Timestamp"] if raw["Timestamp"].tzinfo else raw["Timestamp"].replace(tzinfo=timezone.utc)
            self.since = max(self.since, timestamp) if self.since else timestamp
        return self

    def of_stack_resources(self) -> "EventStream":
        """Count the resources the stack tree has now (a delete's), each nested stack's under its path."""
        self.resources = list(stack_resources(self.cloudformation, self.root))
        return self

    def counted(self) -> tuple[int, int]:
        """(resources in a final state, resources to count)."""
        scope = set(self.resources) if self.resources is not None else None
        if scope is None or self.expected > len(scope):  # a change set that does not list nested resources
            return len(self.done), max(self.expected, len(self.done))
        return len(self.done & scope), len(scope)

    def poll(self) -> list[Event]:
        new: list[Event] = []
        pending = list(self.stacks.items())
        while pending:  # nested stacks found in this pass are read in this pass too
            known = set(self.stacks)
            for stack, prefix in pending:
                new += self._read(stack, prefix)
            pending = [(stack, prefix) for stack, prefix in self.stacks.items() if stack not in known]
        new.sort(key=lambda event: event.timestamp)
        for event in new:
            self.events.append(event)
            if not event.is_stack and event.status.endswith(DONE_SUFFIXES) and "_ROLLBACK" not in event.status:
                self.done.add(event.path)
            nested_stack_itself = event.is_stack and event.path != ""
            if nested_stack_itself:  # its parent reports it as a resource
                continue
            took = self._track(event)
            repeated = self.states.get(event.path) == event.status
            self.states[event.path] = event.status
            if repeated and (not event.reason or event.reason.startswith(ROUTINE_REASONS)):
                continue
            if self.printer is not None:
                self.printer(self.render(event, took))
                self.last_line = self.clock()
        return new

    def _track(self, event: Event) -> float | None:
        """Seconds the resource was in progress when this event ends that; it starts its wait otherwise."""
        key = event.path
        if event.resource_type == STACK_TYPE:  # a stack waits for its resources: theirs are the waits to show
            return None
        if event.status.endswith("_IN_PROGRESS"):
            self.waiting.setdefault(key, (event.timestamp, self.clock()))
            return None
        begun = self.waiting.pop(key, None)
        return (event.timestamp - begun[0]).total_seconds() if begun else None

    def heartbeat(self) -> None:
        """When nothing was printed for HEARTBEAT seconds: what has been in progress for long, and how long."""
        moment = self.clock()
        if self.printer is None or moment - self.last_line < HEARTBEAT:
            return
        long = [
            f"{path} ({duration(moment - since)})"
            for path, (_, since) in sorted(self.waiting.items(), key=lambda item: item[1][1])
            if moment - since >= LONG_WAIT
        ]
        if long:
            done, total = self.counted()
            progress = f"[{done:>3}/{total:<3}]" if total else ""
            self.printer(f"{moment - self.started:6.0f}s {progress} still in progress: {', '.join(long)}")
            self.last_line = moment

    def _read(self, stack: str, prefix: str) -> list[Event]:
        found = []
        paginator = self.cloudformation.get_paginator("describe_stack_events")
        try:
            for page in paginator.paginate(StackName=stack):
                older = False
                for raw in page["StackEvents"]:  # newest first
                    timestamp = raw["Timestamp"]
                    if timestamp.tzinfo is None:
                        timestamp = timestamp.replace(tzinfo=timezone.utc)
                    if self.since is not None and timestamp < self.since:
                        older = True
                        continue
                    if raw["EventId"] in self.seen:
                        continue
                    self.seen.add(raw["EventId"])
                    found.append(self._event(raw, stack, prefix, timestamp))
                if older:
                    break
        except ClientError as error:
            if "does not exist" not in str(error):
                raise
        return found[::-1]  # oldest first: events of the same second keep their order through the sort by time

    def _event(self, raw: dict, stack: str, prefix: str, timestamp: datetime) -> Event:
        logical_id = raw.get("LogicalResourceId", "")
        resource_type = raw.get("ResourceType", "")
        physical_id = raw.get("PhysicalResourceId") or ""
        is_stack = resource_type == STACK_TYPE and logical_id == raw.get("StackName")
        if (
            resource_type == STACK_TYPE
            and not is_stack
            and physical_id.startswith("arn:")
            and physical_id not in self.stacks
        ):
            self.stacks[physical_id] = f"{prefix}{logical_id}/"
        path = prefix.rstrip("/") if is_stack else f"{prefix}{logical_id}"
        return Event(
            stack_id=raw.get("StackId", stack),
            path=path,
            logical_id=logical_id,
            resource_type=resource_type,
            status=raw.get("ResourceStatus", ""),
            reason=raw.get("ResourceStatusReason") or "",
            physical_id=physical_id,
            timestamp=timestamp,
            is_stack=is_stack,
        )

    def render(self, event: Event, took: float | None = None) -> str:
        elapsed = self.clock() - self.started
        done, total = self.counted()
        progress = f"[{done:>3}/{total:<3}]" if total else ""
        name = event.path or event.logical_id
        status = event.status + (f" ({duration(took)})" if took is not None and took >= LONG_WAIT else "")
        reason = f"  {event.reason}" if event.reason and event.reason != "User Initiated" else ""
        return f"{elapsed:6.0f}s {progress} {status:<{STATUS_WIDTH}} {name}{reason}".rstrip()


def duration(seconds: float) -> str:
    """`2m10s`, `1h02m`, `45s`."""
    whole = int(seconds)
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    if whole >= 60:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole}s"


def stack_resources(cloudformation, stack: str, prefix: str = ""):
    """The path of every resource of a stack and of its nested stacks (ListStackResources, paginated)."""
    paginator = cloudformation.get_paginator("list_stack_resources")
    try:
        pages = list(paginator.paginate(StackName=stack))
    except ClientError as error:
        if "does not exist" in str(error):
            return
        raise
    for page in pages:
        for summary in page.get("StackResourceSummaries", []):
            path = f"{prefix}{summary['LogicalResourceId']}"
            if summary.get("ResourceStatus") == "DELETE_COMPLETE":
                continue
            yield path
            physical = summary.get("PhysicalResourceId") or ""
            if summary.get("ResourceType") == STACK_TYPE and physical.startswith("arn:"):
                yield from stack_resources(cloudformation, physical, f"{path}/")


def wait(
    cloudformation, waiter_name: str, stack: str, stream: EventStream, poll: float, max_attempts: int = 720
) -> bool:
    """Run the boto3 waiter in a thread and print events until it returns; True when it succeeded."""
    outcome: dict = {}

    def run() -> None:
        try:
            cloudformation.get_waiter(waiter_name).wait(
                StackName=stack, WaiterConfig={"Delay": poll, "MaxAttempts": max_attempts}
            )
            outcome["ok"] = True
        except WaiterError as error:
            outcome["error"] = error

    worker = threading.Thread(target=run, name=f"wait-{waiter_name}", daemon=True)
    worker.start()
    while worker.is_alive():
        stream.poll()
        stream.heartbeat()
        worker.join(timeout=poll)
    stream.poll()
    return bool(outcome.get("ok"))


def first_failure(events: list[Event]) -> Event | None:
    """The earliest failed resource that is a cause, not an echo (a nested stack reporting its child)."""
    failed = [event for event in events if event.failed]
    causes = [
        event
        for event in failed
        if not event.is_stack and event.resource_type != STACK_TYPE and not event.reason.startswith(ECHO_REASONS)
    ]
    for group in (causes, [event for event in failed if not event.is_stack], failed):
        if group:
            return min(group, key=lambda event: event.timestamp)
    return None


def now() -> datetime:
    return datetime.now(timezone.utc)
