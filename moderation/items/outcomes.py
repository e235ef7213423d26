"""How an item's moderation ends: a decision (with its evidence, alert and provider-call
accounting) or a failure, each in one transaction on the locked item row.

Used by the image use case (``service``), video (``video``) and re-evaluation.
A decision is recorded only if the item is not already terminal, so a task
delivered twice records one decision and one alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import func, insert, select

from moderation.infra import metrics
from moderation.domain.decisions import AUTOMATIC, Decided
from moderation.providers import usage
from moderation.alerts import fanout
from moderation.alerts.events import decision_outbox, failure_outbox
from moderation.alerts.services import deployment_alert
from moderation.items import models as m, subjects
from moderation.infra.clock import utcnow
from moderation.alerts.models import Alert
from moderation.alerts.queries import add_alert
from moderation.infra.db import transaction
from moderation.items.queries import add_audit, audit, lock_item, lock_state, lock_statement, set_item

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.service")
_items = m.Item.__table__  # statements built once (``queries``): record runs once per item
_RECORD = lock_statement(_items.c.external_id, _items.c.media_type, _items.c.provider, _items.c.created_at,
                         _items.c.tenant_id, _items.c.subject_id, _items.c.erase_requested_at)
_ADD_DECISION, _ADD_ANALYSIS = insert(m.Decision.__table__), insert(m.Analysis.__table__)


def record(rt: Runtime, item_id: str, analysis, decision, content_key: str, min_confidence: float,
           reasons: list[dict] | None = None, extra=None, reused: int | None = None) -> str:
    """Analysis, decision, outbox alert, provider-call accounting and status in one transaction.

    ``reasons``: the stored form of ``decision.reasons`` when the caller adds
    to it (video: where each rule fired; a bank match; a reused analysis); ``extra(session, item,
    analysis_row)`` writes more evidence (a video's timeline) in the same
    transaction. ``analysis`` None: decided without one (a hash bank);
    ``reused``: the id of the stored analysis it came from (no new row).
    Append-only rows are plain INSERTs and the item one UPDATE: this runs once per item.
    """
    alert = None
    with transaction(rt.settings.database_url) as s:
        usage.store(s, usage.take())  # the calls were made (and paid for) even if a duplicate delivery won
        item = lock_state(s, _RECORD, item_id)
        if item is None or item.status in m.TERMINAL:  # a duplicate delivery finished first
            return item.status if item else "missing"
        row = stored_analysis(s, analysis, content_key, min_confidence, reused)
        if extra is not None:
            extra(s, item, row)
        if reasons is None:
            reasons = [dict(vars(r), text=r.text()) for r in decision.reasons]
        now, analysis_id, labels = utcnow(), row and row.id, row.labels if row is not None else []
        decided = s.execute(_ADD_DECISION, {"item_id": item_id, "analysis_id": analysis_id, "verdict": decision.verdict,
                                            "reasons": reasons, "policy_version": decision.policy_version,
                                            "decided_at": now}).inserted_primary_key[0]
        add_audit(s, item_id, m.AuditAction.DECIDE, item.status, decision.verdict, verdict=decision.verdict,
                  reason="; ".join(r["text"] for r in reasons), policy_version=decision.policy_version)
        set_item(s, item_id, status=decision.verdict, verdict=decision.verdict, decided_at=now,
                 analysis_id=analysis_id, content_key=content_key, policy_version=decision.policy_version,
                 review_priority=None if decision.verdict == m.APPROVED else decision.priority)
        # Approved: an outbox row only for the tenant's webhooks, if it has one (alerts/events.py).
        alert = decision_outbox(s, item, decision.verdict, reasons, labels, decision.policy_version, now,
                                rt.settings.webhook_subscriptions_seconds)
        if alert is not None:
            alert.id = add_alert(s, alert)
        flagged = subjects.after_verdict(s, rt, item, decision.verdict, now=now)  # the subject rule, if any
        # A statement of reasons for a rejection; the item's open notices (transparency, through the runtime).
        followed = rt.decided(s, Decided(item_id, decision.verdict, item.status, AUTOMATIC, f"d{decided}", now))
    metrics.item_decided(decision.verdict, item.provider, item.media_type, item.created_at, now)
    log.info("decided", item_id=item_id, verdict=decision.verdict, policy_version=decision.policy_version)
    if alert is not None:  # an erasure that waited for this decision scrubbed the row: sent as it is now
        send_alerts(rt, [alert.id], {alert.id: alert} if item.erase_requested_at is None else None)
    if flagged:
        send_alerts(rt, [a.id for a in flagged], {a.id: a for a in flagged})
    if followed:
        send_alerts(rt, followed)
    return decision.verdict


@dataclass(frozen=True)
class StoredAnalysis:
    id: int
    labels: list


def stored_analysis(s, analysis, content_key: str, min_confidence: float,
                    reused: int | None) -> StoredAnalysis | None:
    """The analysis row the decision cites: inserted (one statement), or the reused one's labels read."""
    if analysis is None:
        return None
    if reused is not None:
        return StoredAnalysis(reused, s.scalar(select(m.Analysis.labels).where(m.Analysis.id == reused)) or [])
    labels = analysis.labels_as_dicts()
    new = s.execute(_ADD_ANALYSIS, {"provider": analysis.provider, "model_version": analysis.model_version,
                                    "content_key": content_key, "min_confidence": min_confidence, "labels": labels,
                                    "content_types": analysis.content_types, "raw": analysis.raw,
                                    "created_at": utcnow()})
    return StoredAnalysis(new.inserted_primary_key[0], labels)


def fail_item(item_id: str, reason: str, rt: Runtime, alert: bool = False,
              alert_kind: str = "deployment") -> str:
    """End an item as ``failed`` with a reason a person can act on; ``alert``: and tell the operator
    (``alerts.OPERATOR_ALERTS``)."""
    written: dict[int, Alert] = {}
    with transaction(rt.settings.database_url) as s:
        item = lock_item(s, item_id)
        if item is None or item.status in m.TERMINAL:
            return item.status if item else "missing"
        audit(s, item, m.AuditAction.FAIL, item.status, m.FAILED, reason=reason)
        item.status, item.failure_reason, item.decided_at = m.FAILED, reason, utcnow()
        if alert:
            row = deployment_alert(item, reason, alert_kind)
            earlier = s.scalar(select(func.count()).select_from(Alert)
                               .where(Alert.item_id == item.id, Alert.kind == row.kind))
            if earlier:  # it failed before and was re-driven: a new event needs a new dedup id
                row.dedup_id = f"{row.dedup_id}:{earlier + 1}"
            row.id = add_alert(s, row)
            written[row.id] = row
        elif (row := failure_outbox(s, item, reason, item.decided_at, rt.settings.webhook_subscriptions_seconds)):
            row.id = add_alert(s, row)  # for the tenant's webhooks only (alerts/events.py)
            written[row.id] = row
    metrics.item_decided(m.FAILED, item.provider, item.media_type)
    log.warning("failed", item_id=item_id, reason=reason)
    send_alerts(rt, list(written), written)
    return m.FAILED


def send_alerts(rt: Runtime, alert_ids: list[int], written: dict[int, Alert] | None = None) -> None:
    """Hand committed outbox rows on: published here and now when the runtime has an ``alert_relay`` (a
    worker: no second task), else (or for what the relay could not publish) as publish_alert tasks.
    ``written``: rows this process has just written, by id, so the relay need not read them back.
    Webhooks: fanned out to the tenant's endpoints if it has any (``alerts.fanout``; else beat's sweep marks
    them); rows for webhooks alone (``published_at`` already set) never go to SNS."""
    written = written or {}
    if alert_ids:
        fanout.after_commit(rt.settings.database_url, rt.dispatcher, written or alert_ids,
                            rt.settings.webhook_subscriptions_seconds)
    alert_ids = [i for i in alert_ids if i not in written or written[i].published_at is None]
    if alert_ids and rt.alert_relay is not None:
        alert_ids = rt.alert_relay.deliver(alert_ids, written)
    if not alert_ids:
        return
    try:
        rt.dispatcher.publish_alerts(alert_ids)
    except Exception as exc:  # the rows are in the outbox; the periodic flush delivers them
        log.error("alert_dispatch_failed", alert_ids=alert_ids, error=str(exc))


def status(rt: Runtime, item_id: str) -> str:
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        return item.status if item else "missing"
