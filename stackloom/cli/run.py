"""`run SYSTEM/ENV JOB`: run a job once on the deployed environment and exit with its container's exit code.
The engine is stackloom.deploy.run; this module only parses and prints."""

from __future__ import annotations

import argparse

from stackloom.cli.common import add_params, one_target
from stackloom.cli.deploy import _poll, _reported, _seconds
from stackloom.deploy.aws import check_account, check_endpoint, connect, target_region
from stackloom.deploy.deploy import load_environment
from stackloom.deploy.run import run


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a job once on the deployed environment, print its logs, exit with its exit code",
        description="Start JOB's task once on the deployed cluster (its task definition, subnets, security group "
        "and capacity provider from the deployed job stack), wait until it stops, print the container's exit "
        "code and its CloudWatch log lines, and exit with that code (0 on success, the container's code "
        "within 1..125 otherwise, 1 when the container never ran).",
    )
    parser.add_argument("target", metavar="SYSTEM/ENV", help="the environment, e.g. bet2wealth/dev")
    parser.add_argument("job", metavar="JOB", help="a key of the spec's `jobs`")
    parser.add_argument(
        "--endpoint-url", metavar="URL", help="use this AWS-compatible endpoint only (e.g. http://127.0.0.1:5000)"
    )
    parser.add_argument("--region", help="AWS region; must be the spec's (default: the spec's region)")
    parser.add_argument("--poll", type=_seconds, default=None, metavar="SECONDS", help="seconds between status checks")
    add_params(parser)
    parser.set_defaults(handler=command, local=False)


@_reported
def command(args: argparse.Namespace) -> int:
    target = one_target(args.target, "run")
    if args.endpoint_url:
        check_endpoint(args.endpoint_url)
    manifest = load_environment(args.params, target, None).manifest
    with connect(target_region(args.region, manifest), args.endpoint_url) as aws:
        check_account(aws, manifest)
        return run(aws, manifest, args.job, _poll(args, aws), lambda line: print(line, flush=True))
