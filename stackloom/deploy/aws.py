"""The AWS boundary of deploy and destroy: boto3 clients for exactly one target (AWS, an endpoint given,
or an embedded local endpoint), and the checks that the target is the environment's region and account."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from urllib.parse import urlparse

import boto3
from botocore.config import Config

from stackloom import local
from stackloom.errors import UserError
from stackloom.manifest import Manifest

LOOPBACK = ("127.0.0.1", "localhost", "::1")
CONNECT_TIMEOUT = 5  # seconds
READ_TIMEOUT = 60
MAX_ATTEMPTS = 4


class Aws:
    """boto3 clients for one target: exactly the endpoint given, or AWS itself."""

    def __init__(self, region: str, endpoint_url: str | None = None, local: bool = False):
        self.region = region
        self.endpoint_url = endpoint_url
        self.local = local
        self.session = boto3.Session(region_name=region)
        if endpoint_url and is_loopback(endpoint_url) and self.session.get_credentials() is None:
            # a local endpoint takes any credentials; never fall back to real ones for it
            self.session = boto3.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
            )
        # timeouts that fit a CLI (botocore's are 60 s each): a dead endpoint is found in seconds, not minutes
        self.config = Config(
            ignore_configured_endpoint_urls=True,
            user_agent_extra="stackforge",
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        )
        self.session.events.register("needs-retry", self._announce_retry)
        self._clients: dict = {}
        self.local_endpoint = None  # with `local`: the embedded LocalEndpoint (stackloom.local.server)

    @staticmethod
    def _announce_retry(attempts: int = 0, caught_exception=None, response=None, operation=None, **_) -> None:
        """Say what is being retried (botocore retries silently); the retry decision stays botocore's."""
        if caught_exception is not None and attempts < MAX_ATTEMPTS:
            name = getattr(operation, "name", "request")
            print(f"retrying {name} (attempt {attempts + 1} of {MAX_ATTEMPTS}): {caught_exception}", file=sys.stderr)

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.session.client(service, endpoint_url=self.endpoint_url, config=self.config)
        return self._clients[service]

    def describe(self) -> str:
        if self.local:
            return f"local endpoint {self.endpoint_url} (embedded, in memory: gone when this command ends)"
        if self.endpoint_url:
            return f"endpoint {self.endpoint_url} ({self.region})"
        return f"AWS {self.region}"


def is_loopback(url: str) -> bool:
    return (urlparse(url).hostname or "") in LOOPBACK


def check_endpoint(url: str) -> str:
    parsed = urlparse(url)
    try:
        port = parsed.port
    except ValueError:
        port = -1
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.path not in ("", "/") or port == -1:
        raise UserError(f"--endpoint-url {url!r}: expected http(s)://HOST[:PORT] with a port from 1 to 65535")
    return url.rstrip("/")


@contextmanager
def connect(region: str, endpoint_url: str | None = None, use_local: bool = False, account_id: str | None = None):
    """The target of this run; with `use_local`, an embedded endpoint (acting as `account_id`, when the spec
    names one) that lives as long as the block."""
    if use_local:
        with local.start(account_id=account_id) as endpoint:  # UserError with the install hint without moto
            aws = Aws(region, endpoint.url, local=True)
            aws.local_endpoint = endpoint
            yield aws
        return
    yield Aws(region, check_endpoint(endpoint_url) if endpoint_url else None)


def target_region(requested: str | None, manifest: Manifest) -> str:
    """The spec's region; `--region` may only repeat it (templates built for one region fail in another)."""
    if requested and requested != manifest.region:
        raise UserError(
            f"--region {requested}: {manifest.system}/{manifest.environment} is built for "
            f"{manifest.region} (region in its spec: AZ names, instance types and the ELB log account "
            f"are that region's); change the spec's region and rebuild to deploy elsewhere"
        )
    return manifest.region


def check_account(aws: Aws, manifest: Manifest) -> None:
    """A spec with `account_id` is deployed to (or destroyed in) that account only: credentials for another
    account stop the command before anything is changed (STS GetCallerIdentity needs no permissions)."""
    expected = manifest.account_id
    if not expected:
        return
    actual = aws.client("sts").get_caller_identity()["Account"]
    if actual != expected:
        remedy = f"use credentials for {expected}"
        if aws.endpoint_url and is_loopback(aws.endpoint_url):
            remedy += f" (a local endpoint: start it with python -m stackloom.local --account-id {expected})"
        raise UserError(
            f"{manifest.system}/{manifest.environment} belongs to AWS account {expected} "
            f"(account_id in its spec), but these credentials are for account {actual}: refusing to "
            f"touch it; {remedy}"
        )


def local_account(manifest: Manifest) -> str | None:
    """The account an embedded local endpoint answers as: the spec's account_id, else the account that owns
    the spec's certificate_arn (a listener can only use a certificate of its own account), else moto's."""
    if manifest.account_id:
        return manifest.account_id
    arn = manifest.certificate_arn or ""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[2] == "acm" and parts[4].isdigit() else None
