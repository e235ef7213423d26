"""The performance changes (issue 7) keep results identical: one decode instead of two for the
offline model, a faster bit-exact resize, one transaction fewer per item."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from moderation.infra.media import imaging
from moderation.items import services as service
from moderation.providers import nudenet_model
from moderation.providers.local import LocalProvider
from moderation.items import models as m
from moderation.infra.db import transaction
from tests.conftest import REPO, jpeg_bytes, png_bytes


def _jpeg_with_orientation(orientation: int) -> bytes:
    img = Image.new("RGB", (240, 120), (200, 30, 30))
    img.paste((20, 20, 220), (0, 0, 60, 120))  # a blue band: sideways shows
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def _palette_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (120, 90), (10, 120, 250)).convert("P").save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("data", [jpeg_bytes(), png_bytes(), _jpeg_with_orientation(6), _jpeg_with_orientation(3),
                                  _palette_png(), (REPO / "samples" / "camera.png").read_bytes()],
                         ids=["jpeg", "png", "exif-rot90", "exif-rot180", "palette-png", "grey-png"])
def test_kept_decode_gives_the_same_pixels(data):
    kept, fresh = imaging.prepare(data, keep_decoded=True), imaging.prepare(data)
    assert kept.decoded is not None and fresh.decoded is None
    assert kept == fresh  # the cache takes no part in equality
    a, b = kept.pil(), fresh.pil()
    with Image.open(io.BytesIO(data)) as img:  # what pil() always meant
        reference = ImageOps.exif_transpose(img).convert("RGB")
    assert (a.mode, a.size) == (b.mode, b.size) == ("RGB", reference.size)
    assert a.tobytes() == b.tobytes() == reference.tobytes()
    assert kept.pil().tobytes() == a.tobytes()  # the cached image is never modified


def test_reencoded_images_keep_no_pixels():
    buf = io.BytesIO()
    Image.new("RGB", (200, 150), (5, 5, 5)).save(buf, "WEBP")
    prepared = imaging.prepare(buf.getvalue(), keep_decoded=True)
    assert prepared.format == "jpeg" and prepared.decoded is None  # the model sees what Rekognition would


def test_the_worker_keeps_the_decode_only_for_the_offline_model(rt, media_root, monkeypatch):
    seen = []
    real = imaging.prepare
    monkeypatch.setattr(imaging, "prepare", lambda data, keep_decoded=False, **kw: seen.append(keep_decoded) or
                        real(data, keep_decoded, **kw))
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    item_id = service.submit("a.jpg", rt=rt).item_id
    rt._provider.decodes_pixels = True
    service.process_image(item_id, rt=rt)
    assert seen == [True]
    assert LocalProvider.decodes_pixels is True
    from moderation.providers.rekognition import RekognitionProvider

    assert not getattr(RekognitionProvider, "decodes_pixels", False)


@pytest.mark.parametrize("seed", range(12))
def test_resize_is_cv2_bit_for_bit(seed):
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(1, 1400, 2))
    if seed == 0:
        h, w = 1, 1
    elif seed == 1:
        h, w = 3000, 4000
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    side = max(h, w)
    padded = cv2.copyMakeBorder(rgb, 0, side - h, 0, side - w, cv2.BORDER_CONSTANT)
    expected = cv2.resize(padded, (320, 320), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(nudenet_model._resize_padded_square(Image.fromarray(rgb), 320), expected)


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "RGBA"])
@pytest.mark.parametrize("size", [(4000, 3000), (300, 5000), (500, 400)], ids=["wide", "tall", "small"])
def test_resize_of_any_mode_is_cv2_of_its_rgb_conversion(mode, size):
    """Rows are converted to RGB one by one when few are sampled: the same bytes as converting it whole."""
    cv2 = pytest.importorskip("cv2")
    rgb = np.random.default_rng(7).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    img = Image.fromarray(rgb).convert(mode)
    whole = np.asarray(img.convert("RGB"))
    side = max(size)
    padded = cv2.copyMakeBorder(whole, 0, side - size[1], 0, side - size[0], cv2.BORDER_CONSTANT)
    expected = cv2.resize(padded, (320, 320), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(nudenet_model._resize_padded_square(img, 320), expected)


def test_one_transaction_moves_to_processing_and_reads_the_uri(rt, media_root):
    from sqlalchemy import event

    from moderation.infra.db import session_factory

    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    item_id = service.submit("a.jpg", rt=rt).item_id
    engine = session_factory(rt.settings.database_url).kw["bind"]
    rt.active_policy()  # the policy version read: once per MODQ_POLICY_REFRESH_SECONDS, not per item
    begins = []

    def count(conn):
        begins.append(1)

    event.listen(engine, "begin", count)
    try:
        assert service.process_image(item_id, rt=rt) == "approved"
    finally:
        event.remove(engine, "begin", count)
    # begin (lock, processing, uri) + pay-once lookup (bank, earlier analysis) + record (analysis, decision,
    # outbox, provider calls): the lookup is a read that can save a paid call
    assert len(begins) == 3
    with transaction(rt.settings.database_url) as s:
        events = [e.action for e in s.query(m.AuditEvent).filter_by(item_id=item_id).order_by(m.AuditEvent.id)]
    assert events == ["submit", "processing", "decide"]
    assert service.begin(rt, item_id, "local") is None  # decided: nothing to do, as before
