"""boto3 clients, built once per process, honouring the standard AWS environment.

Endpoints, region and credentials come from boto3's own chain (AWS_REGION,
AWS_PROFILE, AWS_ENDPOINT_URL_<SERVICE>, ...): nothing is hard-coded.
Retries are botocore's ``standard`` mode: throttling and 5xx are retried with
jittered backoff inside the call; what is left after that is ours to handle.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import (BotoCoreError, ClientError, EndpointConnectionError, InvalidRegionError,
                                 NoCredentialsError, NoRegionError, PartialCredentialsError)

from moderation.domain.errors import BadInput, DeploymentFault, ModqError, TransientFault

_lock = threading.Lock()
_clients: dict[tuple, Any] = {}
_hooks: dict[str, dict[str, Callable[[Any], Any]]] = {}  # service -> name -> hook(client)


def client(service: str, max_attempts: int = 3, timeout: float = 10.0, pool: int = 10):
    """A shared client for ``service``; thread-safe, one per process and config."""
    key = (service, max_attempts, timeout, pool)
    with _lock:
        if key not in _clients:
            config = Config(
                retries={"mode": "standard", "total_max_attempts": max_attempts},  # total, not retries,
                connect_timeout=timeout,
                read_timeout=timeout,
                max_pool_connections=pool,
            )
            try:
                # botocore reads only AWS_DEFAULT_REGION; AWS_REGION is the SDKs' newer name.
                region = os.environ.get("AWS_REGION") or None
                _clients[key] = boto3.session.Session().client(service, config=config, region_name=region)
            except NOT_DEPLOYED as exc:  # no or invalid region, half-set credentials: found when the client is made
                raise botocore_fault(exc, service) from None
            for hook in _hooks.get(service, {}).values():
                hook(_clients[key])
        return _clients[key]


def on_new_client(service: str, name: str, hook: Callable[[Any], Any]) -> None:
    """Run ``hook(client)`` on every ``service`` client, cached ones included.

    How the rate limiter and circuit breaker reach every Rekognition client
    (images and video) without each provider knowing about them. A hook
    registered again under the same ``name`` replaces the earlier one.
    """
    with _lock:
        _hooks.setdefault(service, {})[name] = hook
        for key, existing in _clients.items():
            if key[0] == service:
                hook(existing)


def reset_clients() -> None:
    """Forget cached clients (after fork, or when tests change the environment)."""
    with _lock:
        _clients.clear()


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


# botocore errors no retry can cure: this deployment has no usable credentials or region.
NOT_DEPLOYED = (NoCredentialsError, PartialCredentialsError, NoRegionError, InvalidRegionError)


def botocore_fault(exc: BotoCoreError, service: str, client: Any = None, transient: str | None = None) -> ModqError:
    """The modq error for a botocore error without an AWS answer: ``DeploymentFault`` (fail at once,
    alert the operator) when credentials or the region are missing or unusable, else ``TransientFault``
    (connection refused, timeouts: worth another attempt; ``transient`` is its message). One line, no
    traceback: the operator needs the variable to set, not botocore's stack. ``client``: the client that
    made the call, to tell a region no AWS partition has from a network fault."""
    if isinstance(exc, NoCredentialsError):
        return DeploymentFault(f"no AWS credentials for {service}: set AWS_ACCESS_KEY_ID and "
                               f"AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or give the host a role")
    if isinstance(exc, PartialCredentialsError):  # names the missing variable, never a value
        return DeploymentFault(f"incomplete AWS credentials for {service}: {exc}")
    if isinstance(exc, NoRegionError):
        return DeploymentFault(f"no AWS region configured for {service}: set AWS_REGION")
    if isinstance(exc, InvalidRegionError):
        return DeploymentFault(f"invalid AWS region for {service}: {exc} Set AWS_REGION to a region such as us-east-1")
    region = unknown_region(client) if isinstance(exc, EndpointConnectionError) else None
    if region:  # the endpoint's host does not exist because the region does not
        return DeploymentFault(f"cannot reach {service} in AWS region {region!r}, which is in no AWS partition: "
                               f"check AWS_REGION")
    return TransientFault(transient or f"{service} unreachable: {exc}")


def unknown_region(client: Any) -> str | None:
    """The client's region if no AWS partition has it (a typo such as ``us-eastt-1`` still matches the
    ``aws`` pattern and is not caught), and only when the endpoint is AWS's own: a custom endpoint
    (AWS_ENDPOINT_URL_<SERVICE>) may take any region name."""
    meta = getattr(client, "meta", None)
    region = getattr(meta, "region_name", None)
    if not region or not str(getattr(meta, "endpoint_url", "")).endswith(".amazonaws.com"):
        return None
    known = any(region in p.get("regions", {}) or re.match(p["regionRegex"], region) for p in _partitions())
    return None if known else region


@functools.lru_cache(maxsize=1)
def _partitions() -> list[dict]:
    """botocore's own table of AWS partitions (aws, aws-cn, aws-us-gov, ...) and their region patterns."""
    return botocore.session.get_session().get_data("partitions")["partitions"]


@contextmanager
def reading_s3(where: str, s3: Any = None) -> Iterator[None]:
    """Turn S3 read errors into modq's: missing -> BadInput; denied, no credentials or region ->
    DeploymentFault (``botocore_fault``, which looks at the ``s3`` client's region)."""
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        if code in ("404", "NoSuchKey", "NotFound", "NoSuchVersion", "NoSuchBucket"):
            raise BadInput(f"S3 object {where} does not exist") from None
        if code in ("403", "AccessDenied", "AllAccessDisabled"):
            raise DeploymentFault(f"access denied reading {where}: grant s3:GetObject") from None
        raise TransientFault(f"S3 error {code} reading {where}") from None
    except BotoCoreError as exc:  # no answer: credentials, region or the network
        raise botocore_fault(exc, "S3", s3) from None


def fetch_s3_object(s3, bucket: str, key: str, version: str, max_bytes: int) -> bytes:
    """Download an object for the offline provider, refusing oversize ones first."""
    extra = {"VersionId": version} if version else {}
    where = f"s3://{bucket}/{key}"
    with reading_s3(where, s3):
        size = s3.head_object(Bucket=bucket, Key=key, **extra)["ContentLength"]
        if size == 0:
            raise BadInput(f"{where} is empty (0 bytes)")
        if size > max_bytes:
            raise BadInput(f"{where} is {size:,} bytes, over the limit of {max_bytes:,} (MODQ_MAX_IMAGE_BYTES)")
        return s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()


def s3_version(s3, bucket: str, key: str) -> str:
    """What pins an unversioned S3 reference to today's content: its VersionId on a versioned bucket,
    else ``etag:<ETag>``. One HeadObject; a missing object is ``BadInput`` before any provider is paid."""
    with reading_s3(f"s3://{bucket}/{key}", s3):
        head = s3.head_object(Bucket=bucket, Key=key)
    version = head.get("VersionId")
    if version and version != "null":  # "null": written before versioning was enabled
        return version
    return "etag:" + head.get("ETag", "").strip('"')
