"""`build.py deploy` of an environment using every storage kind, against the local CloudFormation endpoint
(127.0.0.1 only): the bucket, queues, topic and table exist, encrypted with the environment key, and the
service's task role carries its grants."""

from __future__ import annotations

import ast
import json
from urllib.parse import unquote

import pytest
import yaml

from stackloom.cli.main import main

from ..helpers import private_storage_spec
from .local_endpoint import aws, local_endpoint, local_endpoint_server  # noqa: F401

STACK = "acme-dev"


@pytest.fixture
def deployed(local_endpoint, aws, tmp_path, capsys) -> dict[str, str]:
    """acme/dev (private_storage_spec) deployed; returns the storage stack's outputs."""
    params = tmp_path / "params"
    (params / "acme").mkdir(parents=True)
    (params / "acme" / "dev.yaml").write_text(yaml.safe_dump(private_storage_spec(), sort_keys=False))
    argv = ["deploy", "acme/dev", "--yes", "--endpoint-url", local_endpoint.url, "--poll", "0.05"]
    code = main(argv + ["--params", str(params), "--output", str(tmp_path / "output")])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    return _outputs(aws, "Storage")


def _outputs(aws, nested: str) -> dict[str, str]:
    """The outputs of the root's nested stack `nested` (its logical ID)."""
    cloudformation = aws("cloudformation")
    (physical,) = [
        summary["PhysicalResourceId"]
        for summary in cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
        if summary["LogicalResourceId"] == nested
    ]
    outputs = cloudformation.describe_stacks(StackName=physical)["Stacks"][0]["Outputs"]
    return {item["OutputKey"]: item["OutputValue"] for item in outputs}


def _key_arn(aws) -> str:
    return _outputs(aws, "Network")["EnvironmentKeyArn"]


def test_every_storage_kind_is_created_encrypted_with_the_environment_key(deployed, aws):
    # GIVEN acme/dev with a bucket, a queue with a dead-letter queue, a topic delivering to it and a table, deployed
    key = _key_arn(aws)
    # THEN the bucket is SSE-KMS with the key and a bucket key, and closed to the public
    bucket = deployed["UploadsBucketName"]
    (rule,) = aws("s3").get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == key
    block = aws("s3").get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert set(block.values()) == {True}
    assert aws("s3").get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    # AND the queue uses the key and redrives to its dead-letter queue after 5 receives
    attributes = aws("sqs").get_queue_attributes(QueueUrl=deployed["JobsQueueUrl"], AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["KmsMasterKeyId"] == key
    assert '"maxReceiveCount": 5' in attributes["RedrivePolicy"].replace('"maxReceiveCount":5', '"maxReceiveCount": 5')
    assert attributes["QueueArn"] == deployed["JobsQueueArn"]
    # AND the topic uses the key and delivers to the queue
    topic = deployed["EventsTopicArn"]
    assert aws("sns").get_topic_attributes(TopicArn=topic)["Attributes"]["KmsMasterKeyId"] == key
    # (the local endpoint's SNS does not list subscriptions created through CloudFormation: the resource is checked)
    storage = aws("cloudformation").describe_stack_resources(StackName=STACK)["StackResources"]
    (physical,) = [item["PhysicalResourceId"] for item in storage if item["LogicalResourceId"] == "Storage"]
    created = {
        item["LogicalResourceId"]: item["ResourceStatus"]
        for item in aws("cloudformation").describe_stack_resources(StackName=physical)["StackResources"]
    }
    assert created["EventsTopicJobsQueueSubscription"] == created["JobsQueuePolicy"] == "CREATE_COMPLETE"
    # AND the table is KMS-encrypted with the key, on demand
    table = aws("dynamodb").describe_table(TableName=deployed["SessionsTableName"])["Table"]
    assert table["TableStatus"] == "ACTIVE"
    # (the local endpoint's DynamoDB does not report a table's SSE: the template the stack was created from is read)
    body = aws("cloudformation").get_template(StackName=physical)["TemplateBody"]
    body = json.loads(body) if isinstance(body, str) else body
    sse = body["Resources"]["SessionsTable"]["Properties"]["SSESpecification"]
    assert sse["SSEType"] == "KMS" and sse["KMSMasterKeyId"] == {"Ref": "EnvironmentKeyArn"}
    parameters = aws("cloudformation").describe_stacks(StackName=physical)["Stacks"][0]["Parameters"]
    assert {item["ParameterKey"]: item["ParameterValue"] for item in parameters}["EnvironmentKeyArn"] == key
    assert [item["AttributeName"] for item in table["KeySchema"]] == ["id", "at"]


def test_the_task_role_carries_the_grants(deployed, aws):
    # GIVEN the deployed environment WHEN the service's task role is read THEN its grants policy names exactly the
    # deployed resources and the key through the services' endpoints
    iam = aws("iam")
    roles = [role["RoleName"] for role in iam.list_roles()["Roles"] if "TaskRole" in role["RoleName"]]
    documents = [
        _document(iam.get_role_policy(RoleName=name, PolicyName="grants")["PolicyDocument"])
        for name in roles
        if "grants" in iam.list_role_policies(RoleName=name)["PolicyNames"]
    ]
    assert len(documents) == 1
    resources = {str(resource) for statement in documents[0]["Statement"] for resource in _list(statement["Resource"])}
    assert deployed["JobsQueueArn"] in resources and deployed["EventsTopicArn"] in resources
    assert deployed["UploadsBucketArn"] + "/*" in resources and deployed["SessionsTableArn"] in resources
    assert _key_arn(aws) in resources


def _document(value) -> dict:
    """A policy document as boto3 returns it: parsed, or (the local endpoint's, from CloudFormation) its text:
    JSON, possibly URL-quoted, or the Python literal moto stores."""
    if not isinstance(value, str):
        return value
    text = unquote(value)
    return json.loads(text) if text.startswith('{"') else ast.literal_eval(text)


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_the_task_definition_names_the_resources(deployed, aws):
    ecs = aws("ecs")
    (cluster,) = ecs.list_clusters()["clusterArns"]
    (service,) = ecs.list_services(cluster=cluster)["serviceArns"]
    definition = ecs.describe_services(cluster=cluster, services=[service])["services"][0]["taskDefinition"]
    (container,) = ecs.describe_task_definition(taskDefinition=definition)["taskDefinition"]["containerDefinitions"]
    environment = {item["name"]: item["value"] for item in container["environment"]}
    assert environment["UPLOADS_BUCKET"] == deployed["UploadsBucketName"]
    assert environment["JOBS_QUEUE_URL"] == deployed["JobsQueueUrl"]
    assert environment["EVENTS_TOPIC_ARN"] == deployed["EventsTopicArn"]
    assert environment["SESSIONS_TABLE"] == deployed["SessionsTableName"]
