"""boto3 clients, built once per process, honouring the standard AWS environment.

Endpoints, region and credentials come from boto3's own chain (AWS_REGION,
AWS_PROFILE, AWS_ENDPOINT_URL_<SERVICE>, ...): nothing is hard-coded.
Retries are botocore's ``standard`` mode: throttling and 5xx are retried with
jittered backoff inside the call; what is left after that is ours to handle.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

from moderation.errors import BadInput, DeploymentFault, TransientFault

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
            except NoRegionError:
                raise DeploymentFault(f"no AWS region configured for {service}: set AWS_REGION") from None
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


@contextmanager
def reading_s3(where: str) -> Iterator[None]:
    """Turn S3 read errors into modq's: missing -> BadInput, denied -> DeploymentFault."""
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        if code in ("404", "NoSuchKey", "NotFound", "NoSuchVersion", "NoSuchBucket"):
            raise BadInput(f"S3 object {where} does not exist") from None
        if code in ("403", "AccessDenied", "AllAccessDisabled"):
            raise DeploymentFault(f"access denied reading {where}: grant s3:GetObject") from None
        raise TransientFault(f"S3 error {code} reading {where}") from None
    except BotoCoreError as exc:
        raise TransientFault(f"S3 unreachable: {exc}") from None


def fetch_s3_object(s3, bucket: str, key: str, version: str, max_bytes: int) -> bytes:
    """Download an object for the offline provider, refusing oversize ones first."""
    extra = {"VersionId": version} if version else {}
    where = f"s3://{bucket}/{key}"
    with reading_s3(where):
        size = s3.head_object(Bucket=bucket, Key=key, **extra)["ContentLength"]
        if size == 0:
            raise BadInput(f"{where} is empty (0 bytes)")
        if size > max_bytes:
            raise BadInput(f"{where} is {size:,} bytes, over the limit of {max_bytes:,} (MODQ_MAX_IMAGE_BYTES)")
        return s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()


def s3_version(s3, bucket: str, key: str) -> str:
    """What pins an unversioned S3 reference to today's content: its VersionId on a versioned bucket,
    else ``etag:<ETag>``. One HeadObject; a missing object is ``BadInput`` before any provider is paid."""
    with reading_s3(f"s3://{bucket}/{key}"):
        head = s3.head_object(Bucket=bucket, Key=key)
    version = head.get("VersionId")
    if version and version != "null":  # "null": written before versioning was enabled
        return version
    return "etag:" + head.get("ETag", "").strip('"')
