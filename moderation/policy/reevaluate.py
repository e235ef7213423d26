"""Re-decide flagged, unreviewed items under a new policy version (``policy apply --reevaluate``).

Each item is re-judged from its stored analysis with ``policy.decide`` (the
provider's profile), exactly as a worker would have; a video's reasons get
their timestamps back from its stored timeline, an animated image's their
frames from its stored evidence. No provider is called.

Choices, and why:

* Only ``flagged`` items with no reviewer verdict: a person's verdict is
  final, and approved/rejected items were already acted on by the platform.
* Items a reviewer currently holds a lease on are skipped (``claimed``): we
  don't pull an item from under someone mid-review. A later run picks them up
  if they are still unreviewed.
* The one ``decisions`` row per item is updated in place (verdict, reasons,
  policy_version); the ``reevaluate`` audit event keeps the old verdict and
  version. ``decided_at`` stays: it is when the item was analysed, and stats
  measure latency with it.
* Only a verdict that became more severe (flagged -> rejected) alerts the
  platform, as kind ``reevaluate``; flagged -> approved just leaves the queue.
* Unchanged items are not touched, so a second run changes nothing.

Batches of ``batch`` items, each item locked (``lock_item``) and re-checked in
the batch's transaction, so a concurrent reviewer's verdict or claim wins.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import exists, func, select

from moderation.items import frame_evidence, outcomes
from moderation.domain import policy, timeline
from moderation.alerts.services import decision_alert
from moderation.domain.labels import ModerationLabel
from moderation.items import models as m
from moderation.infra.clock import utcnow
from moderation.alerts.models import Alert
from moderation.video import models as vm
from moderation.infra.db import transaction
from moderation.items.queries import audit, decision_for, lock_item
from moderation.review.models import Review

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.reevaluate")
KIND = "reevaluate"


@dataclass
class Summary:
    version: str
    examined: int = 0
    unchanged: int = 0
    approved: int = 0
    rejected: int = 0
    claimed: int = 0  # skipped: a reviewer holds a lease on it right now
    alerts: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def reevaluate(rt: Runtime, new: policy.ThresholdPolicy, actor: str, batch: int = 200) -> Summary:
    """Re-decide every unreviewed flagged item under ``new``; see the module docstring."""
    summary = Summary(new.version)
    after = ""
    while True:
        with transaction(rt.settings.database_url) as s:
            ids = list(s.scalars(select(m.Item.id).where(m.Item.status == m.FLAGGED, m.Item.id > after,
                                                         ~exists().where(Review.item_id == m.Item.id))
                                 .order_by(m.Item.id).limit(batch)))
            alert_ids = [a for a in (_one(s, item_id, new, actor, summary) for item_id in ids) if a is not None]
            s.flush()
            alert_ids = [a.id for a in alert_ids]
        summary.alerts += len(alert_ids)
        outcomes.send_alerts(rt, alert_ids)  # after the commit, like a worker's decision
        if len(ids) < batch:
            break
        after = ids[-1]
    log.info("reevaluated", **summary.to_dict(), actor=actor)
    return summary


def _one(s, item_id: str, new: policy.ThresholdPolicy, actor: str, summary: Summary) -> Alert | None:
    item = lock_item(s, item_id)
    # Re-checked under the lock: a reviewer may have decided or claimed it since the page was read.
    if item is None or item.status != m.FLAGGED or item.analysis_id is None \
            or s.scalar(select(Review.id).where(Review.item_id == item_id)):
        return None
    summary.examined += 1
    if item.leased(utcnow()):
        summary.claimed += 1
        return None
    analysis = s.get(m.Analysis, item.analysis_id)
    labels = [ModerationLabel.from_dict(d) for d in analysis.labels or ()]
    decision = policy.decide(labels, new.for_provider(analysis.provider))
    if decision.verdict == item.status:
        summary.unchanged += 1
        return None
    reasons = _reasons(s, item, analysis.id, decision)
    old_version, now = item.policy_version, utcnow()
    row = decision_for(s, item.id)
    if row is not None:
        row.verdict, row.reasons, row.policy_version = decision.verdict, reasons, decision.policy_version
    audit(s, item, KIND, item.status, decision.verdict, actor=actor, verdict=decision.verdict,
          reason=f"policy {old_version} -> {decision.policy_version}: was flagged; now "
                 + "; ".join(r["text"] for r in reasons), policy_version=decision.policy_version)
    item.status, item.verdict, item.policy_version = decision.verdict, decision.verdict, decision.policy_version
    setattr(summary, decision.verdict, getattr(summary, decision.verdict) + 1)
    if policy.severity(decision.verdict) <= policy.severity(m.FLAGGED):
        return None  # less severe: nothing for the platform to act on
    alert = decision_alert(item, decision.verdict, reasons, analysis.labels, decision.policy_version, now, kind=KIND)
    alert.message = {**alert.message, "previous_verdict": m.FLAGGED, "previous_policy_version": old_version}
    alert.attributes = {**alert.attributes, "kind": KIND}
    earlier = s.scalar(select(func.count()).select_from(Alert).where(Alert.dedup_id.startswith(alert.dedup_id)))
    if earlier:  # the same change happened before (e.g. rolled back and re-applied): a new event, a new id
        alert.dedup_id = f"{alert.dedup_id}:{earlier + 1}"
    s.add(alert)
    return alert


def _reasons(s, item: m.Item, analysis_id: int, decision: policy.Decision) -> list[dict]:
    """Stored reasons; a video's say where each rule fired, from its stored timeline."""
    if item.media_type == "video":
        rows = s.scalars(select(vm.VideoDetection).where(vm.VideoDetection.analysis_id == analysis_id))
        detections = [timeline.Detection(d.timestamp_ms, ModerationLabel(d.label, d.parent, d.level, d.confidence),
                                         d.start_ms, d.end_ms) for d in rows]
        return timeline.reasons(decision, detections)
    framed = frame_evidence.reasons_from_evidence(decision, s.get(m.Analysis, analysis_id).raw)
    if framed is not None:  # an animated or multi-page image: each reason names its frame again
        return framed
    return [dict(vars(r), text=r.text()) for r in decision.reasons]
