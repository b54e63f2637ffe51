"""IAM roles and policy documents, all written with awacs, each scoped to what one workload needs."""

from __future__ import annotations

import awacs.ec2 as ec2
import awacs.ecr as ecr
import awacs.kms as kms
import awacs.logs as logs
import awacs.s3 as s3
import awacs.secretsmanager as secretsmanager
import awacs.ssm as ssm
import awacs.ssmmessages as ssmmessages
import awacs.sts as sts
from awacs.aws import Allow, Bool, Condition, Deny, PolicyDocument, Principal, Statement, StringEquals
from troposphere import GetAtt, Join, Sub

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


def execution_policy(
    log_group_arn, repository_arn, ssm_arns: list, secret_arns: list, more_repositories: tuple = ()
) -> PolicyDocument:
    """What the ECS agent needs to start one task: pull its images (the main container's repository, then the
    sidecars' `more_repositories`), write its logs, read its secrets."""
    statements = [
        Statement(Sid="PullImageAuth", Effect=Allow, Action=[ecr.GetAuthorizationToken], Resource=["*"]),
        Statement(
            Sid="WriteLogs",
            Effect=Allow,
            Action=[logs.CreateLogStream, logs.PutLogEvents],
            Resource=[log_group_arn, Sub("${Arn}:log-stream:*", Arn=log_group_arn)],
        ),
    ]
    repositories = ([repository_arn] if repository_arn is not None else []) + list(more_repositories)
    if repositories:
        statements.insert(
            1,
            Statement(
                Sid="PullImage",
                Effect=Allow,
                Action=[ecr.BatchCheckLayerAvailability, ecr.BatchGetImage, ecr.GetDownloadUrlForLayer],
                Resource=repositories,
            ),
        )
    if ssm_arns:
        statements.append(Statement(Sid="ReadParameters", Effect=Allow, Action=[ssm.GetParameters], Resource=ssm_arns))
    if secret_arns:
        statements.append(read_secrets(secret_arns))
    if ssm_arns or secret_arns:
        statements.append(decrypt_via(["ssm", "secretsmanager"]))
    return PolicyDocument(Version=VERSION, Statement=statements)


def exec_policy() -> PolicyDocument:
    """ECS Exec: the SSM agent inside the task opens its control and data channels through ssmmessages, which has
    no resource-level permissions (AWS documents these four actions on `*`)."""
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            Statement(
                Sid="EcsExecChannels",
                Effect=Allow,
                Action=[
                    ssmmessages.CreateControlChannel,
                    ssmmessages.CreateDataChannel,
                    ssmmessages.OpenControlChannel,
                    ssmmessages.OpenDataChannel,
                ],
                Resource=["*"],
            )
        ],
    )


def read_secrets(secret_arns: list) -> Statement:
    return Statement(Sid="ReadSecrets", Effect=Allow, Action=[secretsmanager.GetSecretValue], Resource=secret_arns)


def conditional_secrets_policy(secret_arns: list) -> PolicyDocument:
    """Secrets that exist only under a condition (the database's): a policy of their own, attached with
    `Fn::If`, because IAM rejects a statement whose resource list the condition would leave empty."""
    return PolicyDocument(Version=VERSION, Statement=[read_secrets(secret_arns), decrypt_via(["secretsmanager"])])


def decrypt_via(services: list[str]) -> Statement:
    """kms:Decrypt for customer-managed keys, but only when called through the named services."""
    return Statement(
        Sid="DecryptViaService",
        Effect=Allow,
        Action=[kms.Decrypt],
        Resource=[arn("kms", "key/*")],
        Condition=Condition(
            StringEquals({"kms:ViaService": [Sub(f"{name}.${{AWS::Region}}.amazonaws.com") for name in services]})
        ),
    )


def ssm_parameter_arn(name: str) -> Sub:
    return arn("ssm", "parameter/" + name.lstrip("/"))


def secret_arn(name: str) -> Sub:
    """Secrets Manager appends six random characters to every ARN; `-??????` matches exactly those."""
    return arn("secretsmanager", f"secret:{name}-??????")


def flow_logs_policy(log_group_arn) -> PolicyDocument:
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            Statement(
                Effect=Allow,
                Action=[logs.CreateLogStream, logs.PutLogEvents, logs.DescribeLogStreams],
                Resource=[log_group_arn, Sub("${Arn}:log-stream:*", Arn=log_group_arn)],
            )
        ],
    )


def restrict_default_security_group_policy(vpc_logical_id: str, log_group_arn) -> PolicyDocument:
    """The default-security-group function: revoke rules of that one group, write its own log group."""
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            Statement(
                Sid="RevokeDefaultRules",
                Effect=Allow,
                Action=[ec2.RevokeSecurityGroupIngress, ec2.RevokeSecurityGroupEgress],
                Resource=[arn("ec2", "security-group/${%s.DefaultSecurityGroup}" % vpc_logical_id)],
            ),
            Statement(
                Sid="WriteLogs",
                Effect=Allow,
                Action=[logs.CreateLogStream, logs.PutLogEvents],
                Resource=[log_group_arn],
            ),
        ],
    )


def deny_insecure_transport(bucket) -> Statement:
    """TLS-only bucket access, in the exact shape AWS Control Tower's CT.S3.PR.8 recognises."""
    bucket_arn = GetAtt(bucket, "Arn")
    return Statement(
        Sid="DenyInsecureTransport",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[s3.Action("*")],
        Resource=[bucket_arn, Join("", [bucket_arn, "/*"])],
        Condition=Condition(Bool({"aws:SecureTransport": "false"})),
    )


# Elastic Load Balancing's log-delivery account per region (regions opened before August 2022);
# newer regions accept the log-delivery service principal instead.
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
}


def access_log_bucket_policy(bucket, region: str, prefix: str) -> PolicyDocument:
    account = ELB_LOG_ACCOUNTS.get(region)
    writer = (
        Principal("AWS", [Sub(f"arn:${{AWS::Partition}}:iam::{account}:root")])
        if account
        else Principal("Service", ["logdelivery.elasticloadbalancing.amazonaws.com"])
    )
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            deny_insecure_transport(bucket),
            Statement(
                Sid="LoadBalancerWritesAccessLogs",
                Effect=Allow,
                Principal=writer,
                Action=[s3.PutObject],
                Resource=[Sub("${Arn}/" + prefix + "/AWSLogs/${AWS::AccountId}/*", Arn=GetAtt(bucket, "Arn"))],
            ),
        ],
    )
