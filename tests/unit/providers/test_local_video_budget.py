"""Offline video and the decode budget: frames are checked from the stream before any is decoded,
and FFmpeg refuses, before allocating it, any frame over the pixel guard (``budget / 8`` pixels)."""

from __future__ import annotations

import pytest

from moderation.domain.errors import BadInput
from moderation.providers import local_video
from tests import crafted_media
from tests.fakes.providers import ColorFrameProvider
from tests.media_factory import write_video

MIB = 1024**2


def analyze(path, budget: int, frames: ColorFrameProvider | None = None):
    return local_video.analyze(path, frames or ColorFrameProvider(), 20.0, max_decode_bytes=budget)


@pytest.fixture(scope="module")
def hd(tmp_path_factory):
    """1280x720 yuv420p: 2.6 MiB a frame counted as 3 x 8-bit samples, 921,600 pixels."""
    return write_video(tmp_path_factory.mktemp("hd") / "hd.mp4", seconds=1, fps=2, size=(1280, 720))


def test_frames_over_the_budget_are_refused_naming_their_format(hd):
    frames = ColorFrameProvider()
    with pytest.raises(BadInput) as info:
        analyze(hd, 2 * MIB, frames)
    assert str(info.value) == ("video frames are 1280x720 px of yuv420p (3 x 8-bit samples): decoding one needs "
                               "2.6 MiB, over the decode budget of 2 MiB (MODQ_MAX_DECODE_BYTES)")
    assert frames.frames == []  # not one frame analysed


def test_frames_over_the_pixel_guard_are_refused_before_decoding(hd):
    with pytest.raises(BadInput) as info:
        analyze(hd, 4 * MIB)  # 2.6 MiB fits, but 921,600 pixels > 524,288
    assert str(info.value) == ("video frames are 1280x720 px: over the decode budget of 4 MiB "
                               "(MODQ_MAX_DECODE_BYTES), which allows 524,288 pixels a frame (at 8 bytes a pixel, "
                               "the deepest format a frame may switch to)")


def test_frames_within_the_budget_are_analysed(hd):
    frames = ColorFrameProvider()
    result = analyze(hd, 8 * MIB, frames)
    assert frames.frames == [(1280, 720)] and result.metadata["FramesAnalysed"] == 1


def test_a_frame_the_probe_would_decode_over_the_guard_is_not_decoded_to_learn_its_format(tmp_path):
    """FFmpeg decodes a first PNG frame while opening a MOV: that decode is held to the guard too, and
    the size the container declares is what the refusal names."""
    path = crafted_media.png_frames_mov(tmp_path / "big.mov", 2000)
    with pytest.raises(BadInput, match=r"^video frames are 2000x2000 px: over the decode budget of 8 MiB"):
        analyze(path, 8 * MIB)


def test_a_frame_that_grows_after_the_header_is_refused_as_it_is_decoded(tmp_path):
    """The container declares 200x200 and so is the first frame; the second is 4000x4000 (16 M pixels).
    No header speaks for it: FFmpeg's guard refuses it before allocating, and the video fails."""
    path = crafted_media.png_frames_mov(tmp_path / "grows.mov", 4000, frames=2, first_side=200)
    frames = ColorFrameProvider()
    with pytest.raises(BadInput) as info:
        analyze(path, 8 * MIB, frames)
    assert str(info.value) == ("corrupt or truncated video: decoding failed after 0.0 s: Invalid argument "
                               "(or a frame over the pixel guard of MODQ_MAX_DECODE_BYTES)")
    assert frames.frames == [(200, 200)]
