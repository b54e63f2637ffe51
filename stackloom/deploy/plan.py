"""`python build.py plan SYSTEM/ENV` (= `deploy --plan`) and `deploy --plan-file FILE`.

plan: build and package as `deploy` does, create the change sets (nested ones included) against the deployed
stacks and leave them unexecuted, print them with the before -> after value of every changed property
(DescribeChangeSet with IncludePropertyValues), the replacement and stateful-data verdicts (the change set's
own and `build.py diff`'s comparison of the deployed templates with the build), and the cost change (the cost
estimate of the deployed templates against the new ones). The result is a plan document (JSON) and an exit code
by the comparing commands' convention (stackloom.diff): 0 no changes, 2 changes, 3 stateful replace/remove.

An environment whose bootstrap stack does not exist yet has no artifacts bucket, so its templates cannot be
packaged and its change set cannot exist before the bootstrap stack does: the plan then holds the bootstrap
stack's change set and, for the environment, everything its templates add (nothing is deployed, so everything
is added) with the hash of the built templates; `--plan-file` creates that change set after the bootstrap
stack and executes it only if it adds exactly that.

apply (`deploy --plan-file`): rebuild, then before executing anything check that every change set of the
plan still exists, CREATE_COMPLETE and AVAILABLE, that every stack is as the plan saw it (StackId, StackStatus,
LastUpdatedTime, or still absent), and that the fresh build packages to the same template hashes; otherwise
refuse (DeployError, exit 1) with what changed. Then execute exactly those change sets, bootstrap first.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from botocore.exceptions import ClientError

from stackloom import diff
from stackloom import manifest as manifests
from stackloom.cfn.evaluate import Built
from stackloom.deploy import changeset, deploy, stack_policy
from stackloom.deploy.aws import Aws
from stackloom.deploy.changeset import Console, DeployError, StackRequest
from stackloom.deploy.packaging import package, template_body
from stackloom.errors import UserError
from stackloom.operate import failure as rollout_failure
from stackloom.report import cost
from stackloom.report.inventory import inventory

FORMAT = 1
BOOTSTRAP, ENVIRONMENT = "bootstrap", "environment"
VERDICTS = {diff.EXIT_NO_CHANGES: "no changes", diff.EXIT_CHANGES: "changes", diff.EXIT_RISK: "stateful"}


def sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def built_hash(environment: deploy.Environment) -> str:
    """The sha256 of the environment's built templates (root and nested, by file name), before packaging."""
    manifest = environment.manifest
    files = environment.build.files
    names = sorted({manifest.root_template, *manifest.nested_stacks.values()})
    return sha256(json.dumps({name: files[name] for name in names}, sort_keys=True))


def stack_state(stack: dict | None) -> dict | None:
    """What a plan remembers of a deployed stack, to tell later whether it changed since."""
    if not stack:
        return None
    updated = stack.get("LastUpdatedTime")
    return {
        "stack_id": stack["StackId"],
        "status": stack["StackStatus"],
        "last_updated": updated.isoformat() if updated else None,
    }


@dataclass
class Planned:
    """One stack of a plan."""

    role: str  # bootstrap | environment
    name: str
    template_sha256: str
    state: dict | None  # the stack as seen at plan time (after its change set was made), None when absent
    plan: changeset.Plan | None = None  # its change set, None without changes (or deferred)
    deferred: list[diff.Change] = field(default_factory=list)  # what a deferred environment change set adds
    risks: list = field(default_factory=list)  # stateful replacements `build.py diff` finds in the templates
    deployed: dict = field(default_factory=dict)  # the deployed templates, by file name
    parameters: dict = field(default_factory=dict)  # the deployed stack's parameter values

    @property
    def changes(self) -> list[changeset.Change]:
        return self.plan.changes if self.plan else []

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.deferred)

    @property
    def stateful(self) -> list[str]:
        found = {
            f"{change.path} ({change.resource_type}, {change.kind.lower()})"
            for change in self.changes
            if change.dangerous
        }
        found |= {f"{risk.path} ({risk.resource_type}, {risk.action})" for risk in self.risks}
        return sorted(found)

    @property
    def replaced(self) -> list[str]:
        """Every resource the change set replaces (a new physical ID), stateful or not."""
        return sorted(f"{change.path} ({change.resource_type})" for change in self.changes if change.replaces)

    def document(self) -> dict:
        plan = self.plan
        return {
            "role": self.role,
            "stack_name": self.name,
            "change_set_id": plan.change_set_id if plan else None,
            "change_set_type": plan.kind if plan else ("CREATE" if self.deferred else None),
            "deferred": bool(self.deferred),
            "template_sha256": self.template_sha256,
            "stack": self.state,
            "counts": _counts(self),
            "changes": [
                {"path": change.path, "action": change.kind, "type": change.resource_type, "stateful": change.stateful}
                for change in self.changes
                if not change.nested
            ]
            or [
                {"path": c.path, "action": "Add", "type": c.resource_type, "stateful": c.stateful}
                for c in self.deferred
            ],
            "replaced": self.replaced,
            "stateful_replace_or_remove": self.stateful,
        }


def _counts(planned: Planned) -> dict[str, int]:
    if planned.plan:
        return planned.plan.counts()
    return {"Add": len(planned.deferred), "Modify": 0, "Replace": 0, "Remove": 0}


def make_plan(
    aws: Aws, environment: deploy.Environment, overrides: dict[str, str], console: Console, poll: float
) -> tuple[dict, int]:
    """Create (and keep) the change sets of a deploy, print them; returns (plan document, exit code)."""
    manifest = environment.manifest
    cloudformation = aws.client("cloudformation")
    console(console.bold(f"plan {environment.target} -> {aws.describe()}"))
    bootstrap, bucket = _plan_bootstrap(aws, environment, poll)
    if bucket:
        packaged = package(aws.client("s3"), bucket, manifest.stack_name, environment.folder, manifest.root_template)
        values, keep = deploy.stack_parameters(aws, environment, overrides, packaged, console)
        environment_plan = _plan_environment(aws, environment, packaged, values, keep, poll)
    else:
        if _plannable(cloudformation, manifest.stack_name):
            raise DeployError(
                f"{manifest.stack_name} exists but its bootstrap stack {manifest.bootstrap_stack_name} has no "
                "artifacts bucket: deploy --bootstrap-only first"
            )
        templates = diff.build_templates(environment.build)
        templates.pop(manifest.bootstrap_template, None)  # its own stack, planned above
        added = diff.compare({}, templates, aws.region)
        environment_plan = Planned(ENVIRONMENT, manifest.stack_name, built_hash(environment), None, deferred=added)
        values = {**manifest.parameters, **overrides}
    stacks = [bootstrap, environment_plan]
    for planned in stacks:
        _render(planned, console)
    costs = _cost_change(environment, environment_plan, values, console)
    code = diff.exit_code(any(item.changed for item in stacks), any(item.stateful for item in stacks))
    console(console.bold(f"plan: {VERDICTS[code]} (exit {code})"))
    document = {
        "format": FORMAT,
        "target": environment.target,
        "region": aws.region,
        "account": aws.client("sts").get_caller_identity()["Account"],
        "endpoint": endpoint_kind(aws),
        "parameters": dict(sorted(values.items())),
        "overrides": dict(sorted(overrides.items())),  # --image / --param as given (a deferred change set's)
        "stacks": [planned.document() for planned in stacks],
        "cost": costs,
        "verdict": VERDICTS[code],
        "exit_code": code,
    }
    return document, code


def _plan_bootstrap(aws: Aws, environment: deploy.Environment, poll: float) -> tuple[Planned, str | None]:
    """The bootstrap stack's plan, and its artifacts bucket when it is deployed (None: not yet)."""
    manifest = environment.manifest
    cloudformation = aws.client("cloudformation")
    body = (environment.folder / manifest.bootstrap_template).read_text()
    existing = _plannable(cloudformation, manifest.bootstrap_stack_name)
    request = StackRequest(name=manifest.bootstrap_stack_name, template_body=body, tags=deploy.stack_tags(manifest))
    built = {manifest.bootstrap_template: json.loads(body)}
    planned = _plan_stack(
        cloudformation, request, existing, sha256(body), BOOTSTRAP, poll, aws.region, manifest.bootstrap_template, built
    )
    outputs = changeset.outputs(cloudformation, manifest.bootstrap_stack_name) if existing else {}
    return planned, outputs.get("ArtifactsBucketName")


def _plan_environment(aws: Aws, environment: deploy.Environment, packaged, values, keep, poll: float) -> Planned:
    manifest = environment.manifest
    cloudformation = aws.client("cloudformation")
    request, _ = deploy.environment_request(manifest, packaged, values, keep, deploy.stack_tags(manifest))
    existing = _plannable(cloudformation, manifest.stack_name)
    files = [manifest.root_template, *manifest.nested_stacks.values()]
    built = {name: json.loads((environment.folder / name).read_text()) for name in files}
    template_hash = sha256(template_body(packaged.root))
    top = manifest.root_template
    return _plan_stack(cloudformation, request, existing, template_hash, ENVIRONMENT, poll, aws.region, top, built)


def endpoint_kind(aws: Aws) -> str:
    """Where the plan was made: "aws", "local" (an embedded endpoint: gone with the process) or the URL."""
    if aws.local:
        return "local"
    return aws.endpoint_url or "aws"


def _plannable(cloudformation, name: str) -> dict | None:
    """The deployed stack a change set is planned against, None when there is none (or only an unexecuted
    CREATE change set's); a stack that cannot take a change set now is an error."""
    stack = changeset.describe_stack(cloudformation, name)
    if not stack or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        return None
    if stack["StackStatus"] in changeset.RECREATE_STATES:
        raise DeployError(
            f"{name} is {stack['StackStatus']} (nothing deployed in it): `deploy` deletes it and starts over; "
            "a plan changes nothing, so deploy it once without a plan"
        )
    if stack["StackStatus"] not in changeset.UPDATABLE_STATES:
        raise DeployError(f"{name} is {stack['StackStatus']}: wait until it is done (or fix it) and plan again")
    return stack


def _plan_stack(cloudformation, request, existing, template_hash, role, poll, region, top, built) -> Planned:
    deployed = diff.deployed_templates(cloudformation, request.name, built, top) if existing else {}
    risks = diff.stateful_risks(diff.compare(deployed, built, region)) if deployed else []
    parameters = {item["ParameterKey"]: item.get("ParameterValue") for item in (existing or {}).get("Parameters") or []}
    plan = changeset.create(cloudformation, request, existing, poll)
    state = stack_state(changeset.describe_stack(cloudformation, request.name))
    return Planned(
        role, request.name, template_hash, state, plan, risks=risks, deployed=deployed, parameters=parameters
    )


def _render(planned: Planned, console: Console) -> None:
    if planned.plan:
        changeset.render(planned.plan, console, values=True)
    elif planned.deferred:
        console(
            console.bold(f"{planned.name} (new stack): {len(planned.deferred)} to add")
            + " (its change set is made once the bootstrap stack's artifacts bucket exists)"
        )
        for change in planned.deferred:
            console(f"  + {change.path:<40} {change.resource_type}")
    else:
        console(f"{planned.name}: no changes")
    if planned.replaced:
        console(f"  replaced (new physical ID): {', '.join(planned.replaced)}")
    for item in planned.stateful:
        console(console.red(f"  stateful resource replaced or removed: {item}"))


def _cost_change(environment: deploy.Environment, planned: Planned, values: dict, console: Console) -> dict:
    """Monthly estimate of the deployed environment stack's templates and of the new ones."""
    try:
        after = cost.estimate(inventory(Built(environment.folder, values))).total
        before = _deployed_cost(environment, planned) if planned.deployed else 0.0
    except cost.NotPriced:
        console(f"cost change: not priced (no price table for {environment.manifest.region})")
        return {"priced": False}
    except UserError as error:
        console(f"cost change: not estimated ({error})")
        return {"priced": False}
    delta = round(after - before, 2)
    console(
        f"cost change: {cost.usd(before)} -> {cost.usd(after)} per month ({'+' if delta >= 0 else '-'}{cost.usd(abs(delta))})"
    )
    return {"priced": True, "before_monthly": before, "after_monthly": after, "change_monthly": delta}


def _deployed_cost(environment: deploy.Environment, planned: Planned) -> float:
    folder = Path(tempfile.mkdtemp(prefix="stackloom-plan-"))
    try:
        shutil.copy(environment.folder / manifests.FILE_NAME, folder / manifests.FILE_NAME)
        for name, template in planned.deployed.items():
            (folder / name).write_text(json.dumps(template))
        return cost.estimate(inventory(Built(folder, planned.parameters))).total
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- apply


def read_plan(path: Path) -> dict:
    """A plan file, checked enough to be used; a UserError naming the file otherwise."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path}: cannot read the plan file ({error})") from None
    if (
        not isinstance(document, dict)
        or document.get("format") != FORMAT
        or not isinstance(document.get("stacks"), list)
    ):
        raise UserError(f"{path}: not a plan file of this version (write one with `build.py plan SYSTEM/ENV`)")
    return document


def stale(aws: Aws, environment: deploy.Environment, document: dict) -> list[str]:
    """Why the plan can no longer be executed as it is ([] when it can)."""
    manifest = environment.manifest
    cloudformation = aws.client("cloudformation")
    problems = []
    if document.get("target") != environment.target:
        problems.append(f"the plan is for {document.get('target')}, not {environment.target}")
    if document.get("region") != aws.region or document.get("endpoint") != endpoint_kind(aws):
        problems.append(
            f"the plan was made on {document.get('endpoint')} in {document.get('region')}, "
            f"this deploy goes to {endpoint_kind(aws)} in {aws.region}"
        )
    account = aws.client("sts").get_caller_identity()["Account"]
    if document.get("account") != account:
        problems.append(f"the plan was made in account {document.get('account')}, these credentials are {account}")
    if problems:
        return problems
    bootstrap_body = (environment.folder / manifest.bootstrap_template).read_text()
    for entry in document["stacks"]:
        name = entry["stack_name"]
        now = stack_state(changeset.describe_stack(cloudformation, name))
        if now != entry["stack"]:
            problems.append(
                f"{name} changed since the plan: it was {_state_text(entry['stack'])}, now {_state_text(now)}"
            )
        if entry["change_set_id"]:
            problems += _change_set_problems(cloudformation, entry)
        if entry["role"] == BOOTSTRAP and sha256(bootstrap_body) != entry["template_sha256"]:
            problems.append(f"{name}: the bootstrap template built now differs from the planned one")
        elif entry["role"] == ENVIRONMENT and entry["deferred"] and built_hash(environment) != entry["template_sha256"]:
            problems.append(f"{name}: the templates built now differ from the planned ones")
    return problems


def _state_text(state: dict | None) -> str:
    if not state:
        return "absent"
    return f"{state['status']} (last updated {state['last_updated'] or 'never'})"


def _change_set_problems(cloudformation, entry: dict) -> list[str]:
    try:
        described = cloudformation.describe_change_set(
            ChangeSetName=entry["change_set_id"], StackName=entry["stack_name"]
        )
    except ClientError as error:
        reason = error.response.get("Error", {}).get("Message") or str(error)
        return [f"{entry['stack_name']}: the planned change set is gone ({reason})"]
    if (described.get("Status"), described.get("ExecutionStatus")) != ("CREATE_COMPLETE", "AVAILABLE"):
        return [
            f"{entry['stack_name']}: the planned change set is {described.get('Status')}/"
            f"{described.get('ExecutionStatus')}, not CREATE_COMPLETE/AVAILABLE"
        ]
    return []


def apply_plan(
    aws: Aws, environment: deploy.Environment, document: dict, options: deploy.DeployOptions, console: Console
) -> int:
    """Execute exactly the change sets of a plan that is still current; refuse (DeployError) otherwise."""
    manifest = environment.manifest
    cloudformation = aws.client("cloudformation")
    console(console.bold(f"deploy {environment.target} -> {aws.describe()} from a plan ({document['verdict']})"))
    problems = stale(aws, environment, document)
    entries = {entry["role"]: entry for entry in document["stacks"]}
    environment_entry = entries.get(ENVIRONMENT, {})
    packaged = None
    if not problems and not environment_entry.get("deferred"):
        bucket = changeset.outputs(cloudformation, manifest.bootstrap_stack_name).get("ArtifactsBucketName")
        packaged = package(aws.client("s3"), bucket, manifest.stack_name, environment.folder, manifest.root_template)
        if sha256(template_body(packaged.root)) != environment_entry.get("template_sha256"):
            problems.append(f"{manifest.stack_name}: the templates built and packaged now differ from the planned ones")
    if problems:
        raise DeployError(
            "refusing to execute the plan, nothing was executed: "
            + "; ".join(problems)
            + ". Make a new plan (build.py plan) and approve that one."
        )
    if document["exit_code"] == diff.EXIT_NO_CHANGES:
        console("the plan has no changes: nothing to execute")
        return 0
    stateful = [item for entry in document["stacks"] for item in entry["stateful_replace_or_remove"]]
    if stateful and not options.allow_replace:
        raise DeployError(
            f"the plan replaces or removes stateful resources: {', '.join(stateful)}. Their data would be lost; "
            "rerun with --allow-replace to execute it"
        )
    production = bool(manifest.production)
    explained = replace(  # the environment's failed rollout explained as a plain deploy explains it
        options, explain_failure=lambda failed: rollout_failure.explain(aws, manifest, failed, console)
    )
    for entry in document["stacks"]:
        chosen = explained if entry["role"] == ENVIRONMENT else options
        if entry["deferred"]:
            code = _execute_deferred(aws, environment, document, entry, chosen, console)
        elif entry["change_set_id"]:
            code = _execute(cloudformation, entry, environment, chosen, console, production)
        else:
            console(f"{entry['stack_name']}: no changes")
            code = 0
        if code:
            return code
    deploy.print_outputs(
        console,
        changeset.outputs(cloudformation, manifest.stack_name),
        changeset.outputs(cloudformation, manifest.bootstrap_stack_name),
    )
    return 0


def _execute(cloudformation, entry: dict, environment, options, console: Console, production: bool) -> int:
    manifest = environment.manifest
    kind = entry["change_set_type"]
    stack_id = (entry["stack"] or {}).get("stack_id", "")
    changes = list(changeset.describe(cloudformation, entry["change_set_id"], entry["stack_name"]))
    plan = changeset.Plan(entry["stack_name"], entry["change_set_id"], kind, changes, stack_id=stack_id)
    changeset.render(plan, console)  # what is executed now, as planned
    policies = None
    if production:
        folder = environment.folder
        if entry["role"] == BOOTSTRAP:
            policies = {(): stack_policy.policy(json.loads((folder / manifest.bootstrap_template).read_text()))}
        else:
            policies = stack_policy.environment_policies(stack_policy.folder_reader(folder), manifest.root_template)
    if policies and kind == "UPDATE":
        deploy.protect(cloudformation, plan.stack_name, policies, console)
    outcome = changeset.execute(cloudformation, plan, console, options.poll)
    if not outcome.ok:
        deploy.report_failure(console, plan.stack_name, outcome, explain=options.explain_failure)
        return deploy.EXIT_FAILED
    console(console.green(f"{plan.stack_name}: {outcome.status}"))
    if policies:
        deploy.protect(cloudformation, plan.stack_name, policies, console)
    return 0


def _execute_deferred(aws: Aws, environment, document: dict, entry: dict, options, console: Console) -> int:
    """The first deploy's environment change set, made now that the artifacts bucket exists: executed only
    when it adds exactly what the plan listed."""
    manifest = environment.manifest
    cloudformation = aws.client("cloudformation")
    bucket = changeset.outputs(cloudformation, manifest.bootstrap_stack_name).get("ArtifactsBucketName")
    if not bucket:
        raise DeployError(f"{manifest.bootstrap_stack_name} has no ArtifactsBucketName output")
    packaged = package(aws.client("s3"), bucket, manifest.stack_name, environment.folder, manifest.root_template)
    values, keep = deploy.stack_parameters(aws, environment, dict(document.get("overrides") or {}), packaged, console)
    request, _ = deploy.environment_request(manifest, packaged, values, keep, deploy.stack_tags(manifest))
    plan = changeset.create(cloudformation, request, None, options.poll)
    # the top level: a new stack's nested stacks are created with it, their resources are not listed apart
    planned = sorted((change["path"], change["type"]) for change in entry["changes"] if "/" not in change["path"])
    made = (
        sorted((change.path, change.resource_type) for change in plan.changes if "/" not in change.path) if plan else []
    )
    if (
        plan is None
        or plan.kind != "CREATE"
        or any(change.action != "Add" for change in plan.changes)
        or made != planned
    ):
        if plan:
            changeset.discard(cloudformation, plan.change_set_id, request.name, plan.kind)
        missing = sorted(set(planned) - set(made))
        extra = sorted(set(made) - set(planned))
        raise DeployError(
            f"{request.name}: the change set made now does not add exactly what the plan listed (planned only: "
            f"{', '.join(path for path, _ in missing) or 'none'}; now also: {', '.join(path for path, _ in extra) or 'none'}"
            "); nothing of it was executed. Make a new plan."
        )
    code = _execute(
        cloudformation,
        {**entry, "change_set_id": plan.change_set_id, "stack": {"stack_id": plan.stack_id}},
        environment,
        options,
        console,
        bool(manifest.production),
    )
    return code
