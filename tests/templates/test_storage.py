"""The storage stack (templates/storage.py): buckets, queues, topics and tables, each encrypted with the
environment key, kept on delete, tagged; the key policy's SNS statement; bad storage input refused in words."""

from __future__ import annotations

import pytest

from templates import names
from templates.spec import SpecInvalid, parse

from ..helpers import assert_has_resource, base_spec, compile_dict, resources, storage_spec

KEY = {"Ref": names.ENVIRONMENT_KEY_ARN}
KEPT = {"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"}


@pytest.fixture(scope="module")
def built() -> dict:
    return compile_dict(storage_spec())


def test_no_storage_section_no_storage_stack():
    # GIVEN a spec without buckets, queues, topics or tables WHEN built THEN there is no storage stack
    assert names.STORAGE_FILE not in compile_dict(base_spec())


def test_storage_stack_is_wired_after_the_network(built):
    # GIVEN a spec with storage WHEN built THEN the root nests storage.json with the environment key wired in
    stack = built["root.json"]["Resources"][names.STORAGE]
    assert stack["Properties"]["TemplateURL"] == names.STORAGE_FILE
    assert stack["Properties"]["Parameters"] == {
        names.ENVIRONMENT_KEY_ARN: {"Fn::GetAtt": [names.NETWORK, f"Outputs.{names.ENVIRONMENT_KEY_ARN}"]}
    }


def test_bucket_is_encrypted_private_versioned_and_kept(built):
    # GIVEN bucket uploads (expiry 365 days, CORS) WHEN built THEN SSE-KMS with the key and a bucket key, all
    # four public access blocks, versioning, lifecycle rules, CORS, no fixed name, tags, Retain
    bucket = built["storage.json"]["Resources"]["UploadsBucket"]
    props = bucket["Properties"]
    assert {key: bucket[key] for key in KEPT} == KEPT
    assert "BucketName" not in props
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"BucketKeyEnabled": True, "ServerSideEncryptionByDefault": {"KMSMasterKeyID": KEY, "SSEAlgorithm": "aws:kms"}}
    ]
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-old-versions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert rules["expire-objects"]["ExpirationInDays"] == 365
    assert props["CorsConfiguration"]["CorsRules"] == [
        {"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["https://app.example.com"], "MaxAge": 3000}
    ]
    assert {"Key": "Name", "Value": "acme-dev-uploads"} in props["Tags"]


def test_bucket_policy_denies_plain_http(built):
    # GIVEN bucket uploads WHEN built THEN its policy denies every request without TLS on the bucket and objects
    policy = built["storage.json"]["Resources"]["UploadsBucketPolicy"]["Properties"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert policy["Bucket"] == {"Ref": "UploadsBucket"}


def test_unversioned_bucket_has_no_old_version_rule():
    # GIVEN versioning: false WHEN built THEN versioning is suspended and no noncurrent-version rule is written
    props = compile_dict(base_spec(buckets={"scratch": {"versioning": False}}))["storage.json"]["Resources"][
        "ScratchBucket"
    ]["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Suspended"}
    assert [rule["Id"] for rule in props["LifecycleConfiguration"]["Rules"]] == ["abort-incomplete-uploads"]


def test_queue_with_dead_letter_queue(built):
    # GIVEN queue jobs with dead_letter_after 5 WHEN built THEN both queues use the key and are kept, the dead-letter
    # queue keeps 14 days, and the redrive policy moves a message after 5 receives
    found = built["storage.json"]["Resources"]
    queue, dead = found["JobsQueue"], found["JobsDeadLetterQueue"]
    for resource in (queue, dead):
        assert resource["Properties"]["KmsMasterKeyId"] == KEY
        assert {key: resource[key] for key in KEPT} == KEPT
        assert "QueueName" not in resource["Properties"] and "FifoQueue" not in resource["Properties"]
    assert dead["Properties"]["MessageRetentionPeriod"] == 1209600
    assert queue["Properties"]["VisibilityTimeout"] == 60
    assert queue["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["JobsDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }


def test_fifo_queue_and_its_dead_letter_queue_are_fifo():
    # GIVEN a FIFO queue with a dead-letter queue and a given name WHEN built THEN both are FIFO, the name is kept
    spec = base_spec(queues={"orders": {"fifo": True, "name": "acme-orders.fifo", "dead_letter_after": 3}})
    found = compile_dict(spec)["storage.json"]["Resources"]
    assert found["OrdersQueue"]["Properties"]["FifoQueue"] is True
    assert found["OrdersQueue"]["Properties"]["QueueName"] == "acme-orders.fifo"
    assert found["OrdersDeadLetterQueue"]["Properties"]["FifoQueue"] is True


def test_topic_delivers_to_its_queue(built):
    # GIVEN topic events subscribing queue jobs (raw delivery) WHEN built THEN the topic is encrypted and kept, the
    # subscription waits for a queue policy that lets exactly that topic send
    found = built["storage.json"]["Resources"]
    topic = found["EventsTopic"]
    assert topic["Properties"]["KmsMasterKeyId"] == KEY and {key: topic[key] for key in KEPT} == KEPT
    subscription = found["EventsTopicJobsQueueSubscription"]
    assert subscription["Properties"] == {
        "Endpoint": {"Fn::GetAtt": ["JobsQueue", "Arn"]},
        "Protocol": "sqs",
        "RawMessageDelivery": True,
        "TopicArn": {"Ref": "EventsTopic"},
    }
    assert subscription["DependsOn"] == ["JobsQueuePolicy"]
    (statement,) = found["JobsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": ["sns.amazonaws.com"]}
    assert statement["Action"] == ["sqs:SendMessage"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "EventsTopic"}}}


def test_key_policy_lets_sns_use_the_key_only_with_a_subscription(built):
    # GIVEN a topic delivering to an encrypted queue WHEN built THEN the key policy lets SNS make and read data keys,
    # for this account's topics of the region only; without a subscription the statement is absent
    def sns_statements(templates):
        key = templates["network.json"]["Resources"]["EnvironmentKey"]["Properties"]["KeyPolicy"]
        return [s for s in key["Statement"] if s.get("Principal") == {"Service": ["sns.amazonaws.com"]}]

    (statement,) = sns_statements(built)
    assert statement["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}}
    assert "sns:${AWS::Region}:${AWS::AccountId}:*" in statement["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]
    assert sns_statements(compile_dict(base_spec(topics={"events": {}}))) == []


def test_fifo_topic_is_named_with_the_fifo_ending():
    spec = base_spec(topics={"orders": {"fifo": True, "subscribe": ["work"]}}, queues={"work": {"fifo": True}})
    props = compile_dict(spec)["storage.json"]["Resources"]["OrdersTopic"]["Properties"]
    assert props["FifoTopic"] is True and props["TopicName"] == "acme-dev-orders.fifo"


def test_table_keys_encryption_recovery_and_ttl(built):
    # GIVEN table sessions (id S, sort at N, ttl expires) WHEN built THEN on-demand, SSE-KMS with the key,
    # point-in-time recovery, TTL, kept, and no deletion protection outside production
    table = built["storage.json"]["Resources"]["SessionsTable"]
    props = table["Properties"]
    assert {key: table[key] for key in KEPT} == KEPT
    assert props["KeySchema"] == [
        {"AttributeName": "id", "KeyType": "HASH"},
        {"AttributeName": "at", "KeyType": "RANGE"},
    ]
    assert props["AttributeDefinitions"][1] == {"AttributeName": "at", "AttributeType": "N"}
    assert props["BillingMode"] == "PAY_PER_REQUEST" and "ProvisionedThroughput" not in props
    assert props["SSESpecification"] == {"KMSMasterKeyId": KEY, "SSEEnabled": True, "SSEType": "KMS"}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    assert props["DeletionProtectionEnabled"] is False


def test_provisioned_table_and_production_deletion_protection():
    # GIVEN a production spec with a provisioned table WHEN built THEN its capacities are set and deletion
    # protection is on
    spec = base_spec(
        production=True,
        tables={
            "ledger": {
                "partition_key": {"name": "pk"},
                "billing": "provisioned",
                "read_capacity": 5,
                "write_capacity": 2,
            }
        },
    )
    spec["load_balancer"] = {"http_only": True, "deletion_protection": True}
    props = compile_dict(spec)["storage.json"]["Resources"]["LedgerTable"]["Properties"]
    assert props["BillingMode"] == "PROVISIONED"
    assert props["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 2}
    assert props["DeletionProtectionEnabled"] is True


def test_outputs_name_every_resource(built):
    outputs = built["storage.json"]["Outputs"]
    assert outputs["UploadsBucketName"]["Value"] == {"Ref": "UploadsBucket"}
    assert outputs["JobsQueueUrl"]["Value"] == {"Ref": "JobsQueue"}
    assert outputs["JobsQueueArn"]["Value"] == {"Fn::GetAtt": ["JobsQueue", "Arn"]}
    assert outputs["EventsTopicArn"]["Value"] == {"Ref": "EventsTopic"}
    assert outputs["SessionsTableArn"]["Value"] == {"Fn::GetAtt": ["SessionsTable", "Arn"]}


def test_granted_service_gets_the_variables(built):
    # GIVEN api granted each kind WHEN built THEN its container gets the documented variables from storage outputs
    (task,) = resources(built["service-api.json"], "AWS::ECS::TaskDefinition").values()
    environment = {item["Name"]: item["Value"] for item in task["Properties"]["ContainerDefinitions"][0]["Environment"]}
    assert environment["UPLOADS_BUCKET"] == {"Ref": "UploadsBucketName"}
    assert environment["JOBS_QUEUE_URL"] == {"Ref": "JobsQueueUrl"}
    assert environment["JOBS_QUEUE_ARN"] == {"Ref": "JobsQueueArn"}
    assert environment["EVENTS_TOPIC_ARN"] == {"Ref": "EventsTopicArn"}
    assert environment["SESSIONS_TABLE"] == {"Ref": "SessionsTableName"}
    parameters = built["root.json"]["Resources"]["ServiceApi"]["Properties"]["Parameters"]
    assert parameters["UploadsBucketName"] == {"Fn::GetAtt": [names.STORAGE, "Outputs.UploadsBucketName"]}


def test_own_variable_wins_over_a_granted_one():
    spec = storage_spec()
    spec["services"]["api"]["environment"] = {"UPLOADS_BUCKET": "mine"}
    (task,) = resources(compile_dict(spec)["service-api.json"], "AWS::ECS::TaskDefinition").values()
    environment = {item["Name"]: item["Value"] for item in task["Properties"]["ContainerDefinitions"][0]["Environment"]}
    assert environment["UPLOADS_BUCKET"] == "mine"


def test_ungranted_service_task_role_has_no_policy():
    (role,) = [
        r
        for lid, r in compile_dict(base_spec(buckets={"uploads": {}}))["service-api.json"]["Resources"].items()
        if lid == "TaskRole"
    ]
    assert "Policies" not in role["Properties"]
    assert_has_resource(compile_dict(base_spec(buckets={"uploads": {}}))["storage.json"], "AWS::S3::Bucket", {})


# ---- bad input, refused in words ------------------------------------------------------------------


def _error(**overrides) -> str:
    with pytest.raises(SpecInvalid) as caught:
        parse(storage_spec(**overrides))
    return str(caught.value)


def _granted(grants: dict, **overrides) -> str:
    spec = storage_spec(**overrides)
    spec["services"]["api"]["grants"] = grants
    with pytest.raises(SpecInvalid) as caught:
        parse(spec)
    return str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"buckets": {"Uploads": {}}}, "buckets.Uploads: not a valid name: lower-case letters"),
        ({"buckets": {"uploads": {"noncurrent_expiry_days": 0}}}, "buckets.uploads.noncurrent_expiry_days"),
        ({"buckets": {"uploads": {"cors": {"allowed_origins": ["ftp://x"], "allowed_methods": ["GET"]}}}}, "an origin"),
        (
            {"buckets": {"uploads": {"cors": {"allowed_origins": ["*"], "allowed_methods": ["PATCH"]}}}},
            "allowed values",
        ),
        ({"queues": {"jobs": {"fifo": True, "name": "jobs"}}}, "a FIFO queue's name must end with .fifo"),
        ({"queues": {"jobs": {"name": "jobs.fifo"}}}, "only a FIFO queue's may"),
        ({"queues": {"jobs": {"retention_seconds": 30}}}, "queues.jobs.retention_seconds"),
        ({"queues": {"jobs": {"dead_letter_after": 0}}}, "queues.jobs.dead_letter_after"),
        ({"topics": {"events": {"subscribe": ["nope"]}}}, "'nope' is not a key of queues (known: ['jobs'])"),
        ({"topics": {"events": {"subscribe": ["jobs", "jobs"]}}}, "lists jobs more than once"),
        ({"topics": {"events": {"fifo": True, "subscribe": ["jobs"]}}}, "SNS FIFO topics deliver to FIFO queues only"),
        (
            {"tables": {"sessions": {"partition_key": {"name": "id"}, "billing": "provisioned"}}},
            "provisioned needs read_capacity",
        ),
        (
            {"tables": {"sessions": {"partition_key": {"name": "id"}, "read_capacity": 5}}},
            "applies only with billing: provisioned",
        ),
        ({"tables": {"sessions": {"partition_key": {"name": "id", "type": "X"}}}}, "sessions.partition_key.type"),
        (
            {"tables": {"sessions": {"partition_key": {"name": "id"}, "sort_key": {"name": "id"}}}},
            "already the partition key",
        ),
        ({"tables": {"sessions": {"partition_key": {"name": "a b"}}}}, "a DynamoDB attribute name"),
        ({"tables": {"uploads": {"partition_key": {"name": "id"}}}}, "tables.uploads: is also a key of buckets"),
    ],
)
def test_bad_storage_input_is_refused_in_words(overrides, words):
    assert words in _error(**overrides)


def test_production_refuses_unprotected_tables():
    spec = {"production": True, "tables": {"sessions": {"partition_key": {"name": "id"}, "deletion_protection": False}}}
    assert "tables.sessions.deletion_protection: false" in _error(**spec)


def test_unknown_grant_target_lists_what_is_known():
    message = _granted({"avatars": "read"})
    assert "services.api.grants.avatars: 'avatars' is not a bucket, queue, topic or table" in message
    assert "events (topic), jobs (queue), sessions (table), uploads (bucket)" in message


@pytest.mark.parametrize(
    ("grants", "words"),
    [
        ({"uploads": "publish"}, "'publish' is not a level for a bucket; allowed: read, write, read-write"),
        ({"jobs": "read"}, "'read' is not a level for a queue; allowed: send, consume"),
        ({"events": "consume"}, "'consume' is not a level for a topic; allowed: publish"),
        ({"sessions": "send"}, "'send' is not a level for a table; allowed: read, write, read-write"),
        ({"uploads": "admin"}, "services.api.grants.uploads: allowed values are"),
    ],
)
def test_bad_grant_level_is_refused_listing_the_allowed(grants, words):
    assert words in _granted(grants)


def test_a_fifo_queue_and_its_dead_letter_queue_are_named_with_the_fifo_suffix_sqs_requires():
    # found deploying the ledger example: a FIFO queue left to a generated name failed ("must end in .fifo")
    from ..helpers import base_spec, compile_dict, resources

    files = compile_dict(base_spec(queues={"postings": {"fifo": True, "dead_letter_after": 3}}))
    queues = {key: value["Properties"] for key, value in resources(files["storage.json"], "AWS::SQS::Queue").items()}
    assert sorted(properties["QueueName"] for properties in queues.values()) == [
        "acme-dev-postings-dlq.fifo",
        "acme-dev-postings.fifo",
    ]
    standard = compile_dict(base_spec(queues={"jobs": {}}))["storage.json"]
    assert all("QueueName" not in q["Properties"] for q in resources(standard, "AWS::SQS::Queue").values())
