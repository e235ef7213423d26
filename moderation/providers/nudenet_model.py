"""NudeNet's bundled 320n detector, run directly with onnxruntime.

Why not ``nudenet.NudeDetector``: it cannot set onnxruntime's thread count,
ignores EXIF orientation and raises ``AttributeError`` on bad input. This
module reproduces its pre- and post-processing (nudenet 3.4.2,
``nudenet/nudenet.py``) with numpy so that scores and boxes are the same,
without importing cv2.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as _ort_state
from PIL import Image

# Model output order, copied from nudenet's ``__labels``.
CLASSES = (
    "FEMALE_GENITALIA_COVERED", "FACE_FEMALE", "BUTTOCKS_EXPOSED", "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED", "MALE_BREAST_EXPOSED", "ANUS_EXPOSED", "FEET_EXPOSED",
    "BELLY_COVERED", "FEET_COVERED", "ARMPITS_COVERED", "ARMPITS_EXPOSED", "FACE_MALE",
    "BELLY_EXPOSED", "MALE_GENITALIA_EXPOSED", "ANUS_COVERED", "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)
INPUT_SIZE = 320
CANDIDATE_SCORE = 0.2  # nudenet keeps candidates scoring >= 0.2 ...
NMS_SCORE = 0.25  # ... then cv2.dnn.NMSBoxes keeps only those scoring > 0.25
NMS_IOU = 0.45

# onnxruntime's errors share no base class beyond Exception; collect them all.
ORT_ERRORS: tuple[type[Exception], ...] = tuple(
    cls for cls in vars(_ort_state).values() if isinstance(cls, type) and issubclass(cls, Exception)
)

_SESSIONS: dict[int, ort.InferenceSession] = {}
_LOCK = threading.Lock()


def model_path() -> Path:
    """The ONNX file inside the installed wheel, found without importing nudenet (which imports cv2)."""
    spec = importlib.util.find_spec("nudenet")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nudenet package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "320n.onnx"


def get_session(threads: int = 1) -> ort.InferenceSession:
    """One session per thread count per process: loading costs ~0.3 s and ~100 MiB."""
    with _LOCK:
        session = _SESSIONS.get(threads)
        if session is None:
            session = _SESSIONS[threads] = _create_session(threads)
        return session


def _create_session(threads: int) -> ort.InferenceSession:
    path = model_path()
    if not path.is_file():
        raise FileNotFoundError(f"NudeNet model not found at {path}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    # Spinning threads burn CPU between calls and starve sibling worker processes.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def detect_boxes(img: Image.Image, threads: int = 1) -> list[dict[str, Any]]:
    """NudeNet detections ``{"class", "score", "box": [x, y, w, h]}``, best first, as NudeDetector.detect."""
    session = get_session(threads)
    output = session.run(None, {session.get_inputs()[0].name: preprocess(img)})[0]
    return postprocess(output, img.width, img.height)


# uint8 -> the float32 NudeNet feeds the model (x * (1/255) in float32, as astype(float32) * float32(1/255)).
_SCALED = np.arange(256, dtype=np.float32) * np.float32(1 / 255.0)


def preprocess(img: Image.Image) -> np.ndarray:
    """The (1, 3, 320, 320) float32 input NudeNet builds with cv2.

    NudeNet pads bottom/right with black to a square, resizes with
    INTER_LINEAR and swaps channels twice, so the model receives BGR in 0..1.
    ``img`` may be in any 8-bit mode: it is the RGB conversion of it that is resized.
    """
    planes = _resized_bgr(img, INPUT_SIZE).transpose(1, 0, 2)  # (3, 320, 320) B, G, R
    return _SCALED.take(planes)[np.newaxis]  # float32 in one pass


def _resize_padded_square(img: Image.Image, size: int) -> np.ndarray:
    """cv2.resize(INTER_LINEAR, uint8) of ``img`` as RGB, zero-padded to a square, bit for bit: (size, size, 3)."""
    return _resized_bgr(img, size).transpose(0, 2, 1)[:, :, ::-1].astype(np.uint8)


def _resized_bgr(img: Image.Image, size: int) -> np.ndarray:
    """``_resize_padded_square`` as int32 (size rows, 3 channels B G R, size columns).

    Only the pixels the 2x2 taps touch are gathered (``_tap_pixels``), so a 12 MP photo is never
    copied into a padded array, and a tall image is never converted to RGB whole. A tap in the
    padding reads black, which is the same as giving it no weight: its weight is zeroed instead.
    Channels are kept apart within each row, so that every numpy loop below runs along a row.
    """
    w, h = img.size
    side = max(h, w)
    y0, y1, b0, b1 = _linear_taps(side, size, edge_weights_clamped=False)
    x0, x1, a0, a1 = _linear_taps(side, size, edge_weights_clamped=True)
    # No intermediate exceeds 2**27, so int32 rounds exactly as int64 would.
    a0, a1 = (np.where(x < w, a, 0).astype(np.int32) for x, a in ((x0, a0), (x1, a1)))
    b0, b1 = (np.where(y < h, b, 0).astype(np.int32)[:, None, None] for y, b in ((y0, b0), (y1, b1)))
    y0, y1 = np.minimum(y0, h - 1), np.minimum(y1, h - 1)
    rows = np.unique(np.concatenate([y0, y1]))
    # Bytes of an RGB row to gather: the B, then G, then R of the left taps' columns and the right ones'.
    xs = np.minimum(np.concatenate([x0, x1]), w - 1)
    pixels = _tap_pixels(img, rows, (3 * xs + np.array([[2], [1], [0]])).ravel())
    # Horizontal pass in fixed point (coefficients scaled by 2048), as cv2 does, then
    # cv2's VResizeLinear rounding for 8-bit output:
    # (((b0 * (top >> 4)) >> 16) + ((b1 * (bottom >> 4)) >> 16) + 2) >> 2, in place.
    top = _horizontal(pixels.take(np.searchsorted(rows, y0), axis=0).reshape(size, 3, 2 * size), a0, a1)
    bottom = _horizontal(pixels.take(np.searchsorted(rows, y1), axis=0).reshape(size, 3, 2 * size), a0, a1)
    top >>= 4
    top *= b0
    top >>= 16
    bottom >>= 4
    bottom *= b1
    bottom >>= 16
    top += bottom
    top += 2
    top >>= 2
    return top


def _horizontal(taps: np.ndarray, a0: np.ndarray, a1: np.ndarray) -> np.ndarray:
    """left * a0 + right * a1 as int32, ``taps`` holding the left taps then the right ones (widened in the product)."""
    size = a0.shape[0]
    out = np.multiply(taps[:, :, :size], a0, dtype=np.int32)
    out += np.multiply(taps[:, :, size:], a1, dtype=np.int32)
    return out


def _tap_pixels(img: Image.Image, rows: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Bytes ``offsets`` of ``rows`` of ``img`` as 8-bit RGB (uint8, rows x offsets), never converting it whole.

    The rows are read band by band (``_bands``): a crop, its RGB conversion and the bytes wanted, each a
    few MiB at most. Converting a mode to RGB is per pixel, so the pixels are the same bytes either way;
    and no buffer big enough to be handed back to the OS after each image is made (asking for it again
    costs a page fault per 4 KiB: a 1080p photo converted whole costs more than the model).
    """
    parts = []
    for lo, hi in _bands(rows, img.width):
        band = img if (lo, hi) == (0, img.height) else img.crop((0, lo, img.width, hi))
        rgb = np.asarray(band if band.mode == "RGB" else band.convert("RGB")).reshape(hi - lo, 3 * img.width)
        first, last = np.searchsorted(rows, (lo, hi))
        if last - first < hi - lo:
            rgb = rgb.take(rows[first:last] - lo, axis=0)
        parts.append(rgb.take(offsets, axis=1))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _bands(rows: np.ndarray, width: int) -> list[tuple[int, int]]:
    """Row ranges [lo, hi) covering ``rows`` (sorted, unique): runs of consecutive rows when the rows are
    sparse enough that skipping the others pays for a crop per run, else strips of ``_BAND_BYTES``."""
    breaks = np.flatnonzero(np.diff(rows) > 1) + 1
    starts, ends = rows[np.r_[0, breaks]], rows[np.r_[breaks - 1, len(rows) - 1]] + 1
    skipped = int(rows[-1]) + 1 - int(rows[0]) - len(rows)
    if len(starts) * _CROP_PIXELS < skipped * width:
        return list(zip(starts.tolist(), ends.tolist()))
    step = max(1, _BAND_BYTES // (4 * width))  # Pillow holds RGB as 4 bytes a pixel
    return [(lo, min(lo + step, int(rows[-1]) + 1)) for lo in range(int(rows[0]), int(rows[-1]) + 1, step)]


_BAND_BYTES = 2 * 1024**2
_CROP_PIXELS = 15_000  # what a crop's fixed cost (~9 us) would convert instead, in pixels


def _linear_taps(src: int, dst: int, edge_weights_clamped: bool) -> tuple[np.ndarray, ...]:
    """Source indices and 11-bit weights per output pixel, computed as cv2 computes them.

    At the edges cv2 clamps the column weights to (1, 0) but only the row
    indices, keeping the row weights; this changes rounding when upscaling.
    """
    scale = 1.0 / (dst / src)
    pos = ((np.arange(dst) + 0.5) * scale - 0.5).astype(np.float32)
    first = np.floor(pos).astype(np.int64)
    frac = pos - first.astype(np.float32)
    if edge_weights_clamped:
        frac[(first < 0) | (first >= src - 1)] = 0
    second = np.clip(first + 1, 0, src - 1)
    first = np.clip(first, 0, src - 1)
    w0 = np.rint((np.float32(1) - frac) * np.float32(2048)).astype(np.int64)
    w1 = np.rint(frac * np.float32(2048)).astype(np.int64)
    return first, second, w0, w1


def postprocess(output: np.ndarray, width: int, height: int) -> list[dict[str, Any]]:
    """Decode YOLOv8 rows (cx, cy, w, h, 18 scores) into boxes on the original image, then NMS."""
    rows = np.transpose(np.squeeze(output, axis=0))
    class_scores = rows[:, 4:]
    best = class_scores.max(axis=1)
    keep = best >= CANDIDATE_SCORE
    rows, scores, class_ids = rows[keep], best[keep], class_scores[keep].argmax(axis=1)
    boxes = _to_image_boxes(rows[:, :4], width, height)
    return [
        {"class": CLASSES[class_ids[i]], "score": float(scores[i]), "box": [int(v) for v in boxes[i]]}
        for i in _nms(boxes.astype(np.float64), scores)
    ]


def _to_image_boxes(cxcywh: np.ndarray, width: int, height: int) -> np.ndarray:
    """Centre boxes in model pixels -> clipped [x, y, w, h] in image pixels (float32, as nudenet)."""
    side = max(width, height)  # nudenet's (original + padding) on either axis
    cx, cy, bw, bh = cxcywh.T
    x = (cx - bw / 2) * side / INPUT_SIZE
    y = (cy - bh / 2) * side / INPUT_SIZE
    bw = bw * side / INPUT_SIZE
    bh = bh * side / INPUT_SIZE
    x = np.clip(x, 0, width)
    y = np.clip(y, 0, height)
    bw = np.minimum(bw, width - x)
    bh = np.minimum(bh, height - y)
    return np.stack([x, y, bw, bh], axis=1)


def _nms(boxes: np.ndarray, scores: np.ndarray) -> list[int]:
    """Class-agnostic greedy NMS with cv2.dnn.NMSBoxes's rules (Rect2d overlap, stable order)."""
    order = [i for i in np.argsort(-scores, kind="stable") if scores[i] > np.float32(NMS_SCORE)]
    kept: list[int] = []
    for i in order:
        if all(_overlap(boxes[i], boxes[k]) <= np.float32(NMS_IOU) for k in kept):
            kept.append(int(i))
    return kept


def _overlap(a: np.ndarray, b: np.ndarray) -> np.float32:
    """Intersection over union; two empty boxes count as identical, as in OpenCV."""
    area_a, area_b = a[2] * a[3], b[2] * b[3]
    if area_a + area_b <= np.finfo(np.float64).eps:
        return np.float32(1.0)
    iw = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    ih = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = iw * ih if iw > 0 and ih > 0 else 0.0
    return np.float32(inter / (area_a + area_b - inter))
