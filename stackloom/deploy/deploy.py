"""`python build.py deploy SYSTEM/ENV`, `destroy SYSTEM/ENV` and `stack-policy SYSTEM/ENV`.

deploy: build the environment into output/, ensure the bootstrap stack (artifacts bucket + ECR), upload
the templates under content-addressed keys (like `aws cloudformation package`), create a change set with
nested change sets, print it (replacements of stateful resources highlighted, and refused without
`--allow-replace`), ask (or `--yes`), execute it while printing stack events with a progress count, and
print the stack outputs. Production environments get termination protection and a stack policy on every
stack. An empty change set is "no changes" (exit 0); a failed deploy names the first failing resource and
its reason and leaves the stack rolled back (exit 1).

Where it goes: real AWS (the usual credential chain and `--region`), or exactly the `--endpoint-url`
given, or with `--local` an embedded local endpoint on 127.0.0.1 (templates/local_endpoint.py).
Endpoints from the environment or ~/.aws/config (AWS_ENDPOINT_URL) are ignored, so nothing is deployed
anywhere by accident.
"""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from stackloom.deploy import changeset

from stackloom import build as compiler

from stackloom.deploy import stack_policy
from stackloom.deploy.changeset import Console, DeployError, StackRequest
from stackloom import kinds
from stackloom.cfn import model
from stackloom.errors import UserError
from stackloom.params import select
from stackloom.output import write
from stackloom.manifest import Manifest, ServiceEntry, pack_overrides

LOOPBACK = ("127.0.0.1", "localhost", "::1")
EXIT_FAILED = 1
DEFAULT_POLL = 5.0
LOCAL_POLL = 0.5


def add_parser(subparsers) -> None:
    from stackloom.cli.main import add_common

    deploy = subparsers.add_parser(
        "deploy", help="build, package and deploy one environment through a change set",
        description="Build SYSTEM/ENV, ensure its bootstrap stack, upload its templates, show the change set, "
                    "execute it with live events and print the outputs.")
    deploy.add_argument("target", metavar="SYSTEM/ENV", help="the environment, e.g. bet2wealth/dev")
    deploy.add_argument("--image", action="append", default=[], metavar="SERVICE=IMAGE",
                        help="deploy this image for a service: a tag, or a full URI of the service's repository "
                             "(repeatable)")
    deploy.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="set a deploy-time parameter, e.g. BackendDesiredCount=3 (repeatable)")
    deploy.add_argument("-y", "--yes", action="store_true", help="execute without asking (CI)")
    deploy.add_argument("--allow-replace", action="store_true",
                        help="allow a change set that replaces or removes stateful resources (databases, buckets, logs, ...)")
    deploy.add_argument("--bootstrap-only", action="store_true",
                        help="deploy only the bootstrap stack (artifacts bucket, ECR repositories), e.g. before the "
                             "first image push")
    _add_target_options(deploy)
    add_common(deploy)
    deploy.set_defaults(handler=deploy_command)

    destroy = subparsers.add_parser(
        "destroy", help="delete one environment's stack (production only with --force)",
        description="Delete the stack of SYSTEM/ENV with live events. Resources with DeletionPolicy "
                    "Retain/Snapshot are kept. Production environments are refused without --force.")
    destroy.add_argument("target", metavar="SYSTEM/ENV")
    destroy.add_argument("--force", action="store_true",
                         help="allow destroying a production environment (turns its termination protection off)")
    destroy.add_argument("--include-bootstrap", action="store_true",
                         help="also delete the bootstrap stack (its bucket and repositories are retained)")
    destroy.add_argument("-y", "--yes", action="store_true", help="do not ask")
    _add_target_options(destroy)
    destroy.add_argument("--params", type=Path, default=Path("params"), metavar="DIR",
                         help="folder of <system>/<env>.yaml spec files (default: params)")
    destroy.set_defaults(handler=destroy_command)

    policy = subparsers.add_parser(
        "stack-policy", help="print the stack policy a production deploy sets (for aws cloudformation set-stack-policy)")
    policy.add_argument("target", metavar="SYSTEM/ENV")
    policy.add_argument("--stack", default="", metavar="PATH",
                        help="a nested stack's logical ID (e.g. Data), 'bootstrap', or empty for the root")
    policy.add_argument("--params", type=Path, default=Path("params"), metavar="DIR",
                        help="folder of <system>/<env>.yaml spec files (default: params)")
    policy.set_defaults(handler=stack_policy_command)


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--endpoint-url", metavar="URL",
                       help="deploy to this CloudFormation-compatible endpoint only (e.g. http://127.0.0.1:5000)")
    where.add_argument("--local", action="store_true",
                       help="start an embedded local endpoint (moto) on 127.0.0.1 for this run: no AWS account needed")
    parser.add_argument("--region", help="AWS region; must be the spec's region, which the templates are built for "
                                         "(AZ names, instance types, the ELB log account) (default: the spec's region)")
    parser.add_argument("--poll", type=float, default=None, metavar="SECONDS",
                        help=f"seconds between status checks (default {DEFAULT_POLL:g}, {LOCAL_POLL:g} locally)")


# ---------------------------------------------------------------------------------------------- target

class Aws:
    """boto3 clients for one target: exactly the endpoint given, or AWS itself."""

    def __init__(self, region: str, endpoint_url: str | None = None, local: bool = False):
        import boto3
        from botocore.config import Config

        self.region = region
        self.endpoint_url = endpoint_url
        self.local = local
        self.session = boto3.Session(region_name=region)
        if endpoint_url and _is_loopback(endpoint_url) and self.session.get_credentials() is None:
            # a local endpoint takes any credentials; never fall back to real ones for it
            self.session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                         region_name=region)
        self.config = Config(ignore_configured_endpoint_urls=True, user_agent_extra="stackforge",
                             retries={"mode": "standard", "max_attempts": 8})
        self._clients: dict = {}

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


def _is_loopback(url: str) -> bool:
    return (urlparse(url).hostname or "") in LOOPBACK


def _check_endpoint(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.path not in ("", "/"):
        raise UserError(f"--endpoint-url {url!r}: expected http(s)://HOST[:PORT]")
    return url.rstrip("/")


@contextmanager
def connect(args, region: str, account_id: str | None = None):
    """The target of this run; with --local, an embedded endpoint (acting as `account_id`, when the spec
    names one) that lives as long as the block."""
    if getattr(args, "local", False):
        try:
            from stackloom.local.endpoint import LocalEndpoint
            import moto.server  # noqa: F401
        except ImportError as error:
            raise UserError(f"--local needs moto in server mode ({error.name} is missing): "
                            f"pip install 'moto[server]' (./run setup installs it)") from error

        with LocalEndpoint(account_id=account_id) as endpoint:
            yield Aws(region, endpoint.url, local=True)
        return
    yield Aws(region, _check_endpoint(args.endpoint_url) if args.endpoint_url else None)


def target_region(args, manifest: Manifest) -> str:
    """The spec's region; `--region` may only repeat it (templates built for one region fail in another)."""
    if args.region and args.region != manifest.region:
        raise UserError(f"--region {args.region}: {manifest.system}/{manifest.environment} is built for "
                        f"{manifest.region} (region in its spec: AZ names, instance types and the ELB log account "
                        f"are that region's); change the spec's region and rebuild to deploy elsewhere")
    return manifest.region


def check_account(aws: Aws, manifest: Manifest) -> None:
    """A spec with `account_id` is deployed to (or destroyed in) that account only: credentials for another
    account stop the command before anything is changed (STS GetCallerIdentity needs no permissions)."""
    expected = manifest.account_id
    if not expected:
        return
    actual = aws.client("sts").get_caller_identity()["Account"]
    if actual != expected:
        raise UserError(f"{manifest.system}/{manifest.environment} belongs to AWS account {expected} "
                        f"(account_id in its spec), but these credentials are for account {actual}: refusing to "
                        f"touch it; use credentials for {expected}")


# ---------------------------------------------------------------------------------------------- inputs

@dataclass
class Environment:
    build: compiler.Build
    manifest: Manifest
    folder: Path | None

    @property
    def target(self) -> str:
        return self.build.target


def load_environment(params_dir: Path, target: str, output_dir: Path | None) -> Environment:
    """Compile exactly one environment (and write it to output_dir when given)."""
    selected = select(params_dir, [target])
    if len(selected) != 1:
        raise UserError(f"{target!r} names {len(selected)} environments ({', '.join(selected)}); "
                        f"deploy one at a time: SYSTEM/ENV")
    build = compiler.compile_all(selected)[0]
    folder = write(build, output_dir) if output_dir is not None else None
    return Environment(build=build, manifest=build.manifest, folder=folder)


def parameter_overrides(manifest: Manifest, images: list[str], params: list[str]) -> dict[str, str]:
    """--image and --param as root parameter values, checked against what the environment declares."""
    services = manifest.services
    # grouped environments: a service's own parameter is accepted and folded into its group's list on deploy
    declared = manifest.declared_parameters
    overrides: dict[str, str] = {}
    for item in images:
        service, sep, value = item.partition("=")
        if not sep or not value:
            raise UserError(f"--image {item!r}: expected SERVICE=TAG or SERVICE=REPOSITORY_URI:TAG")
        if service not in services:
            raise UserError(f"--image {item!r}: {manifest.system}/{manifest.environment} has no service "
                            f"{service!r}; services: {', '.join(sorted(services))}")
        overrides[services[service].image_parameter] = image_tag(service, services[service], value)
    for item in params:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--param {item!r}: expected KEY=VALUE")
        if key not in declared:
            raise UserError(f"--param {key}: not a deploy-time parameter of {manifest.system}/"
                            f"{manifest.environment}; parameters: {', '.join(sorted(declared))}")
        overrides[key] = value
    return overrides


def image_tag(service: str, info: ServiceEntry, value: str) -> str:
    """The tag to deploy: `value` is a tag, or an image URI that must name the service's own repository
    (the repository is fixed at build time; only the tag is a deploy-time parameter)."""
    if "@" in value:
        raise UserError(f"--image {service}={value}: digests are not supported; give a tag")
    if "/" not in value and ":" not in value:
        return value
    repository, _, tag = value.rpartition(":")
    if not repository or "/" in tag:
        raise UserError(f"--image {service}={value}: no tag; expected REPOSITORY_URI:TAG")
    expected = info.repository or info.image_uri
    matches = (repository.endswith("/" + expected) and ".dkr.ecr." in repository) if info.repository \
        else repository == expected
    if not matches:
        raise UserError(f"--image {service}={value}: {service} runs images of {expected}; "
                        f"this environment deploys tags of that repository only")
    return tag


def hosted_zone_id(aws: Aws, zone_name: str) -> str:
    """The ID of the public hosted zone named `zone_name` (list_hosted_zones_by_name)."""
    wanted = zone_name.rstrip(".").lower() + "."
    zones = aws.client("route53").list_hosted_zones_by_name(DNSName=wanted, MaxItems="10")["HostedZones"]
    matches = [zone for zone in zones if zone["Name"].lower() == wanted]
    public = [zone for zone in matches if not zone.get("Config", {}).get("PrivateZone")]
    if not public:
        raise UserError(f"no public Route53 hosted zone named {zone_name} in this account; create it, or pass "
                        f"--param HostedZoneId=Z...")
    if len(public) > 1:
        raise UserError(f"{len(public)} public hosted zones are named {zone_name}: choose one with "
                        f"--param HostedZoneId=" + " or ".join(zone["Id"].split("/")[-1] for zone in public))
    return public[0]["Id"].split("/")[-1]


def interactive() -> bool:
    """Can we ask? (tests replace this together with `confirm`)"""
    return sys.stdin.isatty()


def confirm(question: str) -> bool:
    """Ask on the terminal."""
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _need_yes_or_terminal(args) -> None:
    if not args.yes and not interactive():
        raise UserError("stdin is not a terminal, so nothing can be confirmed: pass --yes")


# ---------------------------------------------------------------------------------------------- deploy

def _reported(handler):
    """AWS-side failures as one `error:` line and exit 1 (user errors stay exit 2, via cli.main)."""
    import functools

    @functools.wraps(handler)
    def run(args) -> int:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return handler(args)
        except DeployError as error:
            print(f"error: {error}", file=sys.stderr)
        except ClientError as error:
            print(f"error: {error.response.get('Error', {}).get('Message') or error}", file=sys.stderr)
        except BotoCoreError as error:
            print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED

    return run


@_reported
def deploy_command(args) -> int:
    if args.endpoint_url:
        _check_endpoint(args.endpoint_url)
    _need_yes_or_terminal(args)
    environment = load_environment(args.params, args.target, args.output)
    overrides = parameter_overrides(environment.manifest, args.image, args.param)
    console = Console()
    manifest = environment.manifest
    with connect(args, target_region(args, manifest), manifest.account_id) as aws:
        check_account(aws, manifest)
        poll = args.poll if args.poll is not None else (LOCAL_POLL if aws.endpoint_url and _is_loopback(aws.endpoint_url) else DEFAULT_POLL)
        options = DeployOptions(yes=args.yes, allow_replace=args.allow_replace, poll=poll,
                                bootstrap_only=args.bootstrap_only)
        if aws.local and manifest.hosted_zone:
            _seed_hosted_zone(aws, manifest.hosted_zone, console)
        return deploy(aws, environment, overrides, options, console)


@dataclass
class DeployOptions:
    yes: bool = False
    allow_replace: bool = False
    poll: float = DEFAULT_POLL
    bootstrap_only: bool = False


def deploy(aws: Aws, environment: Environment, overrides: dict[str, str], options: DeployOptions,
           console: Console) -> int:
    manifest = environment.manifest
    folder = environment.folder
    production = bool(manifest.production)
    cloudformation = aws.client("cloudformation")
    console(console.bold(f"deploy {environment.target} -> {aws.describe()}")
            + (console.red("  [production]") if production else ""))
    tags = {"System": manifest.system, "Environment": manifest.environment, "ManagedBy": "stackforge"}

    # 1. bootstrap: artifacts bucket and ECR repositories, before anything that needs them
    bootstrap_body = (folder / manifest.bootstrap_template).read_text()
    bootstrap = StackRequest(name=manifest.bootstrap_stack_name, template_body=bootstrap_body, tags=tags)
    code = deploy_stack(cloudformation, bootstrap, options, console,
                        policies={(): stack_policy.policy(json.loads(bootstrap_body))} if production else None,
                        templates=(_built(folder, [manifest.bootstrap_template]), manifest.bootstrap_template),
                        region=aws.region)
    if code:
        return code
    bootstrap_outputs = changeset.outputs(cloudformation, bootstrap.name)
    if options.bootstrap_only:
        print_outputs(console, {}, bootstrap_outputs)
        return 0
    bucket = bootstrap_outputs.get("ArtifactsBucketName")
    if not bucket:
        raise DeployError(f"{bootstrap.name} has no ArtifactsBucketName output")

    # 2. package: nested templates (and the root) under content-addressed keys
    from stackloom.deploy.packaging import package

    packaged = package(aws.client("s3"), bucket, manifest.stack_name, folder, manifest.root_template)
    console(f"packaged {len(packaged.urls)} templates to s3://{bucket}/{manifest.stack_name}/ "
            f"({len(packaged.uploaded)} new, {len(packaged.urls) - len(packaged.uploaded)} unchanged)")

    # 3. parameters: given ones; for an existing stack the others keep their current values
    existing = changeset.describe_stack(cloudformation, manifest.stack_name)
    current = {item["ParameterKey"]: item.get("ParameterValue") for item in (existing or {}).get("Parameters") or []}
    if existing and existing["StackStatus"] in changeset.RECREATE_STATES:
        current = {}
    values = pack_overrides(manifest, overrides, current)   # unchanged unless services are grouped
    for name in manifest.required_parameters:
        if name not in values:
            if name == "HostedZoneId" and manifest.hosted_zone:
                values[name] = hosted_zone_id(aws, manifest.hosted_zone)
                console(f"HostedZoneId: {values[name]} ({manifest.hosted_zone})")
            elif name not in current:
                raise UserError(f"{environment.target}: parameter {name} has no default: pass --param {name}=...")
    keep = sorted(name for name in current if name not in values and name in packaged.root.get("Parameters", {}))
    for name, default in manifest.parameters.items():
        if name not in values and name not in keep:
            values[name] = default
    _print_parameters(console, values, keep, current)

    # 4. the environment stack
    sizes = {logical_id: len(packaged.templates[file_name].get("Resources", {}))
             for logical_id, file_name in manifest.nested_stacks.items() if file_name in packaged.templates}
    request = StackRequest(name=manifest.stack_name, template_url=packaged.root_url, parameters=values, keep=keep,
                           tags=tags, nested=True,
                           expected_resources=len(packaged.root.get("Resources", {})) + sum(sizes.values()))
    policies = (stack_policy.environment_policies(stack_policy.folder_reader(folder), manifest.root_template)
                if production else None)
    files = [manifest.root_template, *manifest.nested_stacks.values()]
    code = deploy_stack(cloudformation, request, options, console, policies=policies, nested_sizes=sizes,
                        templates=(_built(folder, files), manifest.root_template), region=aws.region)
    if code:
        return code
    print_outputs(console, changeset.outputs(cloudformation, request.name), bootstrap_outputs)
    return 0


def deploy_stack(cloudformation, request: StackRequest, options: DeployOptions, console: Console,
                 policies: dict | None = None, nested_sizes: dict | None = None,
                 templates: tuple[dict[str, dict], str] | None = None, region: str = "") -> int:
    """One stack through a change set; returns the exit code (0 deployed or unchanged, 1 not). With `templates`
    (the stack's built templates by file name, and its top file), the deployed templates are also compared with
    them as `build.py diff` does, so a stateful replacement the change set does not spell out is refused too."""
    existing = changeset.describe_stack(cloudformation, request.name)
    if existing:
        status = existing["StackStatus"]
        if status in changeset.RECREATE_STATES:
            console(f"{request.name} is {status} (nothing deployed in it): deleting it to start over")
            _delete(cloudformation, request.name, console, options.poll)
            existing = None
        elif status not in changeset.UPDATABLE_STATES:
            raise DeployError(f"{request.name} is {status}: wait until it is done (or fix it) and deploy again")
    deployed = _deployed(cloudformation, request.name, templates) if existing and templates else {}
    risks = _template_risks(deployed, templates, region) if deployed else []
    plan = changeset.create(cloudformation, request, existing, options.poll)
    if plan is None:
        console(f"{request.name}: no changes")
        if policies:
            _protect(cloudformation, request.name, policies, console)
        return 0
    changeset.render(plan, console, nested_sizes)
    protected = protected_removals(plan, deployed, templates[1]) if deployed else []
    if protected:
        changeset.discard(cloudformation, plan.change_set_id, request.name, plan.kind)
        console(console.red(
            f"cannot remove {', '.join(protected)}: deletion protection is on in the deployed stack, so AWS would "
            f"refuse the delete. Turn it off first (database.deletion_protection: false in a non-production spec), "
            f"deploy that, then deploy this change with --allow-replace."))
        return EXIT_FAILED
    if risks:
        console(console.yellow("the templates replace or remove stateful resources (as `build.py diff` reports): "
                               + ", ".join(f"{risk.path} ({risk.resource_type}, {risk.action})" for risk in risks)))
    if (plan.dangerous or risks) and not options.allow_replace:
        changeset.discard(cloudformation, plan.change_set_id, request.name, plan.kind)
        names = ", ".join(sorted({f"{change.path} ({change.resource_type})" for change in plan.dangerous}
                                 | {f"{risk.path} ({risk.resource_type})" for risk in risks}))
        console(console.red(f"refusing to replace or remove stateful resources: {names}. Their data would be "
                            f"lost. Check the change, then rerun with --allow-replace to proceed."))
        return EXIT_FAILED
    if not options.yes and not confirm(f"Execute this change set on {request.name}?"):
        changeset.discard(cloudformation, plan.change_set_id, request.name, plan.kind)
        console("cancelled: change set deleted, nothing changed")
        return EXIT_FAILED
    if policies and plan.kind == "UPDATE":
        _protect(cloudformation, request.name, policies, console)   # in force before the update runs
    expected = request.expected_resources if plan.kind == "CREATE" else 0
    outcome = changeset.execute(cloudformation, plan, console, options.poll, expected)
    if not outcome.ok:
        _report_failure(console, request.name, outcome)
        return EXIT_FAILED
    console(console.green(f"{request.name}: {outcome.status}"))
    if policies:
        _protect(cloudformation, request.name, policies, console)
    return 0


def _report_failure(console: Console, stack_name: str, outcome: changeset.Outcome) -> None:
    failure = outcome.failure
    where = f"{failure.path} ({failure.resource_type}): {failure.reason}" if failure else "no failed resource reported"
    console(console.red(f"{stack_name}: deploy failed at {where}"))
    console(console.red(f"{stack_name} is {outcome.status}"
                        + (": rolled back" if "ROLLBACK_COMPLETE" in outcome.status else "")))
    if outcome.retained:
        console(console.yellow(
            "kept by DeletionPolicy during the rollback (a named one blocks the next deploy until it is deleted): "
            + ", ".join(f"{event.path} ({event.physical_id})" for event in outcome.retained)))


def _protect(cloudformation, stack_name: str, policies: dict, console: Console) -> None:
    """Production: termination protection on the root, a stack policy on the root and each nested stack."""
    cloudformation.update_termination_protection(EnableTerminationProtection=True, StackName=stack_name)
    nested = nested_stacks(cloudformation, stack_name)
    applied = 0
    for path, document in policies.items():
        stack = stack_name if path == () else nested.get(path)
        if stack is None:
            continue
        cloudformation.set_stack_policy(StackName=stack, StackPolicyBody=changeset.policy_json(document))
        applied += 1
    console(f"{stack_name}: termination protection on, stack policy set on {applied} stack(s) "
            f"(denies Update:Replace and Update:Delete of stateful resources)")


def nested_stacks(cloudformation, stack_name: str, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], str]:
    """Logical ID path -> stack ID of every nested stack (list_stack_resources paginator)."""
    found: dict[tuple[str, ...], str] = {}
    paginator = cloudformation.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack_name):
        for resource in page["StackResourceSummaries"]:
            physical = resource.get("PhysicalResourceId") or ""
            if resource.get("ResourceType") == model.STACK_TYPE and physical:
                child = path + (resource["LogicalResourceId"],)
                found[child] = physical
                found.update(nested_stacks(cloudformation, physical, child))
    return found


def _print_parameters(console: Console, values: dict, keep: list, current: dict) -> None:
    for name in sorted(set(values) | set(keep)):
        if name in keep:
            console(f"  {name} = {current.get(name)} (current value)")
        elif name in current and current[name] != values[name]:
            console(f"  {name} = {values[name]} (was {current[name]})")
        else:
            console(f"  {name} = {values[name]}")


def print_outputs(console: Console, outputs: dict[str, str], bootstrap: dict[str, str] | None = None) -> None:
    first = ("BaseUrl", "LoadBalancerDnsName")
    ordered = [key for key in first if key in outputs] + sorted(
        key for key in outputs if key not in first and key.endswith("Url")) + sorted(
        key for key in outputs if key not in first and not key.endswith("Url"))
    if ordered:
        console(console.bold("outputs:"))
        width = max(len(key) for key in ordered)
        for key in ordered:
            console(f"  {key:<{width}}  {outputs[key]}")
    repositories = {key: value for key, value in sorted((bootstrap or {}).items()) if key.endswith("RepositoryUri")}
    if repositories:
        console(console.bold("images: docker push <uri>:TAG, then deploy --image SERVICE=TAG"))
        width = max(len(key) for key in repositories)
        for key, value in repositories.items():
            console(f"  {key:<{width}}  {value}")


def _seed_hosted_zone(aws: Aws, zone_name: str, console: Console) -> None:
    """A fresh local endpoint has no hosted zones: create the one the spec names, as the account would have."""
    route53 = aws.client("route53")
    wanted = zone_name.rstrip(".").lower() + "."
    zones = route53.list_hosted_zones_by_name(DNSName=wanted)["HostedZones"]
    if not any(zone["Name"].lower() == wanted for zone in zones):
        route53.create_hosted_zone(Name=zone_name, CallerReference=f"stackforge-local-{zone_name}")
        console(f"local endpoint: created hosted zone {zone_name} (in a real account it already exists)")


# ---------------------------------------------------------------------------------------------- destroy

@_reported
def destroy_command(args) -> int:
    if args.endpoint_url:
        _check_endpoint(args.endpoint_url)
    environment = load_environment(args.params, args.target, None)
    manifest = environment.manifest
    if manifest.production and not args.force:
        raise UserError(f"{environment.target} is a production environment: refusing to destroy it without --force")
    _need_yes_or_terminal(args)
    console = Console()
    with connect(args, target_region(args, manifest), manifest.account_id) as aws:
        check_account(aws, manifest)
        poll = args.poll if args.poll is not None else (LOCAL_POLL if aws.endpoint_url and _is_loopback(aws.endpoint_url) else DEFAULT_POLL)
        return destroy(aws, environment, console, force=args.force, yes=args.yes,
                       include_bootstrap=args.include_bootstrap, poll=poll)


def destroy(aws: Aws, environment: Environment, console: Console, force: bool = False, yes: bool = False,
            include_bootstrap: bool = False, poll: float = DEFAULT_POLL) -> int:
    manifest = environment.manifest
    cloudformation = aws.client("cloudformation")
    names = [manifest.stack_name] + ([manifest.bootstrap_stack_name] if include_bootstrap else [])
    console(console.bold(f"destroy {environment.target} -> {aws.describe()}"))
    stacks = {name: changeset.describe_stack(cloudformation, name) for name in names}
    if not any(stacks.values()):
        console(f"nothing to destroy: {', '.join(names)} not found")
        return 0
    kept = retained_resources(environment.build)
    for name, stack in stacks.items():
        if stack is None:
            continue
        if stack.get("EnableTerminationProtection"):
            if not force:
                raise UserError(f"{name} has termination protection on: pass --force to turn it off and delete it")
        if not yes and not confirm(f"Delete stack {name} and everything in it (except: {', '.join(kept[name]) or 'nothing'})?"):
            console("cancelled: nothing deleted")
            return EXIT_FAILED
        if stack.get("EnableTerminationProtection"):
            cloudformation.update_termination_protection(EnableTerminationProtection=False, StackName=name)
            console(f"{name}: termination protection turned off (--force)")
        if not _delete(cloudformation, name, console, poll, stack_id=stack["StackId"]):
            return EXIT_FAILED
        if kept[name]:
            console(f"{name}: kept by their DeletionPolicy: {', '.join(kept[name])}")
    return 0


def _deployed(cloudformation, stack_name: str, templates: tuple[dict[str, dict], str]) -> dict[str, dict]:
    """The deployed templates of the stack and its nested stacks, keyed by the build's file names."""
    from stackloom import diff

    new, top = templates
    return diff.deployed_templates(cloudformation, stack_name, new, top)


def _template_risks(deployed: dict[str, dict], templates: tuple[dict[str, dict], str], region: str) -> list:
    """Stateful resources the build would replace or remove, compared with the deployed templates."""
    from stackloom import diff

    return diff.stateful_risks(diff.compare(deployed, templates[0], region))


def protected_removals(plan: changeset.Plan, deployed: dict[str, dict], top: str) -> list[str]:
    """The change set's removals of resources whose deployed template turns deletion protection on (e.g.
    EnableDatabase=false on a protected Aurora cluster): CloudFormation would try, fail and leave the
    resource behind, so the deploy stops before. `deployed` is keyed by file name, as `_deployed` returns."""
    # stack path ("Data", "Services01/ServiceApi") -> its file, as `build.py diff` pairs them
    files = {path: name for name, path in model.stack_paths(model.children(deployed)).items()}
    files[""] = top
    found = []
    for change in plan.changes:
        flag = kinds.kind(change.resource_type).deletion_protection
        if change.action != "Remove" or flag is None:
            continue
        stack, _, logical_id = change.path.rpartition("/")
        properties = model.properties(model.resources(deployed.get(files.get(stack, ""))).get(logical_id))
        if model.truthy(properties.get(flag)):
            found.append(f"{change.path} ({change.resource_type})")
    return found


def _built(folder: Path, file_names: list[str]) -> dict[str, dict]:
    return {name: json.loads((folder / name).read_text()) for name in file_names}


def retained_resources(build: compiler.Build) -> dict[str, list[str]]:
    """Per stack name, the resources a delete keeps (DeletionPolicy Retain or Snapshot)."""
    manifest = build.manifest
    files = {manifest.stack_name: [manifest.root_template, *manifest.nested_stacks.values()],
             manifest.bootstrap_stack_name: [manifest.bootstrap_template]}
    result = {}
    for stack_name, file_names in files.items():
        kept = []
        for file_name in file_names:
            for logical_id, resource in sorted(json.loads(build.files[file_name]).get("Resources", {}).items()):
                policy = resource.get("DeletionPolicy")
                if policy in ("Retain", "RetainExceptOnCreate"):
                    kept.append(f"{logical_id} (retained)")
                elif policy == "Snapshot":
                    kept.append(f"{logical_id} (final snapshot)")
        result[stack_name] = kept
    return result


def _delete(cloudformation, stack_name: str, console: Console, poll: float, stack_id: str | None = None) -> bool:
    from stackloom.deploy import events as stack_events

    target = stack_id or (changeset.describe_stack(cloudformation, stack_name) or {}).get("StackId", stack_name)
    stream = stack_events.EventStream(cloudformation, target, printer=console).prime()
    cloudformation.delete_stack(StackName=target)
    ok = stack_events.wait(cloudformation, "stack_delete_complete", target, stream, poll)
    if not ok:
        failure = stack_events.first_failure(stream.events)
        where = f"{failure.path} ({failure.resource_type}): {failure.reason}" if failure else "unknown reason"
        console(console.red(f"{stack_name}: delete failed at {where}"))
        return False
    console(console.green(f"{stack_name}: DELETE_COMPLETE"))
    return True


# ---------------------------------------------------------------------------------------------- stack-policy

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
            raise UserError(f"--stack {args.stack!r}: no such stack; choose from: "
                            + ", ".join(["(root)", "bootstrap"] + ["/".join(key) for key in policies if key]))
        document = policies[path]
    print(changeset.policy_json(document))
    return 0
