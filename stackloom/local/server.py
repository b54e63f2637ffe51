"""LocalEndpoint: moto in server mode on 127.0.0.1, patched for CloudFormation, in this process."""

from __future__ import annotations

import logging
import os

from moto.moto_api._internal.models import moto_api_backend
from moto.server import ThreadedMotoServer

from stackloom.local.common import LOCAL_HOST, server_urls
from stackloom.local.patches import apply_patches
from stackloom.local.standins import existing_certificate


class LocalEndpoint:
    """An in-process moto server on 127.0.0.1 (a free port unless one is given), patched for CloudFormation."""

    def __init__(self, port: int = 0, account_id: str | None = None):
        self.port = port
        self.account_id = account_id  # answer as this account (moto's MOTO_ACCOUNT_ID); default 123456789012
        self._server = None
        self._previous_account: str | None = None

    @property
    def url(self) -> str:
        return f"http://{LOCAL_HOST}:{self.port}"

    @property
    def s3_url(self) -> str:
        """The S3 endpoint for the AWS CLI (`AWS_ENDPOINT_URL_S3`): moto reads bucket names from `localhost` URLs."""
        return f"http://localhost:{self.port}"

    def start(self) -> "LocalEndpoint":
        apply_patches()
        if self.account_id:
            # moto reads it on every request; the server runs in this process, so the variable is its setting
            self._previous_account = os.environ.get("MOTO_ACCOUNT_ID")
            os.environ["MOTO_ACCOUNT_ID"] = self.account_id
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        logging.getLogger("moto").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address=LOCAL_HOST, port=self.port, verbose=False)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        server_urls.append(self.url)
        return self

    def add_certificate(self, arn: str) -> bool:
        """Make the ACM certificate `arn` exist (issued, in the account and region its ARN names), as a
        certificate made outside any stack does in a real account; False when it was there already."""
        return existing_certificate(arn)

    def reset(self) -> None:
        """Forget every resource (what `POST /moto-api/reset` does), e.g. between tests."""
        moto_api_backend.reset()

    def stop(self) -> None:
        if self._server is not None:
            if self.url in server_urls:
                server_urls.remove(self.url)
            self._server.stop()
            self._server = None
            if self.account_id:
                if self._previous_account is None:
                    os.environ.pop("MOTO_ACCOUNT_ID", None)
                else:
                    os.environ["MOTO_ACCOUNT_ID"] = self._previous_account

    def __enter__(self) -> "LocalEndpoint":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
