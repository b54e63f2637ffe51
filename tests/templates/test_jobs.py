"""Jobs: a task definition run to completion, on an EventBridge Scheduler schedule or on demand; the schedule's
target and role (least privilege), its dead-letter queue, and the job's own security group and grants."""

from __future__ import annotations

import copy

import pytest

from templates.spec import SpecInvalid, parse
from templates.spec_jobs import check_schedule, runs_per_month
from templates.validation import FieldError

from ..helpers import compile_dict, jobs_spec, only, resources


@pytest.fixture(scope="module")
def files():
    return compile_dict(jobs_spec())


def _error(change) -> str:
    data = jobs_spec()
    change(data)
    with pytest.raises(SpecInvalid) as caught:
        parse(data)
    return str(caught.value)


# ---------------------------------------------------------------- schedule expressions


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(7 days)",
        "cron(0 3 * * ? *)",
        "cron(0/15 8-18 ? * MON-FRI *)",
        "cron(30 2 1 JAN,JUL ? 2026-2030)",
        "cron(0 12 ? * 2#1 *)",
        "cron(0 0 L * ? *)",
        "at(2026-05-01T09:30:00)",
    ],
)
def test_good_schedule_expressions_are_accepted(expression):
    check_schedule(expression)


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("rate(0 minutes)", "positive"),
        ("rate(1 minutes)", "write rate(1 minute)"),
        ("rate(5 minute)", "write rate(5 minutes)"),
        ("rate(2 weeks)", "not a schedule expression"),
        ("every day", "not a schedule expression"),
        ("cron(0 3 * * *)", "six fields"),
        ("cron(0 3 * * * *)", "exactly one of day-of-month and day-of-week must be ?"),
        ("cron(0 3 ? * ? *)", "exactly one of day-of-month and day-of-week must be ?"),
        ("cron(60 3 * * ? *)", "minutes '60'"),
        ("cron(0 24 * * ? *)", "hours '24'"),
        ("cron(0 3 * 13 ? *)", "month '13'"),
        ("cron(0 3 ? * FUNDAY *)", "day-of-week 'FUNDAY'"),
        ("cron(? 3 * * ? *)", "? is allowed in day-of-month and day-of-week only"),
        ("at(2026-02-30T09:00:00)", "not a date and time"),
    ],
)
def test_bad_schedule_expressions_say_what_is_wrong(expression, words):
    with pytest.raises(FieldError) as caught:
        check_schedule(expression)
    assert words in str(caught.value)


def test_runs_per_month_is_exact_for_rates_and_approximate_for_cron():
    assert runs_per_month("rate(1 hour)") == 730
    assert runs_per_month("rate(30 minutes)") == 1460
    assert runs_per_month("cron(0 3 * * ? *)") == pytest.approx(730 / 24)  # daily
    assert runs_per_month("cron(0 9 ? * MON-FRI *)") == pytest.approx(5 * 730 / 24 / 7)
    assert runs_per_month("cron(0 0 1 * ? *)") == 1  # monthly
    assert runs_per_month("at(2026-05-01T09:30:00)") == 0


# ---------------------------------------------------------------- the stacks


def test_each_job_has_its_own_stack_and_the_manifest_lists_it():
    from stackloom import build as compiler

    build = compiler.compile_environment(parse(jobs_spec()))
    assert {"job-report.json", "job-migrate.json"} <= set(build.files)
    entry = build.manifest.jobs["report"]
    assert (entry.stack, entry.container, entry.log_group, entry.log_stream_prefix) == (
        "JobReport",
        "report",
        "/ecs/acme-dev-job-report",
        "report",
    )
    assert entry.schedule == "cron(0 3 * * ? *)" and build.manifest.jobs["migrate"].schedule is None


def test_a_job_task_definition_has_no_port_mappings_and_its_own_family(files):
    task = only(files["job-report.json"], "AWS::ECS::TaskDefinition")["Properties"]
    (container,) = task["ContainerDefinitions"]
    assert "PortMappings" not in container and "HealthCheck" not in container
    assert task["Family"] == "acme-dev-job-report"
    assert container["Name"] == "report" and container["ReadonlyRootFilesystem"] is True and container["User"] == "1000"
    assert container["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == "report"


def test_an_unscheduled_job_is_a_task_definition_only(files):
    template = files["job-migrate.json"]
    assert resources(template, "AWS::Scheduler::Schedule") == {}
    assert resources(template, "AWS::SQS::Queue") == {}
    assert set(resources(template, "AWS::IAM::Role")) == {"ExecutionRole", "TaskRole"}
    assert "ScheduleName" not in template["Outputs"]


def test_the_schedule_targets_the_cluster_with_the_services_network_settings(files):
    template = files["job-report.json"]
    schedule = only(template, "AWS::Scheduler::Schedule")["Properties"]
    assert schedule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"} and schedule["State"] == "ENABLED"
    target = schedule["Target"]
    assert target["Arn"] == {"Ref": "ClusterArn"}
    assert target["RoleArn"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    ecs = target["EcsParameters"]
    assert ecs["TaskDefinitionArn"] == {"Ref": "TaskDefinition"} and ecs["TaskCount"] == 1
    assert ecs["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE", "Weight": 1, "Base": 0}]
    assert ecs["NetworkConfiguration"] == {
        "AwsvpcConfiguration": {
            "AssignPublicIp": "DISABLED",
            "Subnets": {"Ref": "PrivateSubnetIds"},
            "SecurityGroups": [{"Ref": "JobReportSecurityGroupId"}],
        }
    }
    assert ecs["PlatformVersion"] == "LATEST" and ecs["EnableECSManagedTags"] is True
    assert ecs["PropagateTags"] == "TASK_DEFINITION"


def test_fargate_spot_and_ec2_jobs_use_their_capacity_provider():
    data = jobs_spec()
    data["jobs"]["report"]["compute"] = "fargate-spot"
    ecs = only(compile_dict(data)["job-report.json"], "AWS::Scheduler::Schedule")["Properties"]["Target"]
    assert ecs["EcsParameters"]["CapacityProviderStrategy"][0]["CapacityProvider"] == "FARGATE_SPOT"


def test_the_scheduler_role_may_do_exactly_what_starting_the_job_needs(files):
    role = resources(files["job-report.json"], "AWS::IAM::Role")["SchedulerRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["scheduler.amazonaws.com"]}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}}}
    (policy,) = role["Policies"]
    statements = {item["Sid"]: item for item in policy["PolicyDocument"]["Statement"]}
    run = statements["RunThisTaskDefinitionOnThisCluster"]
    assert (run["Action"], run["Resource"]) == (["ecs:RunTask"], [{"Ref": "TaskDefinition"}])
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": {"Ref": "ClusterArn"}}}
    tag = statements["TagTheTasksItStarts"]
    assert tag["Action"] == ["ecs:TagResource"] and tag["Condition"] == {
        "StringEquals": {"ecs:CreateAction": "RunTask"}
    }
    passing = statements["PassTheJobsRoles"]
    assert passing["Action"] == ["iam:PassRole"]
    assert passing["Resource"] == [
        {"Fn::GetAtt": ["ExecutionRole", "Arn"]},
        {"Fn::GetAtt": ["TaskRole", "Arn"]},
    ]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    send = statements["DeadLetters"]
    assert (send["Action"], send["Resource"]) == (["sqs:SendMessage"], [{"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}])
    key = statements["EncryptDeadLetters"]
    assert key["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"] and key["Resource"] == [{"Ref": "EnvironmentKeyArn"}]
    assert key["Condition"] == {"StringEquals": {"kms:ViaService": {"Fn::Sub": "sqs.${AWS::Region}.amazonaws.com"}}}
    assert set(statements) == {
        "RunThisTaskDefinitionOnThisCluster",
        "TagTheTasksItStarts",
        "PassTheJobsRoles",
        "DeadLetters",
        "EncryptDeadLetters",
    }


def test_the_dead_letter_queue_is_encrypted_with_the_environment_key_and_kept_14_days(files):
    queue = only(files["job-report.json"], "AWS::SQS::Queue")
    assert queue["Properties"]["KmsMasterKeyId"] == {"Ref": "EnvironmentKeyArn"}
    assert queue["Properties"]["MessageRetentionPeriod"] == 1209600
    assert queue["DeletionPolicy"] == queue["UpdateReplacePolicy"] == "Delete"


def test_a_job_gets_its_grants_secrets_and_connects_to_variables(files):
    template = files["job-report.json"]
    grants = resources(template, "AWS::IAM::Role")["TaskRole"]["Properties"]["Policies"]
    assert any("sqs:SendMessage" in str(policy) for policy in grants)
    (container,) = only(template, "AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"]
    variables = {item["Name"] for item in container["Environment"]}
    assert {"API_URL", "REDIS_HOST", "REDIS_PORT", "JOBS_QUEUE_URL"} <= variables
    assert {item["Name"] for item in container["Secrets"]} == {"REDIS_AUTH_TOKEN", "TOKEN"}


def test_a_job_has_its_own_group_with_the_flows_of_what_it_connects_to_and_nothing_in(files):
    security = files["security.json"]
    assert "JobReportSecurityGroup" in resources(security, "AWS::EC2::SecurityGroup")
    rules = resources(security, "AWS::EC2::SecurityGroupIngress")
    assert {"JobReportToServiceApiPort8080", "JobReportToCachePort6379"} <= set(rules)
    into_job = [key for key, rule in rules.items() if "JobReport" in str(rule["Properties"]["GroupId"])]
    assert into_job == []
    assert "JobMigrateSecurityGroup" in resources(security, "AWS::EC2::SecurityGroup")
    assert not [key for key in rules if key.startswith("JobMigrate")]


def test_with_interface_endpoints_a_job_may_reach_them():
    data = jobs_spec()
    data["network"]["endpoints"] = ["sqs"]
    rules = resources(compile_dict(data)["security.json"], "AWS::EC2::SecurityGroupIngress")
    assert {"JobReportToEndpointsPort443", "JobMigrateToEndpointsPort443"} <= set(rules)


# ---------------------------------------------------------------- bad input, each field


def _set(job: str, **fields):
    def change(data):
        data["jobs"][job].update(copy.deepcopy(fields))

    return change


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (_set("report", schedule="daily"), "jobs.report.schedule: 'daily' is not a schedule expression"),
        (_set("report", timezone="Mars/Olympus"), "jobs.report.timezone: 'Mars/Olympus' is not an IANA time zone"),
        (_set("migrate", timezone="Europe/Berlin"), "jobs.migrate.timezone: applies to a schedule only"),
        (_set("report", retry_attempts=186), "jobs.report.retry_attempts"),
        (_set("report", max_event_age_seconds=30), "jobs.report.max_event_age_seconds"),
        (_set("report", enabled="yes"), "jobs.report.enabled"),
        (_set("report", cpu=300), "jobs.report.cpu: 300 is not a Fargate size"),
        (_set("report", memory=8192), "jobs.report.memory: 8192 does not fit Fargate cpu 256"),
        (_set("report", compute="lambda"), "jobs.report.compute"),
        (_set("report", compute="ec2"), "jobs.report.compute: ec2 needs cluster.ec2_capacity"),
        (_set("report", image={"repository": "nope"}), "jobs.report.image.repository: 'nope' is not a key"),
        (_set("report", connects_to=["report"]), "jobs.report.connects_to: 'report' is unknown"),
        (_set("report", connects_to=["database"]), "jobs.report.connects_to: 'database' but the environment has no"),
        (_set("report", grants={"jobs": "publish"}), "jobs.report.grants.jobs: 'publish' is not a level for a queue"),
        (_set("report", grants={"nothing": "read"}), "jobs.report.grants.nothing: 'nothing' is not a bucket"),
        (_set("report", secrets={"T": {"ssm": "/other/dev/t"}}), "jobs.report.secrets.T.ssm: '/other/dev/t' must be"),
        (_set("report", writable_paths=["/tmp"], readonly_root_filesystem=False), "jobs.report.writable_paths"),
        (_set("report", log_retention_days=8), "jobs.report.log_retention_days"),
        (_set("report", port=80), "jobs.report.port: unknown field"),
        (_set("report", environment={"TOKEN": "x"}), "variables defined both as environment and secret"),
    ],
)
def test_bad_job_input_names_the_field(change, words):
    assert words in _error(change)


def test_a_job_may_not_share_a_services_name():
    def change(data):
        data["jobs"]["api"] = data["jobs"].pop("migrate")

    assert "jobs.api: 'api' is also a service" in _error(change)


def test_a_job_of_an_external_image_is_refused_without_nat():
    def change(data):
        data["network"]["nat"] = "none"
        data["jobs"]["migrate"]["image"] = {"uri": "public.ecr.aws/x/y"}

    assert "jobs.migrate.image: public.ecr.aws/x/y needs internet egress" in _error(change)
