"""`python build.py deploy SYSTEM/ENV`, `destroy SYSTEM/ENV` and `stack-policy SYSTEM/ENV`.

deploy: build the environment into output/, ensure the bootstrap stack (artifacts bucket + ECR), upload
the templates under content-addressed keys (like `aws cloudformation package`), create a change set with
nested change sets, print it (replacements of stateful resources highlighted, and refused without
`--allow-replace`), ask (or `--yes`), execute it while printing stack events with a progress count, and
print the stack outputs. Production environments get termination protection and a stack policy on every
stack. An empty change set is "no changes" (exit 0); a failed deploy names the first failing resource and
its reason and leaves the stack rolled back (exit 1).

Where it goes: real AWS (the usual credential chain and `--region`), or exactly the `--endpoint-url`
given, or with `--local` an embedded local endpoint on 127.0.0.1 (stackloom/local/).
Endpoints from the environment or ~/.aws/config (AWS_ENDPOINT_URL) are ignored, so nothing is deployed
anywhere by accident.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from botocore.exceptions import ClientError

from stackloom import diff, kinds
from stackloom.build import Build, compile_all
from stackloom.cfn import model
from stackloom.deploy import changeset, stack_policy
from stackloom.deploy import events as stack_events
from stackloom.deploy.aws import Aws
from stackloom.deploy.changeset import Console, DeployError, StackRequest
from stackloom.deploy.packaging import package
from stackloom.errors import UserError
from stackloom.manifest import Manifest, ServiceEntry, pack_overrides
from stackloom.operate import failure as rollout_failure
from stackloom.output import write
from stackloom.params import select

EXIT_FAILED = 1
DEFAULT_POLL = 5.0
LOCAL_POLL = 0.5


# ---------------------------------------------------------------------------------------------- target


# ---------------------------------------------------------------------------------------------- inputs


@dataclass
class Environment:
    build: Build
    manifest: Manifest
    folder: Path | None

    @property
    def target(self) -> str:
        return self.build.target


def load_environment(params_dir: Path, target: str, output_dir: Path | None) -> Environment:
    """Compile exactly one environment (and write it to output_dir when given)."""
    selected = select(params_dir, [target])
    if len(selected) != 1:
        raise UserError(
            f"{target!r} names {len(selected)} environments ({', '.join(selected)}); "
            f"deploy one at a time: SYSTEM/ENV"
        )
    build = compile_all(selected)[0]
    folder = write(build, output_dir, params_dir) if output_dir is not None else None
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
            raise UserError(
                f"--image {item!r}: {manifest.system}/{manifest.environment} has no service "
                f"{service!r}; services: {', '.join(sorted(services))}"
            )
        overrides[services[service].image_parameter] = image_tag(service, services[service], value)
    for item in params:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--param {item!r}: expected KEY=VALUE")
        if key not in declared:
            raise UserError(
                f"--param {key}: not a deploy-time parameter of {manifest.system}/"
                f"{manifest.environment}; parameters: {', '.join(sorted(declared))}"
            )
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
    matches = (
        (repository.endswith("/" + expected) and ".dkr.ecr." in repository)
        if info.repository
        else repository == expected
    )
    if not matches:
        raise UserError(
            f"--image {service}={value}: {service} runs images of {expected}; "
            f"this environment deploys tags of that repository only"
        )
    return tag


def hosted_zone_id(aws: Aws, zone_name: str) -> str:
    """The ID of the public hosted zone named `zone_name` (list_hosted_zones_by_name)."""
    wanted = zone_name.rstrip(".").lower() + "."
    zones = aws.client("route53").list_hosted_zones_by_name(DNSName=wanted, MaxItems="10")["HostedZones"]
    matches = [zone for zone in zones if zone["Name"].lower() == wanted]
    public = [zone for zone in matches if not zone.get("Config", {}).get("PrivateZone")]
    if not public:
        raise UserError(
            f"no public Route53 hosted zone named {zone_name} in this account; create it, or pass "
            f"--param HostedZoneId=Z..."
        )
    if len(public) > 1:
        raise UserError(
            f"{len(public)} public hosted zones are named {zone_name}: choose one with "
            f"--param HostedZoneId=" + " or ".join(zone["Id"].split("/")[-1] for zone in public)
        )
    return public[0]["Id"].split("/")[-1]


# ---------------------------------------------------------------------------------------------- deploy


@dataclass
class DeployOptions:
    yes: bool = False
    allow_replace: bool = False
    confirm: Callable[[str], bool] = lambda question: False  # the CLI asks on the terminal; engines never do
    cancel_on_interrupt: bool = False  # Ctrl-C during an update also asks CloudFormation to cancel it
    poll: float = DEFAULT_POLL
    bootstrap_only: bool = False
    explain_failure: Callable | None = None  # called with the failed resource's event when a change set fails


def deploy(
    aws: Aws, environment: Environment, overrides: dict[str, str], options: DeployOptions, console: Console
) -> int:
    manifest = environment.manifest
    folder = environment.folder
    production = bool(manifest.production)
    cloudformation = aws.client("cloudformation")
    console(
        console.bold(f"deploy {environment.target} -> {aws.describe()}")
        + (console.red("  [production]") if production else "")
    )
    tags = stack_tags(manifest)

    # 1. bootstrap: artifacts bucket and ECR repositories, before anything that needs them
    bootstrap_body = (folder / manifest.bootstrap_template).read_text()
    bootstrap = StackRequest(name=manifest.bootstrap_stack_name, template_body=bootstrap_body, tags=tags)
    code = deploy_stack(
        cloudformation,
        bootstrap,
        options,
        console,
        policies={(): stack_policy.policy(json.loads(bootstrap_body))} if production else None,
        templates=(_built(folder, [manifest.bootstrap_template]), manifest.bootstrap_template),
        region=aws.region,
    )
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

    packaged = package(aws.client("s3"), bucket, manifest.stack_name, folder, manifest.root_template)
    console(
        f"packaged {len(packaged.urls)} templates to s3://{bucket}/{manifest.stack_name}/ "
        f"({len(packaged.uploaded)} new, {len(packaged.urls) - len(packaged.uploaded)} unchanged)"
    )

    # 3. parameters: given ones; for an existing stack the others keep their current values
    values, keep = stack_parameters(aws, environment, overrides, packaged, console)

    # 4. the environment stack
    request, sizes = environment_request(manifest, packaged, values, keep, tags)
    policies = (
        stack_policy.environment_policies(stack_policy.folder_reader(folder), manifest.root_template)
        if production
        else None
    )
    files = [manifest.root_template, *manifest.nested_stacks.values()]
    code = deploy_stack(
        cloudformation,
        request,
        replace(options, explain_failure=lambda failed: rollout_failure.explain(aws, manifest, failed, console)),
        console,
        policies=policies,
        nested_sizes=sizes,
        templates=(_built(folder, files), manifest.root_template),
        region=aws.region,
    )
    if code:
        return code
    print_outputs(console, changeset.outputs(cloudformation, request.name), bootstrap_outputs)
    return 0


def stack_tags(manifest: Manifest) -> dict[str, str]:
    return {"System": manifest.system, "Environment": manifest.environment, "ManagedBy": "stackforge"}


def stack_parameters(
    aws: Aws, environment: Environment, overrides: dict[str, str], packaged, console: Console
) -> tuple[dict[str, str], list[str]]:
    """The root parameters: given ones; for an existing stack the others keep their current values (`keep`),
    a new stack takes the defaults; HostedZoneId looked up by name. Printed, as a change set will use them."""
    manifest = environment.manifest
    cloudformation = aws.client("cloudformation")
    existing = changeset.describe_stack(cloudformation, manifest.stack_name)
    current = {item["ParameterKey"]: item.get("ParameterValue") for item in (existing or {}).get("Parameters") or []}
    if existing and existing["StackStatus"] in changeset.RECREATE_STATES:
        current = {}
    values = pack_overrides(manifest, overrides, current)  # unchanged unless services are grouped
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
    return values, keep


def environment_request(
    manifest: Manifest, packaged, values: dict[str, str], keep: list[str], tags: dict[str, str]
) -> tuple[StackRequest, dict[str, int]]:
    """The environment stack's change set request (by the packaged root's URL) and its nested stacks' sizes."""
    sizes = {
        logical_id: len(packaged.templates[file_name].get("Resources", {}))
        for logical_id, file_name in manifest.nested_stacks.items()
        if file_name in packaged.templates
    }
    request = StackRequest(
        name=manifest.stack_name,
        template_url=packaged.root_url,
        parameters=values,
        keep=keep,
        tags=tags,
        nested=True,
        expected_resources=len(packaged.root.get("Resources", {})) + sum(sizes.values()),
    )
    return request, sizes


def deploy_stack(
    cloudformation,
    request: StackRequest,
    options: DeployOptions,
    console: Console,
    policies: dict | None = None,
    nested_sizes: dict | None = None,
    templates: tuple[dict[str, dict], str] | None = None,
    region: str = "",
) -> int:
    """One stack through a change set; returns the exit code (0 deployed or unchanged, 1 not). With `templates`
    (the stack's built templates by file name, and its top file), the deployed templates are also compared with
    them as `build.py diff` does, so a stateful replacement the change set does not spell out is refused too."""
    existing = changeset.describe_stack(cloudformation, request.name)
    if existing:
        status = existing["StackStatus"]
        if status in changeset.RECREATE_STATES:
            console(f"{request.name} is {status} (nothing deployed in it): deleting it to start over")
            delete_stack(cloudformation, request.name, console, options.poll)
            existing = None
        elif status not in changeset.UPDATABLE_STATES:
            raise DeployError(f"{request.name} is {status}: wait until it is done (or fix it) and deploy again")
    deployed = _deployed(cloudformation, request.name, templates) if existing and templates else {}
    risks = _template_risks(deployed, templates, region) if deployed else []
    state = {"plan": None, "executing": False}
    try:
        return _through_change_set(
            cloudformation,
            request,
            options,
            console,
            policies,
            nested_sizes,
            templates,
            existing,
            deployed,
            risks,
            state,
        )
    except KeyboardInterrupt:
        _report_interrupt(cloudformation, request.name, state["plan"], state["executing"], console)
        if options.cancel_on_interrupt and state["executing"] and state["plan"].kind == "UPDATE":
            _cancel(cloudformation, request.name, console)
        raise


def _through_change_set(
    cloudformation, request, options, console, policies, nested_sizes, templates, existing, deployed, risks, state
) -> int:
    plan = changeset.create(cloudformation, request, existing, options.poll)
    state["plan"] = plan
    if plan is None:
        console(f"{request.name}: no changes")
        if policies:
            protect(cloudformation, request.name, policies, console)
        return 0
    changeset.render(plan, console, nested_sizes)
    protected = protected_removals(plan, deployed, templates[1]) if deployed else []
    if protected:
        changeset.discard(cloudformation, plan.change_set_id, request.name, plan.kind)
        console(
            console.red(
                f"cannot remove {', '.join(protected)}: deletion protection is on in the deployed stack, so AWS would "
                f"refuse the delete. Turn it off first (database.deletion_protection: false in a non-production spec), "
                f"deploy that, then deploy this change with --allow-replace."
            )
        )
        return EXIT_FAILED
    if risks:
        console(
            console.yellow(
                "the templates replace or remove stateful resources (as `build.py diff` reports): "
                + ", ".join(f"{risk.path} ({risk.resource_type}, {risk.action})" for risk in risks)
            )
        )
    if (plan.dangerous or risks) and not options.allow_replace:
        changeset.discard(cloudformation, plan.change_set_id, request.name, plan.kind)
        names = ", ".join(
            sorted(
                {f"{change.path} ({change.resource_type})" for change in plan.dangerous}
                | {f"{risk.path} ({risk.resource_type})" for risk in risks}
            )
        )
        console(
            console.red(
                f"refusing to replace or remove stateful resources: {names}. Their data would be "
                f"lost. Check the change, then rerun with --allow-replace to proceed."
            )
        )
        return EXIT_FAILED
    if not options.yes and not options.confirm(f"Execute this change set on {request.name}?"):
        changeset.discard(cloudformation, plan.change_set_id, request.name, plan.kind)
        console("cancelled: change set deleted, nothing changed")
        return EXIT_FAILED
    if policies and plan.kind == "UPDATE":
        protect(cloudformation, request.name, policies, console)  # in force before the update runs
    expected = request.expected_resources if plan.kind == "CREATE" else 0
    state["executing"] = True
    outcome = changeset.execute(cloudformation, plan, console, options.poll, expected)
    if not outcome.ok:
        report_failure(console, request.name, outcome, templates, options.explain_failure)
        return EXIT_FAILED
    console(console.green(f"{request.name}: {outcome.status}"))
    if policies:
        protect(cloudformation, request.name, policies, console)
    return 0


def _report_interrupt(cloudformation, stack_name: str, plan, executing: bool, console: Console) -> None:
    """Ctrl-C: what is true now. A change set made but not executed is deleted (nothing changed); one being
    executed goes on in CloudFormation, which the operator is told how to follow or stop."""
    if plan is not None and not executing:
        changeset.discard(cloudformation, plan.change_set_id, stack_name, plan.kind)
        console(
            console.yellow(f"interrupted: the change set for {stack_name} was deleted before it ran; nothing changed")
        )
        return
    stack = changeset.describe_stack(cloudformation, stack_name)
    status = stack["StackStatus"] if stack else "not created"
    if not executing:
        console(console.yellow(f"interrupted before a change set ran: {stack_name} is {status}; nothing changed"))
        return
    console(
        console.yellow(
            f"interrupted: {stack_name} is {status} and CloudFormation carries on with it (it does not stop with this "
            f"command). Follow it: aws cloudformation describe-stack-events --stack-name {stack_name}; "
            + (
                "stop it: aws cloudformation cancel-update-stack --stack-name " + stack_name
                if plan.kind == "UPDATE"
                else "a first create cannot be cancelled: delete the stack when it is done (build.py destroy)"
            )
        )
    )


def _cancel(cloudformation, stack_name: str, console: Console) -> None:
    """--cancel-on-interrupt: ask CloudFormation to cancel the update (it then rolls back) and say what it said."""
    try:
        cloudformation.cancel_update_stack(StackName=stack_name)
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message") or str(error)
        console(console.red(f"could not cancel the update of {stack_name}: {message}"))
        return
    console(console.yellow(f"cancel requested: {stack_name} rolls back to where it was (UPDATE_ROLLBACK_IN_PROGRESS)"))


def report_failure(
    console: Console,
    stack_name: str,
    outcome: changeset.Outcome,
    templates: tuple[dict[str, dict], str] | None = None,
    explain: Callable | None = None,
) -> None:
    failure = outcome.failure
    where = f"{failure.path} ({failure.resource_type}): {failure.reason}" if failure else "no failed resource reported"
    console(console.red(f"{stack_name}: deploy failed at {where}"))
    if explain is not None:  # why a service did not roll out (stackloom/operate/failure.py)
        explain(failure)
    if failure and "already exists" in failure.reason.lower():
        console(console.yellow(_already_exists(failure, templates)))
    console(
        console.red(
            f"{stack_name} is {outcome.status}" + (": rolled back" if "ROLLBACK_COMPLETE" in outcome.status else "")
        )
    )
    if outcome.retained:
        console(
            console.yellow(
                "kept by DeletionPolicy during the rollback (a named one blocks the next deploy until it is deleted): "
                + ", ".join(f"{event.path} ({event.physical_id})" for event in outcome.retained)
            )
        )


def _already_exists(failure, templates: tuple[dict[str, dict], str] | None) -> str:
    """How to get past a named resource that exists outside the stack: delete it, or import it."""
    kind = kinds.kind(failure.resource_type)
    name = None
    if templates and kind.name_property:
        built, top = templates
        files = {path: file for file, path in model.stack_paths(model.children(built)).items()}
        files[""] = top
        stack, _, logical_id = failure.path.rpartition("/")
        value = model.properties(model.resources(built.get(files.get(stack, ""))).get(logical_id)).get(
            kind.name_property
        )
        name = value if isinstance(value, str) else None
    what = f"{name} ({failure.resource_type})" if name else f"the {failure.resource_type} of {failure.path}"
    delete = (
        f"delete it if its contents are not needed: {kind.delete_command.format(name=name)}; "
        if name and kind.delete_command
        else "delete it if its contents are not needed; "
    )
    return (
        f"{what} already exists outside this stack (left by an earlier stack, or made by hand): {delete}or bring it "
        "into the stack with a resource import (aws cloudformation create-change-set --change-set-type IMPORT "
        "--resources-to-import ...); then deploy again"
    )


def protect(cloudformation, stack_name: str, policies: dict, console: Console) -> None:
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
    console(
        f"{stack_name}: termination protection on, stack policy set on {applied} stack(s) "
        f"(denies Update:Replace and Update:Delete of stateful resources)"
    )


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
    ordered = (
        [key for key in first if key in outputs]
        + sorted(key for key in outputs if key not in first and key.endswith("Url"))
        + sorted(key for key in outputs if key not in first and not key.endswith("Url"))
    )
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


def seed_hosted_zone(aws: Aws, zone_name: str, console: Console) -> None:
    """A fresh local endpoint has no hosted zones: create the one the spec names, as the account would have."""
    route53 = aws.client("route53")
    wanted = zone_name.rstrip(".").lower() + "."
    zones = route53.list_hosted_zones_by_name(DNSName=wanted)["HostedZones"]
    if not any(zone["Name"].lower() == wanted for zone in zones):
        route53.create_hosted_zone(Name=zone_name, CallerReference=f"stackforge-local-{zone_name}")
        console(f"local endpoint: created hosted zone {zone_name} (in a real account it already exists)")


def seed_certificate(aws: Aws, arn: str, console: Console) -> None:
    """A fresh local endpoint has no certificates: make the spec's certificate_arn exist (issued, in the account
    and region its ARN names), as the account would have it. One of another account or region is not made
    there for the listener: AWS would answer CertificateNotFound, and so does the local endpoint."""
    _, _, _, region, account, _ = (arn.split(":", 5) + [""] * 6)[:6]
    identity = aws.client("sts").get_caller_identity()["Account"]
    if (account, region) != (identity, aws.region):
        console(
            console.yellow(
                f"local endpoint: certificate {arn} belongs to account {account} in {region}, not {identity} in "
                f"{aws.region} where the load balancer is: an HTTPS listener cannot use it (CertificateNotFound)"
            )
        )
    if aws.local_endpoint.add_certificate(arn):
        console(f"local endpoint: created certificate {arn} (in a real account it already exists)")


# ---------------------------------------------------------------------------------------------- destroy


def _deployed(cloudformation, stack_name: str, templates: tuple[dict[str, dict], str]) -> dict[str, dict]:
    """The deployed templates of the stack and its nested stacks, keyed by the build's file names."""
    new, top = templates
    return diff.deployed_templates(cloudformation, stack_name, new, top)


def _template_risks(deployed: dict[str, dict], templates: tuple[dict[str, dict], str], region: str) -> list:
    """Stateful resources the build would replace or remove, compared with the deployed templates."""
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


# ---------------------------------------------------------------------------------------------- stack-policy


def delete_stack(cloudformation, stack_name: str, console: Console, poll: float, stack_id: str | None = None) -> bool:
    target = stack_id or (changeset.describe_stack(cloudformation, stack_name) or {}).get("StackId", stack_name)
    stream = stack_events.EventStream(cloudformation, target, printer=console).prime().of_stack_resources()
    cloudformation.delete_stack(StackName=target)
    ok = stack_events.wait(cloudformation, "stack_delete_complete", target, stream, poll)
    if not ok:
        failure = stack_events.first_failure(stream.events)
        where = f"{failure.path} ({failure.resource_type}): {failure.reason}" if failure else "unknown reason"
        console(console.red(f"{stack_name}: delete failed at {where}"))
        return False
    console(console.green(f"{stack_name}: DELETE_COMPLETE"))
    return True
