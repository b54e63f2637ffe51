"""Upload an environment's templates to the artifacts bucket the way `aws cloudformation package` does:
every nested template under a key named after its content, so an unchanged template keeps its URL (and
CloudFormation leaves that nested stack alone) and a re-upload of the same content is skipped.

Nested stacks are found by their relative `TemplateURL` (what `build.py` emits) and packaged depth-first,
so a nested stack with its own children works too. The root template is uploaded as well (it may exceed
the 51,200-byte inline limit) and deployed by URL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError

from stackloom.cfn.model import STACK_TYPE


@dataclass
class Packaged:
    """The result of packaging one root template."""

    root_url: str
    root: dict
    urls: dict[str, str] = field(default_factory=dict)  # file name -> object URL
    uploaded: list[str] = field(default_factory=list)  # file names whose content was new
    templates: dict[str, dict] = field(default_factory=dict)  # file name -> template as deployed


def template_body(template: dict) -> bytes:
    """The bytes uploaded for a (packaged) template; its sha256 names the object."""
    return (json.dumps(template, indent=2, sort_keys=True) + "\n").encode()


def content_key(prefix: str, body: bytes) -> str:
    return f"{prefix.strip('/')}/{hashlib.sha256(body).hexdigest()}.template"


def object_url(s3, bucket: str, key: str) -> str:
    """Path-style URL on the client's own endpoint: https://s3.<region>.amazonaws.com/<bucket>/<key> on AWS,
    http://127.0.0.1:<port>/<bucket>/<key> on a local endpoint."""
    return f"{s3.meta.endpoint_url.rstrip('/')}/{bucket}/{key}"


def is_relative(url) -> bool:
    return isinstance(url, str) and "://" not in url


def package(s3, bucket: str, prefix: str, folder: Path, root_file: str) -> Packaged:
    """Upload `folder/root_file` and every template it nests; return the root's URL and what was uploaded."""
    result = Packaged(root_url="", root={})

    def upload(file_name: str, seen: tuple[str, ...]) -> str:
        if file_name in seen:
            raise ValueError(f"{file_name}: nested stacks form a cycle: {' -> '.join(seen + (file_name,))}")
        if file_name in result.urls:
            return result.urls[file_name]
        template = json.loads((folder / file_name).read_text())
        for resource in (template.get("Resources") or {}).values():
            properties = resource.get("Properties") or {}
            if resource.get("Type") == STACK_TYPE and is_relative(properties.get("TemplateURL")):
                properties["TemplateURL"] = upload(properties["TemplateURL"], seen + (file_name,))
        body = template_body(template)
        key = content_key(prefix, body)
        if not _exists(s3, bucket, key):
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
            result.uploaded.append(file_name)
        result.urls[file_name] = object_url(s3, bucket, key)
        result.templates[file_name] = template
        return result.urls[file_name]

    result.root_url = upload(root_file, ())
    result.root = result.templates[root_file]
    return result


def _exists(s3, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True
