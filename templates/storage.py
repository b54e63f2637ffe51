"""The storage stack: the buckets, queues, topics and tables applications use, each encrypted with the
environment's KMS key, tagged, kept when the stack or the resource goes (none of these types can snapshot), and
named by CloudFormation (bucket names are global; a fixed name blocks a replacement). Services reach them
through grants (templates/grants.py), which read this stack's outputs."""

from __future__ import annotations

import awacs.sqs as sqs
from awacs.aws import Allow, ArnEquals, Condition, PolicyDocument, Principal, Statement
from troposphere import GetAtt, Ref, Template, dynamodb, s3, sns
from troposphere import sqs as queues

from . import iam as policies
from . import names
from .base import RETAIN, FromStack, NestedStack, new_template, output, parameter, tags
from .spec import BucketSpec, EnvironmentSpec, QueueSpec, TableSpec, TopicSpec
from .spec_common import shortened
from .spec_storage import SQS_MAX_RETENTION


def needed(spec: EnvironmentSpec) -> bool:
    """Whether the environment has this stack: only with a bucket, queue, topic or table in the spec."""
    return bool(spec.buckets or spec.queues or spec.topics or spec.tables)


def build(spec: EnvironmentSpec) -> NestedStack:
    """The storage stack (names.STORAGE, names.STORAGE_FILE); only when `needed(spec)`.

    Reads spec.buckets, spec.queues, spec.topics, spec.tables (every field of their parts), spec.production,
    spec.prefix. Exports, per resource, names.storage_output(kind, name, what): buckets `Name` and `Arn`, queues
    `Url` and `Arn`, topics `Arn`, tables `Name` and `Arn`. Wired input: names.ENVIRONMENT_KEY_ARN from
    names.NETWORK.
    """
    if not needed(spec):
        raise ValueError(f"{spec.prefix}: no buckets, queues, topics or tables, so no storage stack")
    template = new_template(spec, "storage (S3 buckets, SQS queues, SNS topics, DynamoDB tables)")
    key = Ref(parameter(template, names.ENVIRONMENT_KEY_ARN, "KMS key of the environment"))
    inputs = {names.ENVIRONMENT_KEY_ARN: FromStack(names.NETWORK, names.ENVIRONMENT_KEY_ARN)}
    for name, bucket in sorted(spec.buckets.items()):
        _bucket(template, spec, name, bucket, key)
    for name, queue in sorted(spec.queues.items()):
        _queue(template, spec, name, queue, key)
    for name, topic in sorted(spec.topics.items()):
        _topic(template, spec, name, topic, key)
    _queue_policies(template, spec)
    for name, table in sorted(spec.tables.items()):
        _table(template, spec, name, table, key)
    return NestedStack(names.STORAGE, names.STORAGE_FILE, template, inputs)


def _kept() -> dict:
    return {"DeletionPolicy": RETAIN, "UpdateReplacePolicy": "Retain"}


def _bucket(template: Template, spec: EnvironmentSpec, name: str, settings: BucketSpec, key) -> None:
    logical_id = names.storage_resource("buckets", name)
    rules = [
        s3.LifecycleRule(
            Id="abort-incomplete-uploads",
            Status="Enabled",
            AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(DaysAfterInitiation=7),
        )
    ]
    if settings.versioning:
        rules.append(
            s3.LifecycleRule(
                Id="expire-old-versions",
                Status="Enabled",
                NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                    NoncurrentDays=settings.noncurrent_expiry_days
                ),
            )
        )
    if settings.expiry_days is not None:
        rules.append(s3.LifecycleRule(Id="expire-objects", Status="Enabled", ExpirationInDays=settings.expiry_days))
    extra = {}
    if settings.cors is not None:
        cors = settings.cors
        extra["CorsConfiguration"] = s3.CorsConfiguration(
            CorsRules=[
                s3.CorsRules(
                    AllowedOrigins=list(cors.allowed_origins),
                    AllowedMethods=list(cors.allowed_methods),
                    **({"AllowedHeaders": list(cors.allowed_headers)} if cors.allowed_headers else {}),
                    MaxAge=cors.max_age_seconds,
                )
            ]
        )
    bucket = template.add_resource(
        s3.Bucket(
            logical_id,
            **_kept(),
            VersioningConfiguration=s3.VersioningConfiguration(
                Status="Enabled" if settings.versioning else "Suspended"
            ),
            BucketEncryption=s3.BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    s3.ServerSideEncryptionRule(
                        ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                            SSEAlgorithm="aws:kms", KMSMasterKeyID=key
                        ),
                        BucketKeyEnabled=True,
                    )
                ]
            ),
            PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
                BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True
            ),
            OwnershipControls=s3.OwnershipControls(
                Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
            ),
            LifecycleConfiguration=s3.LifecycleConfiguration(Rules=rules),
            **extra,
            Tags=tags(spec, f"{spec.prefix}-{name}"),
        )
    )
    template.add_resource(
        s3.BucketPolicy(
            f"{logical_id}Policy",
            Bucket=Ref(bucket),
            PolicyDocument=PolicyDocument(
                Version=policies.VERSION, Statement=[policies.deny_insecure_transport(bucket)]
            ),
        )
    )
    output(template, names.storage_output("buckets", name, "Name"), Ref(bucket), f"Name of bucket {name}")
    output(template, names.storage_output("buckets", name, "Arn"), GetAtt(bucket, "Arn"), f"ARN of bucket {name}")


def _queue(template: Template, spec: EnvironmentSpec, name: str, settings: QueueSpec, key) -> None:
    logical_id = names.storage_resource("queues", name)
    fifo = {"FifoQueue": True} if settings.fifo else {}
    extra = {}
    if settings.dead_letter_after is not None:
        dead = template.add_resource(
            queues.Queue(
                f"{pascal_of(logical_id)}DeadLetterQueue",
                **_kept(),
                **fifo,
                **({"QueueName": fifo_queue_name(f"{spec.prefix}-{name}-dlq")} if settings.fifo else {}),
                MessageRetentionPeriod=SQS_MAX_RETENTION,
                KmsMasterKeyId=key,
                Tags=tags(spec, f"{spec.prefix}-{name}-dead-letters"),
            )
        )
        extra["RedrivePolicy"] = queues.RedrivePolicy(
            deadLetterTargetArn=GetAtt(dead, "Arn"), maxReceiveCount=settings.dead_letter_after
        )
    queue = template.add_resource(
        queues.Queue(
            logical_id,
            **_kept(),
            **fifo,
            **(
                {"QueueName": settings.name}
                if settings.name
                else {"QueueName": fifo_queue_name(f"{spec.prefix}-{name}")}
                if settings.fifo
                else {}
            ),
            VisibilityTimeout=settings.visibility_timeout_seconds,
            MessageRetentionPeriod=settings.retention_seconds,
            KmsMasterKeyId=key,
            **extra,
            Tags=tags(spec, f"{spec.prefix}-{name}"),
        )
    )
    output(template, names.storage_output("queues", name, "Url"), Ref(queue), f"URL of queue {name}")
    output(template, names.storage_output("queues", name, "Arn"), GetAtt(queue, "Arn"), f"ARN of queue {name}")


def fifo_queue_name(stem: str) -> str:
    """A FIFO queue's name, which SQS wants to end with .fifo (at most 80 characters): so a FIFO queue is named,
    as a FIFO topic is, rather than left to CloudFormation's generated name; a standard queue is CloudFormation's."""
    return f"{shortened(stem, 75)}.fifo"


def pascal_of(logical_id: str) -> str:
    """`JobsQueue` -> `Jobs`: the stem the dead-letter queue shares."""
    return logical_id.removesuffix("Queue")


def _topic(template: Template, spec: EnvironmentSpec, name: str, settings: TopicSpec, key) -> None:
    logical_id = names.storage_resource("topics", name)
    # SNS wants a FIFO topic's name to end with .fifo, so a FIFO topic is named; a standard one is CloudFormation's
    fifo = {"FifoTopic": True, "TopicName": f"{spec.prefix}-{name}.fifo"} if settings.fifo else {}
    topic = template.add_resource(
        sns.Topic(logical_id, **_kept(), **fifo, KmsMasterKeyId=key, Tags=tags(spec, f"{spec.prefix}-{name}"))
    )
    for queue in settings.subscribe:
        queue_id = names.storage_resource("queues", queue)
        template.add_resource(
            sns.SubscriptionResource(
                f"{logical_id}{queue_id}Subscription",
                TopicArn=Ref(topic),
                Protocol="sqs",
                Endpoint=GetAtt(queue_id, "Arn"),
                RawMessageDelivery=settings.raw_message_delivery,
                DependsOn=[f"{queue_id}Policy"],  # SNS may send only once the queue policy lets it
            )
        )
    output(template, names.storage_output("topics", name, "Arn"), Ref(topic), f"ARN of topic {name}")


def _queue_policies(template: Template, spec: EnvironmentSpec) -> None:
    """One policy per subscribed queue (SQS keeps one policy per queue): each subscribing topic may send to it."""
    senders: dict[str, list[str]] = {}
    for name, topic in sorted(spec.topics.items()):
        for queue in topic.subscribe:
            senders.setdefault(queue, []).append(name)
    for queue, topics in sorted(senders.items()):
        queue_id = names.storage_resource("queues", queue)
        template.add_resource(
            queues.QueuePolicy(
                f"{queue_id}Policy",
                Queues=[Ref(queue_id)],
                PolicyDocument=PolicyDocument(
                    Version=policies.VERSION,
                    Statement=[
                        Statement(
                            Sid=f"{names.storage_resource('topics', topic)}Sends",
                            Effect=Allow,
                            Principal=Principal("Service", ["sns.amazonaws.com"]),
                            Action=[sqs.SendMessage],
                            Resource=[GetAtt(queue_id, "Arn")],
                            Condition=Condition(
                                ArnEquals({"aws:SourceArn": Ref(names.storage_resource("topics", topic))})
                            ),
                        )
                        for topic in topics
                    ],
                ),
            )
        )


def _table(template: Template, spec: EnvironmentSpec, name: str, settings: TableSpec, key) -> None:
    logical_id = names.storage_resource("tables", name)
    keys = [("HASH", settings.partition_key)] + ([("RANGE", settings.sort_key)] if settings.sort_key else [])
    protection = settings.deletion_protection if settings.deletion_protection is not None else spec.production
    extra = {}
    if settings.billing == "provisioned":
        extra["ProvisionedThroughput"] = dynamodb.ProvisionedThroughput(
            ReadCapacityUnits=settings.read_capacity, WriteCapacityUnits=settings.write_capacity
        )
    if settings.ttl_attribute is not None:
        extra["TimeToLiveSpecification"] = dynamodb.TimeToLiveSpecification(
            AttributeName=settings.ttl_attribute, Enabled=True
        )
    table = template.add_resource(
        dynamodb.Table(
            logical_id,
            **_kept(),
            AttributeDefinitions=[
                dynamodb.AttributeDefinition(AttributeName=attribute.name, AttributeType=attribute.type)
                for _, attribute in keys
            ],
            KeySchema=[dynamodb.KeySchema(AttributeName=attribute.name, KeyType=role) for role, attribute in keys],
            BillingMode="PROVISIONED" if settings.billing == "provisioned" else "PAY_PER_REQUEST",
            **extra,
            PointInTimeRecoverySpecification=dynamodb.PointInTimeRecoverySpecification(PointInTimeRecoveryEnabled=True),
            SSESpecification=dynamodb.SSESpecification(SSEEnabled=True, SSEType="KMS", KMSMasterKeyId=key),
            DeletionProtectionEnabled=protection,
            Tags=tags(spec, f"{spec.prefix}-{name}"),
        )
    )
    output(template, names.storage_output("tables", name, "Name"), Ref(table), f"Name of table {name}")
    output(template, names.storage_output("tables", name, "Arn"), GetAtt(table, "Arn"), f"ARN of table {name}")
