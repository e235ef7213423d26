"""State machine of the fake Amazon Rekognition endpoint (no HTTP here).

``RekognitionState.handle(operation, body)`` answers one AWS JSON 1.1 call and
returns ``(http_status, payload)``. Everything is guarded by ``self.lock`` (an
RLock) so tests may change scenario, faults and counters from their own thread
while the HTTP server (rekognition_server.py) answers from handler threads.
Video jobs live in rekognition_video.py. API facts: /work/shared/REKOGNITION.md.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import random
import threading
import time
from collections import Counter, deque
from typing import Any

import botocore.session

from tests.rekognition_shapes import ShapeError, validate_output

MODEL_VERSION = "7.0"
MAX_IMAGE_BYTES = 5 * 1024 * 1024  # 5,242,880
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
_OPERATIONS = ("DetectModerationLabels", "StartContentModeration", "GetContentModeration")
_model = botocore.session.get_session().get_service_model("rekognition")
#: Every error code the three operations model; scenario errors must be one of these.
MODELED_ERROR_CODES = frozenset(
    e.name for op in _OPERATIONS for e in _model.operation_model(op).error_shapes
)
_HTTP_STATUS = {"InternalServerError": 500}  # everything else modeled answers 400
THROTTLE_CODES = ("ThrottlingException", "ProvisionedThroughputExceededException")


class FakeError(Exception):
    """An AWS error answer: HTTP status + ``{"__type": code, "message": ...}``."""

    def __init__(self, code: str, message: str = "", status: int | None = None):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message or code
        self.status = status or _HTTP_STATUS.get(code, 400)

    def payload(self) -> dict[str, str]:
        return {"__type": self.code, "message": self.message}


def invalid(message: str) -> FakeError:
    return FakeError("InvalidParameterException", message)


def check_error_code(code: str | None) -> None:
    if code is not None and code not in MODELED_ERROR_CODES:
        raise ValueError(f"{code!r} is not a modeled Rekognition error; use one of {sorted(MODELED_ERROR_CODES)}")


def norm_label(d: dict[str, Any]) -> dict[str, Any]:
    """{Name, ParentName (default ""), TaxonomyLevel (default 1), Confidence} as AWS sends it."""
    return {
        "Name": d["Name"],
        "ParentName": d.get("ParentName", ""),
        "TaxonomyLevel": int(d.get("TaxonomyLevel", 1)),
        "Confidence": float(d["Confidence"]),
    }


def min_confidence(body: dict[str, Any]) -> float:
    value = body.get("MinConfidence", 50)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise invalid(f"MinConfidence must be between 0 and 100, got {value!r}")
    return float(value)


class RekognitionState:
    """Image moderation, scenario, faults and counters; rekognition_video.py adds the video jobs."""

    _HANDLERS = {
        "DetectModerationLabels": "_detect_moderation_labels",
        "StartContentModeration": "_start_content_moderation",
        "GetContentModeration": "_get_content_moderation",
    }

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._in_flight = 0  # requests being answered right now (not reset: they are real)
        self.reset()

    # ------------------------------------------------------------------ setup
    def reset(self) -> None:
        """Back to a fresh server: no scenario, no faults, no jobs, zero counters."""
        with self.lock:
            self.clock = time.monotonic  # replaceable: drives quota windows and job_duration_s
            self.wall_clock = time.time  # replaceable: epoch seconds for completion timestamps
            self.record_requests = True  # False: keep counters but not the ``requests`` list
            self.s3_objects: dict[tuple[str, str], dict[str, Any]] = {}
            self.bytes_labels: dict[str, list[dict[str, Any]]] = {}
            self.bytes_errors: dict[str, str] = {}
            self.default_labels: list[dict[str, Any]] = []
            self.labels_by_color = False  # True: bytes without labels of their own are judged by colour
            self.accept_any_s3 = False
            self.s3_mirror = None  # an S3 client (moto): add_s3_object also puts the object there
            self.latency_s = 0.0
            self.throttle_ratio = 0.0
            self.server_error_ratio = 0.0
            self.throttle_http_status = 400
            self.quota_tps: float | None = None
            self.access_denied = False
            self.seed = None
            self._reset_extra()
            self.reset_counters()

    def reset_counters(self) -> None:
        with self.lock:
            self.calls: Counter[str] = Counter()  # every call, by operation
            self.accepted_calls: Counter[str] = Counter()  # calls answered 200, by operation
            self.errors: Counter[str] = Counter()  # error answers, by code
            self.throttled = 0  # ThrottlingException + ProvisionedThroughputExceededException answers
            self.server_errors = 0  # InternalServerError answers
            self.max_concurrent_requests = 0
            self.requests: list[tuple[str, Any]] = []
            self.shape_errors: list[str] = []
            self.callback_errors: list[str] = []
            self._quota_windows: dict[str, deque[float]] = {}

    def _reset_extra(self) -> None:
        """Hook for subclasses: reset their own scenario state (called under the lock)."""

    def _fire_callbacks(self, completed: list[dict[str, Any]]) -> None:
        """Hook for subclasses: run callbacks for jobs that finished during a call (outside the lock)."""

    @property
    def seed(self) -> int | None:
        return self._seed

    @seed.setter
    def seed(self, value: int | None) -> None:
        with self.lock:
            self._seed = value
            self._rng = random.Random(value)

    def add_s3_object(
        self,
        bucket: str,
        key: str,
        labels: list[dict[str, Any]] | None = None,
        kind: str = "image",
        error: str | None = None,
        fail_job: str | None = None,
    ) -> None:
        if kind not in ("image", "video"):
            raise ValueError(f"kind must be 'image' or 'video', got {kind!r}")
        check_error_code(error)
        with self.lock:
            self.s3_objects[(bucket, key)] = {
                "kind": kind, "labels": list(labels or []), "error": error, "fail_job": fail_job,
            }
        if self.s3_mirror is not None:  # the worker looks at the object (HeadObject) before paying for a call
            put_placeholder(self.s3_mirror, bucket, key)

    def set_bytes_labels(self, sha256_hex: str, labels: list[dict[str, Any]], error: str | None = None) -> None:
        check_error_code(error)
        with self.lock:
            self.bytes_labels[sha256_hex.lower()] = list(labels)
            if error:
                self.bytes_errors[sha256_hex.lower()] = error
            else:
                self.bytes_errors.pop(sha256_hex.lower(), None)

    # --------------------------------------------------------------- dispatch
    def handle(self, operation: str, body: Any) -> tuple[int, dict[str, Any]]:
        """Answer one call (thread-safe). ``body`` is the parsed JSON (None if it did not parse)."""
        with self.lock:
            self.calls[operation] += 1
            if self.record_requests:
                self.requests.append((operation, body))
            self._in_flight += 1
            self.max_concurrent_requests = max(self.max_concurrent_requests, self._in_flight)
            latency = self.latency_s
        completed: list[dict[str, Any]] = []
        try:
            if latency:
                time.sleep(latency)
            with self.lock:
                try:
                    response = self._answer(operation, body, completed)
                    try:
                        validate_output(operation, response)
                    except ShapeError as exc:
                        self.shape_errors.append(str(exc))
                        raise FakeError("FakeServerShapeError", str(exc), 500) from exc
                    self.accepted_calls[operation] += 1
                    result = 200, response
                except FakeError as exc:
                    self.errors[exc.code] += 1
                    self.throttled += exc.code in THROTTLE_CODES
                    self.server_errors += exc.code == "InternalServerError"
                    result = exc.status, exc.payload()
            self._fire_callbacks(completed)
            return result
        finally:
            with self.lock:
                self._in_flight -= 1

    def _answer(self, operation: str, body: Any, completed: list[dict[str, Any]]) -> dict[str, Any]:
        handler = getattr(self, self._HANDLERS.get(operation, "_no_such_operation"), None)
        if handler is None:
            raise FakeError("UnknownOperationException", f"The fake does not implement {operation}")
        if not isinstance(body, dict):
            raise FakeError("SerializationException", "Request body is not a JSON object")
        self._inject_faults(operation)
        return handler(body, completed)

    def _inject_faults(self, operation: str) -> None:
        if self.access_denied:
            raise FakeError("AccessDeniedException", "User is not authorized to perform: rekognition:" + operation)
        if self.quota_tps is not None:
            now = self.clock()
            window = self._quota_windows.setdefault(operation, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= self.quota_tps:
                raise FakeError("ProvisionedThroughputExceededException", "Provisioned rate exceeded")
            window.append(now)
        draw = self._rng.random()
        if draw < self.throttle_ratio:
            raise FakeError("ThrottlingException", "Rate exceeded", self.throttle_http_status)
        if draw < self.throttle_ratio + self.server_error_ratio:
            raise FakeError("InternalServerError", "Internal server error")

    # ------------------------------------------------------------------ image
    def _detect_moderation_labels(self, body: dict[str, Any], completed: list) -> dict[str, Any]:
        floor = min_confidence(body)
        image = body.get("Image")
        if not isinstance(image, dict) or ("Bytes" in image) == ("S3Object" in image):
            raise invalid("Image must contain exactly one of Bytes or S3Object")
        if "Bytes" in image:
            labels = self._labels_for_bytes(image["Bytes"])
        else:
            labels = self.lookup_s3(image["S3Object"], "image")["labels"]
        return {
            "ModerationLabels": [norm_label(x) for x in labels if float(x["Confidence"]) >= floor],
            "ModerationModelVersion": MODEL_VERSION,
            "ContentTypes": [],
        }

    def _labels_for_bytes(self, encoded: Any) -> list[dict[str, Any]]:
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, TypeError, ValueError) as exc:
            raise invalid("Image.Bytes is not valid base64") from exc
        if not data:
            raise invalid("Image.Bytes must not be empty")
        if len(data) > MAX_IMAGE_BYTES:
            raise FakeError("ImageTooLargeException", f"Image size {len(data)} exceeds {MAX_IMAGE_BYTES} bytes")
        if not data.startswith(_IMAGE_MAGIC):
            raise FakeError("InvalidImageFormatException", "Request has unsupported image format")
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.bytes_errors:
            raise FakeError(self.bytes_errors[digest], f"Scenario error for image sha256 {digest}")
        if digest not in self.bytes_labels and self.labels_by_color:
            return _color_labels(data)
        return self.bytes_labels.get(digest, self.default_labels)

    def lookup_s3(self, s3: Any, kind: str) -> dict[str, Any]:
        """The registered object for an S3Object reference, or the matching AWS error."""
        if not isinstance(s3, dict) or not s3.get("Bucket") or not s3.get("Name"):
            raise invalid("S3Object needs Bucket and Name")
        where = f"s3://{s3['Bucket']}/{s3['Name']}"
        obj = self.s3_objects.get((s3["Bucket"], s3["Name"]))
        if obj is None:
            if not self.accept_any_s3:
                raise FakeError(
                    "InvalidS3ObjectException",
                    f"Unable to get object metadata from S3 ({where}). Check object key, region and/or access permissions.",
                )
            labels = self.default_labels
            if kind == "video":
                labels = [{"Timestamp": 0, **x} for x in labels]
            obj = {"kind": kind, "labels": labels, "error": None, "fail_job": None}
        if obj.get("error"):
            raise FakeError(obj["error"], f"Scenario error for {where}")
        if obj["kind"] != kind:
            if kind == "image":
                raise FakeError("InvalidImageFormatException", f"{where} is not a JPEG or PNG image")
            raise FakeError("InvalidS3ObjectException", f"{where} is not a readable video")
        return copy.deepcopy(obj)


def _color_labels(data: bytes) -> list[dict[str, Any]]:
    """The labels tests.fakes.providers.COLOR_LABELS gives the colour at the image's centre (red: explicit):
    which frame of an animation was sent shows in the answer."""
    import io

    from PIL import Image

    from tests.fakes.providers import color_labels

    with Image.open(io.BytesIO(data)) as img:
        return [label.to_dict() for label in color_labels(img.convert("RGB"))]


def put_placeholder(s3, bucket: str, key: str) -> None:
    """An object at ``bucket``/``key`` in a real (moto) S3, so S3 calls the worker makes about it succeed."""
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=f"fake rekognition object {key}".encode())
    except s3.exceptions.NoSuchBucket:
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key=key, Body=f"fake rekognition object {key}".encode())
