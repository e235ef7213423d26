"""Held and cancelled outbox rows (issue 17.2, undo and override).

A review's alerts wait out its undo window (``Alert.hold_until``): neither SNS (``deliver``, ``flush_outbox``,
the inline relay) nor a webhook fan-out (``after_commit``, ``sweep``) carries them before. An undo within the
window cancels them (``cancelled_at``): a cancelled alert is never published nor fanned out, and deliveries
already written for it are failed ("cancelled") before any attempt. What had already gone out when the undo
came (the window raced, or the alerts were never held) is reported back, so the caller can follow it up with an
event of its own (``review.undone``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from moderation.alerts.delivery import CANCELLED, DELIVERED, FAILED, PENDING
from moderation.alerts.models import Alert, WebhookDelivery
from moderation.alerts.queries import sendable

__all__ = ["CANCELLED", "sendable", "withdraw"]


def withdraw(s: Session, alert_ids: list[int], now: datetime) -> list[int]:
    """Cancel those of ``alert_ids`` nothing has carried yet; the ids of those already sent (published to SNS,
    or delivered to a webhook endpoint), which stay as they are. Pending deliveries of every one of them are
    cancelled (nothing more goes out about them). Locks the rows, so a relay publishing one at this moment
    finishes first (PostgreSQL: ``deliver`` holds the row lock while it publishes) and is counted as sent."""
    if not alert_ids:
        return []
    rows = s.execute(select(Alert.id, Alert.published_at, Alert.cancelled_at).where(Alert.id.in_(alert_ids))
                     .order_by(Alert.id).with_for_update()).all()
    # Deliveries in flight are locked by their sender (``delivery.send``): wait for it, then read the outcome.
    deliveries = s.execute(select(WebhookDelivery.id, WebhookDelivery.alert_id, WebhookDelivery.state)
                           .where(WebhookDelivery.alert_id.in_(alert_ids)).order_by(WebhookDelivery.id)
                           .with_for_update()).all()
    delivered = {d.alert_id for d in deliveries if d.state == DELIVERED}
    sent = [r.id for r in rows if r.published_at is not None or r.id in delivered]
    unsent = [r.id for r in rows if r.id not in sent and r.cancelled_at is None]
    if unsent:  # counted as fanned out: nothing will ever be written for them
        s.execute(update(Alert).where(Alert.id.in_(unsent))
                  .values(cancelled_at=now, fanned_out_at=func.coalesce(Alert.fanned_out_at, now))
                  .execution_options(synchronize_session=False))
    pending = [d.id for d in deliveries if d.state == PENDING]
    if pending:
        s.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(pending))
                  .values(state=FAILED, next_attempt_at=None, last_error=CANCELLED)
                  .execution_options(synchronize_session=False))
    return sent
