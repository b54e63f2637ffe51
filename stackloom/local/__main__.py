"""`python -m stackloom.local [--port N] [--account-id ID]`: serve a local endpoint until Ctrl-C, for the
plain AWS CLI commands."""

from __future__ import annotations

import argparse
import sys
import time

from stackloom.errors import UserError
from stackloom.local import require

try:
    require()
except UserError as error:  # a missing moto is a message (and exit 2, as the CLI's user errors), not a traceback
    print(f"error: {error}", file=sys.stderr)
    raise SystemExit(2) from None

# Imported only after require(): the server module imports moto at its top, which may be missing.
from stackloom.local.server import LocalEndpoint  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stackloom.local", description="A local CloudFormation endpoint (patched moto) on 127.0.0.1."
    )
    parser.add_argument("--port", type=int, default=5000, help="port on 127.0.0.1 (0: any free port; default 5000)")
    parser.add_argument("--account-id", metavar="ID", help="answer as this AWS account (for specs that set account_id)")
    args = parser.parse_args(argv)
    with LocalEndpoint(args.port, args.account_id) as endpoint:
        print(
            f"local endpoint on {endpoint.url}; in another shell:\n"
            f"  export AWS_ENDPOINT_URL={endpoint.url} AWS_ENDPOINT_URL_S3={endpoint.s3_url}\n"
            f"  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=eu-central-1\n"
            f"or: python build.py deploy SYSTEM/ENV --endpoint-url {endpoint.url}\n"
            f"Ctrl-C stops it (everything in it is gone then).",
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
