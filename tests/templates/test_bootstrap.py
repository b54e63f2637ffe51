"""bootstrap.json: the artifacts bucket packaged templates go to, and the ECR repositories (registry.py),
deployed before the environment so images can be pushed first."""

from __future__ import annotations

import json

from ..helpers import base_spec, compile_dict, only, resources


def _bootstrap(**overrides):
    return compile_dict(base_spec(**overrides))["bootstrap.json"]


def test_artifacts_bucket_is_versioned_encrypted_private_and_retained():
    # GIVEN any environment WHEN it is built THEN its artifacts bucket is safe to keep templates in
    bucket = only(_bootstrap(), "AWS::S3::Bucket")
    properties = bucket["Properties"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms"
    }
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    # AND old template versions expire instead of piling up
    rule = properties["LifecycleConfiguration"]["Rules"][0]
    assert rule["Status"] == "Enabled" and rule["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0
    # AND deleting the stack keeps the bucket (a failed first create still cleans up)
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")


def test_artifacts_bucket_only_accepts_tls():
    policy = only(_bootstrap(), "AWS::S3::BucketPolicy")["Properties"]
    assert policy["Bucket"] == {"Ref": "ArtifactsBucket"}
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert {"Fn::GetAtt": ["ArtifactsBucket", "Arn"]} in statement["Resource"]


def test_repositories_scan_on_push_are_encrypted_and_retained():
    # GIVEN two repositories in the spec WHEN bootstrap is built THEN one ECR repository each, named as given
    template = _bootstrap(
        repositories={"api": {"name": "acme-api"}, "worker": {"name": "acme-worker", "immutable_tags": False}}
    )
    repositories = resources(template, "AWS::ECR::Repository")
    assert sorted(repositories) == ["ApiRepository", "WorkerRepository"]
    api, worker = repositories["ApiRepository"], repositories["WorkerRepository"]
    assert api["Properties"]["RepositoryName"] == "acme-api"
    assert api["Properties"]["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert api["Properties"]["EncryptionConfiguration"] == {"EncryptionType": "KMS"}
    assert (api["DeletionPolicy"], api["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    # AND tags are immutable unless the spec turns that off for a moving tag
    assert api["Properties"]["ImageTagMutability"] == "IMMUTABLE"
    assert worker["Properties"]["ImageTagMutability"] == "MUTABLE"
    # AND each repository's URI is an output, for `docker push`
    assert template["Outputs"]["ApiRepositoryUri"]["Value"] == {"Fn::GetAtt": ["ApiRepository", "RepositoryUri"]}


def test_lifecycle_policy_follows_the_spec():
    # GIVEN a repository keeping 12 images and expiring untagged ones after 3 days
    template = _bootstrap(repositories={"api": {"name": "acme-api", "keep_images": 12, "untagged_expiry_days": 3}})
    text = only(template, "AWS::ECR::Repository")["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"]
    # THEN the ECR lifecycle document says exactly that, untagged first
    rules = sorted(json.loads(text)["rules"], key=lambda rule: rule["rulePriority"])
    assert [rule["selection"] for rule in rules] == [
        {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 3},
        {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 12},
    ]
    assert all(rule["action"] == {"type": "expire"} for rule in rules)


def test_bootstrap_names_the_bucket_output_the_deploy_reads():
    assert _bootstrap()["Outputs"]["ArtifactsBucketName"]["Value"] == {"Ref": "ArtifactsBucket"}


def test_ecr_repositories_scan_images_on_push():
    # GIVEN three repositories in the spec, with mutable and immutable tags
    template = _bootstrap(
        repositories={
            "api": {"name": "acme-api"},
            "worker": {"name": "acme-worker", "immutable_tags": False},
            "cron": {"name": "acme-cron", "keep_images": 5},
        }
    )
    # WHEN bootstrap is built
    repositories = resources(template, "AWS::ECR::Repository")
    # THEN every ECR repository scans each image on push
    assert len(repositories) == 3
    assert {
        key: repository["Properties"].get("ImageScanningConfiguration") for key, repository in repositories.items()
    } == {key: {"ScanOnPush": True} for key in repositories}
