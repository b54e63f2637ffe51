"""Custom resources (`Custom::*`) backed by an inline Python Lambda function.

moto would run the function in Docker; here the function's own code (the ZipFile moto stored) runs
in-process, its boto3 clients pointed at this endpoint, and its cfnresponse-style answer is received on a
one-shot 127.0.0.1 URL. Create, Update and Delete requests are sent as CloudFormation sends them; a FAILED
answer fails the resource with its reason.
"""

from __future__ import annotations

import builtins
import copy
import io
import json
import threading
import types
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
from moto.awslambda.utils import get_backend as lambda_backend
from moto.core.common_models import CloudFormationModel

from stackloom.local.common import LOCAL_HOST, logger, reason, server_urls


class CustomResourceFailed(Exception):
    """The custom resource's function answered FAILED, or could not be run here."""


_custom_resource_class: type | None = None


def custom_resource_class() -> type:
    """The model of every custom resource: each request runs the backing Lambda function's code in-process.

    Made on first use, never at import, like the stand-ins: a CloudFormationModel subclass that exists when
    moto first builds its model map (cached) would join it."""
    global _custom_resource_class
    if _custom_resource_class is not None:
        return _custom_resource_class

    class LocalCustomResource(CloudFormationModel):
        def __init__(
            self, resource_type: str, logical_id: str, stack_id: str, properties: dict, account_id: str, region: str
        ):
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
                raise CustomResourceFailed(
                    f"CustomResource attribute error: Vendor response doesn't contain "
                    f"{attribute} key in object {self.stack_id}|{self.logical_id}"
                )
            return self.data[attribute]

        def _answer(self, request_type: str, old_properties: dict | None = None) -> None:
            try:
                response = invoke_custom_resource(
                    request_type,
                    self.cf_resource_type,
                    self.logical_id,
                    self.stack_id,
                    self.properties,
                    self.account_id,
                    self.region,
                    physical_id=self.physical_id or None,
                    old_properties=old_properties,
                )
            except CustomResourceFailed:
                raise
            except Exception as error:  # noqa: BLE001 - never a stand-in: the resource fails with the reason
                raise CustomResourceFailed(f"{self.logical_id}: {reason(error)}") from error
            self.physical_id = str(response.get("PhysicalResourceId") or self.physical_id or self.logical_id)
            if request_type != "Delete":
                self.data = dict(response.get("Data") or {})

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            instance = cls(
                kwargs["ResourceType"],
                kwargs["LogicalId"],
                kwargs["StackId"],
                cloudformation_json.get("Properties", {}),
                account_id,
                region_name,
            )
            instance._answer("Create")
            return instance

        @classmethod
        def update_from_cloudformation_json(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        ):
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


def invoke_custom_resource(
    request_type: str,
    resource_type: str,
    logical_id: str,
    stack_id: str,
    properties: dict,
    account_id: str,
    region: str,
    physical_id: str | None = None,
    old_properties: dict | None = None,
) -> dict:
    """Send one CloudFormation custom-resource request to the function named by ServiceToken, the way
    CloudFormation does (event + pre-signed response URL), and return its answer; raises
    CustomResourceFailed on a FAILED answer, no answer, or a function this endpoint cannot run."""
    token = str(properties.get("ServiceToken") or "")
    handler = _inline_python_handler(token, account_id, region)
    with _ResponseReceiver() as receiver:
        event = {
            "RequestType": request_type,
            "ServiceToken": token,
            "ResponseURL": receiver.url,
            "StackId": stack_id,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type,
            "ResourceProperties": copy.deepcopy(properties),
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
        raise CustomResourceFailed(
            f"Received response status [{response.get('Status')}] from custom resource. "
            f"Message returned: {response.get('Reason')}"
        )
    return response


def _inline_python_handler(token: str, account_id: str, region: str):
    """The handler function of a Lambda function with inline Python code, loaded from moto's stored ZIP
    with its `boto3` pointed at this endpoint and its `print` going to this package's logger."""
    try:
        function = lambda_backend(account_id, region).get_function(token)
    except Exception as error:  # noqa: BLE001
        raise CustomResourceFailed(
            f"ServiceToken {token!r} is not a Lambda function of this account and region "
            f"(SNS-backed custom resources are not supported here)"
        ) from error
    module_name, _, function_name = str(function.handler or "").rpartition(".")
    if not str(function.run_time or "").startswith("python") or not module_name:
        raise CustomResourceFailed(
            f"the local endpoint runs only Python custom-resource functions, "
            f"not {function.run_time} ({function.function_name})"
        )
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
        function_name=function.function_name,
        invoked_function_arn=function.function_arn,
        log_group_name=f"/aws/lambda/{function.function_name}",
        log_stream_name="local-endpoint",
        aws_request_id="local-endpoint",
        memory_limit_in_mb=function.memory_size,
        get_remaining_time_in_millis=lambda: int(function.timeout or 3) * 1000,
    )
    return handler


class _LocalBoto3:
    """What a handler's `import boto3` gets: clients and resources on this endpoint with dummy credentials."""

    def __init__(self, region: str):
        if not server_urls:
            raise CustomResourceFailed("custom resources run only on a started LocalEndpoint (moto server)")
        self._session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        )
        self.session = boto3.session

    def client(self, service: str, **kwargs):
        return self._session.client(service, **{"endpoint_url": server_urls[-1], **kwargs})

    def resource(self, service: str, **kwargs):
        return self._session.resource(service, **{"endpoint_url": server_urls[-1], **kwargs})


class _ResponseReceiver:
    """A one-shot HTTP server on 127.0.0.1 standing in for CloudFormation's pre-signed response URL."""

    def __init__(self):
        self.body: bytes | None = None

    def __enter__(self) -> "_ResponseReceiver":
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
