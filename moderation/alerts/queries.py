"""Reads of the alert outbox."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.alerts.models import Alert


def pending_alerts(s: Session, limit: int = 100) -> list[Alert]:
    query = select(Alert).where(Alert.published_at.is_(None)).order_by(Alert.id).limit(limit)
    return list(s.scalars(query))
