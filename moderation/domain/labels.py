"""What a moderation backend answers: labels and one analysis of one piece of media.

Shaped like Rekognition's response, so that the offline model and AWS are
interchangeable and the policy judges both alike. Pure data: the provider
protocol (``moderation.providers.base``) is what produces it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModerationLabel:
    name: str
    parent_name: str  # "" for a top-level label
    taxonomy_level: int  # 1..3
    confidence: float  # 0..100

    def to_dict(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "ParentName": self.parent_name,
            "TaxonomyLevel": self.taxonomy_level,
            "Confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModerationLabel":
        return cls(d["Name"], d.get("ParentName", ""), int(d.get("TaxonomyLevel", 0)), float(d["Confidence"]))


@dataclass(frozen=True)
class Analysis:
    """One provider answer for one piece of media."""

    provider: str
    model_version: str
    labels: list[ModerationLabel]
    content_types: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # the full response, kept as evidence

    def labels_as_dicts(self) -> list[dict[str, Any]]:
        return [label.to_dict() for label in self.labels]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
