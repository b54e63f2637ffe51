"""The bootstrap stack, deployed once before the environment: the artifacts bucket that packaged nested
templates are uploaded to, and the ECR repositories (so images can be pushed before services start).
It is the CloudFormation counterpart of the seed's OpenTofu state bucket."""

from __future__ import annotations

from awacs.aws import PolicyDocument
from troposphere import Ref
from troposphere import s3 as buckets

from . import iam as policies
from . import names, registry
from .base import RETAIN, Stack, new_template, output, tags
from .spec import EnvironmentSpec

# the tool (stackloom.build) names the bootstrap stack through these; the names live in names.py
FILE_NAME = names.BOOTSTRAP_FILE
stack_name = names.bootstrap_stack_name


def build(spec: EnvironmentSpec) -> Stack:
    """The bootstrap stack (file names.BOOTSTRAP_FILE, stack names.bootstrap_stack_name(spec)): a top-level
    stack deployed on its own before the root, so a Stack without inputs rather than a NestedStack.

    Reads spec.prefix, spec.repositories (registry.add). Exports names.ARTIFACTS_BUCKET_NAME and, per
    repository, names.repository_uri_output(key) and names.repository_name_output(key).
    """
    template = new_template(spec, "bootstrap (artifacts bucket, ECR repositories)")
    bucket = template.add_resource(
        buckets.Bucket(
            "ArtifactsBucket",
            DeletionPolicy=RETAIN,
            UpdateReplacePolicy="Retain",
            VersioningConfiguration=buckets.VersioningConfiguration(Status="Enabled"),
            BucketEncryption=buckets.BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    buckets.ServerSideEncryptionRule(
                        ServerSideEncryptionByDefault=buckets.ServerSideEncryptionByDefault(SSEAlgorithm="aws:kms"),
                        BucketKeyEnabled=True,
                    )
                ]
            ),
            PublicAccessBlockConfiguration=buckets.PublicAccessBlockConfiguration(
                BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True
            ),
            OwnershipControls=buckets.OwnershipControls(
                Rules=[buckets.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
            ),
            LifecycleConfiguration=buckets.LifecycleConfiguration(
                Rules=[
                    buckets.LifecycleRule(
                        Id="expire-old-versions",
                        Status="Enabled",
                        NoncurrentVersionExpiration=buckets.NoncurrentVersionExpiration(NoncurrentDays=90),
                        AbortIncompleteMultipartUpload=buckets.AbortIncompleteMultipartUpload(DaysAfterInitiation=7),
                    ),
                ]
            ),
            Tags=tags(spec, f"{spec.prefix}-artifacts"),
        )
    )
    template.add_resource(
        buckets.BucketPolicy(
            "ArtifactsBucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=[policies.deny_insecure_transport(bucket)]),
        )
    )
    output(
        template,
        names.ARTIFACTS_BUCKET_NAME,
        Ref(bucket),
        "Bucket for packaged templates (aws cloudformation package --s3-bucket)",
    )
    registry.add(template, spec)
    return Stack(names.BOOTSTRAP, names.BOOTSTRAP_FILE, template)
