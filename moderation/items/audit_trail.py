"""The audit trail as people read it (``GET /v1/audit``, the console's audit
page and its CSV): who did what to which item, when, why, under which policy
version; newest first. The trail is written by ``queries.audit``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from moderation.domain.tenancy import Scope
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.items.queries import iso


def audit_trail(database_url: str, *, item_id: str | None = None, actor: str | None = None,
                action: str | None = None, since: datetime | None = None, until: datetime | None = None,
                limit: int = 100, offset: int = 0, scope: Scope) -> list[dict[str, Any]]:
    """The events that match in ``scope`` (``audit_events``), as ``audit_view`` dicts."""
    with transaction(database_url) as s:
        rows = audit_events(s, item_id=item_id, actor=actor, action=action, since=since, until=until,
                            limit=limit, offset=offset, scope=scope)
        return [audit_view(e) for e in rows]


def audit_events(s: Session, item_id: str | None = None, actor: str | None = None, action: str | None = None,
                 since: datetime | None = None, until: datetime | None = None,
                 limit: int = 100, offset: int = 0, *, scope: Scope) -> list[m.AuditEvent]:
    """The audit trail, newest first, as ``scope`` may see it: the events of its tenants' items, events about
    no item that name one of its tenants, and deployment-wide events (no item, no tenant) for every-tenant
    scopes only."""
    query = select(m.AuditEvent).order_by(m.AuditEvent.at.desc(), m.AuditEvent.id.desc())
    if not scope.all:
        query = query.outerjoin(m.Item, m.Item.id == m.AuditEvent.item_id).where(
            func.coalesce(m.Item.tenant_id, m.AuditEvent.tenant_id).in_(sorted(scope.tenant_ids)))
    for column, value in ((m.AuditEvent.item_id, item_id), (m.AuditEvent.action, action)):
        if value:
            query = query.where(column == value)
    if actor:  # as written, or a token's name: "alice" finds "alice (token 2)"
        query = query.where(or_(m.AuditEvent.actor == actor,
                                m.AuditEvent.actor.startswith(f"{actor} (token ", autoescape=True)))
    if since:
        query = query.where(m.AuditEvent.at >= since)
    if until:
        query = query.where(m.AuditEvent.at < until)
    return list(s.scalars(query.limit(limit).offset(offset)))


def audit_view(event: m.AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "at": iso(event.at), "item_id": event.item_id, "actor": event.actor,
            "action": event.action, "from_status": event.from_status, "to_status": event.to_status,
            "verdict": event.verdict, "reason": event.reason, "policy_version": event.policy_version}
