"""Offline video: decode with PyAV, sample frames, run the image model on each.

Sampling (../shared/LOCAL_MODEL.md, measured): decoding every frame and
keeping the first one at or after each sampling instant is robust to long
gaps between keyframes; seeking wins only when keyframes come at least as
often as samples (with a keyframe every 8 s, seeking was 3.4x slower). So
``auto`` reads the packet index of the first seconds (no decoding) and seeks
only when the keyframe interval there is no longer than the sampling interval.

Frames stream to the model one at a time (peak memory ~200 MiB at 1080p
instead of ~530 MiB when collected first). The file must decode to its
declared end: a truncated upload that players would show partly is not
approved on the strength of its first half.

Decode budget (MODQ_MAX_DECODE_BYTES): the frame size and pixel format are
checked before any frame is decoded, and FFmpeg itself refuses, before
allocating it, any frame over ``budget / 8`` pixels (8 bytes: the deepest
pixel format, 4 x 16-bit). That guard covers what the header cannot: the
frame FFmpeg decodes while opening the file to learn its pixel format, and
frames that change size or format as the file goes on (a MOV of PNG frames
may hold any size in any packet).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol

import av
from PIL import Image

from moderation.domain.errors import BadInput
from moderation.infra.media.budget import DEFAULT_MAX_DECODE_BYTES, format_mib
from moderation.domain.timeline import Detection

PROBE_SECONDS = 10.0  # how much of the packet index ``auto`` looks at
END_TOLERANCE_S = 1.0  # last frame this close to the declared end counts as complete
DEEPEST_PIXEL_BYTES = 8  # rgba64, yuva444p16: the most a decoded pixel takes in any format
_ROTATIONS = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, -180: Image.Transpose.ROTATE_180,
              -90: Image.Transpose.ROTATE_270, 270: Image.Transpose.ROTATE_270}


class FrameAnalyzer(Protocol):
    name: str

    def analyze_pil(self, img: Image.Image, min_confidence: float): ...


@dataclass(frozen=True)
class OfflineResult:
    detections: list[Detection]
    metadata: dict  # duration, size, codec, sampling mode and rate, frames analysed
    model_version: str


def analyze(path: Path, analyzer: FrameAnalyzer, min_confidence: float, fps: float = 1.0,
            max_seconds: float = 3600.0, mode: str = "auto", threads: int = 1,
            max_decode_bytes: int = DEFAULT_MAX_DECODE_BYTES) -> OfflineResult:
    """Labels for one frame per ``1/fps`` seconds, as a timeline. ``BadInput`` for unusable files,
    and for frames that would decode to more than ``max_decode_bytes`` (checked before decoding)."""
    detections: list[Detection] = []
    model_version, frames = "unknown", 0
    with _open(path, _pixel_guard(max_decode_bytes)) as container:
        stream = _video_stream(container)
        check_frame_budget(path, stream, max_decode_bytes)
        stream.codec_context.options = _pixel_guard(max_decode_bytes)  # every frame, as FFmpeg allocates it
        stream.codec_context.thread_count = threads  # MODQ_LOCAL_THREADS: one per process by default
        if threads > 1:
            stream.thread_type = "AUTO"  # frame threads too: most of a 1080p clip's time is decoding
        duration = _duration(container, stream)
        if duration is not None and duration > max_seconds:
            raise BadInput(f"video is {duration:,.1f} s long, over the limit of {max_seconds:,.0f} s "
                           f"(MODQ_VIDEO_MAX_SECONDS)")
        chosen = _choose_mode(container, stream, fps) if mode == "auto" else mode
        sampler = _sample_by_seeking if chosen == "seek" else _sample_by_decoding
        end = _EndTracker()
        for ts_ms, image in sampler(container, stream, fps, max_seconds, end):
            analysis = analyzer.analyze_pil(image, min_confidence)
            model_version, frames = analysis.model_version, frames + 1
            detections.extend(Detection(ts_ms, label) for label in analysis.labels)
        _check_complete(duration, end.last_s, frames)
        metadata = {"DurationMillis": int(round((duration or end.last_s) * 1000)), "FrameWidth": stream.width,
                    "FrameHeight": stream.height, "Codec": stream.codec_context.name,
                    "Format": container.format.name, "FrameRate": float(stream.average_rate or 0),
                    "SampleFps": fps, "Sampling": chosen, "FramesAnalysed": frames}
    return OfflineResult(detections, metadata, model_version)


class _EndTracker:
    last_s = 0.0  # time of the last frame decoded


def _open(path: Path, options: dict[str, str]):
    """The container; ``options`` go to the decoder FFmpeg may run on a first frame to learn its format."""
    try:
        return av.open(str(path), metadata_errors="ignore", options=options)
    except av.FFmpegError as exc:
        raise BadInput(f"not a readable video (corrupt, truncated or unsupported container): {_why(exc)}") from None


def _pixel_guard(budget: int) -> dict[str, str]:
    """FFmpeg's ``max_pixels``: a larger frame is refused before its buffer is allocated."""
    return {"max_pixels": str(max_frame_pixels(budget))}


def max_frame_pixels(budget: int) -> int:
    return max(1, budget // DEEPEST_PIXEL_BYTES)


def check_frame_budget(path: Path, stream, budget: int) -> None:
    """Refuse, before any frame is decoded, frames whose declared size and format exceed the budget."""
    width, height, fmt = stream.width, stream.height, stream.format
    if not (width and height and fmt):  # the guarded probe refused its frame: what does the container say?
        width, height, fmt = *_declared_size(path), None
    if fmt is not None and fmt.components:
        bands, sample_bytes = len(fmt.components), -(-max(c.bits for c in fmt.components) // 8)
        cost = width * height * bands * sample_bytes
        if cost > budget:
            raise BadInput(f"video frames are {width}x{height} px of {fmt.name} ({bands} x {8 * sample_bytes}-bit "
                           f"samples): decoding one needs {format_mib(cost)}, over the decode budget of "
                           f"{format_mib(budget)} (MODQ_MAX_DECODE_BYTES)")
    limit = max_frame_pixels(budget)
    if width * height > limit:
        raise BadInput(f"video frames are {width}x{height} px: over the decode budget of {format_mib(budget)} "
                       f"(MODQ_MAX_DECODE_BYTES), which allows {limit:,} pixels a frame (at 8 bytes a pixel, "
                       f"the deepest format a frame may switch to)")


def _declared_size(path: Path) -> tuple[int, int]:
    """The frame size the container declares, read with every decoder barred (nothing is decoded)."""
    with _open(path, {"codec_whitelist": "none"}) as container:
        stream = _video_stream(container)
        return stream.width, stream.height


def _video_stream(container):
    if not container.streams.video:
        raise BadInput("the file has no video stream")
    return container.streams.video[0]


def _duration(container, stream) -> float | None:
    """Seconds of video declared by the container (the video stream's, if it says)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _choose_mode(container, stream, fps: float) -> str:
    """"seek" if keyframes in the first seconds are at most one sampling interval apart."""
    keyframes, seen_until = [], 0.0
    try:
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            seen_until = float(packet.pts * stream.time_base)
            if packet.is_keyframe:
                keyframes.append(seen_until)
            if seen_until >= PROBE_SECONDS:
                break
        container.seek(0, stream=stream)
    except av.FFmpegError as exc:
        raise BadInput(f"cannot read the video's packets: {_why(exc)}") from None
    gaps = [b - a for a, b in zip(keyframes, keyframes[1:])] + [seen_until - keyframes[-1] if keyframes else seen_until]
    return "seek" if len(keyframes) > 1 and max(gaps) <= 1.0 / fps + 1e-6 else "decode"


def _sample_by_decoding(container, stream, fps, max_seconds, end) -> Iterator[tuple[int, Image.Image]]:
    """Decode every frame; keep the first at or after each sampling instant."""
    interval, next_at = 1.0 / fps, 0.0
    for frame in _frames(container, stream, max_seconds, end):
        if frame.time + 1e-6 >= next_at:
            yield _ms(frame, stream), _upright(frame)
            next_at = (int(frame.time / interval + 1e-6) + 1) * interval


def _sample_by_seeking(container, stream, fps, max_seconds, end) -> Iterator[tuple[int, Image.Image]]:
    """Seek to the keyframe before each sampling instant and decode up to it."""
    interval, target, last_ts = 1.0 / fps, 0.0, -1.0
    declared = _duration(container, stream)
    while True:
        try:
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
        except av.FFmpegError as exc:
            raise BadInput(f"cannot seek to {target:.1f} s: {_why(exc)}") from None
        frame = next((f for f in _frames(container, stream, max_seconds, end) if f.time + 1e-6 >= target), None)
        if frame is None:
            return
        if frame.time > last_ts:  # two targets inside one long frame: analyse it once
            last_ts = frame.time
            yield _ms(frame, stream), _upright(frame)
        target = (int(frame.time / interval + 1e-6) + 1) * interval
        if declared is not None and target >= declared:
            for _ in _frames(container, stream, max_seconds, end):  # on to the end: proves the file is whole
                pass
            return


def _ms(frame, stream) -> int:
    """Milliseconds from the start of the video (a stream may start at a small offset)."""
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    return max(0, int(round((frame.time - start) * 1000)))


def _frames(container, stream, max_seconds, end: _EndTracker):
    try:
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            if frame.time > max_seconds:
                raise BadInput(f"video runs past {max_seconds:,.0f} s (MODQ_VIDEO_MAX_SECONDS)")
            end.last_s = max(end.last_s, frame.time)
            yield frame
    except av.FFmpegError as exc:
        hint = " (or a frame over the pixel guard of MODQ_MAX_DECODE_BYTES)" if exc.errno == errno.EINVAL else ""
        raise BadInput(f"corrupt or truncated video: decoding failed after {end.last_s:.1f} s: {_why(exc)}{hint}") \
            from None


def _check_complete(duration: float | None, last_s: float, frames: int) -> None:
    if frames == 0:
        raise BadInput("no frame of the video could be decoded")
    if duration is not None and last_s < duration - END_TOLERANCE_S:
        raise BadInput(f"corrupt or truncated video: frames stop at {last_s:.1f} s of the declared {duration:.1f} s")


def _upright(frame) -> Image.Image:
    """RGB image, turned as the display matrix says (phone videos are stored sideways)."""
    return upright(frame.to_image(), getattr(frame, "rotation", 0) or 0)


def upright(image: Image.Image, rotation: int) -> Image.Image:
    """``rotation``: degrees counter-clockwise the frame must turn for display (PyAV's ``VideoFrame.rotation``)."""
    turn = _ROTATIONS.get(int(round(rotation)))
    return image.transpose(turn) if turn is not None else image


def _why(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)
