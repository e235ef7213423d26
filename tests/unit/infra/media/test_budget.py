"""The decode budget: what an image costs is read from its header and refused before any pixel is decoded."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from moderation.infra.media import budget, imaging
from moderation.domain.errors import BadInput
from tests import crafted_media
from tests.conftest import REPO

MIB = 1024**2


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize("data, layout", [
    (crafted_media.png(300, 200), (3, 1)),
    (crafted_media.png(300, 200, bit_depth=16, color_type=2), (3, 2)),  # Pillow keeps 8 bits; the file has 16
    (crafted_media.png(300, 200, bit_depth=16, color_type=0), (1, 2)),
    (crafted_media.tiff(300, 200, bits=16, samples=1), (1, 2)),
    (crafted_media.tiff(300, 200, bits=16, samples=3), (3, 2)),
    (crafted_media.cmyk_jpeg(300, 200), (4, 1)),
])
def test_sample_layout_is_read_from_the_header(data, layout):
    img = opened(data)
    assert budget.sample_layout(img) == layout
    assert img._im is None  # Pillow allocates the pixels (``_im``) only on load: nothing was decoded


def test_an_image_over_the_budget_is_refused_naming_the_setting():
    img = opened(crafted_media.tiff(10_000, 10_000, bits=16, samples=3))
    with pytest.raises(BadInput) as info:
        budget.check_decode_budget(img, 256 * MIB)
    assert str(info.value) == ("image is 10000x10000 px with 3 x 16-bit samples: decoding it needs 572.2 MiB, "
                               "over the decode budget of 256 MiB (MODQ_MAX_DECODE_BYTES)")
    assert img._im is None


def test_an_image_at_the_budget_passes_and_one_byte_less_refuses():
    img = opened(crafted_media.png(1000, 500))  # 1,500,000 bytes decoded
    budget.check_decode_budget(img, 1_500_000)
    with pytest.raises(BadInput, match="needs 1.4 MiB, over the decode budget of 1.4 MiB"):
        budget.check_decode_budget(img, 1_499_999)


def test_what_names_a_frame():
    with pytest.raises(BadInput, match=r"^frame 3 is 300x200 px"):
        budget.check_decode_budget(opened(crafted_media.png(300, 200)), 1000, what="frame 3")


@pytest.mark.parametrize("size, message", [
    ((79, 200), "image is 79x200 px; each side must be at least 80 px"),
    ((1_000_000, 100), "image is 1000000x100 px; each side must be at most 10,000 px"),
])
def test_sides_are_checked_from_the_header(size, message):
    with pytest.raises(BadInput) as info:
        imaging.check_sides(*size)
    assert str(info.value) == message


# --- what prepare decodes, and at what size ------------------------------------------------------


def _i16(fmt: str, value: int, size=(120, 90)) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full(size[::-1], value, np.uint16)).save(buf, fmt)
    return buf.getvalue()


def test_16_bit_grey_is_seen_as_its_high_byte_not_clipped_to_white():
    """Pillow's conversion clips 16-bit samples to 255: every such image reached the model as white."""
    prepared = imaging.prepare(_i16("PNG", 0x8040), keep_decoded=True)  # sent as-is: the kept decode
    assert prepared.decoded.mode == "I;16"
    assert prepared.upright().getpixel((5, 5)) == 0x80
    assert prepared.pil().getpixel((5, 5)) == (0x80, 0x80, 0x80)


def test_16_bit_grey_tiff_is_reencoded_as_its_high_byte():
    prepared = imaging.prepare(_i16("TIFF", 0x3000))
    assert prepared.format == "jpeg"
    with Image.open(io.BytesIO(prepared.data)) as img:
        assert img.mode == "L" and img.getpixel((5, 5)) == 0x30


def test_a_jpeg_within_the_budget_is_decoded_at_full_size_for_the_model():
    photo = (REPO / "samples" / "rocket.jpg").read_bytes()
    prepared = imaging.prepare(photo, keep_decoded=True)
    assert prepared.decoded.size == (prepared.width, prepared.height) == (640, 427)


def test_a_jpeg_over_the_budget_is_decoded_at_the_least_reduction_that_fits():
    data = crafted_media.cmyk_jpeg(2000, 2000)  # 16,000,000 bytes at full size
    prepared = imaging.prepare(data, keep_decoded=True, max_decode_bytes=4 * MIB)
    assert (prepared.width, prepared.height) == (2000, 2000)  # the image's own size, from its header
    assert prepared.decoded.size == (1000, 1000)  # 1/2: 4,000,000 bytes
    assert prepared.upright().size == (1000, 1000)
    assert prepared.data == data  # what a provider is sent is untouched


def test_pixels_only_validated_are_decoded_at_the_smallest_size():
    """A provider sent the bytes as they are: the validating decode may be 1/8, so the budget allows it."""
    data = crafted_media.cmyk_jpeg(2000, 2000)
    assert imaging.prepare(data, max_decode_bytes=MIB).data == data  # 250x250 decoded
    with pytest.raises(BadInput, match="over the decode budget of 1 MiB"):  # other formats cannot be reduced
        imaging.prepare(crafted_media.png(2000, 2000), max_decode_bytes=MIB)


def test_a_truncated_jpeg_fails_though_it_is_validated_at_1_8():
    data = crafted_media.cmyk_jpeg(2000, 2000)
    with pytest.raises(BadInput, match="corrupt or truncated jpeg image"):
        imaging.prepare(data[: len(data) // 2])


def test_the_reencoded_copy_is_reduced_to_fit_the_budget():
    """A palette GIF is 1 byte a pixel, its RGB copy 4 (Pillow): the copy is box-reduced to fit, in strips."""
    buf = io.BytesIO()
    palette = Image.new("P", (3000, 2000), 0)
    palette.putpalette([200, 30, 40] * 256)
    palette.save(buf, "GIF")
    prepared = imaging.prepare(buf.getvalue(), max_decode_bytes=16 * MIB)  # 6 MB decoded, 24 MB as RGB
    assert (prepared.format, prepared.width, prepared.height) == ("jpeg", 3000, 2000)
    with Image.open(io.BytesIO(prepared.data)) as img:
        assert img.size == (1500, 1000)
        assert all(abs(a - b) <= 3 for a, b in zip(img.getpixel((700, 500)), (200, 30, 40)))

