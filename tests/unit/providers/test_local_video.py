"""Offline video sampling on clips PyAV makes here: timestamps, modes, limits, broken files."""

from __future__ import annotations

import pytest
from PIL import Image

from moderation.domain.errors import BadInput
from moderation.providers import local_video
from moderation.providers.local import LocalProvider
from tests.fakes.providers import ColorFrameProvider
from tests.media_factory import GREEN, RED, segments, truncated, video_bytes, write_video


def analyze(path, fps=1.0, mode="auto", max_seconds=3600.0, frames=None):
    return local_video.analyze(path, frames or ColorFrameProvider(), 20.0, fps=fps, max_seconds=max_seconds, mode=mode)


def times(result, name: str) -> list[int]:
    return sorted({d.timestamp_ms for d in result.detections if d.label.name == name})


@pytest.mark.parametrize("mode", ["decode", "seek"])
def test_one_frame_per_second_and_labels_where_the_colour_is(tmp_path, mode):
    path = write_video(tmp_path / "clip.mp4", seconds=8, fps=10, scene=segments((3, 5, RED), (6.5, 7, GREEN)))
    provider = ColorFrameProvider()
    result = analyze(path, mode=mode, frames=provider)
    assert len(provider.frames) == 8 and provider.frames[0] == (160, 120)
    assert times(result, "Exposed Female Genitalia") == [3000, 4000]
    assert times(result, "Explicit") == [3000, 4000]  # ancestors come with the leaf, as from Rekognition
    assert times(result, "Exposed Male Nipple") == []  # 6.5-7 s falls between samples at 1 fps
    meta = result.metadata
    assert (meta["FramesAnalysed"], meta["Sampling"], meta["DurationMillis"]) == (8, mode, 8000)
    assert (meta["FrameWidth"], meta["FrameHeight"], meta["Codec"]) == (160, 120, "h264")


def test_a_higher_sampling_rate_sees_short_scenes(tmp_path):
    path = write_video(tmp_path / "clip.mp4", seconds=8, fps=10, scene=segments((6.5, 7, GREEN)))
    result = analyze(path, fps=4)
    # the frame at or after each 0.25 s instant, with its own timestamp (10 fps: 6.8 s, not 6.75)
    assert times(result, "Exposed Male Nipple") == [6500, 6800]
    assert result.metadata["FramesAnalysed"] == 32


@pytest.mark.parametrize("gop, expected", [(10, "seek"), (5, "seek"), (30, "decode"), (80, "decode")])
def test_auto_seeks_only_when_keyframes_are_as_frequent_as_samples(tmp_path, gop, expected):
    path = write_video(tmp_path / "clip.mp4", seconds=8, fps=10, gop=gop)
    assert analyze(path).metadata["Sampling"] == expected


def test_seek_and_decode_agree_on_sparse_keyframes_too(tmp_path):
    path = write_video(tmp_path / "clip.mp4", seconds=8, fps=10, gop=40, scene=segments((2, 3, RED)))
    assert analyze(path, mode="seek").detections == analyze(path, mode="decode").detections


def test_mov_container(tmp_path):
    path = write_video(tmp_path / "clip.mov", seconds=3, scene=segments((1, 2, RED)))
    assert times(analyze(path), "Explicit") == [1000]


def test_longer_than_the_limit_is_refused_before_decoding(tmp_path):
    path = write_video(tmp_path / "clip.mp4", seconds=6)
    provider = ColorFrameProvider()
    with pytest.raises(BadInput, match="6.0 s long, over the limit of 5 s"):
        analyze(path, max_seconds=5, frames=provider)
    assert provider.frames == []


@pytest.mark.parametrize("faststart", [False, True])
def test_truncated_file_fails_with_a_reason(tmp_path, faststart):
    path = tmp_path / "cut.mp4"
    path.write_bytes(truncated(video_bytes(seconds=6, faststart=faststart), 0.5))
    with pytest.raises(BadInput, match="truncated"):
        analyze(path)


@pytest.mark.parametrize("data", [b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200, b"\x00" * 64])
def test_garbage_fails_with_a_reason(tmp_path, data):
    path = tmp_path / "bad.mp4"
    path.write_bytes(data)
    with pytest.raises(BadInput, match="not a readable video"):
        analyze(path)


def test_the_real_offline_model_runs_on_frames(tmp_path):
    path = write_video(tmp_path / "clip.mp4", seconds=3, size=(320, 240))
    result = local_video.analyze(path, LocalProvider(), 20.0)
    assert result.model_version.startswith("nudenet-") and result.detections == []  # flat grey: nothing
    assert result.metadata["FramesAnalysed"] == 3


@pytest.mark.parametrize("rotation, size", [(0, (40, 20)), (90, (20, 40)), (-90, (20, 40)), (180, (40, 20))])
def test_upright_turns_frames_as_the_display_matrix_says(rotation, size):
    img = Image.new("RGB", (40, 20))
    img.putpixel((0, 0), (255, 0, 0))  # top-left marker
    turned = local_video.upright(img, rotation)
    assert turned.size == size
    expected_corner = {0: (0, 0), 90: (0, 39), -90: (19, 0), 180: (39, 19)}[rotation]
    assert turned.getpixel(expected_corner) == (255, 0, 0)
