"""The environment's customer-managed KMS key: encrypts its log groups and the secrets the compiler creates.

It lives in the network stack, the one stack every other stack already depends on, so no extra nesting
level is needed. The key policy lets the account's IAM policies govern use (Secrets Manager decrypts on
behalf of callers their policies allow), CloudWatch Logs use it only for this account's log groups, and
grants only for AWS services.
"""

from __future__ import annotations

import awacs.kms as kms
from awacs.aws import Allow, ArnLike, BoolIfExists, Condition, Deny, PolicyDocument, Principal, Statement
from troposphere import GetAtt, Ref, Sub, Template
from troposphere import kms as troposphere_kms

from . import names
from .base import RETAIN, arn, output, tags
from .spec import EnvironmentSpec

OUTPUT = names.ENVIRONMENT_KEY_ARN  # kept for callers; the name lives in names.py


def key_policy() -> PolicyDocument:
    account_root = Principal("AWS", [Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")])
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="AccountAdministersTheKey",
                Effect=Allow,
                Principal=account_root,
                Action=[kms.Action("*")],
                Resource=["*"],
            ),
            Statement(
                Sid="CloudWatchLogsEncryptsThisAccountsLogGroups",
                Effect=Allow,
                Principal=Principal("Service", [Sub("logs.${AWS::Region}.amazonaws.com")]),
                Action=[
                    kms.Encrypt,
                    kms.Decrypt,
                    kms.ReEncryptFrom,
                    kms.ReEncryptTo,
                    kms.GenerateDataKey,
                    kms.GenerateDataKeyWithoutPlaintext,
                    kms.DescribeKey,
                ],
                Resource=["*"],
                Condition=Condition(ArnLike({"kms:EncryptionContext:aws:logs:arn": arn("logs", "log-group:*")})),
            ),
            Statement(
                Sid="GrantsOnlyForAwsServices",
                Effect=Deny,
                Principal=Principal("*"),
                Action=[kms.CreateGrant],
                Resource=["*"],
                Condition=Condition(
                    BoolIfExists({"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"})
                ),
            ),
        ],
    )


def add(template: Template, spec: EnvironmentSpec):
    """The key and its alias in `template`; exports names.ENVIRONMENT_KEY_ARN. Reads spec.prefix."""
    key = template.add_resource(
        troposphere_kms.Key(
            "EnvironmentKey",
            Description=f"{spec.prefix}: log groups and generated secrets",
            EnableKeyRotation=True,
            PendingWindowInDays=30,
            KeyPolicy=key_policy(),
            # Logs and secrets encrypted under the key are unreadable without it: never delete it with the stack.
            DeletionPolicy=RETAIN,
            UpdateReplacePolicy="Retain",
            Tags=tags(spec),
        )
    )
    template.add_resource(
        troposphere_kms.Alias("EnvironmentKeyAlias", AliasName=f"alias/{spec.prefix}", TargetKeyId=Ref(key))
    )
    output(template, names.ENVIRONMENT_KEY_ARN, GetAtt(key, "Arn"), "KMS key for log groups and generated secrets")
    return key
