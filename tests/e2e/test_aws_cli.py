"""The plain AWS CLI path, exactly as docs/aws-cli.md documents it: the README's `aws-cli: deploy` block runs in
bash with the real `aws` CLI (the awscli package of this virtualenv) against the local endpoint, for every
environment; then its `aws-cli: update` block ships a new image tag. Only 127.0.0.1/localhost is reached."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from templates.spec import pascal

from ..helpers import PROJECT, TARGETS, load
from .local_endpoint import CLEARED_ENVIRONMENT, REGION, aws, local_endpoint, local_endpoint_server  # noqa: F401

BIN = Path(sys.executable).parent
README = PROJECT / "docs" / "aws-cli.md"


def readme_block(name: str) -> str:
    """The ```bash block that follows `<!-- aws-cli: NAME -->` in docs/aws-cli.md."""
    match = re.search(rf"<!-- aws-cli: {name} -->\s*```bash\n(.*?)```", README.read_text(), re.DOTALL)
    assert match, f"docs/aws-cli.md has no block marked <!-- aws-cli: {name} -->"
    return match.group(1)


@pytest.fixture
def shell(local_endpoint, tmp_path):
    """Run a bash script in the project folder with the venv's `aws` and `python` first on PATH and every
    AWS endpoint pointing at the local endpoint (S3 through `localhost`, which moto needs in TemplateURLs)."""
    assert (BIN / "aws").exists(), "the awscli package is a test dependency (./run setup installs it)"
    environment = {key: value for key, value in os.environ.items() if key not in CLEARED_ENVIRONMENT}
    environment.update(
        {
            "PATH": f"{BIN}{os.pathsep}{environment.get('PATH', '')}",
            "AWS_ENDPOINT_URL": local_endpoint.url,
            "AWS_ENDPOINT_URL_S3": local_endpoint.s3_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_PAGER": "",
            "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        }
    )

    def run(script: str, **variables: str) -> str:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            env={**environment, **variables},
            timeout=600,
        )
        assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    return run


def nested_stacks(cloudformation, stack_name: str) -> dict[str, dict]:
    summaries = cloudformation.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    return {
        item["LogicalResourceId"]: cloudformation.describe_stacks(StackName=item["PhysicalResourceId"])["Stacks"][0]
        for item in summaries
        if item["ResourceType"] == "AWS::CloudFormation::Stack"
    }


def outputs(stack: dict) -> dict[str, str]:
    return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs") or []}


def images(aws) -> list[str]:
    ecs = aws("ecs")
    found = []
    for cluster in ecs.list_clusters()["clusterArns"]:
        for service in ecs.list_services(cluster=cluster)["serviceArns"]:
            definition = ecs.describe_services(cluster=cluster, services=[service])["services"][0]["taskDefinition"]
            found += [
                c["image"]
                for c in ecs.describe_task_definition(taskDefinition=definition)["taskDefinition"][
                    "containerDefinitions"
                ]
            ]
    return found


@pytest.mark.parametrize("target", TARGETS)
def test_readme_cli_commands_deploy_then_update_every_environment(target, shell, aws):
    manifest = load(PROJECT / "output" / target / "manifest.json")
    stack_name = manifest["stack_name"]
    if manifest["hosted_zone"]:  # the account's public zone, which the script looks up by name
        aws("route53").create_hosted_zone(Name=manifest["hosted_zone"], CallerReference="tests")
    script = re.sub(r"(?m)^TARGET=\S+", f"TARGET={target}", readme_block("deploy"), count=1)

    # WHEN the README's commands run with the real aws CLI
    shell(script)

    # THEN the environment stack and every nested stack reached CREATE_COMPLETE
    cloudformation = aws("cloudformation")
    root = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    assert root["StackStatus"] == "CREATE_COMPLETE"
    nested = nested_stacks(cloudformation, stack_name)
    assert set(nested) == set(manifest["nested_stacks"])
    assert {stack["StackStatus"] for stack in nested.values()} == {"CREATE_COMPLETE"}
    # AND outputs flowed from the nested stacks through the root
    values = outputs(root)
    assert values["VpcId"] == outputs(nested["Network"])["VpcId"]
    service = "backend" if "backend" in manifest["services"] else sorted(manifest["services"])[0]  # ledger: api
    stack_id = "Service" + pascal(service)
    assert values[f"{stack_id}Url"] == outputs(nested[stack_id])["ServiceUrl"]
    assert values["LoadBalancerDnsName"].endswith(".elb.amazonaws.com")
    assert {key for key, value in values.items() if not value} <= {"DatabaseEndpoint"}  # empty while the DB is off
    # AND production stacks are protected
    assert root["EnableTerminationProtection"] is bool(manifest["production"])
    if manifest["production"]:
        policy = cloudformation.get_stack_policy(StackName=nested["Data"]["StackId"])["StackPolicyBody"]
        assert "LogicalResourceId/CacheReplicationGroup" in policy or "LogicalResourceId/DatabaseCluster" in policy

    # WHEN CI ships a new image with the README's update command
    update = readme_block("update").replace("BackendImageTag", f"{pascal(service)}ImageTag")
    shell(update, STACK=stack_name, TAG="ci-2f1c9e0")

    # THEN the stack is updated: the parameter and the running service carry the new tag, others kept theirs
    root = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    assert root["StackStatus"] == "UPDATE_COMPLETE"
    parameters = {p["ParameterKey"]: str(p["ParameterValue"]) for p in root["Parameters"]}
    assert parameters[f"{pascal(service)}ImageTag"] == "ci-2f1c9e0"
    count = f"{pascal(service)}DesiredCount"
    assert parameters[count] == manifest["parameters"][count]
    assert any(image.endswith(f"/{manifest['services'][service]['repository']}:ci-2f1c9e0") for image in images(aws))
    assert outputs(root)["VpcId"] == values["VpcId"]
