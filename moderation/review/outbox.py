"""A review's (an appeal's, an undo's, an override's) outbox rows after the use case: held for the undo window
(issue 17.2), then handed to webhooks and SNS. ``review.services`` re-exports both names."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import update
from sqlalchemy.orm import Session

from moderation.alerts import fanout
from moderation.alerts.models import Alert

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.review")


def hold_for_undo(s: Session, alert_ids: list[int], decided_at: datetime, seconds: int) -> None:
    """Keep these alerts in the outbox until the undo window of a verdict recorded at ``decided_at`` closes."""
    if seconds > 0 and alert_ids:
        s.execute(update(Alert).where(Alert.id.in_(alert_ids))
                  .values(hold_until=decided_at + timedelta(seconds=seconds))
                  .execution_options(synchronize_session=False))


def publish(rt: Runtime, alert_ids: list[int], hold: float = 0) -> None:
    """After a review's (or an appeal's, an undo's, an override's) commit: its alerts to the tenant's webhook
    endpoints, then SNS. ``hold``: the undo window the alerts are held for (``hold_for_undo``): SNS gets them
    when it closes (the publish_alert task, sent with that countdown and a second's slack for clocks), webhooks
    at beat's next sweep after it. Logs, never raises: the rows are in the outbox, and beat's sweep and flush
    deliver what this misses."""
    if not hold:
        fanout.after_commit(rt.settings.database_url, rt.dispatcher, alert_ids,
                            rt.settings.webhook_subscriptions_seconds)
    try:
        if hold:
            rt.dispatcher.publish_alerts(alert_ids, countdown=hold + 1)
        else:
            rt.dispatcher.publish_alerts(alert_ids)
    except Exception as exc:  # the rows are in the outbox; the periodic flush delivers them
        log.error("alert_dispatch_failed", alert_ids=alert_ids, error=str(exc))
