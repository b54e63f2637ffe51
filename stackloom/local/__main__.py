"""`python -m stackloom.local [--port N] [--account-id ID] [--certificate ARN ...]`: serve a local endpoint
until Ctrl-C (SIGINT) or SIGTERM, then stop it and exit 0; for the plain AWS CLI commands and for
`build.py deploy --endpoint-url`.

It prints its URL first (with `--port 0` the port it was given). One process answers as one account, as a
set of real credentials does: `--account-id` (default moto's 123456789012) is the account every request
belongs to. A spec that names `account_id` (vanity-market) deploys only to that account, so start the
endpoint with that ID for it; specs without one (bet2wealth) deploy to any account, so a single
`--account-id 402998801060` endpoint serves all the example specs. Two specs naming different accounts
need one endpoint each.

What a real account holds before a first deploy, it holds only when asked: the public hosted zone a spec's
`dns.zone_name` names (create it: `aws route53 create-hosted-zone`), and a spec's `certificate_arn`
(`--certificate ARN`: an issued certificate under exactly that ARN, in the account and region it names).
Without them a deploy fails as on AWS (no hosted zone; the HTTPS listener's CertificateNotFound).
"""

from __future__ import annotations

import argparse
import signal
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
from stackloom.local.standins import CERTIFICATE_ARN  # noqa: E402


def _certificate(text: str) -> str:
    if not CERTIFICATE_ARN.match(text):
        raise argparse.ArgumentTypeError(f"not an ACM certificate ARN: {text!r}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stackloom.local", description="A local CloudFormation endpoint (patched moto) on 127.0.0.1."
    )
    parser.add_argument("--port", type=int, default=5000, help="port on 127.0.0.1 (0: any free port; default 5000)")
    parser.add_argument(
        "--account-id",
        metavar="ID",
        help="answer as this AWS account (default 123456789012); a spec that sets account_id needs its own",
    )
    parser.add_argument(
        "--certificate",
        action="append",
        default=[],
        type=_certificate,
        metavar="ARN",
        help="an ACM certificate that exists under this ARN (a spec's certificate_arn); repeatable",
    )
    args = parser.parse_args(argv)
    # SIGTERM (kill, a service manager, a test's terminate()) stops it as cleanly as Ctrl-C: KeyboardInterrupt
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with LocalEndpoint(args.port, args.account_id) as endpoint:
        for arn in args.certificate:
            endpoint.add_certificate(arn)
        certificates = "".join(f"certificate {arn} exists (issued)\n" for arn in args.certificate)
        print(
            f"local endpoint on {endpoint.url} (account {endpoint.account_id or '123456789012'}); in another shell:\n"
            f"  export AWS_ENDPOINT_URL={endpoint.url} AWS_ENDPOINT_URL_S3={endpoint.s3_url}\n"
            f"  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=eu-central-1\n"
            f"or: python build.py deploy SYSTEM/ENV --endpoint-url {endpoint.url}\n"
            f"{certificates}"
            f"Ctrl-C stops it (everything in it is gone then).",
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:  # a second signal must not interrupt the shutdown
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("local endpoint stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
