"""In-process fakes for the ports (cosmicpython style: fakes, not mocks)."""

from __future__ import annotations

from dataclasses import dataclass, field

from moderation.errors import ModqError
from moderation.imaging import PreparedImage
from moderation.providers.base import Analysis, ModerationLabel
from moderation import taxonomy


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
    """Answers from a table keyed by content sha256 (or ``s3:`` key); counts calls."""

    name: str = "local"
    reads_s3_directly: bool = False
    by_key: dict[str, list[ModerationLabel]] = field(default_factory=dict)
    errors: dict[str, ModqError] = field(default_factory=dict)
    calls: list[tuple[str, float]] = field(default_factory=list)

    def analyze_image(self, image: PreparedImage, min_confidence: float) -> Analysis:
        self.calls.append((image.sha256, min_confidence))
        if image.sha256 in self.errors:
            raise self.errors[image.sha256]
        labels = [lab for lab in self.by_key.get(image.sha256, []) if lab.confidence >= min_confidence]
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
