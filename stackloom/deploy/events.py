"""Stack events while CloudFormation works: a boto3 waiter decides when it is done, and meanwhile the
events of the stack and of every nested stack it starts are printed in order with a progress count.
When it fails, `first_failure` finds the resource that caused it (inside nested stacks too), not the
nested stack that merely reports "Embedded stack ... was not successfully created".
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from botocore.exceptions import ClientError, WaiterError

from stackloom.cfn.model import STACK_TYPE

DONE_SUFFIXES = ("_COMPLETE", "_FAILED", "_SKIPPED")
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
    expected: int = 0
    seen: set = field(default_factory=set)
    stacks: dict = field(default_factory=dict)  # stack id/name -> path prefix ("" for the root)
    events: list = field(default_factory=list)
    done: set = field(default_factory=set)

    def __post_init__(self):
        self.stacks.setdefault(self.root, "")
        self.started = time.monotonic()

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
            if self.printer is not None and not nested_stack_itself:  # its parent reports it as a resource
                self.printer(self.render(event))
        return new

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
        return found

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

    def render(self, event: Event) -> str:
        elapsed = time.monotonic() - self.started
        total = max(self.expected, len(self.done))
        progress = f"[{len(self.done):>3}/{total:<3}]" if total else ""
        reason = f"  {event.reason}" if event.reason and event.reason != "User Initiated" else ""
        return f"{elapsed:6.0f}s {progress} {event.path or event.logical_id:<44} {event.status:<28}{reason}".rstrip()


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
