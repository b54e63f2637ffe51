"""`python -m stackloom.local` as a user runs it: a process of its own on 127.0.0.1, its URL read from what it
prints. Every example environment deploys through it with `build.py deploy --endpoint-url` and with the
README's plain AWS CLI commands (one process for the module, emptied with moto's reset between deploys); it
answers as the account given with --account-id (vanity-market's spec names one), makes the certificates given
with --certificate exist, and stops with exit 0 on SIGTERM and on SIGINT."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from templates.spec import pascal

from ..helpers import PARAMS, PROJECT, TARGETS, load
from .local_endpoint import CLEARED_ENVIRONMENT, REGION
from .test_aws_cli import BIN, readme_block

ACCOUNT = yaml.safe_load((PARAMS / "vanity-market" / "preprod.yaml").read_text())["account_id"]
CERTIFICATE = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/5f0c2b1e-7a3d-4c9e-8b6f-1d2e3f4a5b6c"
URL_LINE = re.compile(r"^local endpoint on (http://127\.0\.0\.1:(\d+)) \(account (\d{12})\)")


def environment(tmp: Path) -> dict[str, str]:
    """This process's environment without anything that could reach AWS; dummy credentials, no AWS config."""
    env = {key: value for key, value in os.environ.items() if key not in CLEARED_ENVIRONMENT}
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_PAGER": "",
            "AWS_CONFIG_FILE": str(tmp / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-credentials"),
        }
    )
    env.pop("MOTO_ACCOUNT_ID", None)  # the process answers as --account-id, not as a variable left by a test
    return env


class Standalone:
    """`python -m stackloom.local --port 0 ARGS` in its own process; `url` and `account` as it printed them."""

    def __init__(self, tmp: Path, *args: str):
        self.env = environment(tmp)
        self.errors = tmp / "endpoint-stderr.txt"  # a file, not a pipe nobody reads while it runs
        with self.errors.open("w") as errors:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "stackloom.local", "--port", "0", *args],
                cwd=PROJECT,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        first = self.process.stdout.readline()  # printed once it listens
        match = URL_LINE.match(first)
        if not match:
            self.process.kill()
            raise AssertionError(f"unexpected first line {first!r}; stderr: {self.errors.read_text()}")
        self.url, port, self.account = match.group(1), int(match.group(2)), match.group(3)
        assert port != 0, "--port 0 must print the port it was given"
        self.printed = first
        while not self.printed.endswith("(everything in it is gone then).\n"):  # the rest of what it prints first
            line = self.process.stdout.readline()
            assert line, f"it stopped: {self.errors.read_text()}"
            self.printed += line

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> tuple[int, str]:
        """Send `signum`, wait; returns (exit code, rest of its output)."""
        self.process.send_signal(signum)
        try:
            out, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            raise AssertionError(
                f"still running {timeout} s after signal {signum}: {self.errors.read_text()}"
            ) from None
        return self.process.returncode, out + self.errors.read_text()

    def reset(self) -> None:
        """Empty it (moto's reset: POST /moto-api/reset), as a fresh account."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200

    def client(self, service: str, region: str = REGION):
        import boto3

        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
        return session.client(service, endpoint_url=self.url)

    def run(self, argv: list[str], **variables: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            argv, cwd=PROJECT, env={**self.env, **variables}, capture_output=True, text=True, timeout=600
        )


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """One standalone endpoint for the module, answering as vanity-market's account (bet2wealth names none, so
    it deploys there too)."""
    started = Standalone(tmp_path_factory.mktemp("standalone"), "--account-id", ACCOUNT)
    yield started
    if started.process.poll() is None:
        code, out = started.stop(signal.SIGTERM)
        assert code == 0, out


@pytest.fixture
def empty(endpoint):
    """The module's endpoint, emptied."""
    assert endpoint.process.poll() is None, "the standalone endpoint has stopped"
    endpoint.reset()
    return endpoint


def deploy(endpoint: Standalone, target: str, output: Path, *extra: str) -> subprocess.CompletedProcess:
    """`python build.py deploy TARGET --endpoint-url URL --yes`, as a user types it."""
    argv = [sys.executable, "build.py", "deploy", target, "--endpoint-url", endpoint.url, "--yes"]
    return endpoint.run(argv + ["--output", str(output), "--poll", "0.1", *extra])


def seed_zone(endpoint: Standalone, manifest: dict) -> None:
    if manifest["hosted_zone"]:  # the public zone the account already has
        endpoint.client("route53").create_hosted_zone(Name=manifest["hosted_zone"], CallerReference="tests")


def assert_deployed(endpoint: Standalone, manifest: dict, statuses=("CREATE_COMPLETE",)) -> dict[str, str]:
    """The root and bootstrap stacks and every nested stack are done; returns the root's outputs."""
    cloudformation = endpoint.client("cloudformation", manifest["region"])
    root = cloudformation.describe_stacks(StackName=manifest["stack_name"])["Stacks"][0]
    assert root["StackStatus"] in statuses
    bootstrap = cloudformation.describe_stacks(StackName=manifest["bootstrap_stack_name"])["Stacks"][0]
    assert bootstrap["StackStatus"] in statuses
    resources = cloudformation.list_stack_resources(StackName=manifest["stack_name"])["StackResourceSummaries"]
    nested = {
        item["LogicalResourceId"]: cloudformation.describe_stacks(StackName=item["PhysicalResourceId"])["Stacks"][0]
        for item in resources
        if item["ResourceType"] == "AWS::CloudFormation::Stack"
    }
    assert set(nested) == set(manifest["nested_stacks"])
    assert {stack["StackStatus"] for stack in nested.values()} <= set(statuses)
    assert all(stack["ParentId"] == root["StackId"] for stack in nested.values())
    outputs = {item["OutputKey"]: item["OutputValue"] for item in root.get("Outputs") or []}
    assert outputs["VpcId"].startswith("vpc-")
    assert outputs["LoadBalancerDnsName"].endswith(".elb.amazonaws.com")
    assert outputs["BaseUrl"].startswith(("http://", "https://"))
    routed = [key for key in outputs if key.startswith("Service") and key.endswith("Url")]
    assert routed and all(outputs[key].startswith(outputs["BaseUrl"]) for key in routed)  # each example routes one
    assert {key for key, value in outputs.items() if not value} <= {"DatabaseEndpoint"}
    return outputs


def test_it_prints_the_port_it_listens_on_and_answers_as_the_account_given(endpoint):
    # GIVEN `python -m stackloom.local --port 0 --account-id ACCOUNT` started as its own process
    # THEN it printed a real port, and the commands to use it with that URL
    assert f"export AWS_ENDPOINT_URL={endpoint.url} " in endpoint.printed
    # AND it answers there, as the account given
    assert endpoint.client("sts").get_caller_identity()["Account"] == ACCOUNT == endpoint.account


@pytest.mark.parametrize("target", TARGETS)
def test_build_py_deploy_through_the_standalone_endpoint(target, empty, tmp_path):
    manifest = load(PROJECT / "output" / target / "manifest.json")
    seed_zone(empty, manifest)
    # WHEN the environment is deployed with build.py deploy --endpoint-url (the URL the endpoint printed)
    started = time.monotonic()
    result = deploy(empty, target, tmp_path / "output")
    # THEN it is deployed: every stack complete, the outputs printed and on the root stack
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{manifest['stack_name']}: CREATE_COMPLETE" in result.stdout
    assert f"-> endpoint {empty.url} ({REGION})" in result.stdout
    outputs = assert_deployed(empty, manifest)
    assert re.search(rf"LoadBalancerDnsName\s+{re.escape(outputs['LoadBalancerDnsName'])}", result.stdout)
    assert time.monotonic() - started < 120
    # AND a second deploy finds nothing to change
    again = deploy(empty, target, tmp_path / "output")
    assert again.returncode == 0 and f"{manifest['stack_name']}: no changes" in again.stdout, again.stdout


@pytest.mark.parametrize("target", TARGETS)
def test_readme_aws_cli_commands_through_the_standalone_endpoint(target, empty, tmp_path):
    manifest = load(PROJECT / "output" / target / "manifest.json")
    seed_zone(empty, manifest)
    script = re.sub(r"(?m)^TARGET=\S+", f"TARGET={target}", readme_block("deploy"), count=1)
    # WHEN the README's commands run with the real aws CLI, its endpoint set as the endpoint printed them
    variables = {"AWS_ENDPOINT_URL": empty.url, "AWS_ENDPOINT_URL_S3": empty.url.replace("127.0.0.1", "localhost")}
    result = empty.run(["bash", "-euo", "pipefail", "-c", script], **variables)
    assert result.returncode == 0, result.stdout + result.stderr
    # THEN every stack is complete with its outputs
    assert_deployed(empty, manifest)
    if manifest["production"]:
        root = empty.client("cloudformation").describe_stacks(StackName=manifest["stack_name"])["Stacks"][0]
        assert root["EnableTerminationProtection"] is True
    # AND the README's update ships a new image tag through it (of the example's first service: ledger's is api)
    service = "backend" if "backend" in manifest["services"] else sorted(manifest["services"])[0]
    parameter = f"{pascal(service)}ImageTag"
    update = empty.run(
        ["bash", "-euo", "pipefail", "-c", readme_block("update").replace("BackendImageTag", parameter)],
        **variables,
        STACK=manifest["stack_name"],
        TAG="ci-2f1c9e0",
    )
    assert update.returncode == 0, update.stdout + update.stderr
    root = empty.client("cloudformation").describe_stacks(StackName=manifest["stack_name"])["Stacks"][0]
    assert root["StackStatus"] == "UPDATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in root["Parameters"]}[parameter] == "ci-2f1c9e0"


def test_a_certificate_given_with_certificate_exists_and_a_spec_naming_it_deploys(tmp_path, params_dir):
    # GIVEN vanity-market/preprod serving HTTPS with an existing certificate
    spec_path = params_dir / "vanity-market" / "preprod.yaml"
    spec = yaml.safe_load(spec_path.read_text())
    spec["load_balancer"] = {"name": "backend-alb", "certificate_arn": CERTIFICATE}
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    # AND a standalone endpoint of its account that has that certificate
    started = Standalone(tmp_path, "--account-id", ACCOUNT, "--certificate", CERTIFICATE)
    try:
        assert f"certificate {CERTIFICATE} exists (issued)" in started.printed
        certificate = started.client("acm").describe_certificate(CertificateArn=CERTIFICATE)["Certificate"]
        assert certificate["Status"] == "ISSUED"
        # WHEN the spec is deployed through it
        result = deploy(started, "vanity-market/preprod", tmp_path / "output", "--params", str(params_dir))
        # THEN it is deployed, and the HTTPS listener uses exactly that certificate
        assert result.returncode == 0, result.stdout + result.stderr
        assert "local endpoint: created certificate" not in result.stdout  # only --local makes one
        elbv2 = started.client("elbv2")
        (balancer,) = elbv2.describe_load_balancers()["LoadBalancers"]
        listeners = elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
        https = [listener for listener in listeners if listener["Protocol"] == "HTTPS"]
        assert [item["CertificateArn"] for listener in https for item in listener["Certificates"]] == [CERTIFICATE]
    finally:
        code, out = started.stop()
    assert code == 0, out


@pytest.fixture
def params_dir(tmp_path) -> Path:
    import shutil

    copy = tmp_path / "params"
    shutil.copytree(PARAMS, copy)
    return copy


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_without_account_id_a_spec_naming_one_is_refused_and_the_endpoint_stops_on_a_signal(signum, tmp_path):
    # GIVEN a standalone endpoint started without --account-id (moto's default account)
    started = Standalone(tmp_path)
    try:
        assert started.account == "123456789012"
        # WHEN vanity-market/preprod (account_id 402998801060 in its spec) is deployed through it
        result = deploy(started, "vanity-market/preprod", tmp_path / "output")
        # THEN the account check refuses it before anything changes, and says how to start the endpoint
        assert result.returncode == 2, result.stdout + result.stderr
        assert (
            "belongs to AWS account 402998801060 (account_id in its spec), but these credentials are for account "
            "123456789012" in result.stderr
        )
        assert "start it with python -m stackloom.local --account-id 402998801060" in result.stderr
        assert started.client("cloudformation").list_stacks()["StackSummaries"] == []
    finally:
        # WHEN it gets the signal THEN it stops cleanly with exit 0
        code, out = started.stop(signum)
    assert code == 0, out
    assert "local endpoint stopped" in out and "Traceback" not in out
