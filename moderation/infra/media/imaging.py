"""Image content checks and preparation, shared by every provider.

Rekognition accepts JPEG/PNG, 80..10,000 px a side, at most 5 MiB as bytes.
We check all of that here, before paying for a call, so a bad upload fails
with a reason a person can act on rather than an API error code.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from moderation.domain.errors import BadInput
from moderation.infra.media import budget
from moderation.infra.media.uris import sniff

MIN_SIDE = 80
MAX_SIDE = 10_000
REKOGNITION_MAX_BYTES = 5 * 1024 * 1024
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
    width: int = 0  # the image's own size, as its header says (``decoded`` may be smaller: a JPEG draft)
    height: int = 0
    sha256: str = ""
    # The pixels ``prepare`` decoded to validate ``data``, kept when asked (``keep_decoded``)
    # so that a provider that needs pixels does not decode the same bytes a second time.
    decoded: Image.Image | None = field(default=None, compare=False, repr=False)
    max_decode_bytes: int = field(default=budget.DEFAULT_MAX_DECODE_BYTES, compare=False, repr=False)

    def pil(self) -> Image.Image:
        """Decoded RGB image with EXIF orientation applied (phone photos upright). Do not modify it."""
        img = self.upright()
        return img if img.mode == "RGB" else img.convert("RGB")

    def upright(self) -> Image.Image:
        """The decoded image turned upright (EXIF orientation), 8 bits a sample, in the mode it was decoded in
        (L, RGB, CMYK, P...): a provider that samples a few rows converts only those (``nudenet_model``)."""
        if self.decoded is not None:
            return _upright(eight_bit(self.decoded))
        assert self.data is not None, "an S3-only image has no bytes to decode"
        # ``prepare`` validated these bytes (or made them): Pillow's errors are left to the caller.
        img = Image.open(io.BytesIO(self.data))
        budget.draft(img, self.max_decode_bytes, budget.TO_FIT)
        budget.check_decode_budget(img, self.max_decode_bytes)
        img.load()
        return _upright(eight_bit(img))


def _upright(img: Image.Image) -> Image.Image:
    """``exif_transpose(img)`` without its full copy when it changes nothing (a 12 MP photo is 48 MB a copy)."""
    if img.getexif().get(0x0112, 1) not in (None, 1):
        img = ImageOps.exif_transpose(img)
    return img


def eight_bit(img: Image.Image) -> Image.Image:
    """What a viewer sees of a 16-bit greyscale image, as 8-bit greyscale: the high byte of each sample.

    Pillow's own conversion clips 16-bit samples to 255, which shows every such image to a model as white.
    Converted in strips so that no 32-bit copy of the whole image is made. Other modes are returned as they are.
    """
    if not img.mode.startswith("I;16"):
        return img
    out = Image.new("L", img.size)
    for top in range(0, img.height, _STRIP_ROWS):
        box = (0, top, img.width, min(top + _STRIP_ROWS, img.height))
        out.paste(Image.fromarray((np.asarray(img.crop(box)) >> 8).astype(np.uint8), "L"), box[:2])
    return out


def from_s3(bucket: str, key: str, version: str = "") -> PreparedImage:
    """An S3 object the provider reads in place; ``version`` may be ``etag:<ETag>`` (``aws.s3_version``), which
    pins the content key but is not sent to S3."""
    request_version = "" if version.startswith("etag:") else version
    return PreparedImage(s3=S3Object(bucket, key, request_version), sha256=f"s3:{bucket}/{key}@{version}")


def prepare(data: bytes, keep_decoded: bool = False,
            max_decode_bytes: int = budget.DEFAULT_MAX_DECODE_BYTES) -> PreparedImage:
    """Validate image bytes and make them acceptable to Rekognition.

    Raises ``BadInput`` with a specific reason for empty, non-image, corrupt,
    too small or too large images, and for images whose decoded pixels would
    exceed ``max_decode_bytes`` (MODQ_MAX_DECODE_BYTES): sides and cost are read
    from the header, before any pixel is decoded. A JPEG over the budget is
    decoded at a reduced size instead (``budget.draft``), the largest that fits.
    ``keep_decoded``: keep the validating decode for ``upright()`` (the offline
    model); a provider that sends bytes should not hold the pixels in memory
    while it waits for an answer (and its validating decode may be reduced).
    """
    if not data:
        raise BadInput("file is empty (0 bytes)")
    fmt = sniff(data[:32])
    if fmt is None:
        raise BadInput(f"not a supported image: content starts with {_describe(data[:16])}")
    if fmt in ("mp4", "mov"):
        raise BadInput(f"content is a {fmt} video, not an image")
    sent_as_is = fmt in _NATIVE and len(data) <= REKOGNITION_MAX_BYTES
    # Pixels only validated and dropped may be decoded at any size; pixels a provider sees are reduced only to fit.
    reduce = budget.TO_FIT if keep_decoded and sent_as_is else budget.SMALLEST
    decoded, (width, height) = _decode_fully(data, fmt, max_decode_bytes, reduce)
    if not (keep_decoded and sent_as_is):
        decoded = None  # freed now, not held through the rest (or a re-encode)
    digest = hashlib.sha256(data).hexdigest()
    if sent_as_is:
        return PreparedImage(data=data, format=fmt, width=width, height=height, sha256=digest,
                             decoded=decoded, max_decode_bytes=max_decode_bytes)
    fitted = _reencode_to_fit(data, max_decode_bytes)
    return PreparedImage(data=fitted, format="jpeg", width=width, height=height, sha256=digest,
                         max_decode_bytes=max_decode_bytes)


def _decode_fully(data: bytes, fmt: str, limit: int, reduce: str) -> tuple[Image.Image, tuple[int, int]]:
    """The decoded image and the size its header declares; sides and budget are checked before decoding."""
    try:
        img = Image.open(io.BytesIO(data))
        size = img.size
        check_sides(*size)
        budget.draft(img, limit, reduce)
        budget.check_decode_budget(img, limit)
        img.load()  # a truncated file only fails when pixels are read (and the file is closed after it)
        return img, size
    except Image.DecompressionBombWarning:
        raise BadInput(f"image has more than {Image.MAX_IMAGE_PIXELS:,} pixels") from None
    except Image.DecompressionBombError:
        raise BadInput(f"image has more than {Image.MAX_IMAGE_PIXELS:,} pixels") from None
    except UnidentifiedImageError:
        raise BadInput(f"{fmt} header but the image cannot be decoded") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadInput(f"corrupt or truncated {fmt} image: {exc}") from None


def _reencode_to_fit(data: bytes, limit: int) -> bytes:
    """A JPEG under Rekognition's 5 MiB byte limit, downscaling only if needed.

    The 8-bit copy the encoder needs is made in strips and kept within ``limit`` too (reduced by a
    box filter when the whole would not fit: Pillow holds RGB as 4 bytes a pixel).
    """
    img = Image.open(io.BytesIO(data))  # not closed in a ``with``: closing frees pixels ``frame`` may share
    budget.draft(img, limit, budget.TO_FIT)
    img.load()
    frame = _upright(_jpeg_ready(img, limit))
    del img  # when ``frame`` is a copy, the decode is not held through the encoding
    # Huffman optimisation keeps every DCT coefficient (2 bytes a sample) and Pillow adds a
    # width x height output buffer: ~4 bytes a pixel, more than the decode, to save a few
    # percent of bytes. Only images for which that is at most a quarter of the budget get it.
    optimize = 4 * frame.width * frame.height <= limit // 4
    scale = 1.0
    while True:
        size = (max(MIN_SIDE, int(frame.width * scale)), max(MIN_SIDE, int(frame.height * scale)))
        resized = frame if scale == 1.0 else frame.resize(size, Image.LANCZOS)
        out = io.BytesIO()
        resized.save(out, "JPEG", quality=90, optimize=optimize)
        if out.tell() <= REKOGNITION_MAX_BYTES:
            return out.getvalue()
        scale *= 0.75


def _jpeg_ready(img: Image.Image, limit: int) -> Image.Image:
    """``img`` as 8-bit greyscale or RGB, built strip by strip, box-reduced by the least factor that fits ``limit``."""
    mode = "L" if img.mode in _GREY else "RGB"
    per_pixel = 1 if mode == "L" else 4
    factor = 1
    while -(-img.width // factor) * -(-img.height // factor) * per_pixel > limit:
        factor += 1
    if mode == img.mode and factor == 1:
        return img
    out = Image.new(mode, (-(-img.width // factor), -(-img.height // factor)))
    rows = _STRIP_ROWS * factor
    for top in range(0, img.height, rows):
        strip = eight_bit(img.crop((0, top, img.width, min(top + rows, img.height)))).convert(mode)
        out.paste(strip.reduce(factor) if factor > 1 else strip, (0, top // factor))
    return out


_GREY = frozenset({"1", "L", "LA", "La", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"})
_STRIP_ROWS = 256


def check_sides(width: int, height: int, what: str = "image") -> None:
    """Rekognition's 80..10,000 px a side, from the header: refused before any pixel is decoded."""
    if min(width, height) < MIN_SIDE:
        raise BadInput(f"{what} is {width}x{height} px; each side must be at least {MIN_SIDE} px")
    if max(width, height) > MAX_SIDE:
        raise BadInput(f"{what} is {width}x{height} px; each side must be at most {MAX_SIDE:,} px")


def _describe(head: bytes) -> str:
    if all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return f"text {head.decode('ascii')!r}"
    return f"bytes {head.hex(' ')}"
