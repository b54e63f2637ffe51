"""Fixtures for tests that talk to a local CloudFormation endpoint (moto server, patched; see
stackloom/local/). One server per test session on a free port of 127.0.0.1, reset before every
test that uses it; AWS credentials in the environment are replaced by dummy ones so nothing real is used.

Use it with `from .local_endpoint import local_endpoint, local_endpoint_server  # noqa: F401`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from stackloom.cli.main import main
from stackloom.local.server import LocalEndpoint

from ..helpers import PARAMS

REGION = "eu-central-1"
DUMMY_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}
# Anything that could point a client somewhere else, or at real credentials.
CLEARED_ENVIRONMENT = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_CLOUDFORMATION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)


def _spec_account() -> str:
    """The account vanity-market's spec names: the endpoint answers as it, so deploys pass the account check
    (bet2wealth names none and deploys anywhere)."""
    import yaml

    return yaml.safe_load((PARAMS / "vanity-market" / "preprod.yaml").read_text())["account_id"]


@pytest.fixture(scope="session")
def local_endpoint_server():
    with LocalEndpoint(account_id=_spec_account()) as endpoint:
        assert urlparse(endpoint.url).hostname == "127.0.0.1"
        yield endpoint


@pytest.fixture
def local_endpoint(local_endpoint_server, monkeypatch, tmp_path):
    """The session's endpoint, emptied, with dummy credentials and no AWS config in the environment."""
    for name in CLEARED_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    for name, value in DUMMY_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    local_endpoint_server.reset()
    yield local_endpoint_server
    local_endpoint_server.reset()


@pytest.fixture
def aws(local_endpoint):
    """boto3 clients on the local endpoint: aws("cloudformation")."""
    import boto3

    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    clients: dict = {}

    def client(service: str):
        if service not in clients:
            clients[service] = session.client(service, endpoint_url=local_endpoint.url)
        return clients[service]

    return client


@pytest.fixture
def params_copy(tmp_path) -> Path:
    """A private copy of params/ a test may edit."""
    copy = tmp_path / "params"
    shutil.copytree(PARAMS, copy)
    return copy


@pytest.fixture
def hosted_zone(aws) -> str:
    """The bet2wealth.co public zone, which a real account already has; returns its ID."""
    zone = aws("route53").create_hosted_zone(Name="bet2wealth.co", CallerReference="tests")["HostedZone"]
    return zone["Id"].split("/")[-1]


@pytest.fixture
def run(local_endpoint, tmp_path, capsys):
    """`build.py <command> TARGET ... --endpoint-url <local>` (the deploy tests' CLI); returns (code, out + err)."""

    def invoke(command: str, target: str, *extra: str, params: Path | None = None) -> tuple[int, str]:
        argv = [
            command,
            target,
            "--endpoint-url",
            local_endpoint.url,
            "--poll",
            "0.05",
            "--params",
            str(params or PARAMS),
        ]
        if command != "destroy":
            argv += ["--output", str(tmp_path / "output")]
        code = main(argv + list(extra))
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return invoke
