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
    blob = preprocess(img)
    output = session.run(None, {session.get_inputs()[0].name: blob})[0]
    return postprocess(output, img.width, img.height)


def preprocess(img: Image.Image) -> np.ndarray:
    """The (1, 3, 320, 320) float32 input NudeNet builds with cv2.

    NudeNet pads bottom/right with black to a square, resizes with
    INTER_LINEAR and swaps channels twice, so the model receives BGR in 0..1.
    ``img`` may be in any 8-bit mode: it is the RGB conversion of it that is resized.
    """
    resized = _resize_padded_square(img, INPUT_SIZE)
    bgr = resized[:, :, ::-1].transpose(2, 0, 1)[np.newaxis]
    return bgr.astype(np.float32) * np.float32(1 / 255.0)


def _resize_padded_square(img: Image.Image, size: int) -> np.ndarray:
    """cv2.resize(INTER_LINEAR, uint8) of ``img`` as RGB, zero-padded to a square, bit for bit.

    Only the pixels the 2x2 taps touch are gathered, so a 12 MP photo is never
    copied into a padded array, and a tall image is never converted to RGB whole.
    """
    w, h = img.size
    side = max(h, w)
    y0, y1, b0, b1 = _linear_taps(side, size, edge_weights_clamped=False)
    x0, x1, a0, a1 = _linear_taps(side, size, edge_weights_clamped=True)
    # The rows the taps touch, then their columns, as uint8 (cheap copies); int32 only
    # at 320x320. No intermediate exceeds 2**27, so int32 rounds exactly as int64 would.
    # (Gathering all four taps as int64 with np.ix_ cost more than the model itself.)
    rows0, rows1 = _rows(img, y0, y1)
    a0, a1 = a0.astype(np.int32)[None, :, None], a1.astype(np.int32)[None, :, None]
    b0, b1 = b0.astype(np.int32)[:, None, None], b1.astype(np.int32)[:, None, None]
    # Horizontal pass in fixed point (coefficients scaled by 2048), as cv2 does, then
    # cv2's VResizeLinear rounding for 8-bit output:
    # (((b0 * (top >> 4)) >> 16) + ((b1 * (bottom >> 4)) >> 16) + 2) >> 2, in place.
    top = _horizontal(rows0, x0, x1, a0, a1, w)
    bottom = _horizontal(rows1, x0, x1, a0, a1, w)
    top >>= 4
    top *= b0
    top >>= 16
    bottom >>= 4
    bottom *= b1
    bottom >>= 16
    top += bottom
    top += 2
    top >>= 2
    return top.astype(np.uint8)


def _horizontal(rows: np.ndarray, x0: np.ndarray, x1: np.ndarray, a0: np.ndarray, a1: np.ndarray,
                w: int) -> np.ndarray:
    """rows[:, x0] * a0 + rows[:, x1] * a1 as int32."""
    left = _columns(rows, x0, w)
    left *= a0
    right = _columns(rows, x1, w)
    right *= a1
    left += right
    return left


def _rows(img: Image.Image, *tap_rows: np.ndarray) -> list[np.ndarray]:
    """RGB rows of ``img`` (uint8) for each index array, with black for rows in the padding.

    When the taps touch less than half the rows, only those rows are cropped and converted:
    a 10,000 px tall image costs 640 rows, not a full RGB copy (4 bytes a pixel in Pillow)
    and a full array (3 more). Converting a mode to RGB is per pixel, so the rows are the
    same bytes either way.
    """
    inside = [np.minimum(ys, img.height - 1) for ys in tap_rows]
    wanted = np.unique(np.concatenate(inside))
    if len(wanted) * 2 >= img.height:
        strip, index = _rgb_array(img), inside
    else:
        strip = np.concatenate([_rgb_array(img.crop((0, int(y), img.width, int(y) + 1))) for y in wanted])
        index = [np.searchsorted(wanted, ys) for ys in inside]
    result = []
    for ys, at in zip(tap_rows, index):
        rows = strip.take(at, axis=0)
        rows[ys >= img.height] = 0
        result.append(rows)
    return result


def _rgb_array(img: Image.Image) -> np.ndarray:
    return np.asarray(img if img.mode == "RGB" else img.convert("RGB"))


def _columns(rows: np.ndarray, xs: np.ndarray, w: int) -> np.ndarray:
    """rows[:, xs] as int32, with black for columns in the padding."""
    pixels = rows.take(np.minimum(xs, w - 1), axis=1).astype(np.int32)
    pixels[:, xs >= w] = 0
    return pixels


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
