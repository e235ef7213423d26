"""How an item's moderation ends: a decision (with its evidence, alert and provider-call
accounting) or a failure, each in one transaction on the locked item row.

Used by the image use case (``service``), video (``video``) and re-evaluation.
A decision is recorded only if the item is not already terminal, so a task
delivered twice records one decision and one alert.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from sqlalchemy import func, select

from moderation.infra import metrics
from moderation.providers import usage
from moderation.alerts.services import decision_alert, deployment_alert
from moderation.items import models as m
from moderation.infra.clock import utcnow
from moderation.alerts.models import Alert
from moderation.infra.db import transaction
from moderation.items.queries import audit, lock_item

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.service")


def record(rt: Runtime, item_id: str, analysis, decision, content_key: str, min_confidence: float,
            reasons: list[dict] | None = None, extra=None, reused: int | None = None) -> str:
    """Analysis, decision, outbox alert, provider-call accounting and status in one transaction.

    ``reasons``: the stored form of ``decision.reasons`` when the caller adds
    to it (video: where each rule fired; a bank match; a reused analysis); ``extra(session, item,
    analysis_row)`` writes more evidence (a video's timeline) in the same
    transaction. ``analysis`` None: decided without one (a hash bank);
    ``reused``: the id of the stored analysis it came from (no new row).
    """
    with transaction(rt.settings.database_url) as s:
        s.add_all(usage.take())  # the calls were made (and paid for) even if a duplicate delivery won
        item = lock_item(s, item_id)
        if item.status in m.TERMINAL:  # a duplicate delivery finished first
            return item.status
        row = analysis_row(s, analysis, content_key, min_confidence, reused)
        if extra is not None:
            extra(s, item, row)
        if reasons is None:
            reasons = [dict(vars(r), text=r.text()) for r in decision.reasons]
        now, labels = utcnow(), row.labels if row is not None else []
        s.add(m.Decision(item_id=item.id, analysis_id=row and row.id, verdict=decision.verdict, reasons=reasons,
                         policy_version=decision.policy_version, decided_at=now))
        audit(s, item, m.AuditAction.DECIDE, item.status, decision.verdict, verdict=decision.verdict,
              reason="; ".join(r["text"] for r in reasons), policy_version=decision.policy_version)
        item.status, item.verdict, item.decided_at = decision.verdict, decision.verdict, now
        item.analysis_id, item.content_key, item.policy_version = row and row.id, content_key, decision.policy_version
        alert = None
        if decision.verdict in (m.FLAGGED, m.REJECTED):
            alert = decision_alert(item, decision.verdict, reasons, labels, decision.policy_version, now)
            s.add(alert)  # its id is assigned by the commit's flush: no flush of its own
    alert_ids = [alert.id] if alert is not None else []
    metrics.item_decided(decision.verdict, item.provider, item.media_type, item.created_at, now)
    log.info("decided", item_id=item_id, verdict=decision.verdict, policy_version=decision.policy_version)
    send_alerts(rt, alert_ids)
    return decision.verdict


def analysis_row(s, analysis, content_key: str, min_confidence: float, reused: int | None) -> m.Analysis | None:
    if analysis is None:
        return None
    if reused is not None:
        return s.get(m.Analysis, reused)
    row = m.Analysis(provider=analysis.provider, model_version=analysis.model_version, content_key=content_key,
                     min_confidence=min_confidence, labels=analysis.labels_as_dicts(),
                     content_types=analysis.content_types, raw=analysis.raw)
    s.add(row)
    s.flush()
    return row


def fail_item(item_id: str, reason: str, rt: Runtime, alert: bool = False,
              alert_kind: str = "deployment") -> str:
    """End an item as ``failed`` with a reason a person can act on; ``alert``: and tell the operator
    (``alerts.OPERATOR_ALERTS``)."""
    alert_ids = []
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
            s.add(row)
            s.flush()
            alert_ids.append(row.id)
    metrics.item_decided(m.FAILED, item.provider, item.media_type)
    log.warning("failed", item_id=item_id, reason=reason)
    send_alerts(rt, alert_ids)
    return m.FAILED


def send_alerts(rt: Runtime, alert_ids: list[int]) -> None:
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
