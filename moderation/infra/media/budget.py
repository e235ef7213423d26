"""The decode budget (MODQ_MAX_DECODE_BYTES): what decoding an image would cost, read from its header.

Checked before any pixel is decoded, so a few hundred KB of compressed zeros cannot make the
worker allocate gigabytes first; a JPEG over the budget is decoded at a reduced size instead
(``draft``). Used by ``imaging.prepare``, multi-frame images (``frames``) and offline video.
"""

from __future__ import annotations

import re

import structlog
from PIL import Image, ImageMode

from moderation.domain.errors import BadInput

DEFAULT_MAX_DECODE_BYTES = 256 * 1024**2  # MODQ_MAX_DECODE_BYTES
MIB = 1024**2

log = structlog.get_logger("modq.imaging")  # the logger the reduced-decode event has always had


TO_FIT, SMALLEST = "to fit", "smallest"  # how far ``draft`` reduces a JPEG


def draft(img: Image.Image, budget: int, reduce: str) -> None:
    """Decode a JPEG at 1/2, 1/4 or 1/8 of its size (libjpeg's DCT scaling, Pillow's ``draft``).

    ``SMALLEST``: the pixels are only validated (every coefficient is still entropy-decoded, so a
    corrupt or truncated file fails as it would at full size). ``TO_FIT``: the least reduction that
    brings the decode within ``budget``, and none when it fits already: a reduced decode is not what
    the full one is (at 4x the offline model's input it moved NudeNet's face scores by up to 0.13,
    against 0.05 for re-encoding the same photo), so it is used only where the choice is reducing
    or refusing. Other formats cannot decode at a reduced size.
    """
    if img.format != "JPEG":
        return
    bands, sample_bytes = sample_layout(img)
    for scale in (1, 2, 4, 8):
        width, height = -(-img.width // scale), -(-img.height // scale)
        if reduce == TO_FIT and width * height * bands * sample_bytes <= budget:
            break
    if scale == 1:
        return
    if reduce == TO_FIT:  # what the provider sees is reduced: say so
        log.info("jpeg_decoded_reduced", size=f"{img.width}x{img.height}", scale=f"1/{scale}")
    img.draft(img.mode, (img.width // scale, img.height // scale))


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
                       f"decoding it needs {format_mib(cost)}, over the decode budget of {format_mib(budget)} "
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


def format_mib(n: int) -> str:
    return f"{n // MIB:,} MiB" if n % MIB == 0 else f"{n / MIB:,.1f} MiB"
