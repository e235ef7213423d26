"""Queries and small writes shared by the use cases, the CLI and the API."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.items import models as m


def lock_item(s: Session, item_id: str) -> m.Item | None:
    """The item row, locked until the transaction ends (no-op lock on SQLite)."""
    return s.get(m.Item, item_id, with_for_update=True)


def audit(s: Session, item: m.Item, action: str, from_status: str | None, to_status: str | None,
          actor: str = "system", verdict: str | None = None, reason: str | None = None,
          policy_version: str | None = None) -> None:
    s.add(m.AuditEvent(item_id=item.id, actor=actor, action=action, from_status=from_status,
                       to_status=to_status, verdict=verdict, reason=reason,
                       policy_version=policy_version or item.policy_version))


def find_item(s: Session, ref: str) -> m.Item | None:
    """By id, external id, or a unique id prefix of 8+ characters."""
    item = s.get(m.Item, ref) or s.scalar(select(m.Item).where(m.Item.external_id == ref))
    if item is None and len(ref) >= 8:
        matches = s.scalars(select(m.Item).where(m.Item.id.startswith(ref)).limit(2)).all()
        item = matches[0] if len(matches) == 1 else None
    return item


def list_items(s: Session, status: str | None = None, verdict: str | None = None,
               limit: int = 50, offset: int = 0, external_id: str | None = None) -> list[m.Item]:
    query = select(m.Item).order_by(m.Item.created_at.desc(), m.Item.id)
    if external_id:
        query = query.where(m.Item.external_id == external_id)
    if status:
        query = query.where(m.Item.status == status)
    if verdict:
        query = query.where(m.Item.verdict == verdict)
    return list(s.scalars(query.limit(limit).offset(offset)))


def item_view(s: Session, item: m.Item) -> dict[str, Any]:
    """Everything a person needs to understand an item's outcome."""
    analysis = s.get(m.Analysis, item.analysis_id) if item.analysis_id else None
    decision = s.scalar(select(m.Decision).where(m.Decision.item_id == item.id))
    return {
        "id": item.id,
        "external_id": item.external_id,
        "media_uri": item.media_uri,
        "media_type": item.media_type,
        "status": item.status,
        "verdict": item.verdict,
        "failure_reason": item.failure_reason,
        "metadata": item.item_metadata,
        "provider": item.provider,
        "policy_version": item.policy_version,
        "attempts": item.attempts,
        "created_at": item.created_at.isoformat() if item.created_at else None,
        "decided_at": item.decided_at.isoformat() if item.decided_at else None,
        "model_version": analysis.model_version if analysis else None,
        "labels": analysis.labels if analysis else [],
        "content_types": analysis.content_types if analysis else [],
        "reasons": [r["text"] for r in decision.reasons] if decision else [],
        "video": _video(s, item),
    }


def _video(s: Session, item: m.Item) -> dict[str, Any] | None:
    """The timeline evidence of a video item (job, per-label summary, detections)."""
    if item.media_type != "video":
        return None
    from moderation.video.queries import video_view

    return video_view(s, item.id)


def pending_alerts(s: Session, limit: int = 100) -> list[m.Alert]:
    query = select(m.Alert).where(m.Alert.published_at.is_(None)).order_by(m.Alert.id).limit(limit)
    return list(s.scalars(query))


def decision_for(s: Session, item_id: str) -> m.Decision | None:
    return s.scalar(select(m.Decision).where(m.Decision.item_id == item_id))


def audit_events(s: Session, item_id: str | None = None, actor: str | None = None, action: str | None = None,
                 since: datetime | None = None, until: datetime | None = None,
                 limit: int = 100, offset: int = 0) -> list[m.AuditEvent]:
    """The audit trail, newest first."""
    query = select(m.AuditEvent).order_by(m.AuditEvent.at.desc(), m.AuditEvent.id.desc())
    for column, value in ((m.AuditEvent.item_id, item_id), (m.AuditEvent.actor, actor), (m.AuditEvent.action, action)):
        if value:
            query = query.where(column == value)
    if since:
        query = query.where(m.AuditEvent.at >= since)
    if until:
        query = query.where(m.AuditEvent.at < until)
    return list(s.scalars(query.limit(limit).offset(offset)))


def audit_view(event: m.AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "at": iso(event.at), "item_id": event.item_id, "actor": event.actor,
            "action": event.action, "from_status": event.from_status, "to_status": event.to_status,
            "verdict": event.verdict, "reason": event.reason, "policy_version": event.policy_version}


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC; SQLite hands datetimes back without their zone."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
