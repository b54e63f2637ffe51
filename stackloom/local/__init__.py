"""A local CloudFormation endpoint: moto in server mode on 127.0.0.1, patched to behave like CloudFormation
where the real AWS CLI and `build.py deploy` depend on it.

`python build.py deploy --local` starts one of these inside the process so a new user can try the whole
flow without an AWS account; the tests start one per session (`tests/local_endpoint.py`).
It only ever listens on 127.0.0.1; `python -m stackloom.local [--port N] [--account-id ID] [--certificate ARN]`
serves one as its own process until Ctrl-C or SIGTERM (exit 0), printing its URL first (`--port 0`: the port it
got). One process answers as one account, as real credentials do: a spec with `account_id` (vanity-market)
deploys only to that account, so give that ID; specs without one deploy to any account, so one endpoint
started with `--account-id 402998801060` serves every example spec (two specs naming different accounts need
one endpoint each). What an account holds before a first deploy is not invented there: create the spec's
public hosted zone with the AWS CLI, and give a spec's `certificate_arn` with `--certificate`; without them a
deploy fails as on AWS. `build.py deploy --local` creates both itself and says so ("in a real account it
already exists"), answering as the spec's account_id, else as the account of its certificate_arn.

This package imports no moto (`require()` says how to install it when it is missing); its modules:

* `server`: LocalEndpoint (ThreadedMotoServer on 127.0.0.1, reset, account ID);
* `patches`: apply_patches, the patches of moto's parsing, nested stacks, responses and EC2;
* `engine`: the update engine (create, update, replace, delete, roll back resources, with events);
* `changesets`: change sets, their changes and nested change sets, parameter checks;
* `standins`: stand-in models for types moto lacks, S3 bucket settings moto leaves out;
* `custom`: custom resources run by their inline Python Lambda handler;
* `tasks`, `rollouts`: tasks that stop after a moment, and ECS rollouts whose tasks fail (the circuit breaker);
* `drift`: drift detection (DetectStackDrift, DescribeStackDriftDetectionStatus, DescribeStackResourceDrifts);
* `common`: what those share (moto's backends, stack events, ResourceFailed).
Templates are read through `stackloom.cfn` (dependencies, createOnly schemas, parameters, conditions).

What the patches add to moto 5.2 (see ../shared/DESIGN.md, "Local CloudFormation endpoint"):

* `Fn::GetAtt Nested.Outputs.X` on nested stacks.
* Change sets that behave like CloudFormation's: parameter constraints checked on create, changes with
  `Replacement`/`Details` (from the resource schemas' createOnlyProperties, the same data cfn-lint ships),
  parameter-only changes, nested change sets (`IncludeNestedStacks`), before/after values with
  `DescribeChangeSet --include-property-values`, and executing one refreshes the stack's template,
  parameters, Outputs and LastUpdatedTime.
* A small update engine: dependency order, in-place update or replacement, cascades through Ref/GetAtt,
  cleanup of removed and replaced resources afterwards; nested stacks are updated in place.
* Per-resource stack events, a failed resource with its reason, and rollback (ROLLBACK_COMPLETE after a
  failed create, UPDATE_ROLLBACK_COMPLETE after a failed update, nested stacks included).
* Stand-in models for resource types moto cannot create (ElastiCache, RDS DBCluster, ServiceDiscovery,
  ECS CapacityProvider, Application Auto Scaling, ACM, Secrets Manager, ...): placeholder identifiers and
  attributes, so full templates deploy.
* Where moto's own models fall short: S3 bucket versioning, public access block and lifecycle are applied,
  list-typed parameter defaults are split, generated RDS/ElastiCache names are lowercase, attributes moto
  lacks (ALB `CanonicalHostedZoneID`, `LoadBalancerFullName`) get placeholders, and a model that crashes
  on valid properties is replaced by a stand-in (an AWS-side error, e.g. "already exists", still fails).
* Custom resources (`Custom::*`) backed by an inline Python Lambda function: moto would run the function in
  Docker; here the function's own code (the ZipFile moto stored) runs in-process, its boto3 clients pointed at
  this endpoint, and its cfnresponse-style answer is received on a one-shot 127.0.0.1 URL. Create, Update and
  Delete requests are sent as CloudFormation sends them; a FAILED answer fails the resource with its reason.
* A VPC's default security group has AWS's default ingress rule (all traffic from the group itself) besides
  moto's egress rule to 0.0.0.0/0.
* `Fn::GetAZs` for the stack's region (also `{"Ref": "AWS::Region"}`).
* `UpdateTerminationProtection`, and `DeleteStack` refusing a protected stack.
* An HTTPS listener whose certificate is not in the account and region fails with ELBv2's CertificateNotFound
  ("Certificate 'arn:...' not found"); `LocalEndpoint.add_certificate(arn)` makes one exist under an exact ARN.
* Path-style `TemplateURL`s on 127.0.0.1 as well as localhost.
* Drift detection of a stack's own resources (log group retention, SSM parameters; other types NOT_CHECKED),
  and a service whose essential container exits non-zero tripping its deployment circuit breaker.
"""

from __future__ import annotations

import importlib
import importlib.util

from stackloom.errors import UserError

MISSING_MOTO = "the local endpoint needs moto: pip install 'stackloom[local]' (or the test extra)"


def require() -> None:
    """Raise a UserError saying how to install moto when it is missing (this package itself needs none)."""
    if importlib.util.find_spec("moto") is None:
        raise UserError(MISSING_MOTO)


def start(account_id: str | None = None):
    """A LocalEndpoint (a context manager) answering as `account_id`. The server module is imported only
    here, when a command asks for a local endpoint, because moto is an optional extra."""
    require()
    return importlib.import_module("stackloom.local.server").LocalEndpoint(account_id=account_id)
