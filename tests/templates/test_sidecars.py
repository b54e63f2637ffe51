"""Sidecars (`sidecars:` of a service or job): further containers of the task definition, with their share of the
task's CPU and memory, log stream, variables, secrets (through the execution role), dependsOn and health check."""

from __future__ import annotations

import json

import pytest

from stackloom.audit import lint
from templates.spec import SpecInvalid, parse

from ..helpers import base_spec, compile_dict, jobs_spec, only, resources


def _envoy(**extra) -> dict:
    sidecar = {
        "name": "envoy",
        "image": {"uri": "public.ecr.aws/appmesh/aws-appmesh-envoy", "tag": "v1.27"},
        "cpu": 128,
        "memory": 256,
        "port": 9901,
        "environment": {"ENVOY_LOG_LEVEL": "info"},
        "secrets": {"ENVOY_TOKEN": {"secrets_manager": "acme/dev/envoy"}},
        "health_check": {"command": ["curl -f localhost:9901/ready"], "interval": 10, "retries": 2, "start_period": 5},
    }
    sidecar.update(extra)
    return sidecar


def _spec(*sidecars, **service) -> dict:
    data = base_spec()
    data["services"]["api"].update(cpu=512, memory=1024, sidecars=list(sidecars), **service)
    return data


def _containers(data: dict, file: str = "service-api.json") -> dict[str, dict]:
    task = only(compile_dict(data)[file], "AWS::ECS::TaskDefinition")["Properties"]
    return {container["Name"]: container for container in task["ContainerDefinitions"]}


def _refused(data: dict) -> str:
    with pytest.raises(SpecInvalid) as error:
        parse(data)
    return str(error.value)


def test_a_sidecar_is_a_second_container_with_its_share_port_variables_and_health_check():
    # GIVEN a 512/1024 service with an envoy sidecar of 128 CPU units and 256 MiB on port 9901
    containers = _containers(_spec(_envoy()))
    # THEN the task has the main container first, then envoy, with exactly what the spec says
    assert list(containers) == ["api", "envoy"]
    envoy = containers["envoy"]
    assert envoy["Image"] == "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.27"
    assert (envoy["Cpu"], envoy["Memory"], envoy["Essential"]) == (128, 256, True)
    assert envoy["PortMappings"] == [{"ContainerPort": 9901, "Protocol": "tcp"}]
    assert envoy["Environment"] == [{"Name": "ENVOY_LOG_LEVEL", "Value": "info"}]
    assert envoy["HealthCheck"] == {
        "Command": ["CMD-SHELL", "curl -f localhost:9901/ready"],
        "Interval": 10,
        "Retries": 2,
        "StartPeriod": 5,
        "Timeout": 5,
    }
    assert envoy["Privileged"] is False
    # AND the main container keeps the rest of the task's CPU and memory
    assert (containers["api"]["Cpu"], containers["api"]["Memory"]) == (512 - 128, 1024 - 256)


def test_without_sidecars_the_main_container_keeps_the_whole_task_and_has_no_cpu_share():
    main = _containers(_spec())["api"]
    assert main["Memory"] == 1024 and "Cpu" not in main and "DependsOn" not in main


def test_each_sidecar_logs_to_the_service_log_group_under_its_own_stream_prefix():
    containers = _containers(_spec(_envoy()))
    options = {name: container["LogConfiguration"]["Options"] for name, container in containers.items()}
    assert options["envoy"]["awslogs-group"] == options["api"]["awslogs-group"] == {"Ref": "LogGroup"}
    assert (options["api"]["awslogs-stream-prefix"], options["envoy"]["awslogs-stream-prefix"]) == ("api", "envoy")


def test_a_sidecars_secrets_are_read_through_the_same_execution_role_policy():
    # GIVEN the main container reads an SSM parameter and envoy a Secrets Manager secret
    data = _spec(_envoy(), secrets={"TOKEN": {"ssm": "/acme/dev/token"}})
    template = compile_dict(data)["service-api.json"]
    envoy = {c["Name"]: c for c in only(template, "AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"]}[
        "envoy"
    ]
    assert envoy["Secrets"] == [
        {
            "Name": "ENVOY_TOKEN",
            "ValueFrom": {
                "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:acme/dev/envoy"
            },
        }
    ]
    # THEN the one execution role's one policy reads both, the sidecar's exactly by its ARN
    role = resources(template, "AWS::IAM::Role")["ExecutionRole"]["Properties"]
    assert [policy["PolicyName"] for policy in role["Policies"]] == ["start-task"]
    statements = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    assert statements["ReadSecrets"]["Resource"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:acme/dev/envoy-??????"
        }
    ]
    assert statements["ReadParameters"]["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/acme/dev/token"}
    ]


def test_a_sidecar_from_another_repository_of_the_environment_may_be_pulled():
    data = _spec(_envoy(image={"repository": "proxy", "tag": "v2"}))
    data["repositories"]["proxy"] = {"name": "acme-proxy"}
    template = compile_dict(data)["service-api.json"]
    role = resources(template, "AWS::IAM::Role")["ExecutionRole"]["Properties"]
    pull = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}["PullImage"]
    assert [item["Fn::Sub"].rsplit("/", 1)[1] for item in pull["Resource"]] == ["acme-api", "acme-proxy"]


def test_depends_on_both_ways_with_conditions():
    # GIVEN the main container waits for envoy to be HEALTHY and for a one-shot init to SUCCEED; init waits for
    # envoy to START
    init = {"name": "init", "image": {"repository": "api", "tag": "init"}, "memory": 64, "essential": False}
    init["depends_on"] = {"envoy": "START"}
    containers = _containers(_spec(_envoy(), init, depends_on={"envoy": "HEALTHY", "init": "SUCCESS"}))
    assert containers["api"]["DependsOn"] == [
        {"ContainerName": "envoy", "Condition": "HEALTHY"},
        {"ContainerName": "init", "Condition": "SUCCESS"},
    ]
    assert containers["init"]["DependsOn"] == [{"ContainerName": "envoy", "Condition": "START"}]
    assert containers["init"]["Essential"] is False and "PortMappings" not in containers["init"]


def test_a_job_takes_sidecars_too():
    data = jobs_spec()
    data["jobs"]["report"]["sidecars"] = [_envoy(port=None)]
    containers = _containers(data, "job-report.json")
    assert list(containers) == ["report", "envoy"]
    assert containers["report"]["Memory"] == 512 - 256


def test_sidecars_and_their_dependencies_are_lint_clean(tmp_path):
    init = {"name": "init", "image": {"repository": "api"}, "memory": 64, "essential": False}
    data = _spec(_envoy(), init, depends_on={"envoy": "HEALTHY", "init": "COMPLETE"})
    path = tmp_path / "service-api.json"
    path.write_text(json.dumps(compile_dict(data)["service-api.json"]))
    assert lint.lint_files([path]) == {path: []}


@pytest.mark.parametrize(
    ("sidecars", "service", "expected"),
    [
        ([_envoy(name="api")], {}, "services.api.sidecars.0.name: 'api' is the main container's name"),
        ([_envoy(), _envoy(port=9902)], {}, "names envoy more than once"),
        ([_envoy(port=8080)], {}, "8080 is already the main container's"),
        ([_envoy(cpu=512)], {}, "reserve 512 CPU units together, but the task has 512"),
        ([_envoy(memory=1020)], {}, "leaving the main container 4 of the task's 1024 MiB"),
        ([_envoy()], {"depends_on": {"proxy": "START"}}, "'proxy' is not a container of the task"),
        ([_envoy()], {"depends_on": {"envoy": "COMPLETE"}}, "it is essential"),
        ([_envoy(health_check=None)], {"depends_on": {"envoy": "HEALTHY"}}, "HEALTHY needs a health check on 'envoy'"),
        ([_envoy(depends_on={"api": "HEALTHY"})], {}, "HEALTHY needs a health check on 'api'"),
        ([_envoy(depends_on={"api": "START"})], {"depends_on": {"envoy": "START"}}, "in a circle: api -> envoy -> api"),
        ([_envoy(depends_on={"envoy": "START"})], {}, "a container cannot wait for itself"),
        ([_envoy(depends_on={"api": "STARTED"})], {}, "services.api.sidecars.0.depends_on.api"),
        ([_envoy(secrets={"X": {"ssm": "/other/dev/x"}})], {}, "services.api.sidecars.0.secrets.X.ssm"),
        ([_envoy(image={"repository": "nope"})], {}, "services.api.sidecars.0.image.repository: 'nope' is not a key"),
        (
            [_envoy(health_check={"command": ["true"], "interval": 5, "timeout": 5})],
            {},
            "must be shorter than interval",
        ),
    ],
)
def test_a_bad_sidecar_spec_is_refused_naming_the_field(sidecars, service, expected):
    assert expected in _refused(_spec(*sidecars, **service))


def test_a_main_container_with_a_health_check_may_be_waited_for_healthy():
    containers = _containers(_spec(_envoy(depends_on={"api": "HEALTHY"}), health_check_command=["true"]))
    assert containers["envoy"]["DependsOn"] == [{"ContainerName": "api", "Condition": "HEALTHY"}]


def test_sidecar_images_and_secrets_count_for_the_endpoints_without_nat():
    from templates import endpoints

    data = _spec(
        _envoy(image={"repository": "api", "tag": "proxy"}, secrets={"T": {"ssm": "/acme/dev/t"}}),
    )
    data["repositories"] = {"api": {"name": "acme-api"}}
    data["services"]["api"]["image"] = {"uri": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/acme-api"}
    data["network"]["nat"] = "none"
    assert {"ssm", "ecr.api", "ecr.dkr", "s3"} <= endpoints.needed_endpoints(parse(data))
    # AND a sidecar image from outside the region's ECR is refused there, naming the sidecar
    data["services"]["api"]["sidecars"][0]["image"] = {"uri": "public.ecr.aws/x/y"}
    assert "services.api.sidecars.0.image: public.ecr.aws/x/y needs internet egress" in _refused(data)
