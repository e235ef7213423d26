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
* Per tenant: a tenant's version walks only that tenant's items; the
  deployment's (``tenant_id`` None) only the items of tenants without a
  policy of their own (``queries.decided_by``), whose items it decides.

Batches of ``batch`` items, each item locked (``lock_item``) and re-checked in
the batch's transaction, so a concurrent reviewer's verdict or claim wins.

Progress: ``on_progress(done, total)`` after each batch (items walked, of the
flagged and unreviewed items there were when the pass began; the last call
has ``done == total``). A pass walks items in id order and ``Summary.after``
says where it stands, so a pass that stopped (a worker restart, see
``policy.reevaluations``) continues from there when handed its ``Summary``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import exists, func, select

from moderation.items import frame_evidence, outcomes, subjects
from moderation.domain import policy, timeline
from moderation.alerts.services import decision_alert
from moderation.domain.decisions import AUTOMATIC, Decided
from moderation.domain.labels import ModerationLabel
from moderation.items import models as m
from moderation.infra.clock import utcnow
from moderation.alerts.models import Alert
from moderation.video import models as vm
from moderation.infra.db import transaction
from moderation.items.queries import audit, decision_for, lock_item
from moderation.policy.queries import decided_by
from moderation.review.models import Review
from moderation.review.queries import notice_open_on

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
    # Where the pass stands (not part of the result): items walked, and the last id of the last batch.
    done: int = field(default=0, repr=False)
    after: str = field(default="", repr=False)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("done", "after")}


OnProgress = Callable[[int, int], None]


def _awaiting(after: str, tenant_id: int | None):
    """Flagged items no person has reviewed, decided by ``tenant_id``'s policy, after ``after`` in id order:
    what a pass walks."""
    return (m.Item.status == m.FLAGGED, m.Item.id > after, decided_by(tenant_id),
            ~exists().where(Review.item_id == m.Item.id))


def reevaluate(rt: Runtime, new: policy.ThresholdPolicy, actor: str, batch: int = 200,
               on_progress: OnProgress | None = None, summary: Summary | None = None,
               tenant_id: int | None = None) -> Summary:
    """Re-decide every unreviewed flagged item ``new`` decides (``tenant_id``'s: its items; None: the
    deployment's, the items of tenants without their own policy); see the module docstring.

    ``on_progress(done, total)``: called after each batch; ``summary``: a stopped pass to continue."""
    summary = summary or Summary(new.version)
    with transaction(rt.settings.database_url) as s:
        total = summary.done + s.scalar(select(func.count()).select_from(m.Item).where(*_awaiting(summary.after, tenant_id)))
    report = _reporter(on_progress)
    report(summary.done, total)
    while True:
        with transaction(rt.settings.database_url) as s:
            ids = list(s.scalars(select(m.Item.id).where(*_awaiting(summary.after, tenant_id))
                              .order_by(m.Item.id).limit(batch)))
            alert_ids = [a for item_id in ids for a in _one(s, rt, item_id, new, actor, summary)]
            s.flush()
            alert_ids = [a.id for a in alert_ids]
        summary.alerts += len(alert_ids)
        outcomes.send_alerts(rt, alert_ids)  # after the commit, like a worker's decision
        summary.done += len(ids)
        summary.after = ids[-1] if ids else summary.after
        last = len(ids) < batch
        # Done, what it walked is the total (reviewers may have taken some); until then items flagged
        # since the pass began may be walked too, and the total grows with them.
        report(summary.done, summary.done if last else max(total, summary.done))
        if last:
            break
    log.info("reevaluated", **summary.to_dict(), actor=actor, tenant_id=tenant_id)
    return summary


def _reporter(on_progress: OnProgress | None) -> OnProgress:
    """``on_progress``, called only when (done, total) changed."""
    last: list[tuple[int, int]] = []

    def report(done: int, total: int) -> None:
        if on_progress is not None and last[-1:] != [(done, total)]:
            last[:] = [(done, total)]
            on_progress(done, total)

    return report


def _one(s, rt: Runtime, item_id: str, new: policy.ThresholdPolicy, actor: str, summary: Summary) -> list[Alert]:
    """Re-decide one item under ``new``; the alerts written: its decision's, and a subject crossing the rule."""
    item = lock_item(s, item_id)
    # Re-checked under the lock: a reviewer may have decided or claimed it since the page was read.
    # An open notice (Art. 16) asks for a person's decision: a re-evaluation does not answer it.
    if item is None or item.status != m.FLAGGED or item.analysis_id is None \
            or s.scalar(select(Review.id).where(Review.item_id == item_id)) or s.scalar(notice_open_on(item_id)):
        return []
    summary.examined += 1
    if item.leased(utcnow()):
        summary.claimed += 1
        return []
    analysis = s.get(m.Analysis, item.analysis_id)
    labels = [ModerationLabel.from_dict(d) for d in analysis.labels or ()]
    decision = policy.decide(labels, new.for_provider(analysis.provider))
    if decision.verdict == item.status:
        item.review_priority = decision.priority  # still waiting: where the new ranking puts it
        summary.unchanged += 1
        return []
    reasons = _reasons(s, item, analysis.id, decision)
    old_version, now = item.policy_version, utcnow()
    row = decision_for(s, item.id)
    if row is not None:
        row.verdict, row.reasons, row.policy_version = decision.verdict, reasons, decision.policy_version
    audit(s, item, m.AuditAction.REEVALUATE, item.status, decision.verdict, actor=actor, verdict=decision.verdict,
          reason=f"policy {old_version} -> {decision.policy_version}: was flagged; now "
                 + "; ".join(r["text"] for r in reasons), policy_version=decision.policy_version)
    item.status, item.verdict, item.policy_version = decision.verdict, decision.verdict, decision.policy_version
    item.review_priority = None if decision.verdict == m.APPROVED else decision.priority  # rejected: still waits
    setattr(summary, decision.verdict, getattr(summary, decision.verdict) + 1)
    if policy.severity(decision.verdict) <= policy.severity(m.FLAGGED):
        return []  # less severe: nothing for the platform to act on
    ref = f"d{row.id}" if row is not None else f"e{int(now.timestamp() * 1000)}"  # its automatic decision, re-made
    rt.decided(s, Decided(item.id, decision.verdict, m.FLAGGED, AUTOMATIC, ref, now))  # a statement of reasons
    alert = decision_alert(item, decision.verdict, reasons, analysis.labels, decision.policy_version, now, kind=KIND)
    alert.message = {**alert.message, "previous_verdict": m.FLAGGED, "previous_policy_version": old_version}
    alert.attributes = {**alert.attributes, "kind": KIND}
    earlier = s.scalar(select(func.count()).select_from(Alert).where(Alert.dedup_id.startswith(alert.dedup_id)))
    if earlier:  # the same change happened before (e.g. rolled back and re-applied): a new event, a new id
        alert.dedup_id = f"{alert.dedup_id}:{earlier + 1}"
    s.add(alert)
    s.flush()  # the subject rule counts this item's rejection
    return [alert, *subjects.after_verdict(s, rt, item, decision.verdict, m.FLAGGED, now, policy=new)]


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
