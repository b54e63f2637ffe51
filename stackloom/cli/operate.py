"""`status`, `logs` and `drift`: options and printing; the engines are stackloom.operate.*.
They take deploy's target options (--endpoint-url, --local, --region, --poll) and read every name from the
environment's manifest and its deployed stacks."""

from __future__ import annotations

import argparse
import functools
import json
import sys

from stackloom.cli.common import add_common, one_target
from stackloom.cli.deploy import _add_target_options, _poll, _reported
from stackloom.deploy.aws import check_account, check_endpoint, connect, local_account, target_region
from stackloom.deploy.changeset import Console
from stackloom.deploy.deploy import EXIT_FAILED
from stackloom.errors import UserError, os_problem
from stackloom.operate import drift, logs, status
from stackloom.operate.resources import manifests
from stackloom.params import SpecError
from templates.errors import QuotaError, WiringError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show a deployed environment: stacks, services, rollouts, target health, outputs",
        description="For each environment (SYSTEM/ENV, or SYSTEM for all of its environments): the status of its "
        "stacks (nested too), each service's desired/running/pending counts, task definition revision and image, "
        "rollout state and last events, the health of its load balancer targets, and the stack outputs.",
    )
    parser.add_argument("targets", nargs="+", metavar="SYSTEM/ENV", help="environments, e.g. bet2wealth/dev")
    parser.add_argument("--json", action="store_true", help="print a JSON list of environments (for scripts)")
    _add_target_options(parser, verb="read the status from")
    add_common(parser)
    parser.set_defaults(handler=status_command)

    parser = subparsers.add_parser(
        "logs",
        help="print a service's or job's CloudWatch logs",
        description="Print the CloudWatch Logs events of a service or job of SYSTEM/ENV (its log group as deployed).",
    )
    parser.add_argument("target", metavar="SYSTEM/ENV")
    parser.add_argument("name", metavar="SERVICE", help="a service or job of the environment")
    parser.add_argument(
        "--since",
        default=logs.DEFAULT_SINCE,
        metavar="WHEN",
        help=f"from this long ago (30s, 10m, 2h, 1d, 1w) or this ISO 8601 time (default {logs.DEFAULT_SINCE})",
    )
    parser.add_argument("--filter", default="", metavar="PATTERN", help="a CloudWatch Logs filter pattern")
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing new events until Ctrl-C")
    parser.add_argument("--json", action="store_true", help="one JSON object per line and event")
    _add_target_options(parser, verb="read the logs from")
    add_common(parser)
    parser.set_defaults(handler=logs_command)

    parser = subparsers.add_parser(
        "drift",
        help="detect drift of the deployed stacks (exit 0 none, 2 drifted, 1 error)",
        description="Run CloudFormation drift detection on the root stack and every nested stack of SYSTEM/ENV and "
        "print each drifted resource with its expected and actual property values. Exit 0: no drift; 2: drifted; "
        "1: an error (drift could not be detected).",
    )
    parser.add_argument("target", metavar="SYSTEM/ENV")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list of environments (one here) with their stacks and drifted resources",
    )
    _add_target_options(parser, verb="detect drift on")
    add_common(parser)
    parser.set_defaults(handler=drift_command)
    parser.error = functools.partial(_usage_error, parser)  # exit 1, not argparse's 2: 2 means drifted


def _usage_error(parser: argparse.ArgumentParser, message: str):
    parser.print_usage(sys.stderr)
    parser.exit(EXIT_FAILED, f"{parser.prog}: error: {message}\n")


def _connect(args, manifest):
    if args.endpoint_url:
        check_endpoint(args.endpoint_url)
    return connect(target_region(args.region, manifest), args.endpoint_url, args.local, local_account(manifest))


@_reported
def status_command(args) -> int:
    found = []
    console = Console()
    for manifest in manifests(args.params, args.output, args.targets):
        with _connect(args, manifest) as aws:
            check_account(aws, manifest)
            environment = status.collect(aws, manifest)
        if args.json:
            found.append(environment)
        else:
            status.render(environment, console)
    if args.json:
        print(json.dumps(found, indent=2))
    return 0


@_reported
def logs_command(args) -> int:
    try:
        start = logs.epoch_ms(logs.parse_since(args.since))
    except ValueError as error:
        raise UserError(str(error)) from None
    (manifest,) = manifests(args.params, args.output, [one_target(args.target, "logs")])
    with _connect(args, manifest) as aws:
        check_account(aws, manifest)
        where = logs.source(aws.client("cloudformation"), manifest, args.name)
        client = aws.client("logs")

        def emit(event: dict) -> None:
            record = logs.as_record(where, event)
            print(json.dumps(record) if args.json else logs.as_line(record), flush=True)

        if not args.follow:
            count = 0
            for event in logs.events(client, where, start, args.filter):
                emit(event)
                count += 1
            if not count:  # say where it looked, so an empty answer is not mistaken for a broken command
                matching = f" matching {args.filter!r}" if args.filter else ""
                print(f"no events{matching} in {where.log_group} since {args.since}", file=sys.stderr)
            return 0
        if not args.json:
            print(f"following {where.log_group} ({where.kind} {where.name}); Ctrl-C to stop", file=sys.stderr)
        try:
            logs.follow(client, where, start, args.filter, emit, poll=args.poll or logs.FOLLOW_POLL)
        except KeyboardInterrupt:
            return 0  # the normal end of --follow
    return 0


def drift_command(args: argparse.Namespace) -> int:
    """Exit 0/2/1; any error, bad input included, is 1 so that 2 always means drifted."""
    try:
        return _drift(args)
    except (UserError, SpecError, QuotaError, WiringError) as error:
        print(f"error: {error}", file=sys.stderr)
    except OSError as error:
        print(f"error: {os_problem(error)}", file=sys.stderr)
    return EXIT_FAILED


@_reported
def _drift(args) -> int:
    (manifest,) = manifests(args.params, args.output, [one_target(args.target, "drift")])
    with _connect(args, manifest) as aws:
        check_account(aws, manifest)
        report = drift.detect(aws.client("cloudformation"), manifest, _poll(args, aws))
    if args.json:
        print(json.dumps([drift.as_data(report)], indent=2))  # a list of environments, as status
    else:
        drift.render(report, Console())
    return drift.exit_code(report)
