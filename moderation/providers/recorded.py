"""The recorded provider (``MODQ_PROVIDER=recorded``): replays DetectModerationLabels answers from a file.

It calls nothing. ``MODQ_RECORDED_ANSWERS`` names a JSON file of answers in
Rekognition's response shape, each for one exact content (the sha256 of the
image's bytes, as the worker's content key); every answer is checked against
botocore's service model for DetectModerationLabels when the file is loaded.
Content with no answer in the file fails with a reason saying so: the provider
never guesses. Its analyses are recorded as provider ``recorded`` (never
``rekognition``), with a model version naming the file's content, and are
judged by the base thresholds (the ones for Rekognition's confidences).

What it is for: the demo (``samples/recorded/``: answers written for it, not
answers from AWS), and replaying answers captured from a real account in a
staging deployment, with no AWS account and no cost.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import botocore.session
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters

from moderation.domain.errors import BadInput, DeploymentFault
from moderation.domain.labels import Analysis, ModerationLabel
from moderation.infra.media.imaging import PreparedImage

NAME = "recorded"


class RecordedProvider:
    name = NAME
    reads_s3_directly = False  # an S3 image is downloaded, so its bytes (and their sha256) are known
    decodes_pixels = False

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._answers: dict[str, dict[str, Any]] | None = None
        self._version = ""

    @property
    def model_version(self) -> str:
        """``recorded-`` and the file's sha256 prefix: known before any call (paying once reuses only this
        version's analyses), and new whenever the file changes."""
        self._load()
        return self._version

    def answers(self) -> dict[str, dict[str, Any]]:
        """sha256 of the content -> its DetectModerationLabels response."""
        return self._load()

    def analyze_image(self, image: PreparedImage, min_confidence: float) -> Analysis:
        if not 0 <= min_confidence <= 100:  # same rule as the Rekognition provider
            raise BadInput(f"MinConfidence {min_confidence} is outside 0-100")
        response = self._load().get(image.sha256)
        if response is None:
            raise BadInput(f"the recorded provider has no answer for this content (sha256 {image.sha256}) in "
                           f"{self.path}; it only replays the answers that file holds")
        # As MinConfidence would: labels under it are not in the answer.
        labels = [lab for lab in map(ModerationLabel.from_dict, response.get("ModerationLabels", []))
                  if lab.confidence >= min_confidence]
        raw = {**response, "Replayed": {"answers": str(self.path), "sha256": image.sha256,
                                        "note": "a recorded answer replayed by modq; no call was made"}}
        return Analysis(NAME, self.model_version, labels, list(response.get("ContentTypes", [])), raw)

    def analyze_pil(self, img: Any, min_confidence: float) -> Analysis:
        """A video frame: there is nothing to match it with (answers are per file), so the item fails."""
        raise BadInput("the recorded provider replays answers for whole images only; it cannot judge video frames")

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._answers is None:
            self._answers, self._version = load(self.path)
        return self._answers


def load(path: Path) -> tuple[dict[str, dict[str, Any]], str]:
    """(answers by sha256, model version) from an answers file; ``DeploymentFault`` naming the file and the
    first problem if it cannot be used."""
    try:
        data = path.read_bytes()
        doc = json.loads(data)
    except (OSError, ValueError) as exc:
        raise DeploymentFault(f"MODQ_RECORDED_ANSWERS: cannot read {path}: {exc}") from None
    entries = doc.get("answers") if isinstance(doc, dict) else None
    if not isinstance(entries, dict):
        raise DeploymentFault(f"MODQ_RECORDED_ANSWERS: {path} needs an 'answers' object: sha256 -> "
                              "{\"response\": <DetectModerationLabels response>, ...}")
    shape = _output_shape()
    answers = {}
    for key, entry in entries.items():
        where = f"{path}: answers[{key!r}]"
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise DeploymentFault(f"MODQ_RECORDED_ANSWERS: {where}: the key must be the content's sha256 "
                                  "(64 lowercase hex digits)")
        response = entry.get("response") if isinstance(entry, dict) else None
        if not isinstance(response, dict):
            raise DeploymentFault(f"MODQ_RECORDED_ANSWERS: {where} has no 'response' object")
        answers[key] = _checked(response, shape, where)
    return answers, "recorded-" + hashlib.sha256(data).hexdigest()[:12]


def _output_shape():
    model = botocore.session.get_session().get_service_model("rekognition")
    return model.operation_model("DetectModerationLabels").output_shape


def _checked(response: dict[str, Any], shape, where: str) -> dict[str, Any]:
    """The response, if botocore's service model accepts it as DetectModerationLabels' output and every
    confidence is 0-100 (botocore does not check ranges)."""
    try:
        validate_parameters(response, shape)
    except ParamValidationError as exc:
        raise DeploymentFault(f"MODQ_RECORDED_ANSWERS: {where} is not a DetectModerationLabels response: "
                              f"{' '.join(str(exc).split())}") from None
    for label in response.get("ModerationLabels", []):
        if "Name" not in label or not 0 <= label.get("Confidence", -1) <= 100:
            raise DeploymentFault(f"MODQ_RECORDED_ANSWERS: {where}: every label needs a Name and a "
                                  f"Confidence of 0-100 ({label})")
    return response
