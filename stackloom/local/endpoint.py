"""A local CloudFormation endpoint: moto in server mode on 127.0.0.1, patched to behave like CloudFormation
where the real AWS CLI and `build.py deploy` depend on it.

`python build.py deploy --local` starts one of these inside the process so a new user can try the whole
flow without an AWS account; the tests start one per session (`tests/local_endpoint.py`).
It only ever listens on 127.0.0.1.

What the patches add to moto 5.2 (see ../shared/DESIGN.md, "Local CloudFormation endpoint"):

* `Fn::GetAtt Nested.Outputs.X` on nested stacks.
* Change sets that behave like CloudFormation's: parameter constraints checked on create, changes with
  `Replacement`/`Details` (from the resource schemas' createOnlyProperties, the same data cfn-lint ships),
  parameter-only changes, nested change sets (`IncludeNestedStacks`), and executing one refreshes the
  stack's template, parameters and Outputs.
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
* Path-style `TemplateURL`s on 127.0.0.1 as well as localhost.
"""
from __future__ import annotations

import copy
import functools
import json
import logging
import os
import re
import threading
from typing import Any

LOCAL_HOST = "127.0.0.1"
STACK_TYPE = "AWS::CloudFormation::Stack"
logger = logging.getLogger(__name__)
NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set."

_patch_lock = threading.Lock()
_patched = False
# Running endpoints of this process, newest last: custom-resource handlers' AWS clients use one of them
# (all share moto's in-process backends, so any running one reaches the same resources).
_server_urls: list[str] = []


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
        from moto.server import ThreadedMotoServer

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
        _server_urls.append(self.url)
        return self

    def reset(self) -> None:
        """Forget every resource (what `POST /moto-api/reset` does), e.g. between tests."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()

    def stop(self) -> None:
        if self._server is not None:
            if self.url in _server_urls:
                _server_urls.remove(self.url)
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


# ---------------------------------------------------------------------------------------------- helpers

class ResourceFailed(Exception):
    """A resource of `stack_id` could not be created/updated; events are recorded, the stack rolls back."""

    def __init__(self, stack_id: str, logical_id: str, reason: str, physical_id: str | None = None):
        super().__init__(f"{logical_id}: {reason}")
        self.stack_id = stack_id
        self.logical_id = logical_id
        self.reason = reason
        self.physical_id = physical_id


def _reason(error: BaseException) -> str:
    message = getattr(error, "message", None) or getattr(error, "description", None) or str(error)
    if isinstance(error, KeyError):
        message = f"Property {message} is required or references something that does not exist"
    return str(message).strip() or type(error).__name__


@functools.lru_cache(maxsize=None)
def _schema(resource_type: str) -> dict:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    try:
        return PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    except Exception:  # noqa: BLE001 - unknown type: no schema, no createOnly knowledge
        return {}


def create_only_properties(resource_type: str) -> set[str]:
    """Top-level properties whose change replaces the resource (the provider schema's createOnlyProperties)."""
    return {path.split("/")[2] for path in _schema(resource_type).get("createOnlyProperties", [])
            if path.startswith("/properties/")}


def references(value: Any) -> tuple[set[str], set[str]]:
    """Names a template fragment refers to: (Ref and ${X} names, GetAtt and ${X.Y} resource names)."""
    refs: set[str] = set()
    attrs: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                if key == "Ref" and isinstance(item, str):
                    refs.add(item)
                elif key == "Fn::GetAtt":
                    target = item[0] if isinstance(item, list) else str(item).split(".")[0]
                    attrs.add(target)
                    walk(item[1:] if isinstance(item, list) else [])
                elif key == "Fn::Sub":
                    text, mapping = (item[0], item[1]) if isinstance(item, list) else (item, {})
                    for name in re.findall(r"\$\{([^!}][^}]*)\}", text):
                        if name in mapping:
                            continue
                        (attrs if "." in name else refs).add(name.split(".")[0])
                    walk(mapping)
                else:
                    walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(value)
    return refs, attrs


def dependencies(name: str, resources: dict) -> set[str]:
    resource = resources[name]
    refs, attrs = references({k: v for k, v in resource.items() if k != "DependsOn"})
    depends = resource.get("DependsOn", [])
    depends = [depends] if isinstance(depends, str) else depends
    return {dep for dep in (refs | attrs | set(depends)) if dep in resources and dep != name}


def dependency_order(resources: dict) -> list[str]:
    """Logical IDs so that every resource comes after what it references (template order otherwise)."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise _validation(f"Circular dependency between resources: {name}")
        state[name] = 1
        for dep in sorted(dependencies(name, resources)):
            visit(dep)
        state[name] = 2
        order.append(name)

    for name in resources:
        visit(name)
    return order


def _validation(message: str):
    from moto.cloudformation.exceptions import ValidationError

    return ValidationError(message=message)


def _backend(account_id: str, region: str):
    from moto.cloudformation.models import cloudformation_backends

    return cloudformation_backends[account_id][region]


def _stack_by_id(account_id: str, region: str, stack_id: str):
    backend = _backend(account_id, region)
    return backend.stacks.get(stack_id) or backend.deleted_stacks.get(stack_id)


_clock = {"last": None}


def _event(stack, logical_id: str, physical_id: str | None, resource_type: str, status: str,
           reason: str | None = None) -> None:
    from datetime import timedelta

    from moto.cloudformation.models import Event

    event = Event(stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id,
                  physical_resource_id=physical_id or "", resource_type=resource_type,
                  resource_status=status, resource_status_reason=reason, resource_properties=None)
    # a millisecond apart at least (the API's resolution), so events of nested stacks sort into place
    last = _clock["last"]
    if last is not None and event.timestamp <= last + timedelta(milliseconds=1):
        event.timestamp = last + timedelta(milliseconds=1)
    _clock["last"] = event.timestamp
    stack.events.append(event)


def _stack_event(stack, status: str, reason: str | None = None) -> None:
    stack.status = status
    _event(stack, stack.name, stack.stack_id, STACK_TYPE, status, reason)


def _physical_id(instance: Any) -> str:
    from moto.cloudformation.models import Stack

    if isinstance(instance, Stack):
        return instance.stack_id
    return str(getattr(instance, "physical_resource_id", "") or "")


def _template_from_url(url: str, account_id: str, region: str) -> str:
    from moto.cloudformation import utils
    from moto.utilities.utils import get_partition

    return utils.get_stack_from_s3_url(url, account_id=account_id, partition=get_partition(region))


def _as_parameter_value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------------------------------------- stand-ins

# (Ref returns an ARN, default port) for the types whose identifier is not a plain name.
_ARN_REF = {"AWS::CertificateManager::Certificate", "AWS::SecretsManager::Secret",
            "AWS::ApplicationAutoScaling::ScalingPolicy", "AWS::WAFv2::WebACL"}
_PORTS = {"AWS::ElastiCache::ReplicationGroup": 6379, "AWS::ElastiCache::CacheCluster": 6379,
          "AWS::RDS::DBCluster": 5432, "AWS::RDS::DBInstance": 5432}
_stand_ins: dict[str, type] = {}
_LOWERCASE_NAMES = ("AWS::RDS::", "AWS::ElastiCache::")


def _certificate(properties: dict, account_id: str, region: str) -> str:
    """A certificate other services can find (the ALB listener checks that it exists)."""
    from moto.acm.models import acm_backends

    return acm_backends[account_id][region].request_certificate(
        properties.get("DomainName", "example.com"), None, properties.get("SubjectAlternativeNames") or [], [])


# Types whose stand-in also creates the real thing in moto, because other moto models look it up.
# (Not S3 bucket policies: moto enforces them ignoring Conditions, so a TLS-only Deny would deny everything.)
_BACKING = {"AWS::CertificateManager::Certificate": _certificate}


def _bucket_settings(instance: Any, properties: dict) -> None:
    """What moto's S3 bucket model leaves out of CloudFormation: versioning, public access block, lifecycle."""
    from moto.s3.models import s3_backends

    backend = s3_backends[instance.account_id]["aws"]
    name = instance.name
    if "VersioningConfiguration" in properties:
        backend.put_bucket_versioning(name, properties["VersioningConfiguration"].get("Status", "Suspended"))
    if "PublicAccessBlockConfiguration" in properties:
        backend.put_public_access_block(name, properties["PublicAccessBlockConfiguration"])
    rules = (properties.get("LifecycleConfiguration") or {}).get("Rules") or []
    if rules:
        converted = []
        for rule in rules:
            item = {"ID": rule.get("Id"), "Status": rule.get("Status", "Enabled"), "Filter": {"Prefix": rule.get("Prefix", "")}}
            for key in ("NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload"):
                if key in rule:
                    item[key] = {k: str(v) for k, v in rule[key].items()}
            if "ExpirationInDays" in rule:
                item["Expiration"] = {"Days": str(rule["ExpirationInDays"])}
            converted.append(item)
        backend.put_bucket_lifecycle(name, converted)


# Applied after moto created a resource of the type, with its resolved properties.
_AFTER_CREATE = {"AWS::S3::Bucket": _bucket_settings}


def stand_in_class(resource_type: str) -> type:
    """A model for a type moto cannot create: it remembers its properties and returns placeholder
    identifiers and attributes (ARNs, endpoints, ports), which is all the rest of a template needs."""
    if resource_type in _stand_ins:
        return _stand_ins[resource_type]
    from moto.core.common_models import CloudFormationModel
    from moto.moto_api._internal import mock_random

    service = resource_type.split("::")[1].lower()
    kind = resource_type.split("::")[2].lower()

    class StandIn(CloudFormationModel):
        def __init__(self, name: str, properties: dict, account_id: str, region: str):
            self.name = name
            self.properties = properties
            self.account_id = account_id
            self.region = region
            self.suffix = mock_random.get_random_string(length=8, lower_case=True)

        @staticmethod
        def cloudformation_type() -> str:
            return resource_type

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return True

        @property
        def arn(self) -> str:
            return getattr(self, "backing_arn", None) or f"arn:aws:{service}:{self.region}:{self.account_id}:{kind}/{self.name}"

        @property
        def physical_resource_id(self) -> str:
            return self.arn if resource_type in _ARN_REF else self.name

        def get_cfn_attribute(self, attribute: str) -> Any:
            last = attribute.split(".")[-1]
            if last.endswith("Arn") or last == "Arn":
                return self.arn
            if last.endswith("Port"):
                return str(self.properties.get("Port", _PORTS.get(resource_type, 443)))
            if last.endswith(("Address", "Endpoint", "DNSName", "Name")) or "Endpoint" in attribute:
                return f"{self.name.lower()}.{self.suffix}.{service}.{self.region}.amazonaws.com"
            if last.endswith("Id"):
                return f"{kind[:4]}-{self.suffix}"
            return self.physical_resource_id

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            properties = cloudformation_json.get("Properties", {})
            instance = cls(str(resource_name).lower()[:63], properties, account_id, region_name)
            if resource_type in _BACKING:
                instance.backing_arn = _BACKING[resource_type](properties, account_id, region_name)
            return instance

        @classmethod
        def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,
                                            account_id, region_name):
            original_resource.properties = cloudformation_json.get("Properties", {})
            return original_resource

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
            return None

        def delete(self, account_id: str, region_name: str) -> None:
            return None

        def is_created(self) -> bool:
            return True

    StandIn.__name__ = StandIn.__qualname__ = "StandIn" + "".join(resource_type.split("::")[1:])
    _stand_ins[resource_type] = StandIn
    return StandIn


# ---------------------------------------------------------------------------------------------- custom resources

class CustomResourceFailed(Exception):
    """The custom resource's function answered FAILED, or could not be run here."""


_custom_resource_class: type | None = None


def custom_resource_class() -> type:
    """The model of every custom resource: each request runs the backing Lambda function's code in-process."""
    global _custom_resource_class
    if _custom_resource_class is not None:
        return _custom_resource_class
    from moto.core.common_models import CloudFormationModel

    class LocalCustomResource(CloudFormationModel):
        def __init__(self, resource_type: str, logical_id: str, stack_id: str, properties: dict,
                     account_id: str, region: str):
            self.cf_resource_type = resource_type
            self.logical_id = logical_id
            self.stack_id = stack_id
            self.properties = properties
            self.account_id = account_id
            self.region = region
            self.physical_id = ""
            self.data: dict = {}

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudFormation::CustomResource"

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return True

        @property
        def physical_resource_id(self) -> str:
            return self.physical_id

        def get_cfn_attribute(self, attribute: str) -> Any:
            if attribute not in self.data:
                raise CustomResourceFailed(f"CustomResource attribute error: Vendor response doesn't contain "
                                           f"{attribute} key in object {self.stack_id}|{self.logical_id}")
            return self.data[attribute]

        def _answer(self, request_type: str, old_properties: dict | None = None) -> None:
            try:
                response = invoke_custom_resource(
                    request_type, self.cf_resource_type, self.logical_id, self.stack_id, self.properties,
                    self.account_id, self.region, physical_id=self.physical_id or None, old_properties=old_properties)
            except CustomResourceFailed:
                raise
            except Exception as error:  # noqa: BLE001 - never a stand-in: the resource fails with the reason
                raise CustomResourceFailed(f"{self.logical_id}: {_reason(error)}") from error
            self.physical_id = str(response.get("PhysicalResourceId") or self.physical_id or self.logical_id)
            if request_type != "Delete":
                self.data = dict(response.get("Data") or {})

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            instance = cls(kwargs["ResourceType"], kwargs["LogicalId"], kwargs["StackId"],
                           cloudformation_json.get("Properties", {}), account_id, region_name)
            instance._answer("Create")
            return instance

        @classmethod
        def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,
                                            account_id, region_name):
            # A new PhysicalResourceId in the answer is adopted; the Delete that CloudFormation sends for the
            # old one during cleanup is not sent here.
            old_properties = original_resource.properties
            original_resource.properties = cloudformation_json.get("Properties", {})
            try:
                original_resource._answer("Update", old_properties)
            except Exception:
                original_resource.properties = old_properties
                raise
            return original_resource

        def delete(self, account_id: str, region_name: str) -> None:
            self._answer("Delete")

        def is_created(self) -> bool:
            return True

    _custom_resource_class = LocalCustomResource
    return LocalCustomResource


def invoke_custom_resource(request_type: str, resource_type: str, logical_id: str, stack_id: str,
                           properties: dict, account_id: str, region: str, physical_id: str | None = None,
                           old_properties: dict | None = None) -> dict:
    """Send one CloudFormation custom-resource request to the function named by ServiceToken, the way
    CloudFormation does (event + pre-signed response URL), and return its answer; raises
    CustomResourceFailed on a FAILED answer, no answer, or a function this endpoint cannot run."""
    import uuid

    token = str(properties.get("ServiceToken") or "")
    handler = _inline_python_handler(token, account_id, region)
    with _ResponseReceiver() as receiver:
        event = {
            "RequestType": request_type, "ServiceToken": token, "ResponseURL": receiver.url,
            "StackId": stack_id, "RequestId": str(uuid.uuid4()), "LogicalResourceId": logical_id,
            "ResourceType": resource_type, "ResourceProperties": copy.deepcopy(properties),
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            event["OldResourceProperties"] = copy.deepcopy(old_properties)
        try:
            handler(event, handler.context)
        except Exception as error:  # noqa: BLE001 - like an unhandled error in Lambda: logged, no answer
            logger.info("local endpoint: custom resource %s raised %r", logical_id, error)
        answer = receiver.body
    if answer is None:
        raise CustomResourceFailed(f"{logical_id}: the function {token} sent no response to the ResponseURL")
    response = json.loads(answer)
    if response.get("Status") != "SUCCESS":
        raise CustomResourceFailed(f"Received response status [{response.get('Status')}] from custom resource. "
                                   f"Message returned: {response.get('Reason')}")
    return response


def _inline_python_handler(token: str, account_id: str, region: str):
    """The handler function of a Lambda function with inline Python code, loaded from moto's stored ZIP
    with its `boto3` pointed at this endpoint and its `print` going to this module's logger."""
    import builtins
    import io
    import types
    import zipfile

    from moto.awslambda.utils import get_backend as lambda_backend

    try:
        function = lambda_backend(account_id, region).get_function(token)
    except Exception as error:  # noqa: BLE001
        raise CustomResourceFailed(f"ServiceToken {token!r} is not a Lambda function of this account and region "
                                   f"(SNS-backed custom resources are not supported here)") from error
    module_name, _, function_name = str(function.handler or "").rpartition(".")
    if not str(function.run_time or "").startswith("python") or not module_name:
        raise CustomResourceFailed(f"the local endpoint runs only Python custom-resource functions, "
                                   f"not {function.run_time} ({function.function_name})")
    try:
        with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
            source = archive.read(module_name.replace(".", "/") + ".py").decode("utf-8")
    except Exception as error:  # noqa: BLE001
        raise CustomResourceFailed(f"{function.function_name}: no inline module {module_name}.py") from error

    clients = _LocalBoto3(region)
    real_import = builtins.__import__

    def local_import(name, *args, **kwargs):
        return clients if name == "boto3" else real_import(name, *args, **kwargs)

    def log(*values, **_):
        logger.info("local endpoint: %s: %s", function.function_name, " ".join(map(str, values)))

    module = types.ModuleType(module_name)
    module.__dict__["__builtins__"] = {**vars(builtins), "__import__": local_import, "print": log}
    exec(compile(source, f"<{function.function_name}/{module_name}.py>", "exec"), module.__dict__)  # noqa: S102
    handler = getattr(module, function_name)
    handler.context = types.SimpleNamespace(
        function_name=function.function_name, invoked_function_arn=function.function_arn,
        log_group_name=f"/aws/lambda/{function.function_name}", log_stream_name="local-endpoint",
        aws_request_id="local-endpoint", memory_limit_in_mb=function.memory_size,
        get_remaining_time_in_millis=lambda: int(function.timeout or 3) * 1000)
    return handler


class _LocalBoto3:
    """What a handler's `import boto3` gets: clients and resources on this endpoint with dummy credentials."""

    def __init__(self, region: str):
        import boto3

        if not _server_urls:
            raise CustomResourceFailed("custom resources run only on a started LocalEndpoint (moto server)")
        self._session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                              region_name=region)
        self.session = boto3.session

    def client(self, service: str, **kwargs):
        return self._session.client(service, **{"endpoint_url": _server_urls[-1], **kwargs})

    def resource(self, service: str, **kwargs):
        return self._session.resource(service, **{"endpoint_url": _server_urls[-1], **kwargs})


class _ResponseReceiver:
    """A one-shot HTTP server on 127.0.0.1 standing in for CloudFormation's pre-signed response URL."""

    def __init__(self):
        self.body: bytes | None = None

    def __enter__(self) -> "_ResponseReceiver":
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
                receiver.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                return None

        self._server = ThreadingHTTPServer((LOCAL_HOST, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://{LOCAL_HOST}:{self._server.server_address[1]}/cloudformation-response"
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


# ---------------------------------------------------------------------------------------------- patches

def apply_patches() -> None:
    """Patch moto once per process (idempotent, thread-safe)."""
    global _patched
    with _patch_lock:
        if _patched:
            return
        _patch_parsing()
        _patch_stack()
        _patch_backend()
        _patch_responses()
        _patch_ec2()
        _patched = True


def _patch_ec2() -> None:
    from moto.ec2.models.security_groups import SecurityGroupBackend

    original_create = SecurityGroupBackend.create_security_group

    def create_security_group(self, name, description, vpc_id=None, tags=None, force=False, is_default=None):
        group = original_create(self, name, description, vpc_id=vpc_id, tags=tags, force=force, is_default=is_default)
        if is_default:  # AWS's default group of a VPC also lets in all traffic from itself
            self.authorize_security_group_ingress(group.id, "-1", None, None, [],
                                                  source_groups=[{"GroupId": group.id}], vpc_id=group.vpc_id)
        return group

    SecurityGroupBackend.create_security_group = create_security_group


def _patch_parsing() -> None:
    from moto.cloudformation import models, parsing, responses, utils
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    original_class_from_type = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str):
        if resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource":
            return custom_resource_class()
        if resource_type in parsing.NULL_MODELS:
            return original_class_from_type(resource_type)
        if resource_type not in parsing.get_model_map():
            return stand_in_class(resource_type)
        return parsing.get_model_map()[resource_type]

    parsing.resource_class_from_type = resource_class_from_type

    original_clean_json = parsing.clean_json

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, dict) and "Fn::GetAZs" in resource_json:
            region = original_clean_json(resource_json["Fn::GetAZs"], resources_map) or resources_map["AWS::Region"]
            return _availability_zones(resources_map._account_id, region)
        result = original_clean_json(resource_json, resources_map)
        if isinstance(resource_json, list):
            # CloudFormation drops list items that are AWS::NoValue (an Fn::If branch); moto keeps them as None
            return [item for item in result if item is not None]
        if isinstance(resource_json, dict) and isinstance(resource_json.get("Fn::GetAtt"), list) \
                and isinstance(result, dict) and "Fn::GetAtt" in result:
            # moto has no value for this attribute: give a placeholder of the right shape
            name, attribute = resource_json["Fn::GetAtt"][0], resource_json["Fn::GetAtt"][1]
            return _placeholder_attribute(resources_map[name], attribute)
        return result

    parsing.clean_json = clean_json

    original_generate_name = parsing.generate_resource_name

    def generate_resource_name(resource_type: str, stack_name: str, logical_id: str) -> str:
        name = original_generate_name(resource_type, stack_name, logical_id)
        if resource_type.startswith(_LOWERCASE_NAMES):  # CloudFormation names these lowercase, at most 63 long
            name = re.sub("-+", "-", name.lower()[:63]).strip("-")
        return name

    parsing.generate_resource_name = generate_resource_name

    original_from_url = utils.get_stack_from_s3_url

    def get_stack_from_s3_url(template_url: str, account_id: str, partition: str) -> str:
        from urllib.parse import urlparse

        parts = urlparse(template_url)
        if parts.hostname in ("127.0.0.1", "localhost"):
            template_url = template_url.replace(parts.netloc, f"localhost:{parts.port or 80}", 1)
        return original_from_url(template_url, account_id=account_id, partition=partition)

    for module in (utils, models, responses):
        module.get_stack_from_s3_url = get_stack_from_s3_url

    original_create = parsing.parse_and_create_resource

    def parse_and_create_resource(logical_id, resource_json, resources_map, account_id, region_name):
        condition = resource_json.get("Condition")
        if condition and not resources_map.lazy_condition_map[condition]:
            return None
        stack = _stack_by_id(account_id, region_name, resources_map.stack_id)
        # Create what this resource refers to first, so events come in dependency order and a failed
        # dependency stops this resource before it starts.
        for dependency in sorted(dependencies(logical_id, resources_map._resource_json_map)):
            resources_map[dependency]
        resource_type = resource_json["Type"]
        if stack is not None:
            _event(stack, logical_id, None, resource_type, "CREATE_IN_PROGRESS")
        try:
            try:
                instance = original_create(logical_id, _adapt(resource_json), resources_map, account_id, region_name)
            except (KeyError, TypeError, AttributeError, NotImplementedError, IndexError) as limitation:
                # moto's model for this type cannot take these properties (not an AWS error): stand in for it
                logger.info("local endpoint: %s (%s) stands in for moto: %r", logical_id, resource_type, limitation)
                instance = _create_stand_in(logical_id, resource_json, resources_map, account_id, region_name)
            if instance is not None:
                instance._local_json = clean_json(copy.deepcopy(resource_json), resources_map)
                if resource_type in _AFTER_CREATE:
                    _AFTER_CREATE[resource_type](instance, instance._local_json.get("Properties", {}))
        except ResourceFailed as failure:
            if stack is not None and (failure.stack_id, failure.logical_id) == (stack.stack_id, logical_id):
                _event(stack, logical_id, failure.physical_id, resource_type, "CREATE_FAILED", failure.reason)
            raise
        except Exception as error:  # noqa: BLE001 - any model error is this resource's failure
            reason = _reason(error)
            if stack is not None:
                _event(stack, logical_id, None, resource_type, "CREATE_FAILED", reason)
            raise ResourceFailed(resources_map.stack_id, logical_id, reason) from error
        if stack is not None and instance is not None:
            stack._local_created = getattr(stack, "_local_created", []) + [logical_id]
            _event(stack, logical_id, _physical_id(instance), resource_type, "CREATE_COMPLETE")
        return instance

    parsing.parse_and_create_resource = parse_and_create_resource

    original_load_parameters = parsing.ResourceMap.load_parameters

    def load_parameters(self) -> None:
        """Also split list-typed defaults (moto splits only values that were passed in)."""
        original_load_parameters(self)
        for name, spec in (self._template.get("Parameters") or {}).items():
            value = self.resolved_parameters.get(name)
            kind = spec.get("Type", "String")
            if isinstance(value, str) and (kind.startswith("List<") or kind == "CommaDelimitedList"):
                self.resolved_parameters[name] = self._parsed_resources[name] = value.split(",") if value else []

    parsing.ResourceMap.load_parameters = load_parameters

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name.startswith("Outputs."):
            key = attribute_name.split(".", 1)[1]
            output = self.output_map.get(key) if key in (self.output_map.outputs or []) else None
            if output is None:
                raise _validation(f"Template error: stack {self.name} has no output {key}")
            return output.value
        raise UnformattedGetAttTemplateException()

    models.Stack.get_cfn_attribute = get_cfn_attribute


# Canonical hosted zone of ALBs in eu-central-1 (any well-formed ID does for a local endpoint).
_ALB_ZONE_ID = "Z215JYRZR1TBD5"


def _placeholder_attribute(instance: Any, attribute: str) -> str:
    arn = str(getattr(instance, "arn", "") or "")
    resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else _physical_id(instance)
    if attribute == "CanonicalHostedZoneID":
        return _ALB_ZONE_ID
    if attribute.endswith("FullName"):
        return resource.split("/", 1)[1] if resource.startswith("loadbalancer/") else resource
    if attribute.endswith("Arn"):
        return arn or _physical_id(instance)
    return _physical_id(instance)


def _adapt(resource_json: dict) -> dict:
    """Property shapes moto's models read differently from CloudFormation."""
    if resource_json.get("Type") == "AWS::KMS::Key" and "Tags" in resource_json.get("Properties", {}):
        resource_json = copy.deepcopy(resource_json)
        resource_json["Properties"]["Tags"] = [{"TagKey": tag.get("Key"), "TagValue": tag.get("Value")}
                                               for tag in resource_json["Properties"]["Tags"]]
    return resource_json


def _create_stand_in(logical_id: str, resource_json: dict, resources_map, account_id: str, region: str):
    from moto.cloudformation import parsing

    cleaned = parsing.clean_json(copy.deepcopy(resource_json), resources_map)
    name = parsing.generate_resource_name(resource_json["Type"], resources_map["AWS::StackName"], logical_id)
    instance = stand_in_class(resource_json["Type"]).create_from_cloudformation_json(name, cleaned, account_id, region)
    instance.cf_resource_type = resource_json["Type"]
    instance.logical_resource_id = logical_id
    return instance


def _availability_zones(account_id: str, region: str) -> list[str]:
    from moto.ec2.models import ec2_backends

    try:
        zones = ec2_backends[account_id][region].describe_availability_zones()
        names = sorted(zone.name for zone in zones)
    except Exception:  # noqa: BLE001 - unknown region in moto
        names = []
    return names or [f"{region}{letter}" for letter in "abc"]


def _patch_stack() -> None:
    from moto.cloudformation import models

    Stack = models.Stack

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        """A nested stack: created, and rolled back + deleted when one of its resources fails."""
        backend = _backend(account_id, region_name)
        properties = cloudformation_json["Properties"]
        body = _template_from_url(properties["TemplateURL"], account_id, region_name)
        parameters = {key: _as_parameter_value(value) for key, value in properties.get("Parameters", {}).items()}
        parent_id = kwargs.get("StackId")
        stack_id = models.generate_stack_id(resource_name, region_name, account_id)
        stack = Stack(stack_id=stack_id, name=resource_name, template=body, parameters=parameters,
                      account_id=account_id, region_name=region_name, cross_stack_resources=backend.exports)
        stack.parent_id = parent_id
        parent = _stack_by_id(account_id, region_name, parent_id) if parent_id else None
        stack.root_id = getattr(parent, "root_id", None) or parent_id
        backend.stacks[stack_id] = stack
        if parent is not None:
            _event(parent, kwargs.get("LogicalId", resource_name), stack_id, STACK_TYPE, "CREATE_IN_PROGRESS",
                   "Resource creation Initiated")
        _stack_event(stack, "CREATE_IN_PROGRESS", "User Initiated")
        try:
            _create_resources(stack)
        except ResourceFailed as failure:
            _delete_stack(backend, stack, create_rollback=True)
            raise ResourceFailed(parent_id or "", kwargs.get("LogicalId", resource_name),
                                 f"Embedded stack {stack_id} was not successfully created: The following resource(s) "
                                 f"failed to create: [{failure.logical_id}]. ", stack_id) from failure
        return stack

    Stack.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)

    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,
                                        account_id, region_name):
        properties = cloudformation_json["Properties"]
        body = _template_from_url(properties["TemplateURL"], account_id, region_name)
        parameters = {key: _as_parameter_value(value) for key, value in properties.get("Parameters", {}).items()}
        _update_stack(original_resource, body, parameters)
        return original_resource

    Stack.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)

    def delete(self) -> None:
        _delete_stack(_backend(self.account_id, self.region_name), self)

    Stack.delete = delete


def _create_resources(stack) -> None:
    """Create every resource of a stack whose template and parameters are set; roll back on failure."""
    stack._local_created = []
    try:
        stack.resource_map.create(stack.template_dict)
        stack.output_map = stack._create_output_map()
        for key in stack.output_map.outputs:
            stack.output_map[key]
    except ResourceFailed as failure:
        _stack_event(stack, "ROLLBACK_IN_PROGRESS",
                     f"The following resource(s) failed to create: [{failure.logical_id}]. Rollback requested by user.")
        _delete_resources(stack, list(reversed(stack._local_created)), create_rollback=True)
        stack.output_map = stack._create_output_map()
        stack.output_map._output_json_map = {}
        _stack_event(stack, "ROLLBACK_COMPLETE")
        raise
    stack.description = stack.template_dict.get("Description")
    _stack_event(stack, "CREATE_COMPLETE")


def _delete_resources(stack, names: list[str], template: dict | None = None, create_rollback: bool = False) -> None:
    """Delete resources (in the given order) with events. DeletionPolicy Retain keeps a resource (also when a
    failed create rolls back, as CloudFormation does); RetainExceptOnCreate keeps it except in that case."""
    resource_map = stack.resource_map
    resources = (template or {}).get("Resources") or resource_map._resource_json_map
    for name in names:
        instance = resource_map._parsed_resources.get(name)
        resource_json = resources.get(name) or {}
        resource_type = resource_json.get("Type", getattr(instance, "cf_resource_type", ""))
        if instance is None or isinstance(instance, (str, int, float, list)):
            continue
        physical = _physical_id(instance)
        policy = resource_json.get("DeletionPolicy")
        if policy == "Retain" or (policy == "RetainExceptOnCreate" and not create_rollback):
            _event(stack, name, physical, resource_type, "DELETE_SKIPPED")
        else:
            _event(stack, name, physical, resource_type, "DELETE_IN_PROGRESS")
            try:
                _delete_instance(stack, instance, resource_json, create_rollback)
            except Exception as error:  # noqa: BLE001
                # moto cannot delete some types (route tables, attachments, ...) that real AWS deletes first,
                # so their parents "still have dependencies": count it as deleted, as CloudFormation would.
                logger.info("local endpoint: %s (%s) not deleted in moto: %s", name, resource_type, _reason(error))
            _event(stack, name, physical, resource_type, "DELETE_COMPLETE")
        resource_map._parsed_resources.pop(name, None)


def _delete_instance(stack, instance, resource_json: dict, create_rollback: bool = False) -> None:
    from moto.cloudformation.models import Stack

    if isinstance(instance, Stack):
        _delete_stack(_backend(stack.account_id, stack.region_name), instance, create_rollback)
        return
    stack.resource_map._delete_resource(instance, resource_json)


def _delete_stack(backend, stack, create_rollback: bool = False) -> None:
    """Delete a stack's resources in reverse dependency order, with events; it moves to the deleted stacks."""
    if stack.stack_id in backend.deleted_stacks:
        return
    _stack_event(stack, "DELETE_IN_PROGRESS", "User Initiated")
    resources = stack.resource_map._resource_json_map
    order = [name for name in reversed(dependency_order(resources)) if name in stack.resource_map._parsed_resources]
    _delete_resources(stack, order, create_rollback=create_rollback)
    backend.stacks.pop(stack.stack_id, None)
    backend.deleted_stacks[stack.stack_id] = stack
    for export in stack.exports:
        backend.exports.pop(export.name, None)
    _stack_event(stack, "DELETE_COMPLETE")


def _update_stack(stack, template: str, parameters: dict[str, str]) -> None:
    """Apply a new template and parameters to a created stack the way CloudFormation does, or roll back
    (and raise ResourceFailed) when a resource fails."""
    from moto.cloudformation import parsing

    resource_map = stack.resource_map
    account, region = stack.account_id, stack.region_name
    new_dict = stack.parse_template(template)
    saved = dict(template=stack.template, template_dict=stack.template_dict, parameters=stack.parameters,
                 parsed=dict(resource_map._parsed_resources), json_map=resource_map._resource_json_map,
                 input=resource_map.input_parameters)
    _stack_event(stack, "UPDATE_IN_PROGRESS", "User Initiated")
    added: list[str] = []
    replaced: dict[str, Any] = {}
    modified: dict[str, tuple[Any, dict]] = {}
    new_resources = new_dict.get("Resources", {})
    try:
        resource_map._template = new_dict
        resource_map._resource_json_map = new_resources
        resource_map.input_parameters = parameters
        try:
            resource_map.load_mapping()
            resource_map.load_parameters()
            resource_map.load_conditions()
        except Exception as error:  # noqa: BLE001
            raise ResourceFailed(stack.stack_id, stack.name, _reason(error)) from error
        for name in dependency_order(new_resources):
            resource_json = new_resources[name]
            condition = resource_json.get("Condition")
            if condition and not resource_map.lazy_condition_map[condition]:
                continue
            current = saved["parsed"].get(name)
            if current is None or name not in saved["json_map"]:
                resource_map._parsed_resources.pop(name, None)
                resource_map[name]
                added.append(name)
                continue
            resource_type = resource_json["Type"]
            try:
                cleaned = parsing.clean_json(copy.deepcopy(resource_json), resource_map)
            except ResourceFailed:
                raise
            except Exception as error:  # noqa: BLE001
                _event(stack, name, _physical_id(current), resource_type, "UPDATE_FAILED", _reason(error))
                raise ResourceFailed(stack.stack_id, name, _reason(error)) from error
            previous = getattr(current, "_local_json", None)
            if cleaned == previous:
                continue
            physical = _physical_id(current)
            if resource_type != STACK_TYPE and _replaces(resource_type, previous, cleaned):
                _event(stack, name, physical, resource_type, "UPDATE_IN_PROGRESS", "Requested update requires the creation of a new physical resource; hence creating one.")
                try:
                    instance = _create_replacement(name, resource_json, resource_map, account, region)
                except Exception as error:  # noqa: BLE001
                    _event(stack, name, physical, resource_type, "UPDATE_FAILED", _reason(error))
                    raise ResourceFailed(stack.stack_id, name, _reason(error)) from error
                instance._local_json = cleaned
                resource_map._parsed_resources[name] = instance
                replaced[name] = current
                _event(stack, name, _physical_id(instance), resource_type, "UPDATE_COMPLETE")
                continue
            _event(stack, name, physical, resource_type, "UPDATE_IN_PROGRESS")
            nested_state = (current.template, dict(current.parameters)) if resource_type == STACK_TYPE else None
            try:
                instance = _update_in_place(current, name, resource_type, cleaned, account, region)
            except ResourceFailed as failure:
                reason = (f"Embedded stack {physical} was not successfully updated. Currently in "
                          f"UPDATE_ROLLBACK_COMPLETE with reason: The following resource(s) failed to update: "
                          f"[{failure.logical_id}]. ") if resource_type == STACK_TYPE else failure.reason
                _event(stack, name, physical, resource_type, "UPDATE_FAILED", reason)
                raise ResourceFailed(stack.stack_id, name, reason) from failure
            except Exception as error:  # noqa: BLE001
                _event(stack, name, physical, resource_type, "UPDATE_FAILED", _reason(error))
                raise ResourceFailed(stack.stack_id, name, _reason(error)) from error
            instance._local_json = cleaned
            resource_map._parsed_resources[name] = instance
            modified[name] = (current, previous, nested_state)
            _event(stack, name, _physical_id(instance), resource_type, "UPDATE_COMPLETE")
    except ResourceFailed as failure:
        _rollback_update(stack, saved, added, replaced, modified, failure)
        raise
    _stack_event(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    old_resources = saved["json_map"]
    removed = [name for name in reversed(dependency_order(old_resources))
               if name in saved["parsed"] and saved["parsed"][name] is not None
               and (name not in new_resources or resource_map._parsed_resources.get(name) is None
                    or _inactive(resource_map, new_resources[name]))]
    for name in removed:
        resource_map._parsed_resources[name] = saved["parsed"][name]
    _delete_resources(stack, removed, {"Resources": old_resources})
    for name, old in replaced.items():
        keep = resource_map._parsed_resources[name]
        resource_map._parsed_resources[name] = old
        _delete_resources(stack, [name], {"Resources": old_resources})
        resource_map._parsed_resources[name] = keep
    stack.template = template
    stack.template_dict = new_dict
    stack.parameters = parameters
    stack.description = new_dict.get("Description")
    stack.output_map = stack._create_output_map()
    _stack_event(stack, "UPDATE_COMPLETE")


def _inactive(resource_map, resource_json: dict) -> bool:
    condition = resource_json.get("Condition")
    return bool(condition) and not resource_map.lazy_condition_map[condition]


def _replaces(resource_type: str, previous: dict | None, cleaned: dict) -> bool:
    old = (previous or {}).get("Properties", {})
    new = cleaned.get("Properties", {})
    return any(old.get(name) != new.get(name) for name in create_only_properties(resource_type))


def _create_replacement(name, resource_json, resource_map, account, region):
    from moto.cloudformation import parsing

    resource_class, cleaned, physical_name = parsing.parse_resource_and_generate_name(
        name, copy.deepcopy(resource_json), resource_map)
    instance = resource_class.create_from_cloudformation_json(
        physical_name, cleaned, account, region, LogicalId=name, StackId=resource_map.stack_id,
        ResourceType=resource_json["Type"])
    instance.cf_resource_type = resource_json["Type"]
    instance.logical_resource_id = name
    return instance


def _update_in_place(current, name, resource_type, cleaned, account, region):
    from moto.cloudformation import parsing

    resource_class = parsing.resource_class_from_type(resource_type)
    if type(current) in _stand_ins.values():  # stood in at creation: update the stand-in, not moto's model
        resource_class = type(current)
    if resource_class is None or hasattr(resource_class.update_from_cloudformation_json, "__isabstractmethod__"):
        return current  # moto cannot change it: keep the resource as it is (its properties are remembered)
    name_property = parsing.resource_name_property_from_type(resource_type)
    new_name = cleaned.get("Properties", {}).get(name_property) if name_property else None
    instance = resource_class.update_from_cloudformation_json(
        original_resource=current, new_resource_name=new_name or getattr(current, "physical_resource_id", name),
        cloudformation_json=cleaned, account_id=account, region_name=region)
    if instance is None:
        return current
    if resource_type == "AWS::IAM::Role" and hasattr(instance, "policies"):
        # moto's role update changes only the description; CloudFormation also replaces the inline policies
        instance.policies = {policy["PolicyName"]: policy["PolicyDocument"]  # as moto stores them on create
                             for policy in cleaned.get("Properties", {}).get("Policies", [])}
    instance.cf_resource_type = resource_type
    instance.logical_resource_id = name
    return instance


def _rollback_update(stack, saved, added, replaced, modified, failure: ResourceFailed) -> None:
    resource_map = stack.resource_map
    _stack_event(stack, "UPDATE_ROLLBACK_IN_PROGRESS",
                 f"The following resource(s) failed to update: [{failure.logical_id}]. ")
    new_template = resource_map._template
    for name, (old, previous, nested_state) in reversed(list(modified.items())):
        current = resource_map._parsed_resources.get(name)
        resource_type = (previous or {}).get("Type") or getattr(old, "cf_resource_type", "")
        _event(stack, name, _physical_id(current), resource_type, "UPDATE_IN_PROGRESS")
        try:
            if nested_state is not None:
                _update_stack(current, *nested_state)
            elif previous is not None:
                _update_in_place(current, name, resource_type, previous, stack.account_id, stack.region_name)
        except Exception:  # noqa: BLE001 - best effort, like UPDATE_ROLLBACK_FAILED would be
            pass
        resource_map._parsed_resources[name] = old
        _event(stack, name, _physical_id(old), resource_type, "UPDATE_COMPLETE")
    _stack_event(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    resource_map._resource_json_map = new_template.get("Resources", {})
    _delete_resources(stack, list(reversed(added)), new_template, create_rollback=True)
    for name, old in replaced.items():
        _delete_resources(stack, [name], new_template)
        resource_map._parsed_resources[name] = old
    resource_map._template = saved["template_dict"]
    resource_map._resource_json_map = saved["json_map"]
    resource_map.input_parameters = saved["input"]
    resource_map._parsed_resources.update({k: v for k, v in saved["parsed"].items() if k not in resource_map._parsed_resources})
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    stack.template, stack.template_dict, stack.parameters = saved["template"], saved["template_dict"], saved["parameters"]
    stack.output_map = stack._create_output_map()
    _stack_event(stack, "UPDATE_ROLLBACK_COMPLETE")


# ---------------------------------------------------------------------------------------------- change sets

_request = threading.local()  # per server thread: flags of the request being handled


def _patch_backend() -> None:
    from moto.cloudformation import models

    Backend = models.CloudFormationBackend
    original_create_change_set = Backend.create_change_set

    def create_change_set(self, stack_name, change_set_name, template, parameters, description, change_set_type,
                          notification_arns=None, tags=None, role_arn=None):
        template_dict = models.Stack.parse_template(template)
        if not isinstance(template_dict, dict) or not template_dict.get("Resources"):
            raise _validation("Template format error: At least one Resources member must be defined.")
        parameters = {key: _as_parameter_value(value) for key, value in (parameters or {}).items()}
        _check_parameters(template_dict, parameters, self.account_id, self.region_name)
        existing = [stack for stack in self.stacks.values() if stack.name == stack_name]
        if change_set_type == "CREATE" and existing:
            if existing[0].status != "REVIEW_IN_PROGRESS":
                raise _validation(f"Stack [{stack_name}] already exists and cannot be created again with the "
                                  f"changeSet [{change_set_name}].")
            self.stacks.pop(existing[0].stack_id)
        if change_set_type == "UPDATE":
            if not existing:
                raise _validation(f"Stack [{stack_name}] does not exist")
            status = existing[0].status
            if not status.endswith("_COMPLETE") or status in ("ROLLBACK_COMPLETE", "DELETE_COMPLETE") or "IN_PROGRESS" in status:
                raise _validation(f"Stack:{existing[0].stack_id} is in {status} state and can not be updated.")
        change_set_id, stack_id = original_create_change_set(
            self, stack_name=stack_name, change_set_name=change_set_name, template=template, parameters=parameters,
            description=description, change_set_type=change_set_type, notification_arns=notification_arns,
            tags=tags, role_arn=role_arn)
        change_set = self.change_sets[change_set_id]
        stack = self.stacks[stack_id]
        unchanged = (change_set_type == "UPDATE" and stack.template_dict == template_dict
                     and _parameter_values(stack.template_dict, stack.parameters)
                     == _parameter_values(template_dict, parameters))
        if unchanged:
            change_set.status, change_set.execution_status, change_set.status_reason = "FAILED", "UNAVAILABLE", NO_CHANGES
        else:
            change_set.status, change_set.execution_status, change_set.status_reason = "CREATE_COMPLETE", "AVAILABLE", None
        change_set.include_nested_stacks = getattr(_request, "include_nested", False)
        for nested in getattr(change_set, "nested_change_sets", []):
            nested.status, nested.execution_status = change_set.status, change_set.execution_status
        return change_set_id, stack_id

    Backend.create_change_set = create_change_set

    def execute_change_set(self, change_set_name, stack_name=None):
        change_set = self.describe_change_set(change_set_name)
        if getattr(change_set, "parent_change_set_id", None):
            raise _validation("Nested change sets are executed by executing their root change set")
        if change_set.execution_status != "AVAILABLE":
            raise _validation(f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current execution "
                              f"status of [{change_set.execution_status}]")
        stack = self.stacks[change_set.stack_id]
        failed = False
        if change_set.change_set_type == "CREATE":
            stack.template = change_set.template
            stack._parse_template()
            stack.parameters = change_set.parameters
            _stack_event(stack, "CREATE_IN_PROGRESS", "User Initiated")
            try:
                stack.resource_map = stack._create_resource_map()
                _create_resources(stack)
            except ResourceFailed:
                failed = True
            except Exception as error:  # noqa: BLE001 - e.g. a parameter the template cannot take
                _stack_event(stack, "ROLLBACK_COMPLETE", _reason(error))
                failed = True
        else:
            try:
                _update_stack(stack, change_set.template, change_set.parameters)
            except ResourceFailed:
                failed = True
        for item in [change_set, *getattr(change_set, "nested_change_sets", [])]:
            item.execution_status = "EXECUTE_FAILED" if failed else "EXECUTE_COMPLETE"
        # CloudFormation deletes a stack's change sets once one of them has been executed
        for change_set_id, item in list(self.change_sets.items()):
            if item.stack_id == stack.stack_id or getattr(item, "root_change_set_id", None) == change_set.change_set_id:
                del self.change_sets[change_set_id]
        for export in stack.exports if not failed else []:
            self.exports[export.name] = export

    Backend.execute_change_set = execute_change_set

    def delete_stack(self, name_or_stack_id):
        stack = self.stacks.get(name_or_stack_id) or next(
            (item for item in self.stacks.values() if item.name == name_or_stack_id), None)
        if stack is None:
            return
        if stack.enable_termination_protection:
            raise _validation(f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled")
        _delete_stack(self, stack)

    Backend.delete_stack = delete_stack

    def diff(self):
        return _plan(self, getattr(_request, "include_nested", False))

    models.ChangeSet.diff = diff


def _patch_responses() -> None:
    from moto.cloudformation import responses
    from moto.core.responses import ActionResult

    Response = responses.CloudFormationResponse
    original_create_change_set = Response.create_change_set

    def create_change_set(self):
        _request.include_nested = self._get_bool_param("IncludeNestedStacks", False)
        _request.creating_change_set = True
        try:
            return original_create_change_set(self)
        finally:
            _request.include_nested = _request.creating_change_set = False

    Response.create_change_set = create_change_set
    original_validate = Response._validate_different_update

    def _validate_different_update(self, incoming_params, stack_body, old_stack):
        if getattr(_request, "creating_change_set", False):
            return None  # a change set without changes is created FAILED, not refused
        return original_validate(self, incoming_params, stack_body, old_stack)

    Response._validate_different_update = _validate_different_update

    def update_termination_protection(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if getattr(stack, "parent_id", None):
            raise _validation("Termination protection cannot be updated for a nested stack; it follows the root stack")
        stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection", False)
        return ActionResult({"StackId": stack.stack_id})

    Response.update_termination_protection = update_termination_protection

    def list_change_sets(self):
        name = self._get_param("StackName")
        summaries = [item for item in self.cloudformation_backend.list_change_sets()
                     if name in (item.stack_name, item.stack_id) and not getattr(item, "parent_change_set_id", None)]
        return ActionResult({"Summaries": summaries})

    Response.list_change_sets = list_change_sets


def _parameter_values(template_dict: dict, given: dict) -> dict[str, str]:
    values = {}
    for name, spec in (template_dict.get("Parameters") or {}).items():
        if name in given:
            values[name] = _as_parameter_value(given[name])
        elif "Default" in spec:
            values[name] = _as_parameter_value(spec["Default"])
    return values


def _check_parameters(template_dict: dict, given: dict[str, str], account_id: str, region: str) -> None:
    """CloudFormation's parameter checks, with its messages: unknown, missing, and constraint violations."""
    declared = template_dict.get("Parameters") or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise _validation(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    missing = sorted(name for name, spec in declared.items() if name not in given and "Default" not in spec)
    if missing:
        raise _validation(f"Parameters: [{', '.join(missing)}] must have values")
    for name, value in _parameter_values(template_dict, given).items():
        problem = _parameter_problem(name, declared[name], value, account_id, region)
        if problem:
            raise _validation(declared[name].get("ConstraintDescription") and
                              f"Parameter '{name}' failed to satisfy constraint: {declared[name]['ConstraintDescription']}"
                              or problem)


def _parameter_problem(name: str, spec: dict, value: str, account_id: str, region: str) -> str | None:
    kind = spec.get("Type", "String")
    if kind == "Number":
        try:
            number = float(value)
        except ValueError:
            return f"Parameter '{name}' must be a number"
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return f"Parameter '{name}' must be a number not less than {spec['MinValue']}"
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return f"Parameter '{name}' must be a number not greater than {spec['MaxValue']}"
    if "AllowedValues" in spec and value not in [_as_parameter_value(item) for item in spec["AllowedValues"]]:
        return f"Parameter '{name}' must be one of AllowedValues"
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
        return f"Parameter '{name}' must match pattern {spec['AllowedPattern']}"
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return f"Parameter '{name}' must contain at least {spec['MinLength']} characters"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return f"Parameter '{name}' must contain at most {spec['MaxLength']} characters"
    if kind == "AWS::Route53::HostedZone::Id":
        from moto.route53.models import route53_backends

        try:
            route53_backends[account_id]["aws"].get_hosted_zone(value)
        except Exception:  # noqa: BLE001 - NoSuchHostedZone
            return f"Parameter value {value} for parameter name {name} does not exist"
    return None


def _conditions(template_dict: dict, values: dict[str, str]) -> dict[str, bool]:
    """Evaluate the template's Conditions with these parameter values (unknown constructs count as true)."""
    definitions = template_dict.get("Conditions") or {}
    results: dict[str, bool] = {}

    def value_of(node: Any) -> Any:
        if isinstance(node, dict) and "Ref" in node:
            return values.get(node["Ref"], node["Ref"])
        if isinstance(node, dict) and "Condition" in node:
            return condition(node["Condition"])
        if isinstance(node, dict):
            return truth(node)
        return _as_parameter_value(node)

    def truth(node: Any) -> bool:
        (operator, arguments), = node.items() if isinstance(node, dict) and len(node) == 1 else ((None, None),)
        if operator == "Fn::Equals":
            return value_of(arguments[0]) == value_of(arguments[1])
        if operator == "Fn::Not":
            return not value_of(arguments[0])
        if operator == "Fn::And":
            return all(value_of(item) for item in arguments)
        if operator == "Fn::Or":
            return any(value_of(item) for item in arguments)
        if operator == "Condition":
            return condition(arguments)
        return True

    def condition(name: str) -> bool:
        if name not in results:
            results[name] = bool(truth(definitions.get(name, {})))
        return results[name]

    for name in definitions:
        condition(name)
    return results


class _Unknown(str):
    """A parameter value CloudFormation only knows while executing (e.g. another stack's output)."""


def _plan(change_set, include_nested: bool) -> list:
    """The resource changes of a change set, as CloudFormation describes them (Replacement, Scope, Details),
    with nested change sets for modified nested stacks when asked."""
    stack = change_set.stack
    new_dict = change_set.template_dict
    new_values = _parameter_values(new_dict, change_set.parameters or {})
    changes, _, _ = _changes(stack, new_dict, new_values, set())
    change_set.nested_change_sets = []
    if include_nested:
        _add_nested_change_sets(change_set, change_set, stack, new_dict, new_values, changes)
    return changes


def _changes(stack, new_dict: dict, new_values: dict[str, str], unknown: set[str]):
    from moto.cloudformation.models import Change

    old_dict = stack.template_dict or {}
    live = stack.resource_map._parsed_resources if old_dict else {}
    old_values = _parameter_values(old_dict, stack.parameters or {}) if old_dict else {}
    old_resources = old_dict.get("Resources") or {}
    new_resources = new_dict.get("Resources") or {}
    conditions = _conditions(new_dict, new_values)
    changed_params = {name for name in set(old_values) | set(new_values)
                      if old_values.get(name) != new_values.get(name)} | unknown
    replaced: set[str] = set()
    modified: set[str] = set()
    changes = []

    def change(action: str, name: str, resource_type: str, **extra) -> None:
        item = Change(action=action, logical_resource_id=name, resource_type=resource_type)
        item.physical_resource_id = _physical_id(live[name]) if live.get(name) is not None else None
        item.replacement = extra.get("replacement")
        item.scope = extra.get("scope", [])
        item.details = extra.get("details", [])
        item.change_set_id = None
        item.policy_action = {"Add": None, "Remove": "Delete", "Modify": "ReplaceAndDelete" if extra.get("replacement") == "True" else None}[action]
        changes.append(item)

    for name in dependency_order(new_resources):
        resource = new_resources[name]
        if resource.get("Condition") and not conditions.get(resource["Condition"], True):
            continue
        if name not in old_resources or live.get(name) is None:
            change("Add", name, resource["Type"])
            replaced.add(name)
            continue
        old = old_resources[name]
        create_only = create_only_properties(resource["Type"])
        details = []
        old_props, new_props = old.get("Properties") or {}, resource.get("Properties") or {}
        for prop in sorted(set(old_props) | set(new_props)):
            before, after = old_props.get(prop), new_props.get(prop)
            refs, attrs = references(after)
            sources = [("DirectModification", None)] if before != after else []
            sources += [("ParameterReference", param) for param in sorted(refs & changed_params)]
            sources += [("ResourceReference", ref) for ref in sorted(refs & replaced)]
            sources += [("ResourceAttribute", ref) for ref in sorted(attrs & (modified | replaced))]
            for source, causing in sources:
                dynamic = source == "ResourceAttribute" or (source == "ParameterReference" and causing in unknown)
                recreation = ("Never" if prop not in create_only else "Conditional" if dynamic else "Always")
                detail = {"Target": {"Attribute": "Properties", "Name": prop, "RequiresRecreation": recreation},
                          "Evaluation": "Dynamic" if dynamic else "Static", "ChangeSource": source}
                if causing:
                    detail["CausingEntity"] = causing
                details.append(detail)
        if old.get("Metadata") != resource.get("Metadata"):
            details.append({"Target": {"Attribute": "Metadata", "RequiresRecreation": "Never"},
                            "Evaluation": "Static", "ChangeSource": "DirectModification"})
        if not details:
            continue
        recreations = {detail["Target"]["RequiresRecreation"] for detail in details}
        replacement = "True" if "Always" in recreations else "Conditional" if "Conditional" in recreations else "False"
        modified.add(name)
        if replacement == "True":
            replaced.add(name)
        change("Modify", name, resource["Type"], replacement=replacement, details=details,
               scope=sorted({detail["Target"]["Attribute"] for detail in details}))
    for name, old in old_resources.items():
        resource = new_resources.get(name)
        inactive = resource is not None and resource.get("Condition") and not conditions.get(resource["Condition"], True)
        if live.get(name) is not None and (resource is None or inactive):
            change("Remove", name, old["Type"])
    return changes, modified, replaced


def _add_nested_change_sets(root, parent, stack, new_dict, new_values, changes) -> None:
    from moto.cloudformation.models import ChangeSet
    from moto.cloudformation.utils import generate_changeset_id

    live = stack.resource_map._parsed_resources
    new_resources = new_dict.get("Resources") or {}
    changing = {item.logical_resource_id for item in changes if item.action != "Add"}
    for item in changes:
        if item.action != "Modify" or item.resource_type != STACK_TYPE:
            continue
        nested = live.get(item.logical_resource_id)
        properties = new_resources[item.logical_resource_id].get("Properties", {})
        url = properties.get("TemplateURL")
        if nested is None or not isinstance(url, str):
            continue
        body = _template_from_url(url, stack.account_id, stack.region_name)
        nested_dict = nested.parse_template(body)
        values, unknown = {}, set()
        for key, value in (properties.get("Parameters") or {}).items():
            resolved = _static_value(value, new_values, live, changing)
            if isinstance(resolved, _Unknown):
                unknown.add(key)
            values[key] = resolved
        nested_values = _parameter_values(nested_dict, values)
        nested_changes, _, _ = _changes(nested, nested_dict, nested_values, unknown)
        name = f"{root.change_set_name}-{item.logical_resource_id}"[:128]
        child = ChangeSet.__new__(ChangeSet)
        child.change_set_type = "UPDATE"
        child.change_set_id = generate_changeset_id(name, stack.region_name, stack.account_id)
        child.change_set_name = name
        child.stack = nested
        child.stack_id, child.stack_name = nested.stack_id, nested.name
        child.notification_arns, child.description, child.tags, child.role_arn = [], None, None, None
        child.template, child.template_dict, child.parameters = body, nested_dict, nested_values
        child.creation_time = root.creation_time
        child.changes = nested_changes
        child.status, child.execution_status, child.status_reason = "CREATE_COMPLETE", "AVAILABLE", None
        child.include_nested_stacks = True
        child.parent_change_set_id = parent.change_set_id
        child.root_change_set_id = root.change_set_id
        child.nested_change_sets = []
        item.change_set_id = child.change_set_id
        _backend(stack.account_id, stack.region_name).change_sets[child.change_set_id] = child
        root.nested_change_sets.append(child)
        _add_nested_change_sets(root, child, nested, nested_dict, nested_values, nested_changes)


def _static_value(value: Any, values: dict[str, str], live: dict, changing: set[str]) -> str:
    """A nested stack parameter as far as it is known before execution."""
    if isinstance(value, dict) and "Ref" in value:
        return values.get(value["Ref"], _Unknown(value["Ref"]))
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target, attribute = value["Fn::GetAtt"][0], value["Fn::GetAtt"][1]
        instance = live.get(target)
        if target in changing or instance is None:
            return _Unknown(f"{target}.{attribute}")
        try:
            return _as_parameter_value(instance.get_cfn_attribute(attribute))
        except Exception:  # noqa: BLE001
            return _Unknown(f"{target}.{attribute}")
    if isinstance(value, (dict, list)):
        return _Unknown(json.dumps(value, sort_keys=True))
    return _as_parameter_value(value)


def main(argv: list[str] | None = None) -> int:
    """`python -m stackloom.local.endpoint [--port N]`: serve until Ctrl-C, for the plain AWS CLI commands."""
    import argparse
    import time

    parser = argparse.ArgumentParser(prog="python -m stackloom.local.endpoint",
                                     description="A local CloudFormation endpoint (patched moto) on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=5000, help="port on 127.0.0.1 (0: any free port; default 5000)")
    parser.add_argument("--account-id", metavar="ID", help="answer as this AWS account (for specs that set account_id)")
    args = parser.parse_args(argv)
    with LocalEndpoint(args.port, args.account_id) as endpoint:
        print(f"local endpoint on {endpoint.url}; in another shell:\n"
              f"  export AWS_ENDPOINT_URL={endpoint.url} AWS_ENDPOINT_URL_S3={endpoint.s3_url}\n"
              f"  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=eu-central-1\n"
              f"or: python build.py deploy SYSTEM/ENV --endpoint-url {endpoint.url}\n"
              f"Ctrl-C stops it (everything in it is gone then).", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
