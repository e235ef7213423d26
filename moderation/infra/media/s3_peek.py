"""May Rekognition read this S3 image in place? One ranged GET of the object's first bytes says.

Rekognition reads an ``S3Object`` itself, as JPEG or PNG, and of an animated
PNG (APNG) it sees only the default image: an S3 object must not reach it
that way if it may have more frames. So before sending an S3 reference the
worker reads the object's first ``HEAD_BYTES`` (a ranged GetObject, in place
of the HeadObject that used to pin its version, so the request count is the
same):

* a JPEG, a still PNG (its first ``IDAT`` comes before any ``acTL``) or
  anything unrecognised goes to Rekognition as an ``S3Object``, as before
  (unrecognised content gets Rekognition's own verdict on it);
* an APNG, a PNG whose first ``HEAD_BYTES`` end before its first ``IDAT``
  (large metadata chunks first: it cannot be told, so it is read), a GIF,
  WebP or TIFF is downloaded (``MODQ_MAX_IMAGE_BYTES``) and read here frame by
  frame (``frames``). Rekognition cannot read GIF, WebP or TIFF from S3 at all:
  those used to fail, and are now moderated.

The peek's VersionId pins both the download and Rekognition's read to the
bytes looked at. On an unversioned bucket, an object overwritten between the
peek and Rekognition's read would be read as it is then: enable versioning to
close that window (the ETag only keys paying once).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from moderation.infra.aws import error_code, fetch_s3_object, reading_s3
from moderation.domain.errors import BadInput
from moderation.infra.media.frame_headers import png_is_animated
from moderation.infra.media.uris import sniff

HEAD_BYTES = 64 * 1024  # PNG chunks before IDAT (IHDR, colour profile, text) fit in this almost always


@dataclass(frozen=True)
class Peek:
    head: bytes = field(repr=False)
    version: str  # the VersionId read, else "etag:<ETag>" (``aws.s3_version``'s form)
    in_place: bool  # Rekognition may read it as an S3Object: it is one picture in a format it reads


def peek(s3, bucket: str, key: str, version: str = "") -> Peek:
    """The object's first bytes and version; ``BadInput`` if it is missing or empty."""
    where = f"s3://{bucket}/{key}"
    extra = {"VersionId": version} if version else {}
    with reading_s3(where, s3):  # the client too: an unknown region is a deployment fault
        got = _ranged_get(s3, bucket, key, extra)
        head = got["Body"].read()
    if not head:
        raise BadInput(f"{where} is empty (0 bytes)")
    return Peek(head, _version(got), readable_in_place(head))


def _ranged_get(s3, bucket: str, key: str, extra: dict) -> dict:
    try:
        return s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{HEAD_BYTES - 1}", **extra)
    except ClientError as exc:
        if error_code(exc) == "InvalidRange":  # S3's answer to a range of an empty object
            raise BadInput(f"s3://{bucket}/{key} is empty (0 bytes)") from None
        raise


def readable_in_place(head: bytes) -> bool:
    """False when the first bytes show (or cannot rule out) more than one frame, or a format Rekognition
    cannot read from S3 (GIF, WebP, TIFF, BMP: read here, like a local file, instead of failing there)."""
    fmt = sniff(head[:32])
    if fmt == "png":
        return png_is_animated(head) is False
    return fmt not in ("gif", "webp", "tiff", "bmp")


def fetch(s3, bucket: str, key: str, version: str, max_bytes: int) -> bytes:
    """The whole object, the version peeked at when the bucket keeps versions."""
    request_version = "" if version.startswith("etag:") else version
    return fetch_s3_object(s3, bucket, key, request_version, max_bytes)


def _version(got: dict) -> str:
    version = got.get("VersionId")
    if version and version != "null":  # "null": written before versioning was enabled
        return version
    return "etag:" + got.get("ETag", "").strip('"')
