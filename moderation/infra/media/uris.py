"""Where media live and what they are: URI parsing, confinement, sniffing.

A ``MediaRef`` is parsed once at submit time; anything that could let a caller
read outside the media root or an unapproved bucket is refused there, before a
row exists. Content checks (decoding, dimensions) happen in the worker, see
``moderation.infra.media.imaging``; local files are confined and read by ``moderation.infra.media.local``.

What was submitted is what is moderated: nothing in a URI is silently dropped.
A ``#`` (fragment), a ``?`` other than an S3 ``?versionId=``, and an empty S3 key
segment (``//``, a trailing ``/``) are refused, not trimmed: a character that is
part of the name is written percent-encoded (``%23``, ``%3F``, ``%2F``), which is
what ``s3_uri`` does for keys that S3 events deliver.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from config.validators import bucket_name_problem
from moderation.domain.errors import BadInput, RefusedSubmission
from moderation.infra.redact import Scrubber
from moderation.infra.media import local

if TYPE_CHECKING:  # the type only: what reparse reads of the settings
    from config.settings import Settings

IMAGE_FORMATS = {"jpeg", "png", "gif", "webp", "bmp", "tiff"}
VIDEO_FORMATS = {"mp4", "mov"}
_IMAGE_EXT = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".gif": "gif", ".webp": "webp",
              ".bmp": "bmp", ".tif": "tiff", ".tiff": "tiff"}
_VIDEO_EXT = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


@dataclass(frozen=True)
class MediaRef:
    uri: str  # canonical form, stored on the item
    scheme: str  # "s3" or "file"
    bucket: str = ""
    key: str = ""
    version: str = ""
    path: Path | None = None  # resolved, inside the media root

    @property
    def extension_kind(self) -> str | None:
        """"image"/"video" by file extension, None if the extension says nothing."""
        name = self.key if self.scheme == "s3" else str(self.path)
        ext = os.path.splitext(name)[1].lower()
        if ext in _IMAGE_EXT:
            return "image"
        if ext in _VIDEO_EXT:
            return "video"
        return None


def parse(uri: str, media_root: Path, s3_buckets: frozenset[str] | None = None) -> MediaRef:
    """Parse and confine a media URI, or raise ``RefusedSubmission``."""
    uri = (uri or "").strip()
    if not uri:
        raise RefusedSubmission("media URI is empty")
    if len(uri) > 4096:
        raise RefusedSubmission(f"media URI is {len(uri):,} characters; the limit is 4,096")
    _refuse_control_chars(uri)
    parsed = urlsplit(uri)
    scheme = parsed.scheme.lower()
    if scheme == "s3":
        return _parse_s3(parsed, uri, s3_buckets)
    if scheme == "file":
        _refuse_delimiters(uri, "file URI", "?#")
        if parsed.netloc not in ("", "localhost"):
            raise RefusedSubmission(f"file URI names a host ({parsed.netloc!r}); only local files are accepted")
        return _parse_local(unquote(parsed.path), media_root)
    if scheme == "" or (len(scheme) == 1 and os.name == "nt"):
        _refuse_delimiters(uri, "path", "?#")
        return _parse_local(uri, media_root)
    raise RefusedSubmission(
        f"unsupported URI scheme {parsed.scheme!r} in {_shown(uri)!r}: use s3://bucket/key, file:///path or a path under the media root"
    )


def reparse(uri: str, settings: Settings) -> MediaRef:
    """``parse`` again in the worker, since the file or MODQ_S3_BUCKETS may have changed since submit:
    a refusal now is the item's ``BadInput`` (it ends ``failed``), no longer the caller's."""
    try:
        return parse(uri, settings.media_root, settings.s3_bucket_allowlist)
    except RefusedSubmission as exc:
        raise BadInput(str(exc)) from None


def _refuse_control_chars(text: str) -> None:
    """NUL and other control characters are never part of a real path or key."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise RefusedSubmission("media URI contains control characters (after %-decoding)")


# Why a "?" or "#" is refused, and how to write one that is part of the name. URI parsers drop what follows
# them, so accepting them would moderate a different object than the one named; a plain path would keep them,
# but one that looks like a URI with a query must not mean a different file than the same text as a URI.
_DELIMITER_ADVICE = {
    ("file URI", "?"): "a file URI takes no query; write a '?' that is part of the file name as %3F",
    ("file URI", "#"): "a file URI takes no fragment; write a '#' that is part of the file name as %23",
    ("path", "?"): "it would read as a URI query; for a file name with '?' in it, give its file:// URI with %3F",
    ("path", "#"): "it would read as a URI fragment; for a file name with '#' in it, give its file:// URI with %23",
    ("S3 URI", "#"): "an S3 URI takes no fragment; write a '#' that is part of the key as %23",
}


def _refuse_delimiters(uri: str, what: str, chars: str) -> None:
    for ch in chars:
        if ch in uri:
            raise RefusedSubmission(f"{what} {_shown(uri)!r} contains {ch!r}: {_DELIMITER_ADVICE[what, ch]}")


def _shown(uri: str) -> str:
    """The URI as an error message may quote it: a presigned URL's signature is a credential."""
    return Scrubber(secrets=[]).text(uri)


def _parse_s3(parsed, uri: str, allowed: frozenset[str] | None) -> MediaRef:
    _refuse_delimiters(uri, "S3 URI", "#")
    bucket = parsed.netloc
    problem = bucket_name_problem(bucket)
    if problem:
        raise RefusedSubmission(f"invalid S3 bucket name {bucket!r} in {_shown(uri)!r}: {problem}")
    raw_key = parsed.path[1:]  # the first "/" ends the bucket; every later one belongs to the key
    if raw_key and "" in raw_key.split("/"):
        # Tools collapse or trim these, so "s3://b//k.jpg" would name key "k.jpg" to one and "/k.jpg" to another.
        raise RefusedSubmission(f"S3 URI {_shown(uri)!r} has an empty key segment ('//' or a '/' at either end "
                                f"of the key): write a '/' that is part of the key as %2F")
    key = unquote(raw_key)
    _refuse_control_chars(key)
    if not key or len(key) > 1024:
        raise RefusedSubmission(f"S3 URI {_shown(uri)!r} needs an object key of 1-1024 characters")
    if allowed is not None and bucket not in allowed:
        raise RefusedSubmission(f"S3 bucket {bucket!r} is not in MODQ_S3_BUCKETS")
    version = ""
    if "?" in uri:  # an empty query ("k.jpg?") is refused too, not dropped
        match = re.fullmatch(r"versionId=([^&]{1,1024})", parsed.query)
        if not match:
            raise RefusedSubmission(f"S3 URI {_shown(uri)!r}: the only query accepted is versionId=...")
        version = unquote(match.group(1))
    return MediaRef(uri=s3_uri(bucket, key, version), scheme="s3", bucket=bucket, key=key, version=version)


# What ``parse`` would otherwise read back differently or refuse: "%" (decoded), "?" and "#" (query and
# fragment), trailing whitespace (``parse`` strips the URI) and every "/" that would make an empty key
# segment (leading, doubled, trailing). S3 keys may contain all of these, and S3 upload events deliver them
# (moderation/items/ingest/s3_events.py).
_KEY_UNSAFE = re.compile(r"[%?#]|^/+|(?<=/)/+|/\Z|\s+\Z")
_VERSION_UNSAFE = re.compile(r"[%&#\s]")


def s3_uri(bucket: str, key: str, version: str = "") -> str:
    """The canonical ``s3://`` URI of an object: ``parse`` gives back exactly this bucket, key and version.

    Everything else (unicode, "+", spaces inside the key) stays as it is, so URIs remain readable.
    Keys with control characters have no URI: ``parse`` refuses them.
    """
    def esc(match: re.Match) -> str:
        return quote(match.group(), safe="")

    uri = f"s3://{bucket}/{_KEY_UNSAFE.sub(esc, key)}"
    return uri + (f"?versionId={_VERSION_UNSAFE.sub(esc, version)}" if version else "")


def _parse_local(raw_path: str, media_root: Path) -> MediaRef:
    _refuse_control_chars(raw_path)
    path = local.confine(raw_path, media_root)
    return MediaRef(uri=path.as_uri(), scheme="file", path=path)


def sniff(head: bytes) -> str | None:
    """The format named by a file's first bytes, or None if not one we know."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM":
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[4:8] == b"ftyp":
        if head[8:12] in _HEIF_BRANDS:  # same ISO box layout, but a still image (iPhone photos)
            return "heif"
        return "mov" if head[8:10] == b"qt" else "mp4"
    if head[4:8] in _QUICKTIME_ATOMS:  # QuickTime files older than the ftyp box start with one of these
        return "mov"
    return None


def kind_of(fmt: str | None) -> str | None:
    if fmt in IMAGE_FORMATS:
        return "image"
    if fmt in VIDEO_FORMATS:
        return "video"
    return None


def media_kind(ref: MediaRef) -> str:
    """"image" or "video": by content for local files, by extension for S3."""
    if ref.scheme == "file" and ref.path is not None:
        with local.open_file(ref.path) as fh:
            kind = kind_of(sniff(fh.read(32)))
        if kind:
            return kind
    # Unknown content defaults to the image path, where the worker fails it
    # with a precise reason instead of refusing it here without one.
    return ref.extension_kind or "image"
