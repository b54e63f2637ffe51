"""The environment's customer-managed KMS key: encrypts its log groups and the secrets the compiler creates.

It lives in the network stack, the one stack every other stack already depends on, so no extra nesting
level is needed. The key policy lets the account's IAM policies govern use (Secrets Manager decrypts on
behalf of callers their policies allow), CloudWatch Logs use it only for this account's log groups, and
grants only for AWS services.
"""

from __future__ import annotations

import awacs.kms as kms
from awacs.aws import Allow, ArnLike, BoolIfExists, Condition, Deny, PolicyDocument, Principal, Statement, StringEquals
from troposphere import GetAtt, Ref, Sub, Template
from troposphere import kms as troposphere_kms

from . import names
from .base import RETAIN, arn, output, tags
from .spec import EnvironmentSpec

OUTPUT = names.ENVIRONMENT_KEY_ARN  # kept for callers; the name lives in names.py


def key_policy(spec: EnvironmentSpec | None = None) -> PolicyDocument:
    """The key policy; with a topic that delivers to a queue (both encrypted with this key), SNS may use the key
    for topics of this account and region, the one AWS principal the key policy itself must name (it is no IAM
    principal whose policies the account could grant it)."""
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
            *_alarm_delivery(spec),
            *_sns_delivery(spec),
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


def _alarm_delivery(spec: EnvironmentSpec | None) -> list[Statement]:
    """CloudWatch publishing this environment's alarms to the alarm topic the key encrypts (templates/alarms.py):
    a data key and decrypting it (the SNS docs' "compatibility with AWS services"), for alarms of this account
    named as the environment's (aws:SourceAccount, aws:SourceArn: no other account's or environment's alarm)."""
    if spec is None:
        return []
    return [
        Statement(
            Sid="CloudWatchPublishesThisEnvironmentsAlarms",
            Effect=Allow,
            Principal=Principal("Service", ["cloudwatch.amazonaws.com"]),
            Action=[kms.Decrypt, kms.GenerateDataKey],  # the docs' GenerateDataKey*: SNS asks for GenerateDataKey
            Resource=["*"],
            Condition=Condition(
                [
                    ArnLike({"aws:SourceArn": arn("cloudwatch", f"alarm:{names.alarm_name_pattern(spec)}")}),
                    StringEquals({"aws:SourceAccount": Sub("${AWS::AccountId}")}),
                ]
            ),
        )
    ]


def _sns_delivery(spec: EnvironmentSpec | None) -> list[Statement]:
    """SNS encrypting the messages it delivers to an encrypted queue: a data key, and decrypting it, for this
    account's topics of this region only (aws:SourceArn, aws:SourceAccount: no other account's topic)."""
    if spec is None or not any(topic.subscribe for topic in spec.topics.values()):
        return []
    return [
        Statement(
            Sid="SnsDeliversToThisAccountsEncryptedQueues",
            Effect=Allow,
            Principal=Principal("Service", ["sns.amazonaws.com"]),
            Action=[kms.GenerateDataKey, kms.Decrypt],
            Resource=["*"],
            Condition=Condition(
                [
                    ArnLike({"aws:SourceArn": arn("sns", "*")}),
                    StringEquals({"aws:SourceAccount": Sub("${AWS::AccountId}")}),
                ]
            ),
        )
    ]


def add(template: Template, spec: EnvironmentSpec):
    """The key and its alias in `template`; exports names.ENVIRONMENT_KEY_ARN. Reads spec.prefix."""
    key = template.add_resource(
        troposphere_kms.Key(
            "EnvironmentKey",
            Description=f"{spec.prefix}: log groups and generated secrets",
            EnableKeyRotation=True,
            PendingWindowInDays=30,
            KeyPolicy=key_policy(spec),
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
