"""What the endpoint's modules share: moto's CloudFormation backends, stack events, a resource's failure."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from moto.cloudformation import utils
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Event, Stack, cloudformation_backends
from moto.utilities.utils import get_partition

from stackloom.cfn.model import STACK_TYPE

LOCAL_HOST = "127.0.0.1"
logger = logging.getLogger("stackloom.local")
# Running endpoints of this process, newest last: custom-resource handlers' AWS clients use one of them
# (all share moto's in-process backends, so any running one reaches the same resources).
server_urls: list[str] = []


class ResourceFailed(Exception):
    """A resource of `stack_id` could not be created/updated; events are recorded, the stack rolls back."""

    def __init__(self, stack_id: str, logical_id: str, reason: str, physical_id: str | None = None):
        super().__init__(f"{logical_id}: {reason}")
        self.stack_id = stack_id
        self.logical_id = logical_id
        self.reason = reason
        self.physical_id = physical_id


def reason(error: BaseException) -> str:
    message = getattr(error, "message", None) or getattr(error, "description", None) or str(error)
    if isinstance(error, KeyError):
        message = f"Property {message} is required or references something that does not exist"
    return str(message).strip() or type(error).__name__


def validation(message: str) -> ValidationError:
    """CloudFormation's ValidationError (HTTP 400) with this message."""
    return ValidationError(message=message)


def backend(account_id: str, region: str):
    return cloudformation_backends[account_id][region]


def stack_by_id(account_id: str, region: str, stack_id: str):
    found = backend(account_id, region)
    return found.stacks.get(stack_id) or found.deleted_stacks.get(stack_id)


_clock = {"last": None}


def event(
    stack, logical_id: str, physical_id: str | None, resource_type: str, status: str, reason: str | None = None
) -> None:
    item = Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical_id,
        physical_resource_id=physical_id or "",
        resource_type=resource_type,
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=None,
    )
    # a millisecond apart at least (the API's resolution), so events of nested stacks sort into place
    last = _clock["last"]
    if last is not None and item.timestamp <= last + timedelta(milliseconds=1):
        item.timestamp = last + timedelta(milliseconds=1)
    _clock["last"] = item.timestamp
    stack.events.append(item)


def stack_event(stack, status: str, reason: str | None = None) -> None:
    stack.status = status
    event(stack, stack.name, stack.stack_id, STACK_TYPE, status, reason)


def physical_id(instance: Any) -> str:
    if isinstance(instance, Stack):
        return instance.stack_id
    return str(getattr(instance, "physical_resource_id", "") or "")


def template_from_url(url: str, account_id: str, region: str) -> str:
    # through the module attribute: the patched reader (127.0.0.1 URLs too)
    return utils.get_stack_from_s3_url(url, account_id=account_id, partition=get_partition(region))
