"""Retention (issue 19.1): replace decided items' personal data with tombstones once their tenant's ``retention:``
says it has been kept long enough, and finish the erasures asked while an item was still being moderated.

Choices, and why:

* Only items that ended (approved, flagged, rejected, failed) and are not purged yet. An item is "reviewed" when
  a person decided it (a ``reviews`` row): ``reviewed_days``, counted from the later of its automatic decision
  and its review. Otherwise its status's rule, counted from ``decided_at`` (a failed item: its last change).
* Skipped, and reported with why: an item under legal hold (``holds.holding``); one a reviewer holds a lease on
  now (we don't pull it from under them); one with a pending appeal (its reviewer needs what it shows). A later
  run takes the last two once they are done.
* Bounded batches, each one short transaction: the batch's items are locked as they are read (``FOR UPDATE SKIP
  LOCKED`` on PostgreSQL: an item a worker or reviewer has locked is left for the next run) and each rule's pass
  walks them in id order (keyset), so a skipped item is not read again and nothing is held across batches.
* Each purge writes one audit entry (``purge`` by ``retention``) naming the rule, never the data; an erasure one
  ``erase``. ``dry_run``: the same walk, nothing changed: what would go, per tenant and rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from moderation.domain.retention import Retention
from moderation.infra import metrics
from moderation.infra.clock import aware, utcnow
from moderation.infra.db import transaction
from moderation.infra.schema import Tenant
from moderation.items import models as m
from moderation.privacy.holds import holding
from moderation.privacy.scrub import ERASURE, RETENTION, scrub_item
from moderation.review.models import Appeal, Review

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.retention")
ACTOR = "retention"
ERASE_RULE = "erase_requested"  # the sweep of erasures asked while an item was being moderated
# Erasures first: an item both past retention and asked to be erased is erased (its external id goes too).
RULES = (ERASE_RULE, "approved_days", "flagged_rejected_days", "failed_days", "reviewed_days")
OnProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class Skipped:
    item_id: str
    tenant: str
    rule: str
    why: str  # "legal hold <id>: <its reason>", "claimed by a reviewer", "appeal pending"


@dataclass
class Report:
    dry_run: bool
    now: datetime
    purged: Counter = field(default_factory=Counter)  # (tenant name, rule) -> items purged (dry run: would be)
    skipped: list[Skipped] = field(default_factory=list)
    batches: int = 0

    @property
    def total(self) -> int:
        return sum(self.purged.values())

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "now": self.now.isoformat(), "total": self.total, "batches": self.batches,
                "purged": [{"tenant": t, "rule": r, "items": n} for (t, r), n in sorted(self.purged.items())],
                "skipped": [vars(x) for x in self.skipped]}


def purge(rt: Runtime, now: datetime | None = None, batch: int = 500, dry_run: bool = False,
          tenant_id: int | None = None, on_progress: OnProgress | None = None) -> Report:
    """Purge (``dry_run``: count) every item of ``tenant_id`` (None: every tenant) whose personal data is past
    its tenant's retention, and erase those whose erasure waited for their end; see the module docstring."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    now = aware(now or utcnow())
    report = Report(dry_run=dry_run, now=now)
    url = rt.settings.database_url
    with transaction(url) as s:
        query = select(Tenant.id, Tenant.name).order_by(Tenant.id)
        tenants = dict(s.execute(query if tenant_id is None else query.where(Tenant.id == tenant_id)).all())
    passes = [(tid, name, rule, rt.active_policy(tid).retention) for tid, name in tenants.items() for rule in RULES]
    with transaction(url) as s:
        total = sum(s.scalar(select(func.count()).select_from(m.Item)
                             .where(*due_conditions(tid, rule, policy, now, ""))) for tid, _, rule, policy in passes)
    done = 0
    if on_progress:
        on_progress(0, total)
    for tid, name, rule, policy in passes:
        after = ""
        while True:
            with transaction(url) as s:  # one batch, one short transaction: nothing held across batches
                walked, after = _batch(s, report, (tid, name, rule, policy), after, batch)
            if not walked:
                break
            done += walked
            if on_progress:  # items that came due since the count make the total grow
                on_progress(done, max(total, done))
    if on_progress:
        on_progress(done, done)
    return report


def _batch(s: Session, report: Report, what: tuple[int, str, str, Retention], after: str,
           size: int) -> tuple[int, str]:
    """Lock the next ``size`` items due under ``what``'s rule after id ``after``, purge those not skipped;
    (items walked, the last id)."""
    tid, name, rule, policy = what
    query = select(m.Item).where(*due_conditions(tid, rule, policy, report.now, after)).order_by(m.Item.id).limit(size)
    if not report.dry_run:  # a dry run changes nothing: it locks nothing, and counts what another holds too
        query = query.with_for_update(skip_locked=True, of=m.Item)
    items = list(s.scalars(query))
    if not items:
        return 0, after
    report.batches += 1
    purged = held = 0
    for item in items:
        why = _skip(s, item, report.now, erasing=rule == ERASE_RULE)
        if why:
            report.skipped.append(Skipped(item.id, name, rule, why))
            held += 1
        else:
            purged += 1
            if not report.dry_run:
                _purge_one(s, item, rule, policy, report.now)
    report.purged[(name, rule)] += purged
    log.info("retention_batch", tenant=name, rule=rule, purged=purged, skipped=held, dry_run=report.dry_run)
    if not report.dry_run:
        counted(rule, purged, held)
    return len(items), items[-1].id


def counted(rule: str, purged: int, skipped: int) -> None:
    """``modq_retention_items_total{rule, outcome}``: what a batch did."""
    metrics.RETENTION.labels(rule, "purged").inc(purged)
    metrics.RETENTION.labels(rule, "skipped").inc(skipped)


def _purge_one(s: Session, item: m.Item, rule: str, policy: Retention, now: datetime) -> None:
    erase = rule == ERASE_RULE
    scrub_item(s, item, ERASURE if erase else RETENTION, now, drop_pay_once=policy.pay_once == "drop")
    # After the scrub: its tombstones go over the free text already there, not over this entry (no personal data).
    s.add(m.AuditEvent(item_id=item.id, actor=ACTOR, action=m.AuditAction.ERASE if erase else m.AuditAction.PURGE,
                       from_status=item.status, to_status=item.status, verdict=item.verdict,
                       policy_version=item.policy_version,
                       reason="erasure requested while it was being moderated" if erase
                       else f"{rule} {getattr(policy, rule)}"))


def _skip(s: Session, item: m.Item, now: datetime, erasing: bool) -> str | None:
    """Why ``item`` is left as it is this run (None: it goes). An erasure the subject asked for does not wait
    for their own appeal."""
    hold = holding(s, item.tenant_id, item.id, item.subject_id)
    if hold is not None:
        return f"legal hold {hold.id}: {hold.reason}"
    if item.leased(now):
        return "claimed by a reviewer"
    if not erasing and s.scalar(select(exists().where(Appeal.item_id == item.id, Appeal.state == "pending"))):
        return "appeal pending"
    return None


def due_conditions(tenant_id: int, rule: str, policy: Retention, now: datetime, after: str) -> list[ColumnElement[bool]]:
    """What puts an item of ``tenant_id`` under ``rule`` now: the conditions of a pass's query."""
    base = [m.Item.tenant_id == tenant_id, m.Item.id > after, m.Item.status.in_(m.TERMINAL)]
    if rule == ERASE_RULE:
        return [*base, m.Item.erase_requested_at.is_not(None)]
    cutoff = now - timedelta(days=getattr(policy, rule))
    reviewed = exists().where(Review.item_id == m.Item.id)
    base += [m.Item.purged_at.is_(None), m.Item.erase_requested_at.is_(None)]  # the erasure pass takes those
    if rule == "reviewed_days":
        recent = or_(exists().where(Review.item_id == m.Item.id, Review.reviewed_at >= cutoff),
                     exists().where(Appeal.item_id == m.Item.id, Appeal.decided_at >= cutoff))
        decided = or_(m.Item.decided_at < cutoff, and_(m.Item.decided_at.is_(None), m.Item.updated_at < cutoff))
        return [*base, reviewed, ~recent, decided]
    base.append(~reviewed)
    if rule == "failed_days":
        return [*base, m.Item.status == m.FAILED, m.Item.updated_at < cutoff]
    statuses = (m.APPROVED,) if rule == "approved_days" else (m.FLAGGED, m.REJECTED)
    return [*base, m.Item.status.in_(statuses), m.Item.decided_at < cutoff]
