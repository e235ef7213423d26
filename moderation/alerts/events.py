"""Webhook event types, which alert kinds they carry, and which tenants want them (a short cache).

What the outbox holds, and why (README "Webhooks"):
- flagged and rejected decisions, reviews, re-evaluations, subject flags and operator alerts are written
  for SNS as before; each carries its item's ``tenant_id`` and fans out to that tenant's endpoints.
- approved decisions and plain failures were never alerts: SNS subscribers are told what needs attention.
  Platforms with webhooks want every decision, so those rows are written too, but only when the item's
  tenant has an endpoint subscribed to the event, and marked published (``published_at``) at once so SNS
  never carries them. Whether a tenant has one is read from a per-process cache refreshed every
  MODQ_WEBHOOK_SUBSCRIPTIONS_SECONDS: one small query per process per interval, not one per item, so a
  deployment without webhooks pays one dictionary lookup per decision. An endpoint added a moment ago may
  miss an approval decided within that interval (flagged and rejected ones always reach it).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.alerts.models import Alert, WebhookEndpoint
from moderation.alerts.services import decision_alert
from moderation.domain.errors import BadInput

DECIDED, REVIEWED, FAILED, SUBJECT_FLAGGED = "item.decided", "item.reviewed", "item.failed", "subject.flagged"
APPEAL_DECIDED = "appeal.decided"  # an appeal upheld or overturned (moderation/review/appeals.py)
# A review undone after its events left (within the window nothing left: they are cancelled), and an admin's
# override of a recorded review (moderation/review/undo.py, override.py).
REVIEW_UNDONE, REVIEW_OVERRIDDEN = "review.undone", "review.overridden"
# A notice (Art. 16 DSA) answered by a decision: the platform tells its notifier (moderation/transparency/notices.py).
NOTICE_DECIDED = "notice.decided"
EVENTS = (DECIDED, REVIEWED, FAILED, SUBJECT_FLAGGED, APPEAL_DECIDED, REVIEW_UNDONE, REVIEW_OVERRIDDEN, NOTICE_DECIDED)

#: Alert kind -> webhook event. Kinds not listed (an endpoint disabled, ...) are the operator's alone.
KIND_EVENTS = {"decision": DECIDED, "reevaluate": DECIDED, "review": REVIEWED, "failed": FAILED,
               "deployment": FAILED, "worker_lost": FAILED, "subject": SUBJECT_FLAGGED, "appeal": APPEAL_DECIDED,
               "undo": REVIEW_UNDONE, "override": REVIEW_OVERRIDDEN, "notice": NOTICE_DECIDED}


def event_of(kind: str) -> str | None:
    return KIND_EVENTS.get(kind)


def check_events(events: Iterable[str] | None) -> list[str]:
    """Event names as given (None: every event); an unknown one is refused naming ``events``."""
    if events is None:
        return list(EVENTS)
    wanted = [e.strip() for e in events if e and e.strip()]
    unknown = [e for e in wanted if e not in EVENTS]
    if unknown:
        raise BadInput(f"events: unknown event {unknown[0]!r}; choose from {', '.join(EVENTS)}")
    if not wanted:
        raise BadInput(f"events: name at least one of {', '.join(EVENTS)}")
    return list(dict.fromkeys(wanted))


class Subscriptions:
    """Which tenants have an active endpoint for which events, read at most every ``ttl`` seconds (per
    database: tests and tools may use several in one process)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock, self._lock = clock, threading.Lock()
        self._read: dict[str, tuple[float, dict[int, frozenset[str]]]] = {}

    def wants(self, s: Session, tenant_id: int | None, event: str, ttl: float) -> bool:
        if tenant_id is None:
            return False
        now, key = self._clock(), str(s.get_bind().url) if hasattr(s, "get_bind") else ""
        found = self._read.get(key)
        if found is None or now - found[0] >= ttl:
            rows = s.execute(select(WebhookEndpoint.tenant_id, WebhookEndpoint.events)
                             .where(WebhookEndpoint.removed_at.is_(None), WebhookEndpoint.disabled_at.is_(None)))
            events: dict[int, set[str]] = {}
            for tenant, names in rows:
                events.setdefault(tenant, set()).update(names or ())
            found = (now, {t: frozenset(n) for t, n in events.items()})
            with self._lock:
                self._read[key] = found
        return event in found[1].get(tenant_id, ())

    def clear(self) -> None:
        """Forget what was read (an endpoint added or removed in this process)."""
        with self._lock:
            self._read.clear()


SUBSCRIPTIONS = Subscriptions()  # per process


def webhook_only(alert: Alert, now: datetime) -> Alert:
    """Mark an outbox row as for webhooks alone: already "published", so the SNS relay skips it."""
    alert.published_at = now
    return alert


def decision_outbox(s: Session, item, verdict: str, reasons: list[dict], labels: list[dict], policy_version: str,
                    decided_at: datetime, ttl: float) -> Alert | None:
    """The outbox row of an automatic decision, or None: flagged and rejected always (SNS and webhooks);
    approved only for webhooks, when the item's tenant has an ``item.decided`` endpoint (module docstring)."""
    if verdict in ("flagged", "rejected"):
        return decision_alert(item, verdict, reasons, labels, policy_version, decided_at)
    if SUBSCRIPTIONS.wants(s, item.tenant_id, DECIDED, ttl):
        return webhook_only(decision_alert(item, verdict, reasons, labels, policy_version, decided_at), decided_at)
    return None


def failure_outbox(s: Session, item, reason: str, failed_at: datetime, ttl: float) -> Alert | None:
    """The outbox row of a failure that is no operator alert: only for webhooks (``item.failed``), when the
    item's tenant has an endpoint for it."""
    return failure_alert(item, reason, failed_at) if SUBSCRIPTIONS.wants(s, item.tenant_id, FAILED, ttl) else None


def failure_alert(item, reason: str, failed_at: datetime) -> Alert:
    """``item.failed`` for a failure that is no operator alert (bad media, attempts used up)."""
    message = {"item_id": item.id, "external_id": item.external_id, "media_uri": item.media_uri,
               "media_type": item.media_type, "verdict": "failed", "reason": reason,
               "failed_at": failed_at.isoformat(), "kind": "failed"}
    return webhook_only(Alert(item_id=item.id, tenant_id=item.tenant_id, kind="failed",
                              dedup_id=f"{item.id}:failed:{failed_at.timestamp():.6f}",
                              subject=f"modq failed {item.media_type}"[:99], message=message,
                              attributes={"verdict": "failed", "top_label": "", "media_type": item.media_type}),
                        failed_at)
