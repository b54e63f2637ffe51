"""Container options of a service past the defaults: its target group's health check and stickiness, ports
served to named CIDR ranges through a Network Load Balancer (TCP or UDP), and its Fargate / Fargate Spot mix.

The limits are AWS's (Elastic Load Balancing v2 target groups, ECS capacity provider strategies), checked here
so a spec that CloudFormation would reject fails at build time, naming the field and what is allowed.

No `from __future__ import annotations`, as in templates/spec.py: msgspec builds the annotations at import.
"""

import re
from typing import Annotated, Literal

from msgspec import Meta, field

from .spec_common import Model, Port, parse_cidr
from .validation import FieldError, worded

# ALB target groups: HTTP codes 200 to 499, as values ("200,202") or one range ("200-299")
MATCHER_PATTERN = worded(
    r"^(\d{3}(,\d{3})*|\d{3}-\d{3})$",
    "HTTP codes as a comma-separated list (200,202) or one range (200-299)",
)
MATCHER_CODES = (200, 499)
ALB_DEFAULT_TIMEOUT = 5  # seconds: what ELB uses for an HTTP target group when HealthCheckTimeoutSeconds is absent
TARGET_GROUPS_PER_SERVICE = 5  # ECS: load balancer target groups one service may register with
RANGE_NAME_PATTERN = worded(
    r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$",
    "lower-case letters, digits and hyphens, 2 to 32 characters, starting with a letter",
)
RangeName = Annotated[str, Meta(pattern=RANGE_NAME_PATTERN)]


class TargetHealthCheckSpec(Model):
    """The load balancer's health check of a service's targets (ELBv2 target group settings)."""

    matcher: Annotated[
        str,
        Meta(
            pattern=MATCHER_PATTERN,
            description="HTTP codes a healthy target answers with: a list (200,202) or one range (200-299), "
            "each code 200 to 499.",
        ),
    ] = "200-399"
    interval_seconds: Annotated[
        int, Meta(ge=5, le=300, description="Seconds between health checks of one target (5 to 300).")
    ] = 15
    timeout_seconds: Annotated[
        Annotated[int, Meta(ge=2, le=120)] | None,
        Meta(
            description="Seconds without an answer that fail a check (2 to 120, below interval_seconds). "
            "Default: ELB's, 5."
        ),
    ] = None
    healthy_threshold: Annotated[
        int, Meta(ge=2, le=10, description="Consecutive passed checks that make a target healthy (2 to 10).")
    ] = 2
    unhealthy_threshold: Annotated[
        int, Meta(ge=2, le=10, description="Consecutive failed checks that make a target unhealthy (2 to 10).")
    ] = 3

    def __post_init__(self) -> None:
        codes = [int(code) for code in re.split(r"[,-]", self.matcher)]
        outside = [code for code in codes if not MATCHER_CODES[0] <= code <= MATCHER_CODES[1]]
        if outside:
            raise FieldError(
                "matcher",
                f"{', '.join(map(str, outside))} outside the HTTP codes an ALB health check accepts "
                f"({MATCHER_CODES[0]} to {MATCHER_CODES[1]})",
            )
        if "-" in self.matcher and codes[0] >= codes[1]:
            raise FieldError("matcher", f"range {self.matcher} must go from a lower code to a higher one")
        timeout = self.timeout_seconds if self.timeout_seconds is not None else ALB_DEFAULT_TIMEOUT
        if timeout >= self.interval_seconds:
            raise FieldError(
                "timeout_seconds",
                f"{timeout} s{'' if self.timeout_seconds is not None else ' (the default)'} must be less than "
                f"interval_seconds {self.interval_seconds}: ELB rejects a timeout as long as the interval",
            )


class StickinessSpec(Model):
    """Sticky sessions: the ALB sets a cookie and sends a client's requests to the same task while it is healthy."""

    type: Annotated[
        Literal["lb_cookie"], Meta(description="lb_cookie: a cookie the load balancer generates (AWSALB).")
    ] = "lb_cookie"
    duration_seconds: Annotated[
        int, Meta(ge=1, le=604800, description="How long a client stays on its task (1 s to 7 days, 604800).")
    ] = 86400


class PublicPortSpec(Model):
    """A port served to named CIDR ranges through an internet-facing Network Load Balancer of the service."""

    port: Annotated[Port, Meta(description="Port the NLB listens on and the container receives on.")]
    inbound: Annotated[
        list[RangeName],
        Meta(min_length=1, description="Names of `ip_ranges` allowed in; nothing else reaches the port."),
    ]
    protocol: Annotated[Literal["tcp", "udp"], Meta(description="tcp or udp (one listener per port).")] = "tcp"


class CapacitySpec(Model):
    """How a Fargate service's tasks split between on-demand Fargate and Fargate Spot (an ECS capacity provider
    strategy): the first `base` tasks on Fargate, the rest by weight."""

    fargate: Annotated[int, Meta(ge=0, le=1000, description="Weight of on-demand Fargate (0 to 1000).")] = 0
    fargate_spot: Annotated[
        int, Meta(ge=0, le=1000, description="Weight of Fargate Spot (0 to 1000; tasks may be interrupted).")
    ] = field(default=0, name="fargate-spot")
    base: Annotated[
        int, Meta(ge=0, le=100000, description="Tasks that always run on on-demand Fargate before the weights apply.")
    ] = 0

    def __post_init__(self) -> None:
        if self.fargate == 0 and self.fargate_spot == 0:
            raise FieldError(
                "fargate", "and fargate-spot are both 0; ECS needs a weight above 0 on at least one of them"
            )


def check_ip_ranges(ranges: dict[str, list[str]]) -> None:
    """Each named range is a non-empty list of IPv4 CIDRs, none twice."""
    for name, cidrs in sorted(ranges.items()):
        if not cidrs:
            raise FieldError(f"ip_ranges.{name}", "lists no CIDR; give at least one (0.0.0.0/0 for anywhere)")
        for position, cidr in enumerate(cidrs):
            parse_cidr(f"ip_ranges.{name}.{position}", cidr)
        if len(set(cidrs)) != len(cidrs):
            raise FieldError(f"ip_ranges.{name}", "lists a CIDR more than once")


def check(spec) -> None:
    """The options of every service of the EnvironmentSpec `spec`, and its `ip_ranges`."""
    check_ip_ranges(spec.ip_ranges)
    for name, service in sorted(spec.services.items()):
        check_service(spec, f"services.{name}", service)


def check_service(spec, where: str, service) -> None:
    """A service's options against each other and the environment: `capacity` only for Fargate,
    `public_ports` only from known ranges, with a TCP port for a UDP health check, and no more target groups
    than ECS registers."""
    if service.capacity is not None and service.compute != "fargate":
        raise FieldError(
            f"{where}.capacity",
            f"mixes Fargate and Fargate Spot, so it needs compute: fargate (got {service.compute}); "
            "remove compute, or remove capacity (an EC2 capacity provider cannot be mixed with Fargate)",
        )
    ports = service.public_ports
    if not ports:
        return
    for position, item in enumerate(ports):
        unknown = [name for name in item.inbound if name not in spec.ip_ranges]
        if unknown:
            raise FieldError(
                f"{where}.public_ports.{position}.inbound",
                f"{', '.join(unknown)} not in ip_ranges (known: {sorted(spec.ip_ranges) or 'none'})",
            )
        if item.protocol == "udp" and service.port is None:
            raise FieldError(
                f"{where}.public_ports.{position}",
                "udp needs the service's `port` (TCP): an NLB checks a UDP target's health over TCP",
            )
    numbers = [item.port for item in ports]
    twice = sorted({number for number in numbers if numbers.count(number) > 1})
    if twice:
        raise FieldError(
            f"{where}.public_ports", f"port {', '.join(map(str, twice))} given twice; an NLB has one listener a port"
        )
    groups = len(ports) + (service.load_balancer is not None)
    if groups > TARGET_GROUPS_PER_SERVICE:
        raise FieldError(
            f"{where}.public_ports",
            f"{groups} target groups (public ports and the ALB route), more than the "
            f"{TARGET_GROUPS_PER_SERVICE} an ECS service registers with",
        )
