"""nudenet_model's resize reads an image band by band (runs of rows, or strips), and stays cv2's bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from moderation.providers import nudenet_model


def _cv2_reference(rgb: np.ndarray) -> np.ndarray:
    cv2 = pytest.importorskip("cv2")
    h, w = rgb.shape[:2]
    side = max(h, w)
    padded = cv2.copyMakeBorder(rgb, 0, side - h, 0, side - w, cv2.BORDER_CONSTANT)
    return cv2.resize(padded, (320, 320), interpolation=cv2.INTER_LINEAR)


@pytest.mark.parametrize("crop_pixels", [0, 10**12], ids=["runs of rows", "strips"])
@pytest.mark.parametrize("size", [(1920, 1080), (4000, 3000), (300, 2500), (2500, 300), (90, 80), (641, 481)])
@pytest.mark.parametrize("mode", ["RGB", "P"])
def test_either_way_of_reading_rows_is_cv2_bit_for_bit(size, mode, crop_pixels, monkeypatch):
    monkeypatch.setattr(nudenet_model, "_CROP_PIXELS", crop_pixels)  # force one way or the other
    monkeypatch.setattr(nudenet_model, "_BAND_BYTES", 256 * 1024)  # several strips even for small images
    rgb = np.random.default_rng(size[0] * size[1]).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    img = Image.fromarray(rgb).convert(mode)
    expected = _cv2_reference(np.asarray(img.convert("RGB")))

    np.testing.assert_array_equal(nudenet_model._resize_padded_square(img, 320), expected)
    blob = nudenet_model.preprocess(img)
    assert blob.dtype == np.float32 and blob.shape == (1, 3, 320, 320) and blob.flags["C_CONTIGUOUS"]
    scaled = expected[:, :, ::-1].transpose(2, 0, 1).astype(np.float32) * np.float32(1 / 255.0)  # as NudeNet's blob
    np.testing.assert_array_equal(blob[0], scaled)


@pytest.mark.parametrize("width", [640, 1920, 4000])
def test_bands_cover_every_row_once_in_order(width):
    rows = np.unique(np.r_[np.arange(0, 3000, 9), np.arange(1, 3000, 9), np.arange(2900, 3000)])
    bands = nudenet_model._bands(rows, width)

    covered = np.concatenate([np.arange(lo, hi) for lo, hi in bands])
    assert np.all(np.diff(covered) > 0)  # ordered, no overlap
    assert set(rows.tolist()) <= set(covered.tolist())
    assert covered[0] == rows[0] and covered[-1] == rows[-1]


def test_sparse_rows_of_a_wide_image_are_read_as_runs_dense_ones_as_bounded_strips():
    pairs = np.unique(np.r_[np.arange(0, 3000, 10), np.arange(1, 3000, 10)])  # 2 rows of every 10
    assert nudenet_model._bands(pairs, 4000) == [(y, y + 2) for y in range(0, 3000, 10)]

    every_row = np.arange(480)
    assert nudenet_model._bands(every_row, 640) == [(0, 480)]  # 1.2 MB of Pillow RGB: one strip
    strips = nudenet_model._bands(np.arange(3000), 4000)
    assert all(4 * 4000 * (hi - lo) <= nudenet_model._BAND_BYTES for lo, hi in strips)
    assert strips[0][0] == 0 and strips[-1][1] == 3000
