"""Serving an item's media to a signed-in reviewer, never by exposing a path.

The stored URI is re-checked against the media root and bucket allow-list (the
file may have been swapped for a link since submit): media gone or moved out of
confinement is 404, a file the OS will not read (a symlink loop, no permission,
...) is 422 with the reason, never a 500. Local files are streamed
with a sniffed content type (Range requests work, so videos seek); S3 objects
get a short-lived presigned URL.
"""

from __future__ import annotations

import os
from functools import lru_cache

import boto3
import structlog
from botocore.config import Config
from fastapi import HTTPException
from fastapi.responses import FileResponse, RedirectResponse, Response

from moderation.infra.media import local, uris as media
from moderation.domain.errors import BadInput, ModqError
from moderation.review.services import NotFound
from moderation.bootstrap import Runtime
from moderation.items import models as m

log = structlog.get_logger("modq.api.media")
CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
                 "bmp": "image/bmp", "tiff": "image/tiff", "mp4": "video/mp4", "mov": "video/quicktime"}
HEADERS = {"Cache-Control": "private, no-store", "Content-Security-Policy": "default-src 'none'; sandbox",
           "Cross-Origin-Resource-Policy": "same-origin"}


def media_response(rt: Runtime, item: m.Item) -> Response:
    try:
        ref = media.parse(item.media_uri, rt.settings.media_root, rt.settings.s3_bucket_allowlist)
    except local.UnusablePath as exc:  # there, but the OS will not read it (a symlink loop, ...): say why
        log.warning("media_unusable", item_id=item.id, error=str(exc))
        raise BadInput(f"this item's media cannot be served: {exc.reason}") from None
    except ModqError as exc:
        log.warning("media_unavailable", item_id=item.id, error=str(exc))
        raise NotFound("this item's media is no longer available") from None
    if ref.scheme == "s3":
        return RedirectResponse(_presign(rt, ref), status_code=307, headers={"Cache-Control": "no-store"})
    try:
        with open(ref.path, "rb") as fh:
            kind = media.sniff(fh.read(32))
    except FileNotFoundError:  # removed since the check above
        raise NotFound("this item's media is no longer available") from None
    except OSError as exc:
        log.warning("media_unusable", item_id=item.id, error=str(exc))
        raise BadInput(f"this item's media cannot be served: {local.os_reason(exc)}") from None
    content_type = CONTENT_TYPES.get(kind or "", "application/octet-stream")
    disposition = "inline" if kind else "attachment"
    return FileResponse(ref.path, media_type=content_type, content_disposition_type=disposition,
                        filename=f"{item.id}.{kind or 'bin'}", headers=HEADERS)


@lru_cache(maxsize=1)
def _signer():
    """An S3 client for presigning only (no request is sent). SigV4: botocore
    would otherwise sign with the legacy SigV2 in us-east-1."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
    return boto3.session.Session().client("s3", region_name=region, config=Config(signature_version="s3v4"))


def _presign(rt: Runtime, ref: media.MediaRef) -> str:
    params = {"Bucket": ref.bucket, "Key": ref.key}
    if ref.version:
        params["VersionId"] = ref.version
    try:
        return _signer().generate_presigned_url("get_object", Params=params,
                                                ExpiresIn=rt.settings.api_media_url_seconds)
    except Exception as exc:  # no credentials or region: say so, don't 500
        log.error("presign_failed", uri=ref.uri, error=str(exc))
        raise HTTPException(503, "this item's media cannot be linked right now (S3 presigning failed)") from None
