"""In-process fakes for the ports (cosmicpython style: fakes, not mocks)."""

from __future__ import annotations

from dataclasses import dataclass, field

from moderation.domain.errors import ModqError
from moderation.infra.media.imaging import PreparedImage
from moderation.domain.labels import Analysis, ModerationLabel
from moderation.domain import taxonomy


def labels_for(name: str, confidence: float) -> list[ModerationLabel]:
    """A label with all its ancestors at the same confidence, as Rekognition returns them."""
    chain = taxonomy.ancestors(name)
    result = []
    for i, label in enumerate(chain):
        known = taxonomy.lookup(label)
        result.append(ModerationLabel(label, known.parent if known else "", known.level if known else 1, confidence))
    return result


@dataclass
class FakeProvider:
    """Answers from a table keyed by content sha256 (or ``s3:`` key, or ``frame:`` key); counts calls.

    ``by_color``: content missing from the table is judged by the colour at its centre (``COLOR_LABELS``),
    decoded from the bytes sent, so a test sees which frame of an animation reached the provider.
    """

    name: str = "local"
    reads_s3_directly: bool = False
    by_key: dict[str, list[ModerationLabel]] = field(default_factory=dict)
    errors: dict[str, ModqError] = field(default_factory=dict)
    calls: list[tuple[str, float]] = field(default_factory=list)
    by_color: bool = False

    def analyze_image(self, image: PreparedImage, min_confidence: float) -> Analysis:
        self.calls.append((image.sha256, min_confidence))
        if image.sha256 in self.errors:
            raise self.errors[image.sha256]
        known = self.by_key.get(image.sha256)
        if known is None and self.by_color:
            known = color_labels(image.pil())
        labels = [lab for lab in known or [] if lab.confidence >= min_confidence]
        raw = {"ModerationLabels": [lab.to_dict() for lab in labels], "ModerationModelVersion": "fake-1",
               "ContentTypes": []}
        return Analysis(self.name, "fake-1", labels, [], raw)


@dataclass
class RecordingPublisher:
    sent: list = field(default_factory=list)
    failing: bool = False

    def publish(self, alert) -> str:
        if self.failing:
            raise RuntimeError("SNS unavailable (fake)")
        self.sent.append({"id": alert.id, "item_id": alert.item_id, "subject": alert.subject,
                          "message": dict(alert.message), "attributes": dict(alert.attributes)})
        return f"msg-{len(self.sent)}"


# Colour of a frame's centre -> what the "model" sees in it (see tests/media_factory.py).
COLOR_LABELS = {
    "red": ("Exposed Female Genitalia", 95.0),  # local profile: Explicit rejects at 60
    "green": ("Exposed Male Nipple", 55.0),  # local profile: Non-Explicit Nudity... flags at 50
}


def color_name(rgb: tuple[int, int, int]) -> str:
    r, g, b = rgb[:3]
    if r > 150 and g < 100 and b < 100:
        return "red"
    if g > 150 and r < 100 and b < 100:
        return "green"
    return "other"


def color_labels(img) -> list[ModerationLabel]:
    """What the colour "model" sees in an image: ``COLOR_LABELS`` of its centre pixel."""
    found = COLOR_LABELS.get(color_name(img.getpixel((img.width // 2, img.height // 2))))
    return labels_for(*found) if found else []


@dataclass
class ColorFrameProvider:
    """The offline provider's frame interface, answering by the frame's colour; records what it saw."""

    name: str = "local"
    reads_s3_directly: bool = False
    frames: list[tuple[int, int]] = field(default_factory=list)  # (width, height) of every frame analysed

    def analyze_pil(self, img, min_confidence: float) -> Analysis:
        self.frames.append(img.size)
        found = COLOR_LABELS.get(color_name(img.getpixel((img.width // 2, img.height // 2))))
        labels = [lab for lab in labels_for(*found) if lab.confidence >= min_confidence] if found else []
        raw = {"ModerationLabels": [lab.to_dict() for lab in labels], "ModerationModelVersion": "fake-frames-1"}
        return Analysis(self.name, "fake-frames-1", labels, [], raw)
