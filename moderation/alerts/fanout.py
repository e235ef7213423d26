"""Alert -> one webhook delivery per subscribed endpoint of the alert's tenant.

Two paths write deliveries, and both may run for one alert: the deciding process right after its commit
(``after_commit``: only when its tenant has an endpoint, so the hot path stays one cache lookup without
webhooks) and beat's sweep (``sweep``: every alert whose ``fanned_out_at`` is still NULL, so an alert
whose process died after the commit is not lost). The alert rows are locked ``SKIP LOCKED`` and each
(endpoint, alert) pair is unique, so an alert fans out once and each endpoint gets one delivery.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Protocol

import structlog
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from moderation.alerts.delivery import PENDING
from moderation.alerts.events import SUBSCRIPTIONS, event_of
from moderation.alerts.models import Alert, WebhookDelivery, WebhookEndpoint
from moderation.alerts.queries import sendable
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction

log = structlog.get_logger("modq.webhooks")
SWEEP_LIMIT = 500


class WebhookDispatcher(Protocol):
    def deliver_webhooks(self, delivery_ids: list[int]) -> None:
        """Queue a send of each delivery (``modq.deliver_webhook``)."""


def fan_out(s: Session, alert_ids: list[int], now: datetime) -> list[int]:
    """Write the deliveries of those alerts not yet fanned out (and not locked by another fan-out; not held
    for a review's undo window, nor cancelled: ``alerts.holds``); mark them fanned out. The ids of the
    deliveries written."""
    rows = s.execute(select(Alert.id, Alert.tenant_id, Alert.kind)
                     .where(Alert.id.in_(alert_ids), Alert.fanned_out_at.is_(None), sendable(now))
                     .with_for_update(skip_locked=True)).all()
    if not rows:
        return []
    tenants = {tenant for _, tenant, _ in rows if tenant is not None}
    endpoints = s.execute(select(WebhookEndpoint.id, WebhookEndpoint.tenant_id, WebhookEndpoint.events)
                          .where(WebhookEndpoint.tenant_id.in_(tenants), WebhookEndpoint.removed_at.is_(None),
                                 WebhookEndpoint.disabled_at.is_(None))).all() if tenants else []
    values = [{"endpoint_id": ep_id, "alert_id": alert_id, "event": event, "state": PENDING, "attempts": 0,
               "next_attempt_at": now, "created_at": now}
              for alert_id, tenant, kind in rows if (event := event_of(kind)) is not None
              for ep_id, ep_tenant, events in endpoints if ep_tenant == tenant and event in (events or ())]
    created: list[int] = []
    if values:
        insert = (postgresql.insert if s.bind.dialect.name == "postgresql" else sqlite.insert)(WebhookDelivery)
        created = list(s.scalars(insert.values(values)
                                 .on_conflict_do_nothing(index_elements=["endpoint_id", "alert_id"])
                                 .returning(WebhookDelivery.id)))
    s.execute(update(Alert).where(Alert.id.in_([r[0] for r in rows])).values(fanned_out_at=now))
    return created


def after_commit(database_url: str, dispatcher: WebhookDispatcher, alerts: dict[int, Any] | list[int],
                 ttl: float) -> list[int]:
    """Fan out alerts just committed and queue their sends, if their tenant has an endpoint for their event
    (``alerts``: the rows as written, by id; or ids alone, then fanned out whatever the cache says). Errors
    are logged, never raised: beat's sweep fans out whatever is left."""
    try:
        if isinstance(alerts, dict):
            with transaction(database_url) as s:
                wanted = [alert_id for alert_id, a in alerts.items()
                          if (event := event_of(a.kind)) and SUBSCRIPTIONS.wants(s, a.tenant_id, event, ttl)]
        else:
            wanted = list(alerts)
        if not wanted:
            return []
        with transaction(database_url) as s:
            created = fan_out(s, wanted, utcnow())
        if created:
            dispatcher.deliver_webhooks(created)
        return created
    except Exception as exc:  # the outbox rows are committed; the sweep delivers them
        log.error("webhook_fanout_failed", alert_ids=list(alerts), error=str(exc)[:500])
        return []


def sweep(database_url: str, clock: Callable[[], datetime] = utcnow, limit: int = SWEEP_LIMIT) -> list[int]:
    """Beat's pass: fan out alerts not yet fanned out; the ids of the deliveries due now (new or retries)."""
    now = clock()
    with transaction(database_url) as s:
        # Alerts nobody receives (no tenant, or a tenant without an active endpoint): marked in one statement,
        # however many, so a deployment without webhooks never builds a backlog here.
        receiving = select(WebhookEndpoint.tenant_id).where(WebhookEndpoint.removed_at.is_(None),
                                                            WebhookEndpoint.disabled_at.is_(None))
        s.execute(update(Alert).where(Alert.fanned_out_at.is_(None),
                                      Alert.tenant_id.is_(None) | Alert.tenant_id.not_in(receiving))
                  .values(fanned_out_at=now))
        missed = list(s.scalars(select(Alert.id).where(Alert.fanned_out_at.is_(None), sendable(now)).order_by(Alert.id)
                                .limit(limit)))
        if missed:
            fan_out(s, missed, now)
    with transaction(database_url) as s:
        return list(s.scalars(select(WebhookDelivery.id)
                              .where(WebhookDelivery.state == PENDING, WebhookDelivery.next_attempt_at <= now)
                              .order_by(WebhookDelivery.next_attempt_at).limit(limit)))


def released(database_url: str, dispatcher: WebhookDispatcher, alert_id: int) -> list[int]:
    """The publish_alert task's webhook half: an alert that was held (a review's, for its undo window) fans out
    when its task runs at the window's end, not at beat's next sweep; for any other alert, already fanned out
    by its deciding process, this finds nothing to do (one indexed read). Never raises, as ``after_commit``."""
    return after_commit(database_url, dispatcher, [alert_id], ttl=0)
