"""What modq accepts as an item to store: the checks ``services.submit`` and ``submit_many`` make before
writing anything, each a ``RefusedSubmission`` with the reason (nothing stored for that item).

Whatever PostgreSQL or SQLite would refuse (a NUL character, a lone surrogate, NaN in JSON) is refused
here, per item: in a batch, the database refusing one row would roll back all of them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from moderation.domain.errors import RefusedSubmission
from moderation.infra.media import uris as media

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime


def check_external_id(external_id: str | None) -> None:
    if external_id is not None and not 1 <= len(external_id) <= 255:
        raise RefusedSubmission("external_id must be 1-255 characters")
    if external_id is not None:
        storable("external_id", external_id)


def check_subject_id(subject_id: str | None) -> None:
    """The uploader's account id on the platform: 1-255 printable characters (it is shown to reviewers)."""
    if subject_id is None:
        return
    if not isinstance(subject_id, str) or not 1 <= len(subject_id) <= 255:
        raise RefusedSubmission("subject_id must be 1-255 characters")
    if not subject_id.isprintable():
        raise RefusedSubmission("subject_id must not contain control characters")
    storable("subject_id", subject_id)


def storable(what: str, value: str) -> str:
    """Refuse what PostgreSQL and SQLite would refuse (for a whole batch): NUL characters, lone surrogates."""
    if "\x00" in value:
        raise RefusedSubmission(f"{what} must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise RefusedSubmission(f"{what} must be valid Unicode (no lone surrogates)") from None
    return value


def check_metadata(value: Any, depth: int = 0) -> None:
    """Metadata is a JSON object of storable values: no NaN or Infinity either (PostgreSQL refuses them)."""
    if depth == 0 and value is not None and not isinstance(value, dict):
        raise RefusedSubmission(f"metadata must be a JSON object, not {type(value).__name__}")
    if isinstance(value, str):
        storable("metadata", value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise RefusedSubmission("metadata numbers must be finite (no NaN or Infinity)")
    elif isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(key, str):
                storable("metadata", key)
            check_metadata(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            check_metadata(inner, depth + 1)


def accept(media_uri: str, media_type: str | None, rt: Runtime) -> tuple[str, str]:
    """The confined URI and the media kind of an item to store, or ``RefusedSubmission`` saying why not."""
    ref = media.parse(media_uri, rt.settings.media_root, rt.settings.s3_bucket_allowlist)
    storable("media_uri", ref.uri)
    kind = media_type or media.media_kind(ref)
    if kind not in ("image", "video"):
        raise RefusedSubmission(f"media type {kind!r} is not supported: submit images (JPEG, PNG, GIF, WebP, BMP, "
                                f"TIFF) or videos (MP4, MOV)")
    return ref.uri, kind
