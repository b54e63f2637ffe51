"""The spec part of a job: a task run on a schedule (EventBridge Scheduler) or on demand (`build.py run`).

A job is a `TaskSpec`, as a service is: the same image, size, command, variables, secrets, `connects_to` and
grants, checked the same way. It adds when it runs: `schedule` (an EventBridge Scheduler expression), its
`timezone`, and how failed invocations are retried. `runs_per_month` estimates how often a schedule fires, for
the cost report.

No `from __future__ import annotations`, as in templates/spec.py: msgspec builds the annotations at import.
"""

import re
import zoneinfo
from datetime import datetime
from typing import Annotated, ClassVar

from msgspec import Meta

from .spec_services import TaskSpec, check_references
from .validation import FieldError, worded

HOURS_PER_MONTH = 730  # AWS pricing's month
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
CRON = re.compile(r"^cron\((.*)\)$")
AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
TIMEZONE_PATTERN = worded(
    r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$", "an IANA time zone name such as UTC or Europe/Berlin"
)
MONTHS = {name: index for index, name in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
DAYS = {name: index for index, name in enumerate("SUN MON TUE WED THU FRI SAT".split(), 1)}
# cron field -> (name, lowest, highest, names, special characters allowed besides , - * /)
CRON_FIELDS = (
    ("minutes", 0, 59, {}, ""),
    ("hours", 0, 23, {}, ""),
    ("day-of-month", 1, 31, {}, "?LW"),
    ("month", 1, 12, MONTHS, ""),
    ("day-of-week", 1, 7, DAYS, "?L#"),
    ("year", 1970, 2199, {}, ""),
)
SCHEDULE_FORMS = (
    "rate(1 minute), rate(N minutes|hours|days) (singular unit for 1), cron(minutes hours day-of-month month "
    "day-of-week year) with six fields and ? in day-of-month or day-of-week, or at(yyyy-mm-ddThh:mm:ss)"
)


class JobSpec(TaskSpec):
    """A task run to completion on the cluster: on a schedule (EventBridge Scheduler) or on demand (`build.py run`).
    No port, no load balancer, no discovery: nothing connects to a job."""

    # A service's option written on a job: said so, rather than "check the spelling" (templates/validation.py).
    misplaced_fields: ClassVar[dict[str, str]] = {
        "exec": "ECS Exec (exec: true) is a service's option, not a job's: a job's task runs to completion and is "
        "started by its schedule or `build.py run` without execute-command; to get a shell, run the image as a "
        "service with exec: true",
    }

    schedule: Annotated[
        str | None,
        Meta(
            description="EventBridge Scheduler expression: rate(1 minute), rate(N minutes|hours|days), "
            "cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss). "
            "Default: no schedule, the task definition only (run it with `build.py run`)."
        ),
    ] = None
    timezone: Annotated[
        str,
        Meta(
            pattern=TIMEZONE_PATTERN,
            description="IANA time zone the cron() and at() expressions are read in (Europe/Berlin).",
        ),
    ] = "UTC"
    retry_attempts: Annotated[
        int, Meta(ge=0, le=185, description="Retries of an invocation EventBridge Scheduler could not deliver.")
    ] = 2
    max_event_age_seconds: Annotated[
        int,
        Meta(
            ge=60,
            le=86400,
            description="Give up retrying an invocation after this long; it then goes to the dead-letter queue.",
        ),
    ] = 3600
    enabled: Annotated[bool, Meta(description="Schedule state: false keeps the schedule but pauses it.")] = True

    def __post_init__(self) -> None:
        TaskSpec.__post_init__(self)
        if self.schedule is not None:
            check_schedule(self.schedule)
        elif self.timezone != "UTC":
            raise FieldError("timezone", "applies to a schedule only; add `schedule` or remove `timezone`")
        if self.timezone != "UTC":
            try:
                zoneinfo.ZoneInfo(self.timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise FieldError(
                    "timezone", f"{self.timezone!r} is not an IANA time zone (such as UTC or Europe/Berlin)"
                ) from None


def check_schedule(expression: str) -> None:
    """An EventBridge Scheduler expression, or a FieldError saying which part is wrong."""
    rate, cron, at = RATE.match(expression), CRON.match(expression), AT.match(expression)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1:
            raise FieldError("schedule", f"{expression}: the rate must be a positive number")
        if (value == 1) != (not unit.endswith("s")):
            wanted = unit.rstrip("s") if value == 1 else unit + "s"
            raise FieldError("schedule", f"{expression}: write rate({value} {wanted})")
    elif cron:
        _cron_fields(expression, cron.group(1))
    elif at:
        try:
            datetime.strptime(at.group(1), "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            raise FieldError("schedule", f"{expression}: not a date and time") from None
    else:
        raise FieldError("schedule", f"{expression!r} is not a schedule expression; allowed: {SCHEDULE_FORMS}")


def _cron_fields(expression: str, text: str) -> list[set[int] | None]:
    """The values each cron field stands for (None for `?`), or a FieldError."""
    parts = text.split()
    if len(parts) != 6:
        raise FieldError(
            "schedule",
            f"{expression}: a cron expression has six fields (minutes hours day-of-month month day-of-week year), "
            f"got {len(parts)}",
        )
    values = [_cron_field(expression, part, *spec) for part, spec in zip(parts, CRON_FIELDS)]
    if (parts[2] == "?") == (parts[4] == "?"):
        raise FieldError(
            "schedule", f"{expression}: exactly one of day-of-month and day-of-week must be ? (the other one decides)"
        )
    return values


def _cron_field(expression, part, name, low, high, words, special) -> set[int] | None:
    if part == "?":
        if "?" not in special:
            raise FieldError("schedule", f"{expression}: ? is allowed in day-of-month and day-of-week only")
        return None
    found: set[int] = set()
    for item in part.split(","):
        bad = FieldError(
            "schedule", f"{expression}: {name} {item!r} is not a value, range, list or step of {low}..{high}"
        )
        if "L" in special and re.fullmatch(r"L|\d{1,2}W|LW|[1-7]L|[1-7]#[1-5]", item.upper()):
            found.add(low)  # a day AWS picks (last, nearest weekday, n-th weekday): counted as one
            continue
        base, _, step = item.partition("/")
        if step and not step.isdigit():
            raise bad
        if base == "*":
            first, last = low, high
        else:
            start, _, end = base.partition("-")
            try:
                first = words.get(start.upper()) or int(start)
                last = (words.get(end.upper()) or int(end)) if end else (high if step else first)
            except ValueError:
                raise bad from None
            if not low <= first <= high or not low <= last <= high or first > last:
                raise bad
        if step and int(step) < 1:
            raise bad
        found.update(range(first, last + 1, int(step) if step else 1))
    return found


def runs_per_month(expression: str) -> float:
    """About how often a schedule fires in a month of 730 hours: exact for rate(); for cron() the product of its
    fields' value counts (every day of the month as 30.4, a day of the week as 30.4/7 per month, the year
    field ignored); 0 for a one-time at()."""
    rate, cron = RATE.match(expression), CRON.match(expression)
    if rate:
        minutes = int(rate.group(1)) * {"m": 1, "h": 60, "d": 1440}[rate.group(2)[0]]
        return HOURS_PER_MONTH * 60 / minutes
    if cron:
        minutes, hours, month_days, months, week_days, _ = _cron_fields(expression, cron.group(1))
        if month_days is not None:  # every day of the month: a month's 30.4 days, else the days named
            days = DAYS_PER_MONTH if len(month_days) == 31 else len(month_days)
        else:
            days = len(week_days) * DAYS_PER_MONTH / 7
        return len(minutes) * len(hours) * days * len(months) / 12
    return 0.0


def check(spec) -> None:
    """The jobs against the environment `spec` (called by EnvironmentSpec): names apart from the services', and
    the references every task has (repository, capacity, peers, secrets)."""
    for name, job in sorted(spec.jobs.items()):
        where = f"jobs.{name}"
        if name in spec.services:
            raise FieldError(where, f"{name!r} is also a service; jobs and services need different names")
        check_references(spec, where, name, job)
