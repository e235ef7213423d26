"""Image content checks and preparation, shared by every provider.

Rekognition accepts JPEG/PNG, 80..10,000 px a side, at most 5 MiB as bytes.
We check all of that here, before paying for a call, so a bad upload fails
with a reason a person can act on rather than an API error code.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass, field

from PIL import Image, ImageMode, ImageOps, UnidentifiedImageError

from moderation.errors import BadInput
from moderation.media import sniff

MIN_SIDE = 80
MAX_SIDE = 10_000
REKOGNITION_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_DECODE_BYTES = 256 * 1024**2  # MODQ_MAX_DECODE_BYTES
MIB = 1024**2
_NATIVE = {"jpeg", "png"}

# A decompression bomb is bad input, not a warning.
Image.MAX_IMAGE_PIXELS = MAX_SIDE * MAX_SIDE
warnings.simplefilter("error", Image.DecompressionBombWarning)


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    version: str = ""


@dataclass(frozen=True)
class PreparedImage:
    """What a provider receives: bytes it can send as-is, or an S3 location."""

    data: bytes | None = None
    s3: S3Object | None = None
    format: str = ""
    width: int = 0
    height: int = 0
    sha256: str = ""
    # The pixels ``prepare`` decoded to validate ``data``, kept when asked (``keep_decoded``)
    # so that a provider that needs pixels does not decode the same bytes a second time.
    decoded: Image.Image | None = field(default=None, compare=False, repr=False)

    def pil(self) -> Image.Image:
        """Decoded RGB image with EXIF orientation applied (phone photos upright). Do not modify it."""
        if self.decoded is not None:
            return _upright_rgb(self.decoded)
        assert self.data is not None, "an S3-only image has no bytes to decode"
        with Image.open(io.BytesIO(self.data)) as img:
            img.load()
            return _upright_rgb(img)


def _upright_rgb(img: Image.Image) -> Image.Image:
    """``exif_transpose(img).convert("RGB")`` without its two full copies when neither changes anything
    (a 12 MP photo is 36 MB a copy)."""
    if img.getexif().get(0x0112, 1) not in (None, 1):
        img = ImageOps.exif_transpose(img)
    return img if img.mode == "RGB" else img.convert("RGB")


def from_s3(bucket: str, key: str, version: str = "") -> PreparedImage:
    """An S3 object the provider reads in place; ``version`` may be ``etag:<ETag>`` (``aws.s3_version``), which
    pins the content key but is not sent to S3."""
    request_version = "" if version.startswith("etag:") else version
    return PreparedImage(s3=S3Object(bucket, key, request_version), sha256=f"s3:{bucket}/{key}@{version}")


def prepare(data: bytes, keep_decoded: bool = False) -> PreparedImage:
    """Validate image bytes and make them acceptable to Rekognition.

    Raises ``BadInput`` with a specific reason for empty, non-image, corrupt,
    too small or too large images. ``keep_decoded``: keep the validating decode
    for ``pil()`` (the offline model); a provider that sends bytes should not
    hold the pixels in memory while it waits for an answer.
    """
    if not data:
        raise BadInput("file is empty (0 bytes)")
    fmt = sniff(data[:32])
    if fmt is None:
        raise BadInput(f"not a supported image: content starts with {_describe(data[:16])}")
    if fmt in ("mp4", "mov"):
        raise BadInput(f"content is a {fmt} video, not an image")
    decoded = _decode_fully(data, fmt)
    width, height = decoded.size
    if not keep_decoded:
        decoded = None  # freed now, not held through the rest (or a re-encode)
    if min(width, height) < MIN_SIDE:
        raise BadInput(f"image is {width}x{height} px; each side must be at least {MIN_SIDE} px")
    if max(width, height) > MAX_SIDE:
        raise BadInput(f"image is {width}x{height} px; each side must be at most {MAX_SIDE:,} px")
    digest = hashlib.sha256(data).hexdigest()
    if fmt in _NATIVE and len(data) <= REKOGNITION_MAX_BYTES:
        return PreparedImage(data=data, format=fmt, width=width, height=height, sha256=digest,
                             decoded=decoded)
    decoded = None
    fitted = _reencode_to_fit(data)
    return PreparedImage(data=fitted, format="jpeg", width=width, height=height, sha256=digest)


def _decode_fully(data: bytes, fmt: str) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data))
        img.load()  # a truncated file only fails when pixels are read (and the file is closed after it)
        return img
    except Image.DecompressionBombWarning:
        raise BadInput(f"image has more than {Image.MAX_IMAGE_PIXELS:,} pixels") from None
    except Image.DecompressionBombError:
        raise BadInput(f"image has more than {Image.MAX_IMAGE_PIXELS:,} pixels") from None
    except UnidentifiedImageError:
        raise BadInput(f"{fmt} header but the image cannot be decoded") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadInput(f"corrupt or truncated {fmt} image: {exc}") from None


def _reencode_to_fit(data: bytes) -> bytes:
    """A JPEG under Rekognition's 5 MiB byte limit, downscaling only if needed."""
    with Image.open(io.BytesIO(data)) as img:
        rgb = ImageOps.exif_transpose(img).convert("RGB")
    scale = 1.0
    while True:
        size = (max(MIN_SIDE, int(rgb.width * scale)), max(MIN_SIDE, int(rgb.height * scale)))
        frame = rgb if scale == 1.0 else rgb.resize(size, Image.LANCZOS)
        out = io.BytesIO()
        frame.save(out, "JPEG", quality=90, optimize=True)
        if out.tell() <= REKOGNITION_MAX_BYTES:
            return out.getvalue()
        scale *= 0.75


def check_sides(width: int, height: int, what: str = "image") -> None:
    """Rekognition's 80..10,000 px a side, from the header: refused before any pixel is decoded."""
    if min(width, height) < MIN_SIDE:
        raise BadInput(f"{what} is {width}x{height} px; each side must be at least {MIN_SIDE} px")
    if max(width, height) > MAX_SIDE:
        raise BadInput(f"{what} is {width}x{height} px; each side must be at most {MAX_SIDE:,} px")


def check_decode_budget(img: Image.Image, budget: int, what: str = "image") -> None:
    """Refuse an opened, not yet loaded image whose pixels would take more than ``budget`` bytes.

    Reads only what ``Image.open`` read from the header (size, mode, declared sample depth), so a
    few hundred KB of compressed zeros cannot make the worker allocate gigabytes first. Call it on
    each frame or page that will be decoded (``img.seek(n)`` first), after any ``draft``.
    """
    bands, sample_bytes = sample_layout(img)
    cost = img.width * img.height * bands * sample_bytes
    if cost > budget:
        raise BadInput(f"{what} is {img.width}x{img.height} px with {bands} x {8 * sample_bytes}-bit samples: "
                       f"decoding it needs {_mib(cost)}, over the decode budget of {_mib(budget)} "
                       f"(MODQ_MAX_DECODE_BYTES)")


def sample_layout(img: Image.Image) -> tuple[int, int]:
    """(bands, bytes per sample) of ``img``'s pixels: the bands Pillow decodes into, and the deeper of
    the sample size the file declares (16-bit TIFF/PNG samples) and the one Pillow stores."""
    mode = ImageMode.getmode(img.mode)
    stored = int(mode.typestr[-1])  # "|u1" -> 1, "<u2" -> 2, "<i4"/"<f4" -> 4
    return len(mode.bands), max(stored, _declared_sample_bytes(img))


def _declared_sample_bytes(img: Image.Image) -> int:
    tags = getattr(img, "tag_v2", None)  # TIFF: BitsPerSample (258), one value per sample
    if tags is not None and 258 in tags:
        bits = tags[258]
        return -(-max(bits if isinstance(bits, tuple) else (bits,)) // 8)
    # Other formats: the raw layout Pillow chose from the header, e.g. PNG's "RGB;16B".
    args = img.tile[0].args if img.tile else None
    rawmode = args if isinstance(args, str) else args[0] if isinstance(args, tuple) and args else ""
    depth = re.search(r";(16|32|64)", rawmode) if isinstance(rawmode, str) else None
    return int(depth.group(1)) // 8 if depth else 1


def _mib(n: int) -> str:
    return f"{n // MIB:,} MiB" if n % MIB == 0 else f"{n / MIB:,.1f} MiB"


def _describe(head: bytes) -> str:
    if all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return f"text {head.decode('ascii')!r}"
    return f"bytes {head.hex(' ')}"
