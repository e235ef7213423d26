"""Reads of the alert outbox, and its one write on the per-item path."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, insert, select, update
from sqlalchemy.orm import Session

from moderation.alerts.models import Alert
from moderation.infra.clock import utcnow

_table = Alert.__table__  # statements built once: they run for every alert


def sendable(now, table=_table) -> ColumnElement[bool]:
    """SQL: the row may go out at ``now``: not cancelled, and not held (no hold, or it has passed). A review's
    alerts are held for its undo window and cancelled by an undo (``moderation.alerts.holds``)."""
    c = table.c
    return c.cancelled_at.is_(None) & (c.hold_until.is_(None) | (c.hold_until <= now))


_ADD = insert(_table)
_LOCK_PENDING = (select(_table.c.attempts).where(_table.c.id == bindparam("alert_id"), _table.c.published_at.is_(None),
                                                 sendable(bindparam("now")))
                 .with_for_update())
_SET = update(_table).where(_table.c.id == bindparam("alert_id"))


def pending_alerts(s: Session, limit: int = 100, now: datetime | None = None) -> list[Alert]:
    """Unpublished rows due now (held and cancelled ones are not), oldest first."""
    query = (select(Alert).where(Alert.published_at.is_(None), sendable(now or utcnow()))
             .order_by(Alert.id).limit(limit))
    return list(s.scalars(query))


def add_alert(s: Session, alert: Alert) -> int:
    """Write an outbox row built in memory (``decision_alert``, ``deployment_alert``) with one INSERT; its id."""
    values = {"item_id": alert.item_id, "tenant_id": alert.tenant_id, "kind": alert.kind, "dedup_id": alert.dedup_id,
              "subject": alert.subject, "message": alert.message, "attributes": alert.attributes,
              "created_at": utcnow(), "attempts": 0, "published_at": alert.published_at}
    return s.execute(_ADD, values).inserted_primary_key[0]


def lock_pending(s: Session, alert_id: int) -> int | None:
    """Lock the outbox row if it is still unpublished and due (not held, not cancelled): its attempts so far,
    else None."""
    return s.scalar(_LOCK_PENDING, {"alert_id": alert_id, "now": utcnow()})


def set_delivery(s: Session, alert_id: int, **values) -> None:
    s.execute(_SET, {"alert_id": alert_id, **values})

