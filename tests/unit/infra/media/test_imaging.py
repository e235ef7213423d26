"""Image content checks: every bad image fails with a reason a person can act on."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from moderation.infra.media import imaging
from moderation.domain.errors import BadInput
from tests.conftest import SAMPLES, jpeg_bytes, png_bytes


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "file is empty"),
        (b"just some text, not a picture\n", "not a supported image: content starts with text"),
        (b"\x00\x01\x02\x03" * 10, "not a supported image: content starts with bytes 00 01"),
        (jpeg_bytes()[:300], "corrupt or truncated jpeg"),
        (png_bytes()[:60], "corrupt or truncated png"),
        (b"\xff\xd8\xff\xe0garbage-after-the-magic" * 4, "jpeg"),
        (jpeg_bytes(79, 200), "79x200 px; each side must be at least 80"),
        (png_bytes(200, 10_001), "200x10001 px; each side must be at most 10,000"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40, "mp4 video, not an image"),
    ],
)
def test_bad_images(data, message):
    with pytest.raises(BadInput, match=message):
        imaging.prepare(data)


def test_small_jpeg_and_png_are_sent_unchanged():
    for data, fmt in ((jpeg_bytes(), "jpeg"), (png_bytes(), "png")):
        prepared = imaging.prepare(data)
        assert prepared.data == data and prepared.format == fmt
        assert (prepared.width, prepared.height) == (200, 160)


def test_other_formats_are_converted_to_jpeg():
    buf = io.BytesIO()
    Image.new("RGB", (120, 90), (1, 2, 3)).save(buf, "BMP")
    prepared = imaging.prepare(buf.getvalue())
    assert prepared.format == "jpeg" and prepared.data[:3] == b"\xff\xd8\xff"
    with Image.open(io.BytesIO(prepared.data)) as img:
        assert img.size == (120, 90)


def test_jpeg_over_5_mib_is_reencoded_under_the_limit():
    import numpy as np

    noise = np.random.default_rng(1).integers(0, 256, (2400, 3200, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, "JPEG", quality=100)
    original = buf.getvalue()
    assert len(original) > imaging.REKOGNITION_MAX_BYTES
    prepared = imaging.prepare(original)
    assert len(prepared.data) <= imaging.REKOGNITION_MAX_BYTES
    assert prepared.sha256 != "" and prepared.format == "jpeg"
    with Image.open(io.BytesIO(prepared.data)) as img:
        assert min(img.size) >= imaging.MIN_SIDE


def test_sha256_is_of_the_original_bytes():
    import hashlib

    data = jpeg_bytes()
    assert imaging.prepare(data).sha256 == hashlib.sha256(data).hexdigest()


def test_real_photo_is_accepted():
    photo = next(iter(sorted(SAMPLES.glob("*.jpg"))), None)
    if photo is None:
        pytest.fail("bundled sample photos are missing from samples/")
    prepared = imaging.prepare(photo.read_bytes())
    assert prepared.width >= 80 and prepared.pil().mode == "RGB"
