"""One upload must not take a worker down: crafted files, small on disk and huge once decoded, go
through the real use case (``service.process_image``, ``video.start``) in a child process whose peak
RSS growth is measured (``tests/decode_child.py``).

An item refused from its header decodes nothing, so its ceiling is tight; an item that is decided
may decode within MODQ_MAX_DECODE_BYTES (256 MiB) and stays under 400 MiB all told.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from moderation.domain import policy
from moderation.items import services as service
from moderation.video import services as video
from moderation.infra.lease import LocalLeases
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.items import models as m
from moderation.infra.db import transaction
from tests import crafted_media
from tests.conftest import REPO
from tests.fakes.providers import RecordingPublisher
from tests.media_factory import write_video

REFUSED_MIB = 32  # nothing decoded: imports, a database transaction, the file's bytes
DECIDED_MIB = 400


def _write(data_of):
    return lambda path: path.write_bytes(data_of())


CASES = [
    # (id, file name, writer, media type, provider, status, exact reason, ceiling in MiB)
    # 297 KB on main: +950 MiB. 10000x10000 16-bit grey is 191 MiB decoded, within the budget: decided,
    # seen as 8-bit grey (the high byte) and re-encoded without a 32-bit or RGB copy of the whole.
    ("grey16-tiff-local", "grey16.tif", _write(lambda: crafted_media.tiff(10_000, 10_000)), "image", "local",
     "approved", None, DECIDED_MIB),
    ("grey16-tiff-bytes", "grey16.tif", _write(lambda: crafted_media.tiff(10_000, 10_000)), "image", "bytes",
     "approved", None, DECIDED_MIB),
    ("rgb16-tiff-local", "rgb16.tif", _write(lambda: crafted_media.tiff(10_000, 10_000, bits=16, samples=3)),
     "image", "local", "failed",
     "image is 10000x10000 px with 3 x 16-bit samples: decoding it needs 572.2 MiB, over the decode budget of "
     "256 MiB (MODQ_MAX_DECODE_BYTES)", REFUSED_MIB),
    # 4.7 MB on main: +1.3 GiB. 381 MiB at full size: the offline model gets it at 1/2 (JPEG draft)...
    ("cmyk-jpeg-local", "cmyk.jpg", _write(lambda: crafted_media.cmyk_jpeg(10_000, 10_000)), "image", "local",
     "approved", None, DECIDED_MIB),
    # ... and a provider that is sent the bytes as they are has them validated at 1/8.
    ("cmyk-jpeg-bytes", "cmyk.jpg", _write(lambda: crafted_media.cmyk_jpeg(10_000, 10_000)), "image", "bytes",
     "approved", None, REFUSED_MIB),
    # 292 KB on main: +376 MiB decoded before its side was refused.
    ("wide-png-local", "wide.png", _write(lambda: crafted_media.png(1_000_000, 100)), "image", "local",
     "failed", "image is 1000000x100 px; each side must be at most 10,000 px", REFUSED_MIB),
    # 904 KB on main: +2.3 GiB, and approved.
    ("png-frames-mov-local", "frames.mov", lambda path: crafted_media.png_frames_mov(path, 12_000), "video", "local",
     "failed", "video frames are 12000x12000 px: over the decode budget of 256 MiB (MODQ_MAX_DECODE_BYTES), which "
     "allows 33,554,432 pixels a frame (at 8 bytes a pixel, the deepest format a frame may switch to)", REFUSED_MIB),
]


@pytest.mark.parametrize("name, write, media_type, provider, status, reason, ceiling_mib",
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_crafted_file_ends_with_its_outcome_within_its_memory(media_root, sqlite_url, name, write, media_type,
                                                              provider, status, reason, ceiling_mib):
    write(media_root / name)
    assert (media_root / name).stat().st_size < 5 * 1024 * 1024  # small on disk: the point of the attack
    child = subprocess.run(
        [sys.executable, "-m", "tests.decode_child", sqlite_url, str(media_root), name, media_type, provider],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=240)
    assert child.returncode == 0, child.stderr[-2000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert (result["status"], result["reason"]) == (status, reason)
    assert result["peak_growth_mib"] < ceiling_mib, result
    if name == "cmyk.jpg" and provider == "local":  # decided at a reduced size, and said so
        assert "jpeg_decoded_reduced" in child.stdout and "scale=1/2" in child.stdout


def test_the_child_measures_a_real_decode(media_root, sqlite_url):
    """The measurement can see a decode: an ordinary 6000x6000 RGB PNG costs over 100 MiB in the child."""
    (media_root / "big.png").write_bytes(crafted_media.png(6_000, 6_000))
    child = subprocess.run(
        [sys.executable, "-m", "tests.decode_child", sqlite_url, str(media_root), "big.png", "image", "bytes"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=240)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["status"] == "approved"
    assert result["peak_growth_mib"] > 100, result


@pytest.fixture
def one_mib_budget(make_settings, fake_provider) -> Runtime:
    """A worker configured with MODQ_MAX_DECODE_BYTES=1 MiB."""
    settings = make_settings(max_decode_bytes=1024**2)
    runtime = Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())
    runtime._provider, runtime._leases = fake_provider, LocalLeases()
    return runtime


def failure_reason(rt: Runtime, item_id: str) -> str | None:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id).failure_reason


def test_the_configured_budget_reaches_the_image_use_case(one_mib_budget, media_root, fake_provider):
    (media_root / "a.png").write_bytes(crafted_media.png(1000, 600))  # 1.7 MiB decoded: fine at the default
    item_id = service.submit("a.png", rt=one_mib_budget).item_id
    assert service.process_image(item_id, rt=one_mib_budget) == "failed"
    assert failure_reason(one_mib_budget, item_id) == (
        "image is 1000x600 px with 3 x 8-bit samples: decoding it needs 1.7 MiB, over the decode budget of 1 MiB "
        "(MODQ_MAX_DECODE_BYTES)")
    assert fake_provider.calls == []


def test_the_configured_budget_reaches_the_offline_video_use_case(one_mib_budget, media_root):
    write_video(media_root / "a.mp4", seconds=1, fps=2, size=(640, 480))  # 0.9 MiB a frame, 307,200 pixels
    item_id = service.submit("a.mp4", rt=one_mib_budget).item_id
    assert video.start(item_id, rt=one_mib_budget) == "failed"
    assert failure_reason(one_mib_budget, item_id) == (
        "video frames are 640x480 px: over the decode budget of 1 MiB (MODQ_MAX_DECODE_BYTES), which allows "
        "131,072 pixels a frame (at 8 bytes a pixel, the deepest format a frame may switch to)")
