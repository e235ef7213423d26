"""Small H.264 test videos made with PyAV, so the suite needs no media files.

Frames are flat colours chosen per second by a ``scene`` function, which lets a
test say "red from 3 s to 5 s" and check that the timeline says so too (see
``tests.fakes.providers.ColorFrameProvider``).
"""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Callable

import av
import numpy as np

RED, GREEN, BLUE, GREY = (220, 20, 20), (20, 200, 40), (20, 40, 220), (128, 128, 128)
Scene = Callable[[float], tuple[int, int, int]]


def constant(color=GREY) -> Scene:
    return lambda _t: color


def segments(*spans: tuple[float, float, tuple[int, int, int]], background=BLUE) -> Scene:
    """``segments((3, 5, RED))``: red for 3 s <= t < 5 s, ``background`` elsewhere."""

    def scene(t: float):
        for start, end, color in spans:
            if start <= t < end:
                return color
        return background

    return scene


def video_bytes(seconds: float = 5, fps: int = 10, size: tuple[int, int] = (160, 120), scene: Scene | None = None,
                container: str = "mp4", gop: int | None = None, faststart: bool = False,
                codec: str = "libx264") -> bytes:
    """An H.264 clip; ``gop`` frames between keyframes (default: one a second)."""
    scene = scene or constant()
    width, height = size
    options = {"movflags": "faststart"} if faststart else {}
    # A real file: faststart rewrites it in a second pass, which a BytesIO cannot do.
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"clip.{container}"
        _encode(target, container, options, seconds, fps, width, height, scene, gop, codec)
        return target.read_bytes()


def _encode(target, container, options, seconds, fps, width, height, scene, gop, codec) -> None:
    with av.open(str(target), "w", format=container, options=options) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        # scenecut=0: keyframes only where ``gop`` says, so tests control seeking.
        stream.options = {"g": str(gop or fps)}
        if codec == "libx264":
            stream.options = {**stream.options, "keyint_min": str(gop or fps), "sc_threshold": "0",
                              "preset": "ultrafast", "tune": "zerolatency"}
        frame_rgb = np.empty((height, width, 3), np.uint8)
        for i in range(int(round(seconds * fps))):
            frame_rgb[:] = scene(i / fps)
            frame = av.VideoFrame.from_ndarray(frame_rgb, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def write_video(path: Path, **kwargs) -> Path:
    path.write_bytes(video_bytes(container="mov" if path.suffix == ".mov" else "mp4", **kwargs))
    return path


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    """The first ``keep`` fraction of a file, as an interrupted upload leaves it."""
    return data[: max(1, int(len(data) * keep))]
