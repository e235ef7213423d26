"""Where media live and what they are: URI parsing, confinement, sniffing.

A ``MediaRef`` is parsed once at submit time; anything that could let a caller
read outside the media root or an unapproved bucket is refused there, before a
row exists. Content checks (decoding, dimensions) happen in the worker, see
``moderation.imaging``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from moderation.errors import BadInput, RefusedSubmission

IMAGE_FORMATS = {"jpeg", "png", "gif", "webp", "bmp", "tiff"}
VIDEO_FORMATS = {"mp4", "mov"}
_IMAGE_EXT = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".gif": "gif", ".webp": "webp",
              ".bmp": "bmp", ".tif": "tiff", ".tiff": "tiff"}
_VIDEO_EXT = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


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
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower()
    if scheme == "s3":
        return _parse_s3(parsed, uri, s3_buckets)
    if scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise RefusedSubmission(f"file URI names a host ({parsed.netloc!r}); only local files are accepted")
        return _parse_local(unquote(parsed.path), media_root)
    if scheme == "" or (len(scheme) == 1 and os.name == "nt"):
        return _parse_local(uri, media_root)
    raise RefusedSubmission(
        f"unsupported URI scheme {parsed.scheme!r} in {_shown(uri)!r}: use s3://bucket/key, file:///path or a path under the media root"
    )


def _refuse_control_chars(text: str) -> None:
    """NUL and other control characters are never part of a real path or key."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise RefusedSubmission("media URI contains control characters (after %-decoding)")


def _shown(uri: str) -> str:
    """The URI as an error message may quote it: a presigned URL's signature is a credential."""
    from moderation.redact import Scrubber

    return Scrubber(secrets=[]).text(uri)


def _parse_s3(parsed, uri: str, allowed: frozenset[str] | None) -> MediaRef:
    bucket = parsed.netloc
    key = unquote(parsed.path.lstrip("/"))
    _refuse_control_chars(key)
    if not _BUCKET.match(bucket):
        raise RefusedSubmission(f"invalid S3 bucket name {bucket!r} in {_shown(uri)!r}")
    if not key or len(key) > 1024:
        raise RefusedSubmission(f"S3 URI {_shown(uri)!r} needs an object key of 1-1024 characters")
    if allowed is not None and bucket not in allowed:
        raise RefusedSubmission(f"S3 bucket {bucket!r} is not in MODQ_S3_BUCKETS")
    version = ""
    if parsed.query:
        match = re.fullmatch(r"versionId=([^&]{1,1024})", parsed.query)
        if not match:
            raise RefusedSubmission(f"S3 URI {_shown(uri)!r}: the only query accepted is versionId=...")
        version = unquote(match.group(1))
    return MediaRef(uri=s3_uri(bucket, key, version), scheme="s3", bucket=bucket, key=key, version=version)


# What ``parse`` would otherwise change on the way back: "%" (decoded), "?" and "#" (query and
# fragment), trailing whitespace (``parse`` strips the URI) and leading "/" (``_parse_s3`` drops them).
# S3 keys may contain all of these, and S3 upload events deliver them (moderation/s3_events.py).
_KEY_UNSAFE = re.compile(r"[%?#]|^/+|\s+\Z")
_VERSION_UNSAFE = re.compile(r"[%&#\s]")


def valid_bucket_name(name: str) -> bool:
    return bool(_BUCKET.match(name))


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
    root = media_root.resolve()
    candidate = Path(raw_path)
    if ".." in candidate.parts:
        raise RefusedSubmission(f"path {raw_path!r} contains '..'; give a path inside the media root")
    if not candidate.is_absolute():
        candidate = root / candidate
    try:
        resolved = candidate.resolve()  # follows symlinks, so a link out of the root is caught below
        if resolved != root and root not in resolved.parents:
            raise RefusedSubmission(f"path {raw_path!r} is outside the media root {str(root)!r} (MODQ_MEDIA_ROOT)")
        exists = resolved.is_file()
    except (OSError, ValueError) as exc:  # e.g. a name longer than the filesystem allows
        raise RefusedSubmission(f"path {raw_path[:200]!r} is not usable: {exc.strerror or exc}") from None
    if not exists:
        raise RefusedSubmission(f"no such file under the media root: {raw_path!r}")
    return MediaRef(uri=resolved.as_uri(), scheme="file", path=resolved)


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
        with open(ref.path, "rb") as fh:
            kind = kind_of(sniff(fh.read(32)))
        if kind:
            return kind
    # Unknown content defaults to the image path, where the worker fails it
    # with a precise reason instead of refusing it here without one.
    return ref.extension_kind or "image"


def read_local(ref: MediaRef, max_bytes: int) -> bytes:
    """Bytes of a local file with the size limit applied before reading it all."""
    assert ref.path is not None
    try:
        size = ref.path.stat().st_size
    except FileNotFoundError:
        raise BadInput(f"file no longer exists: {ref.path}") from None
    if size == 0:
        raise BadInput("file is empty (0 bytes)")
    if size > max_bytes:
        raise BadInput(f"file is {size:,} bytes, over the limit of {max_bytes:,} (MODQ_MAX_IMAGE_BYTES)")
    return ref.path.read_bytes()
