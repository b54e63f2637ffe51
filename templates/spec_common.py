"""The vocabulary every spec part shares: the base Struct, name patterns, Fargate sizes, and the checks of
tags, CIDRs and log retention that several parts apply (templates/spec.py is the entry point).

No `from __future__ import annotations`, as in templates/spec.py: msgspec builds the annotations at import.
"""

import hashlib
import ipaddress
import re
from typing import Annotated

from msgspec import Meta, Struct

from .validation import FieldError, worded

NAME_PATTERN = worded(
    r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$",
    "lower-case letters, digits and hyphens, 2 to 32 characters, starting with a letter and ending with a letter or digit",
)
SERVICE_NAME_PATTERN = worded(
    r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$",
    "lower-case letters, digits and hyphens, 2 to 24 characters, starting with a letter and ending with a letter or digit",
)
ENV_VAR_PATTERN = worded(
    r"^[A-Za-z_][A-Za-z0-9_]{0,254}$",
    "an environment variable name: letters, digits and _, not starting with a digit, at most 255 characters",
)
AZ_PATTERN = worded(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d[a-z]$", "an availability zone name such as eu-central-1a")
RESERVED_TAGS = ("Environment", "ManagedBy", "Name", "System")  # cost allocation and the diff rely on them
# what AWS accepts where spec text lands in a template verbatim (ELB, SSM); see the fields' descriptions
SSL_POLICY_PATTERN = worded(
    r"^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)(-[A-Za-z0-9]+)*$",
    "an ELB predefined policy of TLS 1.2 or newer (ELBSecurityPolicy-TLS13-1-2-..., -TLS13-1-3-..., "
    "-TLS-1-2-... or -FS-1-2-...)",
)
SSM_PARAMETER_PATTERN = worded(r"^/[A-Za-z0-9_.\-/]+$", "an SSM parameter path: / then letters, digits and _.-/")
PATH_PATTERN = worded(
    r"^/[A-Za-z0-9_\-.$/~\"'@:+&*?]*$",
    "an ALB path pattern: starts with / and holds only letters, digits and _-.$/~\"'@:+&*?",
)
HOST_PATTERN = worded(
    r"^[A-Za-z0-9*?]([A-Za-z0-9*?.\-]*[A-Za-z0-9*?])?$",
    "a host name as ALB matches it: letters, digits, - and ., wildcards * and ?; no scheme, port or path",
)
DNS_NAME_PATTERN = worded(
    r"^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,61}[A-Za-z0-9]\.?$",
    "a DNS name: labels of letters, digits and inner hyphens (at most 63 each) joined by dots, optionally "
    "starting with *.",
)
ZONE_NAME_PATTERN = worded(
    r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,61}[A-Za-z0-9]\.?$",
    "a DNS zone name: labels of letters, digits and inner hyphens (at most 63 each) joined by dots",
)
HEALTH_CHECK_PATH_PATTERN = worded(r"^/[!-~]*$", "a URL path: starts with / and holds only printable ASCII, no spaces")
SECRET_PATTERN = worded(
    r"^([A-Za-z0-9/_+=.@-]{1,512}|arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6})$",
    "a Secrets Manager secret name (letters, digits and /_+=.@-, at most 512) or its full ARN "
    "(arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-xxxxxx, with the six characters AWS appends)",
)
PRODUCTION_BACKUP_DAYS = 7  # Aurora automated backups kept in production

# Fargate's valid CPU units and the memory (MiB) each allows.
FARGATE_MEMORY = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4097, 1024)),
    1024: list(range(2048, 8193, 1024)),
    2048: list(range(4096, 16385, 1024)),
    4096: list(range(8192, 30721, 1024)),
    8192: list(range(16384, 61441, 4096)),
    16384: list(range(32768, 122881, 8192)),
}

ServiceName = Annotated[str, Meta(pattern=SERVICE_NAME_PATTERN)]
EnvVarName = Annotated[str, Meta(pattern=ENV_VAR_PATTERN)]
Port = Annotated[int, Meta(ge=1, le=65535)]


class Model(Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Base for every spec part: unknown keys are errors and values are immutable once loaded."""


def parse_cidr(where: str, value: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        raise FieldError(where, f"{value!r} is not a valid IPv4 CIDR ({error})") from None


TAG_SYMBOLS = set("_.:/=+-@ ")


def check_tag(what: str, text: str, shortest: int, longest: int) -> None:
    """The characters and lengths every AWS service accepts in tags (letters, digits, spaces, _.:/=+-@)."""
    if not shortest <= len(text) <= longest:
        raise FieldError("tags", f"{what}: {shortest} to {longest} characters, got {len(text)}")
    bad = sorted({char for char in text if not (char.isalnum() or char in TAG_SYMBOLS)})
    if bad:
        raise FieldError(
            "tags",
            f"{what}: characters {''.join(bad)!r} are not allowed in tags " "(letters, digits, spaces, _.:/=+-@)",
        )


LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def check_retention(where: str, value: int) -> None:
    if value not in LOG_RETENTION_DAYS:
        raise FieldError(
            where, f"{value} is not a CloudWatch Logs retention; allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}"
        )


def pascal(name: str) -> str:
    """`yagna-node` -> `YagnaNode`: logical-ID-safe and stable for a given name."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


NAME_HASH = 6  # hex digits of the hash a shortened name ends with: 16.7 million, per account and region


def shortened(name: str, limit: int) -> str:
    """`name` when it fits in `limit` characters, else its start and `-` and a short hash of the whole name.

    Deterministic, and two names that differ anywhere (`shop-preprod`, `shop-preprod-2`) stay different however
    much is cut; never ends with a hyphen before the hash (`a--1b2c3d` is as valid as the unshortened name)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:NAME_HASH]
    return f"{name[: limit - NAME_HASH - 1].rstrip('-')}-{digest}"


# The VPC endpoints `network.endpoints` may name (the service name is com.amazonaws.<region>.<name>): gateway
# endpoints are route table entries (free), interface endpoints network interfaces in the private subnets.
GATEWAY_ENDPOINTS = ("dynamodb", "s3")
INTERFACE_ENDPOINTS = (
    "ecr.api",
    "ecr.dkr",
    "ecs",
    "ecs-agent",
    "ecs-telemetry",
    "kms",
    "logs",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "ssmmessages",
    "sts",
)
