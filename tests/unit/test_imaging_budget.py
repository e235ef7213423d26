"""The decode budget: what an image costs is read from its header and refused before any pixel is decoded."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from moderation import imaging
from moderation.errors import BadInput
from tests import crafted_media

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
    assert imaging.sample_layout(img) == layout
    assert img._im is None  # Pillow allocates the pixels (``_im``) only on load: nothing was decoded


def test_an_image_over_the_budget_is_refused_naming_the_setting():
    img = opened(crafted_media.tiff(10_000, 10_000, bits=16, samples=3))
    with pytest.raises(BadInput) as info:
        imaging.check_decode_budget(img, 256 * MIB)
    assert str(info.value) == ("image is 10000x10000 px with 3 x 16-bit samples: decoding it needs 572.2 MiB, "
                               "over the decode budget of 256 MiB (MODQ_MAX_DECODE_BYTES)")
    assert img._im is None


def test_an_image_at_the_budget_passes_and_one_byte_less_refuses():
    img = opened(crafted_media.png(1000, 500))  # 1,500,000 bytes decoded
    imaging.check_decode_budget(img, 1_500_000)
    with pytest.raises(BadInput, match="needs 1.4 MiB, over the decode budget of 1.4 MiB"):
        imaging.check_decode_budget(img, 1_499_999)


def test_what_names_a_frame():
    with pytest.raises(BadInput, match=r"^frame 3 is 300x200 px"):
        imaging.check_decode_budget(opened(crafted_media.png(300, 200)), 1000, what="frame 3")


@pytest.mark.parametrize("size, message", [
    ((79, 200), "image is 79x200 px; each side must be at least 80 px"),
    ((1_000_000, 100), "image is 1000000x100 px; each side must be at most 10,000 px"),
])
def test_sides_are_checked_from_the_header(size, message):
    with pytest.raises(BadInput) as info:
        imaging.check_sides(*size)
    assert str(info.value) == message
