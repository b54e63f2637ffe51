"""IAM roles and policy documents, all written with awacs, each scoped to what one workload needs."""
from __future__ import annotations

import awacs.ecr as ecr
import awacs.kms as kms
import awacs.logs as logs
import awacs.secretsmanager as secretsmanager
import awacs.ssm as ssm
import awacs.sts as sts
from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from troposphere import Sub

from .base import arn

VERSION = "2012-10-17"


def assume_role(service: str, source_account: bool = True) -> PolicyDocument:
    """Trust policy for an AWS service; `aws:SourceAccount` stops the confused-deputy problem."""
    condition = Condition(StringEquals({"aws:SourceAccount": Sub("${AWS::AccountId}")})) if source_account else None
    statement = Statement(
        Effect=Allow,
        Principal=Principal("Service", [service]),
        Action=[sts.AssumeRole],
        **({"Condition": condition} if condition else {}),
    )
    return PolicyDocument(Version=VERSION, Statement=[statement])


def execution_policy(log_group_arn, repository_arn, ssm_arns: list, secret_arns: list) -> PolicyDocument:
    """What the ECS agent needs to start one task: pull its image, write its logs, read its secrets."""
    statements = [
        Statement(Sid="PullImageAuth", Effect=Allow, Action=[ecr.GetAuthorizationToken], Resource=["*"]),
        Statement(Sid="WriteLogs", Effect=Allow, Action=[logs.CreateLogStream, logs.PutLogEvents],
                  Resource=[log_group_arn, Sub("${Arn}:log-stream:*", Arn=log_group_arn)]),
    ]
    if repository_arn is not None:
        statements.insert(1, Statement(
            Sid="PullImage", Effect=Allow,
            Action=[ecr.BatchCheckLayerAvailability, ecr.BatchGetImage, ecr.GetDownloadUrlForLayer],
            Resource=[repository_arn],
        ))
    if ssm_arns:
        statements.append(Statement(Sid="ReadParameters", Effect=Allow, Action=[ssm.GetParameters], Resource=ssm_arns))
    if secret_arns:
        statements.append(Statement(Sid="ReadSecrets", Effect=Allow, Action=[secretsmanager.GetSecretValue],
                                    Resource=secret_arns))
    if ssm_arns or secret_arns:
        statements.append(decrypt_via(["ssm", "secretsmanager"]))
    return PolicyDocument(Version=VERSION, Statement=statements)


def decrypt_via(services: list[str]) -> Statement:
    """kms:Decrypt for customer-managed keys, but only when called through the named services."""
    return Statement(
        Sid="DecryptViaService", Effect=Allow, Action=[kms.Decrypt], Resource=[arn("kms", "key/*")],
        Condition=Condition(StringEquals({"kms:ViaService": [Sub(f"{name}.${{AWS::Region}}.amazonaws.com") for name in services]})),
    )


def ssm_parameter_arn(name: str) -> Sub:
    return arn("ssm", "parameter/" + name.lstrip("/"))


def secret_arn(name: str) -> Sub:
    """Secrets Manager appends six random characters to every ARN; `-??????` matches exactly those."""
    return arn("secretsmanager", f"secret:{name}-??????")


def flow_logs_policy(log_group_arn) -> PolicyDocument:
    return PolicyDocument(Version=VERSION, Statement=[Statement(
        Effect=Allow,
        Action=[logs.CreateLogStream, logs.PutLogEvents, logs.DescribeLogStreams],
        Resource=[log_group_arn, Sub("${Arn}:log-stream:*", Arn=log_group_arn)],
    )])

