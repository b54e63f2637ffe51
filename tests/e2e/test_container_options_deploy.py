"""`build.py deploy` of a service with a sidecar (depends_on, health check, secret), `platform: arm64`,
`ephemeral_storage` and `exec: true`, against the local CloudFormation endpoint (127.0.0.1 only): the registered
task definition has both containers, their dependsOn, health check and secrets, the ARM64 runtime platform and
the ephemeral storage size, and the ECS service has execute-command on."""

from __future__ import annotations

import pytest
import yaml

from stackloom.cli.main import main

from ..helpers import base_spec
from .local_endpoint import aws, local_endpoint, local_endpoint_server  # noqa: F401

STACK = "acme-dev"
ENVOY = {
    "name": "envoy",
    "image": {"uri": "public.ecr.aws/appmesh/aws-appmesh-envoy", "tag": "v1.27"},
    "cpu": 128,
    "memory": 256,
    "port": 9901,
    "secrets": {"ENVOY_TOKEN": {"secrets_manager": "acme/dev/envoy"}},
    "health_check": {"command": ["curl -f localhost:9901/ready"], "interval": 10, "retries": 2, "start_period": 5},
}


@pytest.fixture
def deployed(local_endpoint, aws, tmp_path, capsys) -> dict[str, str]:
    """acme/dev, its api (512/1024) with the envoy sidecar it waits for, arm64, 40 GiB and exec, deployed;
    returns the service stack's outputs."""
    folder = tmp_path / "params" / "acme"
    folder.mkdir(parents=True)
    spec = base_spec()
    del spec["load_balancer"]
    service = spec["services"]["api"]
    del service["load_balancer"]
    service.update(
        cpu=512,
        memory=1024,
        sidecars=[ENVOY],
        depends_on={"envoy": "HEALTHY"},
        platform="arm64",
        ephemeral_storage=40,
        exec=True,
    )
    (folder / "dev.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    argv = ["deploy", "acme/dev", "--yes", "--endpoint-url", local_endpoint.url, "--poll", "0.05"]
    code = main(argv + ["--params", str(tmp_path / "params"), "--output", str(tmp_path / "output")])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    cloudformation = aws("cloudformation")
    (physical,) = [
        summary["PhysicalResourceId"]
        for summary in cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
        if summary["LogicalResourceId"] == "ServiceApi"
    ]
    outputs = cloudformation.describe_stacks(StackName=physical)["Stacks"][0]["Outputs"]
    return {item["OutputKey"]: item["OutputValue"] for item in outputs}


def test_the_registered_task_definition_has_both_containers_and_every_task_option(deployed, aws):
    # GIVEN the deployed environment WHEN ECS is asked for the service's task definition
    task = aws("ecs").describe_task_definition(taskDefinition=deployed["TaskDefinitionArn"])["taskDefinition"]
    containers = {container["name"]: container for container in task["containerDefinitions"]}
    # THEN it has the main container and the sidecar, each with its share of the task's 512 CPU units / 1024 MiB
    assert list(containers) == ["api", "envoy"]
    api, envoy = containers["api"], containers["envoy"]
    assert (api["cpu"], api["memory"], envoy["cpu"], envoy["memory"]) == (384, 768, 128, 256)
    assert envoy["image"] == "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.27" and envoy["essential"] is True
    # AND the main container waits for the sidecar to be healthy, whose health check is the spec's
    assert api["dependsOn"] == [{"containerName": "envoy", "condition": "HEALTHY"}]
    assert envoy["healthCheck"] == {
        "command": ["CMD-SHELL", "curl -f localhost:9901/ready"],
        "interval": 10,
        "timeout": 5,
        "retries": 2,
        "startPeriod": 5,
    }
    # AND the sidecar's secret comes from Secrets Manager, and it logs under its own stream prefix
    (secret,) = envoy["secrets"]
    assert secret["name"] == "ENVOY_TOKEN" and secret["valueFrom"].endswith(":secret:acme/dev/envoy")
    prefixes = {name: item["logConfiguration"]["options"]["awslogs-stream-prefix"] for name, item in containers.items()}
    assert prefixes == {"api": "api", "envoy": "envoy"}
    # AND the task runs on Fargate's Graviton (ARM64) with 40 GiB of ephemeral storage
    assert task["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert task["ephemeralStorage"] == {"sizeInGiB": 40}
    assert task["requiresCompatibilities"] == ["FARGATE"] and task["networkMode"] == "awsvpc"
    assert (task["cpu"], task["memory"]) == ("512", "1024")


def test_the_service_has_execute_command_on_and_its_task_role_the_ssmmessages_channels(deployed, aws):
    ecs = aws("ecs")
    (cluster,) = ecs.list_clusters()["clusterArns"]
    (arn,) = ecs.list_services(cluster=cluster)["serviceArns"]
    (service,) = ecs.describe_services(cluster=cluster, services=[arn])["services"]
    assert service["enableExecuteCommand"] is True
    assert service["taskDefinition"] == deployed["TaskDefinitionArn"]
    # AND the task role the task definition names carries the ecs-exec policy
    task = ecs.describe_task_definition(taskDefinition=deployed["TaskDefinitionArn"])["taskDefinition"]
    role = task["taskRoleArn"].rsplit("/", 1)[-1]
    assert "ecs-exec" in aws("iam").list_role_policies(RoleName=role)["PolicyNames"]
