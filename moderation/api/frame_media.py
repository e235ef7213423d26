"""One frame of an item's animated or multi-page image, as a PNG: the console shows the frame a rule fired
on (``/media/{id}?frame=N``), not the first frame a browser would show first.

The media is read as the worker reads it (confinement re-checked, the same
size and frame limits, an S3 object downloaded) and only frames up to N are
decoded. Served with the same headers as the media itself.
"""

from __future__ import annotations

import structlog
from fastapi import HTTPException
from fastapi.responses import Response

from moderation.infra.aws import fetch_s3_object
from moderation.infra.media import frames, local, uris as media
from moderation.api.media import HEADERS
from moderation.domain.errors import BadInput, ModqError
from moderation.review.services import NotFound
from moderation.bootstrap import Runtime
from moderation.items import models as m

log = structlog.get_logger("modq.api.media")


def frame_response(rt: Runtime, item: m.Item, index: int) -> Response:
    try:
        data = _read(rt, item)
        png = frames.render_png(data, index, frames.Limits.of(rt.settings))
    except BadInput as exc:  # gone, moved out of confinement, not multi-frame, no such frame, over a limit
        log.warning("frame_unavailable", item_id=item.id, frame=index, error=str(exc))
        raise NotFound(f"frame {index} of this item's media is not available: {exc}") from None
    except ModqError as exc:  # S3 unreachable or access denied: not the reviewer's doing
        log.error("frame_unavailable", item_id=item.id, frame=index, error=str(exc))
        raise HTTPException(503, f"frame {index} of this item's media cannot be read right now") from None
    return Response(png, media_type="image/png", headers=HEADERS)


def _read(rt: Runtime, item: m.Item) -> bytes:
    s = rt.settings
    try:
        ref = media.parse(item.media_uri, s.media_root, s.s3_bucket_allowlist)
    except ModqError as exc:
        raise BadInput(str(exc)) from None
    if ref.scheme == "s3":
        return fetch_s3_object(rt.s3(), ref.bucket, ref.key, ref.version, s.max_image_bytes)
    return local.read_file(ref.path, s.max_image_bytes)
