"""A curve drawn as a PNG (moderation.policy.plot): a real image with both curves and the marks on it."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from moderation.policy import curves, plot
from tests.unit.policy.test_curves import CANDIDATE, CURRENT, LABELLED

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _pixels_near(image: Image.Image, hex_colour: str, tolerance: int = 40) -> int:
    target = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(np.asarray(image, dtype=int) - target) <= tolerance).all(axis=2).sum())


def _violence():
    return next(c for c in curves.curves(LABELLED, CURRENT, "rekognition", candidate=CANDIDATE)
                if c.category == "Violence")


def test_png_draws_precision_recall_and_the_marks():
    data = plot.png(_violence())
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert image.size == (700, 450)
    assert _pixels_near(image, plot.PRECISION) > 200  # both lines are drawn
    assert _pixels_near(image, plot.RECALL) > 200
    assert _pixels_near(image, "#444444", 10) > 300  # the two threshold lines and their dots
    assert _pixels_near(image, "#b42318", 50) > 100  # reject 90, dotted (so antialiased): flat past it


def test_a_curve_with_nothing_flagged_anywhere_still_draws():
    (empty,) = curves.curves(LABELLED[4:], CURRENT, "rekognition")  # one benign item: precision 0, no recall
    assert plot.png(empty).startswith(PNG_SIGNATURE)


def test_file_names_are_plain():
    assert plot.file_name(_violence()) == "violence.png"
    drugs = curves.Curve("rekognition", "Drugs & Tobacco", 0, None, None, [])  # no point, no reject: no line
    assert plot.file_name(drugs) == "drugs-tobacco.png" and plot.png(drugs).startswith(PNG_SIGNATURE)
