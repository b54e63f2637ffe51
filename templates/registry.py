"""ECR repositories: scan on push, encrypted, lifecycle-bounded, retained when the stack goes."""

from __future__ import annotations

import json

from troposphere import GetAtt, Ref, Template, ecr

from . import names
from .base import RETAIN, output, tags
from .spec import EnvironmentSpec, RepositorySpec, pascal


def lifecycle_policy(repository: RepositorySpec) -> str:
    """ECR lifecycle rules (an ECR document, not IAM): expire untagged images, keep the newest N."""
    rules = [
        {
            "rulePriority": 1,
            "description": f"Expire untagged images after {repository.untagged_expiry_days} days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": repository.untagged_expiry_days,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": f"Keep the {repository.keep_images} most recent images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": repository.keep_images},
            "action": {"type": "expire"},
        },
    ]
    return json.dumps({"rules": rules}, sort_keys=True, separators=(",", ":"))


def add(template: Template, spec: EnvironmentSpec) -> None:
    """One repository per spec.repositories entry (.name, .immutable_tags, .keep_images,
    .untagged_expiry_days); exports names.repository_uri_output(key), names.repository_name_output(key)."""
    for key, repository in sorted(spec.repositories.items()):
        resource = template.add_resource(
            ecr.Repository(
                f"{pascal(key)}Repository",
                RepositoryName=repository.name,
                ImageTagMutability="IMMUTABLE" if repository.immutable_tags else "MUTABLE",
                ImageScanningConfiguration=ecr.ImageScanningConfiguration(ScanOnPush=True),
                EncryptionConfiguration=ecr.EncryptionConfiguration(EncryptionType="KMS"),
                LifecyclePolicy=ecr.LifecyclePolicy(LifecyclePolicyText=lifecycle_policy(repository)),
                DeletionPolicy=RETAIN,
                UpdateReplacePolicy="Retain",
                Tags=tags(spec, repository.name),
            )
        )
        output(
            template,
            names.repository_uri_output(key),
            GetAtt(resource, "RepositoryUri"),
            f"ECR repository {repository.name}",
        )
        output(template, names.repository_name_output(key), Ref(resource), f"ECR repository name of {key}")
