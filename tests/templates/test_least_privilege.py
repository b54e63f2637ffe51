"""Least privilege: every IAM policy document in every emitted template of every environment is checked
against the rules below. Each rule has a unit test feeding it a bad policy, so a rule that cannot fail
cannot hide here.

Documents walked: IAM role inline policies and trust policies, IAM::Policy / ManagedPolicy (and user/group
inline policies), resource policies (S3 bucket, SQS, SNS, ECR repository, Secrets Manager, Logs) and KMS
key policies.

Rules (Allow statements; Deny statements only narrow access and are not checked):
  ACTION      no `*`, `service:*` or other wildcard actions, no NotAction
  RESOURCE    no `Resource: "*"` unless every action is in UNSCOPABLE_ACTIONS; no NotResource
              (key policies exempt: there `*` means "this key")
  EMPTY       no Resource list that a false condition leaves empty (IAM rejects the whole policy:
              "Policy statement must contain resources")
  SSM         ssm: resources are parameter ARNs under `parameter/<system>/<env>/`
  SECRETS     secretsmanager: resources are references (Ref/GetAtt/If of them) or exact secret ARNs
              (`secret:<system>/<env>/<name>-??????`, no other wildcard)
  KMS         kms:Decrypt only with a `kms:ViaService` condition (for IAM principals; a service principal
              in a key policy decrypting for itself is bounded by its own encryption-context condition)
  LOGS        logs: resources derive from a log group of the template, never a literal `log-group:*`
  TRUST       a trust policy for a service principal has an `aws:SourceAccount` condition (not needed
              for ec2.amazonaws.com, which cannot be confused into acting for another account);
              no `Principal: "*"`
  PUBLIC      no `Principal: "*"` on Allow in resource or key policies
  MANAGED     attached managed policies only from MANAGED_POLICIES (reviewed, with the reason)
  KEY ADMIN   `kms:*` only in a key policy, only for this account's root (AWS's default key policy statement,
              which delegates key access to IAM; without it the key becomes unmanageable)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stackloom import build as compiler
from stackloom.output import write
from templates.spec import parse

from ..helpers import compile_dict, load, storage_spec, templates_of

UNSCOPABLE_ACTIONS = {
    "ecr:GetAuthorizationToken": "account-wide registry login token; IAM has no resource type for it",
    "logs:DescribeLogGroups": "list operation without a resource type",
    "ssm:DescribeParameters": "list operation without a resource type",
    "ec2:DescribeNetworkInterfaces": "awsvpc tasks on EC2: describe calls take no resource ARN",
    "cloudwatch:PutMetricData": "no resource type; scope with a cloudwatch:namespace condition",
    "xray:PutTraceSegments": "no resource type",
    "xray:PutTelemetryRecords": "no resource type",
}

MANAGED_POLICIES = {
    "service-role/AmazonEC2ContainerServiceforEC2Role": "ECS container instance role: register with the cluster, pull images",
    "AmazonSSMManagedInstanceCore": "container instances reachable through Session Manager instead of SSH",
    "service-role/AmazonRDSEnhancedMonitoringRole": "RDS Enhanced Monitoring writes OS metrics to CloudWatch Logs",
}

NO_SOURCE_ACCOUNT_NEEDED = {"ec2.amazonaws.com"}

POLICY_PROPERTIES = {
    # resource type -> (property path to the document(s), kind); "*" = every item of a list
    "AWS::IAM::Role": [(("Policies", "*", "PolicyDocument"), "identity"), (("AssumeRolePolicyDocument",), "trust")],
    "AWS::IAM::User": [(("Policies", "*", "PolicyDocument"), "identity")],
    "AWS::IAM::Group": [(("Policies", "*", "PolicyDocument"), "identity")],
    "AWS::IAM::Policy": [(("PolicyDocument",), "identity")],
    "AWS::IAM::ManagedPolicy": [(("PolicyDocument",), "identity")],
    "AWS::IAM::RolePolicy": [(("PolicyDocument",), "identity")],
    "AWS::S3::BucketPolicy": [(("PolicyDocument",), "resource")],
    "AWS::SQS::QueuePolicy": [(("PolicyDocument",), "resource")],
    "AWS::SNS::TopicPolicy": [(("PolicyDocument",), "resource")],
    "AWS::ECR::Repository": [(("RepositoryPolicyText",), "resource")],
    "AWS::SecretsManager::ResourcePolicy": [(("ResourcePolicy",), "resource")],
    "AWS::Logs::ResourcePolicy": [(("PolicyDocument",), "resource")],
    "AWS::KMS::Key": [(("KeyPolicy",), "key")],
}
MANAGED_ARN = re.compile(r"^arn:(?:\$\{AWS::Partition\}|aws[a-z-]*):iam::aws:policy/(.+)$")
SECRET_ARN = re.compile(r":secret:([A-Za-z0-9/_+=.@-]+)-\?{6}$")


# ---- walking templates ----------------------------------------------------------------------------


def policy_documents(template: dict):
    """(where, kind, document) for every policy document in a template."""
    for logical_id, resource in sorted((template.get("Resources") or {}).items()):
        for path, kind in POLICY_PROPERTIES.get(resource.get("Type"), []):
            for where, document in _at(resource.get("Properties") or {}, path, logical_id):
                if isinstance(document, str):
                    document = json.loads(document)
                yield where, kind, document


def _at(value, path, where):
    if not path:
        yield where, value
        return
    head, rest = path[0], path[1:]
    if head == "*":
        # a list item may itself be conditional (`Fn::If` of a whole policy): walk every branch
        for index, item in enumerate(alternatives(value) if isinstance(value, list) else []):
            name = item.get("PolicyName", index) if isinstance(item, dict) else index
            yield from _at(item, rest, f"{where}[{name}]")
    elif isinstance(value, dict) and head in value:
        yield from _at(value[head], rest, f"{where}.{head}")


def managed_policy_arns(template: dict):
    for logical_id, resource in sorted((template.get("Resources") or {}).items()):
        for arn in (resource.get("Properties") or {}).get("ManagedPolicyArns") or []:
            yield logical_id, arn


# ---- reading statements ---------------------------------------------------------------------------


def listify(value) -> list:
    return value if isinstance(value, list) else [value]


def alternatives(value) -> list:
    """Values a (possibly conditional) entry may take: both branches of Fn::If, AWS::NoValue dropped."""
    if isinstance(value, dict) and "Fn::If" in value:
        _, yes, no = value["Fn::If"]
        return [item for branch in (yes, no) for item in alternatives(branch)]
    if value == {"Ref": "AWS::NoValue"}:
        return []
    if isinstance(value, list):
        return [item for entry in value for item in alternatives(entry)]
    return [value]


def always_present(value) -> bool:
    """Whether a list entry exists whatever the conditions are (an `Fn::If` with `AWS::NoValue` may vanish)."""
    if isinstance(value, dict) and "Fn::If" in value:
        _, yes, no = value["Fn::If"]
        return always_present(yes) and always_present(no)
    return value != {"Ref": "AWS::NoValue"}


def text(value) -> str:
    """A readable string for an ARN expression: Sub variables filled in, references as ${Name}."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref":
            return "${%s}" % argument
        if key == "Fn::GetAtt":
            return "${%s}" % (argument if isinstance(argument, str) else ".".join(argument))
        if key == "Fn::Sub":
            body, variables = (argument, {}) if isinstance(argument, str) else argument
            return re.sub(
                r"\$\{([^!}][^}]*)\}",
                lambda m: text(variables[m.group(1)]) if m.group(1) in variables else m.group(0),
                body,
            )
        if key == "Fn::Join":
            separator, parts = argument
            return separator.join(text(part) for part in parts)
    return json.dumps(value, sort_keys=True)


def is_reference(value) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("Ref", "Fn::GetAtt")


def condition_keys(statement: dict) -> set[str]:
    return {
        key.lower()
        for operator in (statement.get("Condition") or {}).values()
        if isinstance(operator, dict)
        for key in operator
    }


def is_account_root(principal) -> bool:
    arns = listify(principal.get("AWS")) if isinstance(principal, dict) else []
    return (
        bool(arns)
        and all(text(arn) in ("arn:${AWS::Partition}:iam::${AWS::AccountId}:root", "${AWS::AccountId}") for arn in arns)
        and set(principal) == {"AWS"}
    )


# ---- the rules ------------------------------------------------------------------------------------


def check_policy(document: dict, kind: str, system: str, environment: str) -> list[str]:
    """Violations of the rules above in one policy document; `kind` is identity | trust | resource | key."""
    problems = []
    for number, statement in enumerate(listify(document.get("Statement", []))):
        where = f"statement {statement.get('Sid', number)}"
        if statement.get("Effect") != "Allow":
            continue
        problems += [f"{where}: {problem}" for problem in _check_statement(statement, kind, system, environment)]
    return problems


def _check_statement(statement: dict, kind: str, system: str, environment: str) -> list[str]:
    problems = []
    actions = [text(action) for action in listify(statement.get("Action", []))]
    principal = statement.get("Principal")
    key_admin = kind == "key" and actions == ["kms:*"] and is_account_root(principal)
    if "NotAction" in statement:
        problems.append("ACTION: NotAction on Allow grants everything else")
    for action in actions:
        if "*" in action and not key_admin:
            problems.append(f"ACTION: wildcard action {action!r}")
    if "NotResource" in statement:
        problems.append("RESOURCE: NotResource on Allow")
    resources = alternatives(listify(statement.get("Resource", [])))
    if "Resource" in statement and not any(always_present(entry) for entry in listify(statement["Resource"])):
        problems.append("EMPTY: every resource is conditional, so a false condition leaves the statement without any")
    wide = [resource for resource in resources if resource == "*"]
    if wide and kind in ("identity", "resource"):
        unscoped = sorted(set(actions) - set(UNSCOPABLE_ACTIONS))
        if unscoped:
            problems.append(f"RESOURCE: Resource '*' for actions that can be scoped: {unscoped}")
    if kind in ("resource", "key", "trust") and (
        principal == "*" or (isinstance(principal, dict) and "*" in listify(principal.get("AWS")))
    ):
        problems.append(f"{'TRUST' if kind == 'trust' else 'PUBLIC'}: Principal '*' on Allow")
    services = [action.split(":")[0] for action in actions]
    if kind == "identity":
        if "ssm" in services:
            prefix = f":parameter/{system}/{environment}/"
            for resource in resources:
                if prefix not in text(resource):
                    problems.append(f"SSM: {text(resource)} is not under parameter/{system}/{environment}/")
        if "secretsmanager" in services:
            for resource in resources:
                if is_reference(resource):
                    continue
                match = SECRET_ARN.search(text(resource))
                if not match or "*" in text(resource) or not match.group(1).startswith(f"{system}/{environment}/"):
                    problems.append(f"SECRETS: {text(resource)} is not an exact secret ARN of {system}/{environment}")
        if "logs" in services:
            for resource in resources:
                if re.search(r"log-group:[^:]*\*", text(resource)) or resource == "*":
                    problems.append(f"LOGS: {text(resource)} is not one log group")
    decrypts = any(action.lower() in ("kms:decrypt", "kms:*") for action in actions) and not key_admin
    service_principal = isinstance(principal, dict) and set(principal) == {"Service"}
    if decrypts and not service_principal and "kms:viaservice" not in condition_keys(statement):
        problems.append("KMS: kms:Decrypt without a kms:ViaService condition")
    if kind == "trust":
        for service in listify(principal.get("Service", [])) if isinstance(principal, dict) else []:
            if text(service) in NO_SOURCE_ACCOUNT_NEEDED:
                continue
            if "aws:sourceaccount" not in condition_keys(statement):
                problems.append(f"TRUST: {text(service)} may assume the role without an aws:SourceAccount condition")
    return problems


def check_managed_policy(arn) -> list[str]:
    match = MANAGED_ARN.match(text(arn))
    if not match:
        return [f"MANAGED: {text(arn)} is not an AWS managed policy"]
    if match.group(1) not in MANAGED_POLICIES:
        return [f"MANAGED: {match.group(1)} is not in the reviewed list of managed policies"]
    return []


def environment_violations(env_dir: Path) -> list[str]:
    manifest = load(env_dir / "manifest.json")
    system, environment = manifest["system"], manifest["environment"]
    problems = []
    for file_name, template in templates_of(env_dir).items():
        for where, kind, document in policy_documents(template):
            problems += [f"{file_name} {where}: {p}" for p in check_policy(document, kind, system, environment)]
        for logical_id, arn in managed_policy_arns(template):
            problems += [f"{file_name} {logical_id}: {p}" for p in check_managed_policy(arn)]
    return problems


# ---- every emitted template -----------------------------------------------------------------------


def environments(built: Path) -> list[Path]:
    return sorted(path.parent for path in built.glob("*/*/manifest.json"))


def test_every_environment_is_walked(built):
    names = {f"{path.parent.name}/{path.name}" for path in environments(built)}
    assert {"bet2wealth/dev", "bet2wealth/production", "vanity-market/preprod"} <= names


def test_the_walk_finds_the_policies(built):
    # GIVEN the built vanity-market preprod WHEN its policies are walked THEN the roles, bucket and key policies are all seen
    found = {
        (file_name, where.split(".")[0], kind)
        for file_name, template in templates_of(built / "vanity-market" / "preprod").items()
        for where, kind, _ in policy_documents(template)
    }
    for expected in [
        ("service-backend.json", "ExecutionRole", "identity"),
        ("service-backend.json", "TaskRole", "trust"),
        ("network.json", "FlowLogRole", "identity"),
        ("network.json", "RestrictDefaultSecurityGroupRole", "identity"),
        ("loadbalancer.json", "AccessLogBucketPolicy", "resource"),
        ("network.json", "EnvironmentKey", "key"),
        ("cluster.json", "InstanceRole", "trust"),
    ]:
        assert expected in found
    # AND the policy that exists only while the database is on (an Fn::If around a whole policy) is walked too
    wheres = {
        where for where, _, _ in policy_documents(load(built / "vanity-market" / "preprod" / "service-backend.json"))
    }
    assert "ExecutionRole.Policies[read-secrets-if-DatabaseEnabled].PolicyDocument" in wheres


def test_every_policy_of_every_environment_is_least_privilege(built):
    problems = [f"{env.parent.name}/{env.name} {p}" for env in environments(built) for p in environment_violations(env)]
    assert problems == [], "\n".join(problems)


# ---- each rule can fail ---------------------------------------------------------------------------


def allow(**statement) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]}


SUB_SSM = {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/acme/dev/db-url"}

BAD = {
    "ACTION star": ("identity", allow(Action="*", Resource=["arn:aws:s3:::b"])),
    "ACTION service star": ("identity", allow(Action=["s3:*"], Resource=["arn:aws:s3:::b"])),
    "ACTION partial wildcard": ("identity", allow(Action=["ssm:Get*"], Resource=[SUB_SSM])),
    "ACTION NotAction": ("identity", allow(NotAction=["iam:*"], Resource=["arn:aws:s3:::b"])),
    "RESOURCE star": ("identity", allow(Action=["s3:GetObject"], Resource="*")),
    "RESOURCE star inside If": (
        "identity",
        allow(Action=["s3:GetObject"], Resource=[{"Fn::If": ["c", "*", {"Ref": "AWS::NoValue"}]}]),
    ),
    "EMPTY resources when a condition is false": (
        "identity",
        allow(
            Action=["secretsmanager:GetSecretValue"],
            Resource=[{"Fn::If": ["DatabaseEnabled", {"Ref": "DatabaseSecretArn"}, {"Ref": "AWS::NoValue"}]}],
        ),
    ),
    "RESOURCE star mixed with unscopable": (
        "identity",
        allow(Action=["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], Resource=["*"]),
    ),
    "RESOURCE NotResource": ("identity", allow(Action=["s3:GetObject"], NotResource=["arn:aws:s3:::b"])),
    "RESOURCE star in a bucket policy": (
        "resource",
        allow(Principal={"AWS": "arn:aws:iam::111122223333:root"}, Action=["s3:GetObject"], Resource="*"),
    ),
    "SSM other environment": (
        "identity",
        allow(
            Action=["ssm:GetParameters"],
            Resource=[
                {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/acme/prod/db-url"}
            ],
        ),
    ),
    "SSM every parameter": (
        "identity",
        allow(
            Action=["ssm:GetParameters"],
            Resource=[{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/*"}],
        ),
    ),
    "SECRETS wildcard": (
        "identity",
        allow(
            Action=["secretsmanager:GetSecretValue"],
            Resource=[
                {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:acme/dev/*"}
            ],
        ),
    ),
    "SECRETS other environment": (
        "identity",
        allow(
            Action=["secretsmanager:GetSecretValue"],
            Resource=[
                {
                    "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:acme/prod/x-??????"
                }
            ],
        ),
    ),
    "KMS decrypt without ViaService": (
        "identity",
        allow(
            Action=["kms:Decrypt"],
            Resource=[{"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"}],
        ),
    ),
    "KMS decrypt for a role in a key policy": (
        "key",
        allow(Principal={"AWS": {"Fn::GetAtt": ["Role", "Arn"]}}, Action=["kms:Decrypt"], Resource="*"),
    ),
    "LOGS every log group": (
        "identity",
        allow(
            Action=["logs:PutLogEvents"],
            Resource=[{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"}],
        ),
    ),
    "TRUST service without SourceAccount": (
        "trust",
        allow(Principal={"Service": ["ecs-tasks.amazonaws.com"]}, Action=["sts:AssumeRole"]),
    ),
    "TRUST SourceAccount on another service only": (
        "trust",
        {
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
                {
                    "Effect": "Allow",
                    "Principal": {"Service": {"Fn::Sub": "lambda.amazonaws.com"}},
                    "Action": "sts:AssumeRole",
                },
            ]
        },
    ),
    "TRUST anyone": ("trust", allow(Principal="*", Action=["sts:AssumeRole"])),
    "PUBLIC bucket": ("resource", allow(Principal="*", Action=["s3:GetObject"], Resource=["arn:aws:s3:::b/*"])),
    "PUBLIC via AWS star": (
        "resource",
        allow(Principal={"AWS": "*"}, Action=["s3:GetObject"], Resource=["arn:aws:s3:::b/*"]),
    ),
    "ACTION kms star in a key policy for another account": (
        "key",
        allow(Principal={"AWS": "arn:aws:iam::111122223333:root"}, Action=["kms:*"], Resource="*"),
    ),
    "ACTION kms star in a role policy": (
        "identity",
        allow(
            Action=["kms:*"],
            Resource=[{"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/abc"}],
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_rule_rejects_a_bad_policy(name):
    kind, document = BAD[name]
    problems = check_policy(document, kind, "acme", "dev")
    rule = name.split()[0]
    assert any(problem.split(": ", 1)[1].startswith(rule) for problem in problems), problems


GOOD = {
    "scoped ssm with ViaService decrypt": (
        "identity",
        {
            "Statement": [
                {"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": [SUB_SSM]},
                {
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt"],
                    "Resource": [{"Fn::Sub": "arn:aws:kms:r:1:key/*"}],
                    "Condition": {"StringEquals": {"kms:ViaService": "ssm.eu-central-1.amazonaws.com"}},
                },
            ]
        },
    ),
    "unscopable action on star": ("identity", allow(Action=["ecr:GetAuthorizationToken"], Resource=["*"])),
    "secret by reference and exact ARN": (
        "identity",
        allow(
            Action=["secretsmanager:GetSecretValue"],
            Resource=[
                {"Ref": "SecretArn"},
                {"Fn::If": ["c", {"Ref": "Other"}, {"Ref": "AWS::NoValue"}]},
                {
                    "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:acme/dev/api-??????"
                },
            ],
        ),
    ),
    "log group by reference": (
        "identity",
        allow(
            Action=["logs:PutLogEvents"],
            Resource=[
                {"Fn::GetAtt": ["LogGroup", "Arn"]},
                {"Fn::Sub": ["${Arn}:log-stream:*", {"Arn": {"Fn::GetAtt": ["LogGroup", "Arn"]}}]},
            ],
        ),
    ),
    "deny with wildcards": (
        "resource",
        {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]},
    ),
    "ec2 trust without SourceAccount": (
        "trust",
        allow(Principal={"Service": "ec2.amazonaws.com"}, Action="sts:AssumeRole"),
    ),
    "service trust with SourceAccount": (
        "trust",
        allow(
            Principal={"Service": ["ecs-tasks.amazonaws.com"]},
            Action="sts:AssumeRole",
            Condition={"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
        ),
    ),
    "default key admin statement": (
        "key",
        allow(
            Principal={"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
            Action=["kms:*"],
            Resource="*",
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_rules_accept_a_scoped_policy(name):
    kind, document = GOOD[name]
    assert check_policy(document, kind, "acme", "dev") == []


def test_managed_policies_only_from_the_reviewed_list():
    assert check_managed_policy({"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"}) == []
    assert check_managed_policy("arn:aws:iam::aws:policy/AdministratorAccess")[0].startswith("MANAGED")
    assert check_managed_policy({"Ref": "SomePolicy"})[0].startswith("MANAGED")


def test_policy_documents_given_as_json_strings_are_read():
    template = {
        "Resources": {
            "Policy": {
                "Type": "AWS::Logs::ResourcePolicy",
                "Properties": {
                    "PolicyName": "p",
                    "PolicyDocument": json.dumps(allow(Principal="*", Action=["logs:PutLogEvents"], Resource=["x"])),
                },
            }
        }
    }
    ((where, kind, document),) = policy_documents(template)
    assert kind == "resource" and check_policy(document, kind, "acme", "dev")


# ---- grants: a service's use of the storage stack's resources -----------------------------------------

GRANTED = {  # (resource, level) -> {resource part: exact actions}, KMS actions, the KMS endpoint
    ("uploads", "read"): ({"": ["s3:ListBucket"], "/*": ["s3:GetObject"]}, ["kms:Decrypt"], "s3"),
    (
        "uploads",
        "write",
    ): (
        {"/*": ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]},
        ["kms:Decrypt", "kms:GenerateDataKey"],
        "s3",
    ),
    (
        "uploads",
        "read-write",
    ): (
        {"": ["s3:ListBucket"], "/*": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]},
        ["kms:Decrypt", "kms:GenerateDataKey"],
        "s3",
    ),
    ("jobs", "send"): (
        {"": ["sqs:GetQueueAttributes", "sqs:SendMessage"]},
        ["kms:Decrypt", "kms:GenerateDataKey"],
        "sqs",
    ),
    (
        "jobs",
        "consume",
    ): (
        {"": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]},
        ["kms:Decrypt"],
        "sqs",
    ),
    ("events", "publish"): ({"": ["sns:Publish"]}, ["kms:Decrypt", "kms:GenerateDataKey"], "sns"),
    (
        "sessions",
        "read",
    ): (
        {
            "": [
                "dynamodb:BatchGetItem",
                "dynamodb:ConditionCheckItem",
                "dynamodb:DescribeTable",
                "dynamodb:GetItem",
                "dynamodb:Query",
                "dynamodb:Scan",
            ],
            "/index/*": ["dynamodb:Query", "dynamodb:Scan"],
        },
        ["kms:Decrypt"],
        "dynamodb",
    ),
    (
        "sessions",
        "write",
    ): (
        {
            "": [
                "dynamodb:BatchWriteItem",
                "dynamodb:ConditionCheckItem",
                "dynamodb:DeleteItem",
                "dynamodb:DescribeTable",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
            ]
        },
        ["kms:Decrypt"],
        "dynamodb",
    ),
}
ARN_PARAMETER = {
    "uploads": "UploadsBucketArn",
    "jobs": "JobsQueueArn",
    "events": "EventsTopicArn",
    "sessions": "SessionsTableArn",
}


def _grant_policy(grants: dict) -> dict:
    spec = storage_spec()
    spec["services"]["api"]["grants"] = grants
    role = compile_dict(spec)["service-api.json"]["Resources"]["TaskRole"]
    (policy,) = role["Properties"]["Policies"]
    assert policy["PolicyName"] == "grants"
    return policy["PolicyDocument"]


@pytest.mark.parametrize(("target", "level"), sorted(GRANTED))
def test_each_grant_level_allows_exactly_its_actions_on_exactly_its_resource(target, level):
    # GIVEN a service granted one resource at one level WHEN built THEN its task role allows exactly the level's
    # actions, each on that resource's ARN (objects /*, indexes /index/*), and the environment key only through
    # that service's regional endpoint
    parts, key_actions, endpoint = GRANTED[(target, level)]
    document = _grant_policy({target: level})
    arn = {"Ref": ARN_PARAMETER[target]}
    allowed = {}
    for statement in document["Statement"]:
        if statement["Action"][0].startswith("kms:"):
            continue
        (resource,) = statement["Resource"]
        part = "" if resource == arn else resource["Fn::Sub"][0].removeprefix("${Arn}")
        if part:
            assert resource["Fn::Sub"][1] == {"Arn": arn}
        allowed[part] = statement["Action"]
    assert allowed == parts
    (key,) = [statement for statement in document["Statement"] if statement["Action"][0].startswith("kms:")]
    assert key["Action"] == key_actions
    assert key["Resource"] == [{"Ref": "EnvironmentKeyArn"}]
    assert key["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": f"{endpoint}.${{AWS::Region}}.amazonaws.com"}}
    }
    assert check_policy(document, "identity", "acme", "dev") == []


def test_grants_through_one_endpoint_share_one_key_statement():
    # GIVEN two buckets granted WHEN built THEN one KMS statement for s3 holds the union of what both need
    spec = storage_spec(buckets={"uploads": {}, "reports": {}})
    spec["services"]["api"]["grants"] = {"uploads": "read", "reports": "write"}
    document = compile_dict(spec)["service-api.json"]["Resources"]["TaskRole"]["Properties"]["Policies"][0][
        "PolicyDocument"
    ]
    keys = [statement for statement in document["Statement"] if statement["Sid"].startswith("EnvironmentKey")]
    assert [(key["Sid"], key["Action"]) for key in keys] == [
        ("EnvironmentKeyViaS3", ["kms:Decrypt", "kms:GenerateDataKey"])
    ]


def test_an_environment_of_every_storage_kind_is_least_privilege(tmp_path):
    # GIVEN every storage kind granted to a service, topic -> queue delivery WHEN all its policies are walked
    # THEN the task role, queue policy, bucket policy and key policy break no rule
    write(compiler.compile_environment(parse(storage_spec())), tmp_path)
    env = tmp_path / "acme" / "dev"
    walked = {(f, where.split(".")[0]) for f, t in templates_of(env).items() for where, _, _ in policy_documents(t)}
    assert {
        ("storage.json", "JobsQueuePolicy"),
        ("storage.json", "UploadsBucketPolicy"),
        ("service-api.json", "TaskRole"),
    } <= walked
    assert environment_violations(env) == []
