"""Offline provider: NudeNet's bundled detector mapped onto the Rekognition v7 taxonomy.

It only knows nudity and swimwear (see ../shared/LOCAL_MODEL.md): nothing maps
to sexual activity, implied nudity, kissing, violence, weapons, drugs,
alcohol, gambling, hate symbols or gestures. Its scores are not Rekognition
confidences, so thresholds for it need their own defaults.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any, Iterable

from PIL import Image

from moderation.domain import taxonomy
from moderation.domain.errors import BadInput, DeploymentFault, TransientFault
from moderation.infra.media.imaging import PreparedImage
from moderation.providers import nudenet_model
from moderation.domain.labels import Analysis, ModerationLabel

MODEL_VERSION = f"nudenet-{version('nudenet')}-320n"

# NudeNet class -> the most specific v7 label; ancestors are added from the taxonomy.
LEAF_LABELS: dict[str, str] = {
    "FEMALE_GENITALIA_EXPOSED": "Exposed Female Genitalia",
    "MALE_GENITALIA_EXPOSED": "Exposed Male Genitalia",
    "BUTTOCKS_EXPOSED": "Exposed Buttocks or Anus",
    "ANUS_EXPOSED": "Exposed Buttocks or Anus",
    "FEMALE_BREAST_EXPOSED": "Exposed Female Nipple",
    "MALE_BREAST_EXPOSED": "Exposed Male Nipple",
    "FEMALE_BREAST_COVERED": "Female Swimwear or Underwear",
    "FEMALE_GENITALIA_COVERED": "Female Swimwear or Underwear",
}
# Covered buttocks say nothing about sex; the other boxes in the image decide.
SEX_FROM_CONTEXT = frozenset({"BUTTOCKS_COVERED", "ANUS_COVERED"})
# FACE_*, FEET_*, ARMPITS_* and BELLY_* have no moderation label: anything
# absent from both tables above is ignored.

# A typo here would silently invent labels; fail at import instead.
_UNKNOWN = {leaf for leaf in LEAF_LABELS.values() if taxonomy.lookup(leaf) is None}
if _UNKNOWN:
    raise ImportError(f"labels missing from the v7 taxonomy: {sorted(_UNKNOWN)}")

# What Pillow raises for corrupt, truncated or oversized data (moderation.infra.media.imaging
# turns DecompressionBombWarning into an error process-wide).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning)


class LocalProvider:
    """Runs in-process; the worker should run one process per core with ``threads=1``."""

    name = "local"
    reads_s3_directly = False
    decodes_pixels = True  # imaging.prepare keeps its validating decode for analyze_image
    model_version = MODEL_VERSION  # known before any call: paying once reuses only this version's analyses

    def __init__(self, threads: int = 1):
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self.threads = threads
        # The session is created on first use, not here: a session made before
        # a prefork worker forks would share thread pools across processes.

    def analyze_image(self, image: PreparedImage, min_confidence: float) -> Analysis:
        if image.data is None:
            raise RuntimeError("local provider needs bytes")
        return self.analyze_pil(_decode(image), min_confidence)

    def analyze_pil(self, img: Image.Image, min_confidence: float) -> Analysis:
        """Same as ``analyze_image`` for an already decoded, upright image (a video frame), in any 8-bit mode."""
        if not 0 <= min_confidence <= 100:  # same rule as the Rekognition provider
            raise BadInput(f"MinConfidence {min_confidence} is outside 0-100")
        labels = to_labels(self._detect(img), min_confidence)
        raw = {
            "ModerationLabels": [label.to_dict() for label in labels],
            "ModerationModelVersion": MODEL_VERSION,
            "ContentTypes": [],
        }
        return Analysis(provider=self.name, model_version=MODEL_VERSION, labels=labels, content_types=[], raw=raw)

    def _detect(self, img: Image.Image) -> list[dict[str, Any]]:
        try:
            return nudenet_model.detect_boxes(img, self.threads)
        except FileNotFoundError as exc:
            raise DeploymentFault(f"local provider cannot load its model: {exc}") from exc
        except nudenet_model.ORT_ERRORS as exc:
            raise TransientFault(f"onnxruntime failed: {type(exc).__name__}: {exc}") from exc


def _decode(image: PreparedImage) -> Image.Image:
    try:
        return image.upright()  # in its decoded mode: the model converts only the rows it samples
    except _DECODE_ERRORS as exc:
        what = image.format or "image"
        raise BadInput(f"cannot decode {what} data ({len(image.data or b'')} bytes): {exc}") from None


def to_labels(detections: Iterable[dict[str, Any]], min_confidence: float) -> list[ModerationLabel]:
    """Rekognition-style labels from NudeNet detections.

    One entry per label with the highest confidence over all boxes; every
    ancestor is included with the highest confidence of its children, as
    Rekognition returns them. Labels under ``min_confidence`` (0..100) are dropped.
    """
    detections = list(detections)
    best: dict[str, float] = {}
    for det in detections:
        confidence = round(float(det["score"]) * 100, 3)
        for leaf in _leaves(det["class"], detections):
            for name in taxonomy.ancestors(leaf):
                best[name] = max(best.get(name, 0.0), confidence)
    labels = [_label(name, conf) for name, conf in best.items() if conf >= min_confidence]
    # A stable order for stored evidence: most confident first, parents before children on ties.
    return sorted(labels, key=lambda lab: (-lab.confidence, lab.taxonomy_level, lab.name))


def _leaves(cls: str, detections: list[dict[str, Any]]) -> list[str]:
    """The v7 leaves one detection stands for, given all detections in the image.

    Covered buttocks are female/male swimwear when any FEMALE_*/MALE_* box is
    present (whatever its score: it is evidence, not a label); faces do not count.
    """
    if cls in LEAF_LABELS:
        return [LEAF_LABELS[cls]]
    if cls not in SEX_FROM_CONTEXT:
        return []
    others = [d["class"] for d in detections]
    leaves = []
    if any(c.startswith("FEMALE_") for c in others):
        leaves.append("Female Swimwear or Underwear")
    if any(c.startswith("MALE_") for c in others):
        leaves.append("Male Swimwear or Underwear")
    return leaves or ["Swimwear or Underwear"]


def _label(name: str, confidence: float) -> ModerationLabel:
    node = taxonomy.lookup(name)
    assert node is not None  # every name comes from taxonomy.ancestors of a checked leaf
    return ModerationLabel(node.name, node.parent, node.level, confidence)
