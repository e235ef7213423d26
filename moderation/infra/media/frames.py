"""Multi-frame images (animated GIF, APNG, animated WebP, multi-page TIFF): what a viewer sees, frame by frame.

``probe`` tells a still from a sequence cheaply (a JPEG is never looked at
again; a PNG has its chunk headers read up to the first IDAT) and applies the
sequence limits from the header, before any frame is decoded. ``scan`` then
decodes every frame once to learn what it looks like and how long it is on
screen; ``decode`` decodes only the frames chosen for analysis
(``frame_selection``), one at a time, so a worker never holds more than one.
"""

from __future__ import annotations

import hashlib
import io
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator

from PIL import Image, ImageOps, UnidentifiedImageError

from moderation.infra.media import budget, imaging
from moderation.domain.errors import BadInput
from moderation.infra.media.frame_headers import gif_frame_count, png_is_animated
from moderation.domain.frame_selection import PAGE_WEIGHT, Frame, display_ms
from moderation.infra.media.uris import sniff

SEQUENCE_FORMATS = ("gif", "png", "webp", "tiff")  # JPEG (MPO extras) and BMP: viewers show one picture


@dataclass(frozen=True)
class Limits:
    max_frames: int  # MODQ_ANIMATION_MAX_FRAMES: distinct frames analysed
    max_frame_count: int  # MODQ_ANIMATION_MAX_FRAME_COUNT: frames a file may have
    max_total_pixels: int  # MODQ_ANIMATION_MAX_TOTAL_PIXELS: pixels over all its frames
    max_decode_bytes: int  # MODQ_MAX_DECODE_BYTES: one decoded frame

    @classmethod
    def of(cls, settings) -> "Limits":
        return cls(settings.animation_max_frames, settings.animation_max_frame_count,
                   settings.animation_max_total_pixels, settings.max_decode_bytes)


@dataclass(frozen=True)
class Sequence:
    data: bytes
    format: str
    frame_count: int
    width: int  # the canvas (an animation) or the first page (a TIFF)
    height: int
    pages: bool  # a multi-page TIFF: pages, not timed frames
    last_stays: bool  # plays a limited number of times, so its last frame stays on screen
    sha256: str

    @property
    def what(self) -> str:
        return f"multi-page {self.format}" if self.pages else f"animated {self.format}"


def probe(data: bytes, limits: Limits) -> Sequence | None:
    """The sequence in ``data``, or None for a still image (the still path is unchanged).

    Raises ``BadInput`` naming the limit for a file over ``MODQ_ANIMATION_MAX_FRAME_COUNT`` or
    ``MODQ_ANIMATION_MAX_TOTAL_PIXELS``, read from the header, before any frame is decoded.
    """
    fmt = sniff(data[:32])
    if fmt not in SEQUENCE_FORMATS or not _may_have_frames(data, fmt):
        return None
    with _reading(fmt, "header"), Image.open(io.BytesIO(data)) as img:
        sizes = _frame_sizes(img, fmt, data, limits.max_frame_count + 1)
        if len(sizes) <= 1:
            return None
        pages = fmt == "tiff"
        seq = Sequence(data, fmt, len(sizes), *sizes[0], pages, _last_stays(img, fmt),
                       hashlib.sha256(data).hexdigest())
    _check_limits(seq, sizes, limits)
    return seq


def _may_have_frames(data: bytes, fmt: str) -> bool:
    """The cheap look: chunk headers of a PNG, block headers of a GIF; WebP and TIFF ask Pillow."""
    if fmt == "png":
        return png_is_animated(data) is True
    if fmt == "gif":
        return gif_frame_count(data, 2) > 1
    return True


def _frame_sizes(img: Image.Image, fmt: str, data: bytes, stop: int) -> list[tuple[int, int]]:
    """Each frame's decoded size, at most ``stop`` of them, without decoding any."""
    if fmt == "tiff":  # pages are independent, each its own size; a seek reads one IFD
        sizes = []
        for index in range(stop):
            try:
                img.seek(index)
            except EOFError:
                break
            sizes.append(img.size)
        return sizes
    count = gif_frame_count(data, stop) if fmt == "gif" else getattr(img, "n_frames", 1)
    return [img.size] * min(count, stop)  # GIF, APNG and WebP frames are drawn on one canvas


def _last_stays(img: Image.Image, fmt: str) -> bool:
    # A GIF without a NETSCAPE loop block plays once; loop 0 is "for ever" in every format.
    return fmt != "tiff" and img.info.get("loop", 1 if fmt == "gif" else 0) != 0


def _check_limits(seq: Sequence, sizes: list[tuple[int, int]], limits: Limits) -> None:
    noun = "pages" if seq.pages else "frames"
    if len(sizes) > limits.max_frame_count:
        raise BadInput(f"{seq.what} has more than {limits.max_frame_count:,} {noun}, the limit "
                       f"(MODQ_ANIMATION_MAX_FRAME_COUNT)")
    for index, (width, height) in enumerate(sizes if seq.pages else sizes[:1]):
        imaging.check_sides(width, height, f"page {index} of the {seq.what}" if seq.pages else seq.what)
    total = sum(w * h for w, h in sizes)
    if total > limits.max_total_pixels:
        raise BadInput(f"{seq.what} has {total:,} pixels over its {len(sizes):,} {noun}, over the limit of "
                       f"{limits.max_total_pixels:,} (MODQ_ANIMATION_MAX_TOTAL_PIXELS)")


def scan(seq: Sequence, limits: Limits) -> list[Frame]:
    """Every frame decoded once: its digest (for deduplication) and display time."""
    frames, offset = [], 0
    for index, img in _decoded(seq, range(seq.frame_count), limits):
        shown = PAGE_WEIGHT if seq.pages else display_ms(img.info.get("duration"))
        frames.append(Frame(index, None if seq.pages else offset, shown, pixel_digest(viewed(img))))
        offset += 0 if seq.pages else shown
    return frames


def decode(seq: Sequence, indexes: Iterable[int], limits: Limits) -> Iterator[tuple[int, Image.Image]]:
    """The frames at ``indexes`` (ascending) as a viewer sees them, one at a time."""
    for index, img in _decoded(seq, indexes, limits):
        yield index, viewed(img)


def _decoded(seq: Sequence, indexes: Iterable[int], limits: Limits) -> Iterator[tuple[int, Image.Image]]:
    with _reading(seq.format, "frame 0"), Image.open(io.BytesIO(seq.data)) as img:
        for index in indexes:
            with _reading(seq.format, f"{'page' if seq.pages else 'frame'} {index}"):
                img.seek(index)  # GIF, APNG and WebP draw the frames before it first: they build on them
                budget.check_decode_budget(img, limits.max_decode_bytes, f"frame {index} of the {seq.what}")
                img.load()
            yield index, img


def viewed(img: Image.Image) -> Image.Image:
    """The current frame upright (EXIF orientation) in RGB: a new image, left alone by the next seek."""
    if img.getexif().get(0x0112, 1) not in (None, 1):
        img = ImageOps.exif_transpose(img)
    return img.convert("RGB")


def pixel_digest(rgb: Image.Image) -> str:
    """What identifies a frame's picture: the same pixels are the same frame, whatever file they came from."""
    return hashlib.sha256(f"{rgb.width}x{rgb.height}:".encode() + rgb.tobytes()).hexdigest()


def render_png(data: bytes, index: int, limits: Limits) -> bytes:
    """Frame ``index`` of a sequence as a PNG (the review console shows the frame that fired)."""
    seq = probe(data, limits)
    if seq is None or not 0 <= index < seq.frame_count:
        raise BadInput(f"the media has no frame {index}")
    (_, rgb), = decode(seq, [index], limits)
    out = io.BytesIO()
    rgb.save(out, "PNG")
    return out.getvalue()


@contextmanager
def _reading(fmt: str, where: str) -> Iterator[None]:
    """Pillow's errors for one frame as ``BadInput`` naming it (the still path's messages, per frame)."""
    try:
        yield  # imaging turned DecompressionBombWarning into an error for the whole process
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise BadInput(f"image has more than {Image.MAX_IMAGE_PIXELS:,} pixels") from None
    except UnidentifiedImageError:
        raise BadInput(f"{fmt} header but the image cannot be decoded") from None
    except EOFError:
        raise BadInput(f"corrupt or truncated {fmt} image: {where} is missing") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadInput(f"corrupt or truncated {fmt} image: {where}: {exc}") from None
