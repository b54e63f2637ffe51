"""`deploy`, `plan`, `destroy` and `stack-policy`: options, confirmation on the terminal, exit codes.
The engines are stackloom.deploy.*; this module only parses, asks and prints."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from stackloom.cli.common import add_common, add_params, comparing, comparing_errors, comparing_with
from stackloom.deploy import plan as plans
from stackloom.deploy import stack_policy
from stackloom.deploy.aws import check_account, check_endpoint, connect, is_loopback, local_account, target_region
from stackloom.deploy.changeset import Console, DeployError, last_seen, policy_json
from stackloom.deploy.deploy import (
    DEFAULT_POLL,
    EXIT_FAILED,
    LOCAL_POLL,
    DeployOptions,
    deploy,
    load_environment,
    parameter_overrides,
    seed_certificate,
    seed_hosted_zone,
)
from stackloom.deploy.destroy import destroy
from stackloom.diff import EXIT_CONVENTION
from stackloom.errors import UserError

PLAN_HELP = (
    "build, package and create the change sets of a deploy without executing them; print every change with "
    "before -> after values, the stateful verdicts and the cost change; write the plan file"
)


def add_parser(subparsers) -> None:
    deploy = subparsers.add_parser(
        "deploy",
        help="build, package and deploy one environment through a change set",
        description="Build SYSTEM/ENV, ensure its bootstrap stack, upload its templates, show the change set, "
        "execute it with live events and print the outputs. With --plan: only plan (as `plan`, and its exit codes); "
        "with --plan-file: execute exactly a plan's change sets.",
    )
    deploy.add_argument("target", metavar="SYSTEM/ENV", help="the environment, e.g. bet2wealth/dev")
    _add_values(deploy)
    deploy.add_argument("-y", "--yes", action="store_true", help="execute without asking (CI)")
    plan_modes = deploy.add_mutually_exclusive_group()
    plan_modes.add_argument("--plan", action="store_true", help=f"only plan, as `build.py plan` ({EXIT_CONVENTION})")
    plan_modes.add_argument(
        "--plan-file",
        type=Path,
        metavar="FILE",
        help="execute exactly the change sets of this plan (no question asked: the plan is the approval); "
        "refused, with nothing executed, when the templates or the deployed stacks changed since the plan",
    )
    _add_out(deploy)
    deploy.add_argument(
        "--allow-replace",
        action="store_true",
        help="allow a change set that replaces or removes stateful resources (databases, buckets, logs, ...)",
    )
    deploy.add_argument(
        "--bootstrap-only",
        action="store_true",
        help="deploy only the bootstrap stack (artifacts bucket, ECR repositories), e.g. before the "
        "first image push",
    )
    deploy.add_argument(
        "--cancel-on-interrupt",
        action="store_true",
        help="on Ctrl-C while an update runs, also ask CloudFormation to cancel it (it then rolls back); "
        "without it the update carries on and the command says how to follow or stop it",
    )
    _add_target_options(deploy)
    add_common(deploy)
    comparing_with(deploy, "--plan")
    deploy.set_defaults(handler=deploy_command)

    plan = subparsers.add_parser(
        "plan", help=PLAN_HELP, description=PLAN_HELP[0].upper() + PLAN_HELP[1:] + ". " + EXIT_CONVENTION
    )
    plan.add_argument("target", metavar="SYSTEM/ENV", help="the environment, e.g. bet2wealth/dev")
    _add_values(plan)
    _add_out(plan)
    _add_target_options(plan, verb="create the change sets on")
    add_common(plan)
    plan.set_defaults(handler=comparing(plan, plan_command))

    destroy = subparsers.add_parser(
        "destroy",
        help="delete one environment's stack (production only with --force)",
        description="Delete the stack of SYSTEM/ENV with live events. Resources with DeletionPolicy "
        "Retain/Snapshot are kept. Production environments are refused without --force.",
    )
    destroy.add_argument("target", metavar="SYSTEM/ENV")
    destroy.add_argument(
        "--force",
        action="store_true",
        help="allow destroying a production environment (turns its termination protection off)",
    )
    destroy.add_argument(
        "--include-bootstrap",
        action="store_true",
        help="also delete the bootstrap stack (its bucket and repositories are retained)",
    )
    destroy.add_argument("-y", "--yes", action="store_true", help="do not ask")
    _add_target_options(destroy, verb="delete through")
    add_params(destroy)
    destroy.set_defaults(handler=destroy_command)

    policy = subparsers.add_parser(
        "stack-policy", help="print the stack policy a production deploy sets (for aws cloudformation set-stack-policy)"
    )
    policy.add_argument("target", metavar="SYSTEM/ENV")
    policy.add_argument(
        "--stack",
        default="",
        metavar="PATH",
        help="a nested stack's logical ID (e.g. Data), 'bootstrap', or empty for the root",
    )
    add_params(policy)
    policy.set_defaults(handler=stack_policy_command)


def _add_values(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="SERVICE=IMAGE",
        help="deploy this image for a service: a tag, or a full URI of the service's repository " "(repeatable)",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a deploy-time parameter, e.g. BackendDesiredCount=3 (repeatable)",
    )


def _add_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="where the plan is written (default: plan-<system>-<env>.json in the current folder, outside "
        "output/, which is committed)",
    )


def _seconds(text: str) -> float:
    """--poll's value: a number of seconds from 0.01 to 300 (argparse turns the error into a usage line, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0.01 <= value <= 300:
        raise argparse.ArgumentTypeError(f"expected 0.01 to 300 seconds, got {text}")
    return value


def _add_target_options(parser: argparse.ArgumentParser, verb: str = "deploy to") -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--endpoint-url",
        metavar="URL",
        help=f"{verb} this CloudFormation-compatible endpoint only (e.g. http://127.0.0.1:5000)",
    )
    where.add_argument(
        "--local",
        action="store_true",
        help="start an embedded local endpoint (moto) on 127.0.0.1 for this run: no AWS account needed",
    )
    parser.add_argument(
        "--region",
        help="AWS region; must be the spec's region, which the templates are built for "
        "(AZ names, instance types, the ELB log account) (default: the spec's region)",
    )
    parser.add_argument(
        "--poll",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help=f"seconds between status checks (default {DEFAULT_POLL:g}, {LOCAL_POLL:g} locally)",
    )


def interactive() -> bool:
    """Can we ask? (tests replace this together with `confirm`)"""
    return sys.stdin.isatty()


def confirm(question: str) -> bool:
    """Ask on the terminal."""
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _ask(question: str) -> bool:
    """`confirm`, looked up when asked (tests replace it)."""
    return confirm(question)


def _need_yes_or_terminal(args) -> None:
    if not args.yes and not interactive():
        raise UserError("stdin is not a terminal, so nothing can be confirmed: pass --yes")


def _reported(handler):
    """AWS-side failures as one `error:` line and exit 1 (user errors stay exit 2, via cli.main)."""

    @functools.wraps(handler)
    def run(args) -> int:
        try:
            return handler(args)
        except DeployError as error:
            print(f"error: {error}", file=sys.stderr)
        except ClientError as error:
            print(f"error: {error.response.get('Error', {}).get('Message') or error}", file=sys.stderr)
        except BotoCoreError as error:  # the endpoint stopped answering: what is known is what was seen last
            print(f"error: {error}", file=sys.stderr)
            if last_seen():
                print(f"last known state: {last_seen()}", file=sys.stderr)
        return EXIT_FAILED

    return run


def _poll(args, aws) -> float:
    """Seconds between status checks: --poll, else quick on a local endpoint and patient on AWS."""
    if args.poll is not None:
        return args.poll
    return LOCAL_POLL if aws.endpoint_url and is_loopback(aws.endpoint_url) else DEFAULT_POLL


def deploy_command(args) -> int:
    if args.plan:
        return comparing_errors(plan_command)(args)
    return _deploy_command(args)


@_reported
def plan_command(args) -> int:
    if args.endpoint_url:
        check_endpoint(args.endpoint_url)
    environment = load_environment(args.params, args.target, args.output)
    for line in environment.build.overrides:
        print(f"override applied: {line}", file=sys.stderr)
    overrides = parameter_overrides(environment.manifest, args.image, args.param)
    manifest = environment.manifest
    out = args.out or Path(f"plan-{manifest.system}-{manifest.environment}.json")
    console = Console()
    with connect(target_region(args.region, manifest), args.endpoint_url, args.local, local_account(manifest)) as aws:
        check_account(aws, manifest)
        _seed_local(aws, manifest, console)
        document, code = plans.make_plan(aws, environment, overrides, console, _poll(args, aws))
    out.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if args.local:
        console(f"plan written to {out} (of the embedded --local endpoint, gone now: for reading, not deploying)")
    elif code:
        console(f"plan written to {out}: execute it with deploy {args.target} --plan-file {out}")
    else:
        console(f"plan written to {out}")
    return code


@_reported
def _apply_command(args) -> int:
    document = plans.read_plan(args.plan_file)
    if args.image or args.param or args.bootstrap_only:
        raise UserError("--plan-file executes the plan as made: give --image/--param to `plan`, not with --plan-file")
    if args.local:
        raise UserError("--plan-file with --local: an embedded endpoint ends with its process, and its change sets too")
    if args.endpoint_url:
        check_endpoint(args.endpoint_url)
    environment = load_environment(args.params, args.target, args.output)
    manifest = environment.manifest
    console = Console()
    with connect(target_region(args.region, manifest), args.endpoint_url, args.local, local_account(manifest)) as aws:
        check_account(aws, manifest)
        options = DeployOptions(yes=True, allow_replace=args.allow_replace, poll=_poll(args, aws))
        return plans.apply_plan(aws, environment, document, options, console)


def _deploy_command(args) -> int:
    if args.plan_file:
        return _apply_command(args)
    if args.out:
        raise UserError("--out is where --plan writes the plan: give it with --plan (or use `build.py plan`)")
    return _run_deploy(args)


@_reported
def _run_deploy(args) -> int:
    if args.endpoint_url:
        check_endpoint(args.endpoint_url)
    _need_yes_or_terminal(args)
    environment = load_environment(args.params, args.target, args.output)
    for line in environment.build.overrides:  # the spec's `overrides:` (stackloom/overrides.py), before any change
        print(f"override applied: {line}", file=sys.stderr)
    overrides = parameter_overrides(environment.manifest, args.image, args.param)
    console = Console()
    manifest = environment.manifest
    with connect(target_region(args.region, manifest), args.endpoint_url, args.local, local_account(manifest)) as aws:
        check_account(aws, manifest)
        poll = _poll(args, aws)
        options = DeployOptions(
            yes=args.yes,
            allow_replace=args.allow_replace,
            poll=poll,
            bootstrap_only=args.bootstrap_only,
            confirm=_ask,
            cancel_on_interrupt=args.cancel_on_interrupt,
        )
        _seed_local(aws, manifest, console)
        return deploy(aws, environment, overrides, options, console)


def _seed_local(aws, manifest, console: Console) -> None:
    """An embedded endpoint gets what the account would have: the spec's hosted zone and certificate."""
    if aws.local and manifest.hosted_zone:
        seed_hosted_zone(aws, manifest.hosted_zone, console)
    if aws.local and manifest.certificate_arn:
        seed_certificate(aws, manifest.certificate_arn, console)


@_reported
def destroy_command(args) -> int:
    if args.endpoint_url:
        check_endpoint(args.endpoint_url)
    environment = load_environment(args.params, args.target, None)
    manifest = environment.manifest
    if manifest.production and not args.force:
        raise UserError(f"{environment.target} is a production environment: refusing to destroy it without --force")
    _need_yes_or_terminal(args)
    console = Console()
    with connect(target_region(args.region, manifest), args.endpoint_url, args.local, local_account(manifest)) as aws:
        check_account(aws, manifest)
        poll = _poll(args, aws)
        return destroy(
            aws,
            environment,
            console,
            force=args.force,
            yes=args.yes,
            include_bootstrap=args.include_bootstrap,
            poll=poll,
            confirm=_ask,
        )


def stack_policy_command(args) -> int:
    environment = load_environment(args.params, args.target, None)
    manifest = environment.manifest
    files = environment.build.files
    if args.stack == "bootstrap":
        document = stack_policy.policy(json.loads(files[manifest.bootstrap_template]))
    else:
        policies = stack_policy.environment_policies(lambda name: json.loads(files[name]), manifest.root_template)
        path = tuple(part for part in args.stack.split("/") if part)
        if path not in policies:
            raise UserError(
                f"--stack {args.stack!r}: no such stack; choose from: "
                + ", ".join(["(root)", "bootstrap"] + ["/".join(key) for key in policies if key])
            )
        document = policies[path]
    print(policy_json(document))
    return 0
