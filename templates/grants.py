"""Grants: what a workload may do with the environment's buckets, queues, topics and tables, as one inline
policy of its role, and the environment variables that name the resources.

Data-driven: `KINDS` holds, per spec section, the storage stack outputs a grant reads, the variables it injects,
the KMS endpoint, and per level the actions on each part of the resource (the ARN itself, its objects `/*`, its
indexes `/index/*`) with the KMS actions the service needs on the environment key. A new kind is one entry.

`apply(spec, grants, role, wiring)` is the one entry point: a service calls it for its task role, and a job (or
any other workload with a role) can call it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import awacs.dynamodb as dynamodb
import awacs.kms as kms
import awacs.s3 as s3
import awacs.sns as sns
import awacs.sqs as sqs
from awacs.aws import Action, Allow, Condition, PolicyDocument, Statement, StringEquals
from troposphere import Ref, Sub, iam

from . import names
from .base import FromStack
from .spec import EnvironmentSpec
from .spec_storage import variable

VERSION = "2012-10-17"


@dataclass(frozen=True)
class Level:
    """What one grant level allows: actions per resource part ("" the ARN itself, "/*", "/index/*") and the KMS
    actions on the environment key (through the kind's endpoint only)."""

    actions: dict[str, tuple[Action, ...]]
    key: tuple[Action, ...]


@dataclass(frozen=True)
class GrantKind:
    """One spec section as grants see it."""

    endpoint: str  # the service whose regional endpoint may use the key: kms:ViaService <endpoint>.<region>...
    arn: str  # the output (suffix of names.storage_output) holding the resource's ARN
    variables: dict[str, str]  # environment variable suffix -> output suffix
    levels: dict[str, Level] = field(default_factory=dict)


_BUCKET_READ = Level({"": (s3.ListBucket,), "/*": (s3.GetObject,)}, (kms.Decrypt,))
# SSE-KMS: PutObject needs a data key; a multipart upload also decrypts it to finish (AWS S3 user guide)
_BUCKET_WRITE = Level(
    {"/*": (s3.PutObject, s3.DeleteObject, s3.AbortMultipartUpload)}, (kms.GenerateDataKey, kms.Decrypt)
)
_TABLE_READ = Level(
    {
        "": (
            dynamodb.BatchGetItem,
            dynamodb.ConditionCheckItem,
            dynamodb.DescribeTable,
            dynamodb.GetItem,
            dynamodb.Query,
            dynamodb.Scan,
        ),
        "/index/*": (dynamodb.Query, dynamodb.Scan),
    },
    (kms.Decrypt,),
)
# DynamoDB encrypts items with a table key it keeps encrypted under the KMS key: reads and writes alike only
# make DynamoDB decrypt that table key (kms:Decrypt through dynamodb.<region>); no data key per write.
_TABLE_WRITE = Level(
    {
        "": (
            dynamodb.BatchWriteItem,
            dynamodb.ConditionCheckItem,
            dynamodb.DeleteItem,
            dynamodb.DescribeTable,
            dynamodb.PutItem,
            dynamodb.UpdateItem,
        )
    },
    (kms.Decrypt,),
)


def _union(*levels: Level) -> Level:
    parts: dict[str, tuple] = {}
    for level in levels:
        for part, actions in level.actions.items():
            parts[part] = tuple(dict.fromkeys(parts.get(part, ()) + actions))
    return Level(parts, tuple(dict.fromkeys(action for level in levels for action in level.key)))


KINDS: dict[str, GrantKind] = {
    "buckets": GrantKind(
        "s3",
        "Arn",
        {"BUCKET": "Name"},
        {"read": _BUCKET_READ, "write": _BUCKET_WRITE, "read-write": _union(_BUCKET_READ, _BUCKET_WRITE)},
    ),
    "queues": GrantKind(
        "sqs",
        "Arn",
        {"QUEUE_URL": "Url", "QUEUE_ARN": "Arn"},
        {
            # an encrypted queue: senders need a data key and to decrypt it (AWS SQS developer guide, SSE)
            "send": Level({"": (sqs.GetQueueAttributes, sqs.SendMessage)}, (kms.GenerateDataKey, kms.Decrypt)),
            "consume": Level(
                {
                    "": (
                        sqs.ChangeMessageVisibility,
                        sqs.DeleteMessage,
                        sqs.GetQueueAttributes,
                        sqs.ReceiveMessage,
                    )
                },
                (kms.Decrypt,),
            ),
        },
    ),
    "topics": GrantKind(
        "sns",
        "Arn",
        {"TOPIC_ARN": "Arn"},
        # an encrypted topic: publishers need a data key and to decrypt it (AWS SNS developer guide, SSE)
        {"publish": Level({"": (sns.Publish,)}, (kms.GenerateDataKey, kms.Decrypt))},
    ),
    "tables": GrantKind(
        "dynamodb",
        "Arn",
        {"TABLE": "Name"},
        {"read": _TABLE_READ, "write": _TABLE_WRITE, "read-write": _union(_TABLE_READ, _TABLE_WRITE)},
    ),
}


def kind_of(spec: EnvironmentSpec, name: str) -> str:
    """The spec section (`buckets`, ...) that declares `name` (validation made names unique across them)."""
    return next(kind for kind in KINDS if name in getattr(spec, kind))


def outputs(kind: str, name: str) -> list[str]:
    """Every storage stack output a grant of `name` may read (its ARN and its variables' values)."""
    entry = KINDS[kind]
    return list(
        dict.fromkeys(names.storage_output(kind, name, what) for what in [entry.arn, *entry.variables.values()])
    )


def statements(spec: EnvironmentSpec, grants: dict[str, str], value) -> list[Statement]:
    """The policy statements of `grants` (resource name -> level); `value(output)` gives the wired value of a
    storage stack output (a Ref of the parameter fed from it)."""
    found: list[Statement] = []
    keys: dict[str, list] = {}  # endpoint -> KMS actions
    for name, level_name in sorted(grants.items()):
        kind = kind_of(spec, name)
        entry = KINDS[kind]
        level = entry.levels[level_name]
        resource_arn = value(names.storage_output(kind, name, entry.arn))
        for part, actions in sorted(level.actions.items()):
            found.append(
                Statement(
                    Sid=f"{names.storage_resource(kind, name)}{_words(level_name)}{_part(part)}",
                    Effect=Allow,
                    Action=list(actions),
                    Resource=[Sub("${Arn}" + part, Arn=resource_arn) if part else resource_arn],
                )
            )
        keys[entry.endpoint] = list(dict.fromkeys(keys.get(entry.endpoint, []) + list(level.key)))
    key = value(names.ENVIRONMENT_KEY_ARN)
    for endpoint, actions in sorted(keys.items()):
        found.append(
            Statement(
                Sid=f"EnvironmentKeyVia{endpoint.capitalize()}",
                Effect=Allow,
                Action=sorted(actions, key=lambda action: action.JSONrepr()),
                Resource=[key],
                Condition=Condition(
                    StringEquals({"kms:ViaService": Sub(f"{endpoint}.${{AWS::Region}}.amazonaws.com")})
                ),
            )
        )
    return found


def _words(level: str) -> str:
    return "".join(part.capitalize() for part in level.split("-"))


def _part(part: str) -> str:
    return {"": "", "/*": "Objects", "/index/*": "Indexes"}[part]


def variables(spec: EnvironmentSpec, grants: dict[str, str], value) -> dict:
    """Environment variable -> value for `grants`: `<NAME>_BUCKET`, `<NAME>_QUEUE_URL` and `<NAME>_QUEUE_ARN`,
    `<NAME>_TOPIC_ARN`, `<NAME>_TABLE` (NAME upper-cased, - as _)."""
    found = {}
    for name in sorted(grants):
        kind = kind_of(spec, name)
        for suffix, what in KINDS[kind].variables.items():
            found[f"{variable(name)}_{suffix}"] = value(names.storage_output(kind, name, what))
    return found


def apply(spec: EnvironmentSpec, grants: dict[str, str], role: iam.Role, wiring) -> dict:
    """Add the policy `grants` to `role` (nothing when there are none) and return the environment variables.

    `wiring.take(name, description, source)` declares a parameter of the role's template fed from `source` and
    returns it: every value comes from the storage stack (names.STORAGE) and the environment key from the
    network stack (names.ENVIRONMENT_KEY_ARN)."""
    if not grants:
        return {}

    def value(output: str):
        if output == names.ENVIRONMENT_KEY_ARN:
            source, what = FromStack(names.NETWORK, output), "KMS key of the environment"
        else:
            source, what = FromStack(names.STORAGE, output), f"{output} (storage stack)"
        return Ref(wiring.take(output, what, source))

    document = PolicyDocument(Version=VERSION, Statement=statements(spec, grants, value))
    role.Policies = [*getattr(role, "Policies", []), iam.Policy(PolicyName="grants", PolicyDocument=document)]
    return variables(spec, grants, value)
