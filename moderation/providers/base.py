"""The provider port: what every moderation backend takes and returns.

It takes a prepared image and returns an ``Analysis`` (``moderation.domain.labels``):
everything downstream (policy, outcomes, alerts) sees only those types, so that
the offline model and AWS are interchangeable.
"""

from __future__ import annotations

from typing import Protocol

from moderation.domain.labels import Analysis
from moderation.infra.media.imaging import PreparedImage


class ModerationProvider(Protocol):
    """One interface, several implementations chosen by ``MODQ_PROVIDER``."""

    name: str

    def analyze_image(self, image: PreparedImage, min_confidence: float) -> Analysis:
        """Labels at or above ``min_confidence`` (0..100) for one image.

        Raises ``BadInput``, ``DeploymentFault`` or ``TransientFault``.
        """
        ...
