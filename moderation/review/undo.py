"""Undo (issue 17.2): the reviewer who recorded a verdict takes it back within MODQ_REVIEW_UNDO_SECONDS.

A single key records a final verdict, so a slip must be cheap to take back, and leave no trace outside modq:
the review's alerts wait in the outbox for the window (``review.services.hold_for_undo``), and an undo
cancels them. In one transaction it reverts everything the review did: the item's status and verdict go back,
the review row is deleted (so the item can be reviewed again), a bank entry its rejection made is removed,
an escalation it resolved is open again, and the subject rule is applied again (a flag the rejection raised
is cleared). The audit trail keeps both the
review and the ``undo`` entry naming the verdict undone.

The item's lease goes back to the same reviewer at once (any other lease of theirs, e.g. on the item the
console opened next, is given back): they undid it to decide it again, and nobody else should take it from
under them meanwhile. An alert that had already gone out (the window raced a relay, or the window was
changed) is followed by a ``review.undone`` event (alert kind ``undo``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from moderation.alerts import holds
from moderation.alerts.models import Alert
from moderation.alerts.services import subject_line
from moderation.items.banks import services as banks
from moderation.review.rebank import unbankable
from moderation.domain.decisions import Undone
from moderation.domain.tenancy import Scope
from moderation.infra.clock import aware, utcnow
from moderation.infra.db import transaction
from moderation.items import models as m, subjects
from moderation.items.queries import audit, lock_item
from moderation.review import claims
from moderation.review.appeals import same_person
from moderation.review.models import Appeal, Escalation, Review
from moderation.review.services import Conflict, NotFound, publish

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.review")
KIND = "undo"  # the alert kind (webhook event review.undone)


def seconds_left(rt: Runtime, reviewed_at: datetime, now: datetime | None = None) -> float:
    """Seconds of the undo window still open for a review recorded at ``reviewed_at`` (0: closed or off)."""
    end = aware(reviewed_at) + timedelta(seconds=rt.settings.review_undo_seconds)
    return max(0.0, (end - (now or utcnow())).total_seconds())


def undo(rt: Runtime, item_id: str, reviewer: str, *, scope: Scope) -> dict:
    """Take back ``reviewer``'s review of ``item_id`` (in ``scope``, else NotFound) within the undo window;
    Conflict (saying why) if there is none, it is someone else's, the window closed, or something came after
    it (an override, an appeal). Returns what was undone: ``{item_id, verdict, status, lease_expires_at,
    followed_up}``."""
    with transaction(rt.settings.database_url) as s:
        claims.lock_claims_of(s, reviewer)  # first: one reviewer's leases change one at a time
        now = utcnow()
        item = lock_item(s, item_id)
        if item is None or not scope.covers(item.tenant_id):  # another tenant's item: as a missing one
            raise NotFound(f"no item {item_id!r}")
        row = _undoable(s, rt, item, reviewer, now)
        verdict, previous = row.verdict, row.previous_status
        sent = holds.withdraw(s, list(row.alert_ids or []), now)
        _unbank(s, item, row, reviewer, scope, now)
        _reopen_escalation(s, item.id, row)
        rt.undone(s, Undone(item.id, f"r{row.id}", now))  # its statement withdrawn, its notices open again
        audit(s, item, m.AuditAction.UNDO, verdict, previous, actor=reviewer, verdict=verdict,
              reason=f"undid the {verdict} review ({row.reason}); back to {previous}")
        item.status = item.verdict = previous
        s.delete(row)
        s.flush()
        until = _lease_back(s, rt, item, reviewer, now)
        follow = [_follow_up(s, item, verdict, previous, now).id] if sent else []
        flagged = [a.id for a in subjects.after_verdict(s, rt, item, previous, verdict, now=now)]
        result = {"item_id": item.id, "verdict": verdict, "status": previous,
                  "lease_expires_at": until.isoformat(), "followed_up": bool(follow)}
    log.info("review_undone", item_id=item_id, verdict=verdict, reviewer=reviewer, followed_up=bool(follow))
    if follow or flagged:
        publish(rt, follow + flagged)
    return result


def _undoable(s: Session, rt: Runtime, item: m.Item, reviewer: str, now: datetime) -> Review:
    row = s.scalar(select(Review).where(Review.item_id == item.id))
    if row is None:
        raise Conflict(f"item {item.id} has no review to undo (status {item.status})")
    if not same_person(reviewer, row.reviewer):
        raise Conflict(f"only the reviewer who recorded it ({row.reviewer}) can undo the review of item {item.id}; "
                       "an admin can override it")
    window = rt.settings.review_undo_seconds
    if window <= 0:
        raise Conflict("undo is turned off (MODQ_REVIEW_UNDO_SECONDS=0): ask an admin to override the review")
    if seconds_left(rt, row.reviewed_at, now) <= 0:
        ago = int((now - aware(row.reviewed_at)).total_seconds())
        raise Conflict(f"the undo window of {window} s (MODQ_REVIEW_UNDO_SECONDS) closed: the review was recorded "
                       f"{ago} s ago; ask an admin to override it")
    if row.overridden_at is not None:
        raise Conflict(f"the review of item {item.id} was overridden by {row.overridden_by}: it cannot be undone")
    if item.status != row.verdict or s.scalar(select(Appeal.id).where(Appeal.item_id == item.id)):
        raise Conflict(f"item {item.id} changed after the review (now {item.status}, or appealed): it cannot be "
                       "undone")
    return row


def _unbank(s: Session, item: m.Item, row: Review, reviewer: str, scope: Scope, now: datetime) -> None:
    """Remove the bank entry this review's rejection made (MODQ_BANK_REVIEWER_REJECTIONS), if any."""
    if row.verdict != m.REJECTED:
        return
    for entry_id in unbankable(s, item.id, row.reviewed_at):
        banks.remove(s, entry_id, f"{reviewer} (undo)", scope)


def _reopen_escalation(s: Session, item_id: str, row: Review) -> None:
    """An escalation the review resolved is open again (the item is back in the escalated queue)."""
    s.execute(update(Escalation).where(Escalation.item_id == item_id, Escalation.resolved_by == row.reviewer,
                                       Escalation.resolved_at >= row.reviewed_at)
              .values(resolved_by=None, resolved_at=None).execution_options(synchronize_session=False))


def _lease_back(s: Session, rt: Runtime, item: m.Item, reviewer: str, now: datetime) -> datetime:
    """The undone item is leased to the reviewer again; any other lease of theirs is given back."""
    for other in s.scalars(select(m.Item).where(m.Item.lease_owner == reviewer, m.Item.id != item.id,
                                                m.Item.lease_expires_at > now)):
        audit(s, other, m.AuditAction.RELEASE, other.status, other.status, actor=reviewer,
              reason=f"lease of {reviewer} given back: undo of item {item.id}")
        other.lease_owner = other.lease_expires_at = None
    until = now + timedelta(seconds=rt.settings.review_lease_seconds)
    item.lease_owner, item.lease_expires_at = reviewer, until
    audit(s, item, m.AuditAction.CLAIM, item.status, item.status, actor=reviewer,
          reason=f"lease until {until.isoformat()} (after undo)")
    return until


def _follow_up(s: Session, item: m.Item, verdict: str, previous: str, now: datetime) -> Alert:
    """``review.undone``: the review's event had already gone out, so the platform learns it no longer holds."""
    message = {"kind": KIND, "item_id": item.id, "external_id": item.external_id, "media_type": item.media_type,
               "undone_verdict": verdict, "verdict": previous, "undone_at": now.isoformat()}
    alert = Alert(item_id=item.id, tenant_id=item.tenant_id, kind=KIND,
                  dedup_id=f"{item.id}:{KIND}:{now.timestamp():.6f}",
                  subject=subject_line(f"modq review undone {item.media_type}: {verdict} -> {previous} "
                                       f"[{item.external_id or item.id}]"),
                  message=message, attributes={"kind": KIND, "verdict": previous, "media_type": item.media_type})
    s.add(alert)
    s.flush()
    return alert


def offer(rt: Runtime, item_id: str, reviewer: str, *, scope: Scope) -> dict | None:
    """What the console's Undo toast offers ``reviewer`` for ``item_id``: ``{item_id, verdict, seconds_left}``
    while they may still undo its review (theirs, not overridden, the window open); else None."""
    with transaction(rt.settings.database_url) as s:
        row = s.execute(select(Review.verdict, Review.reviewer, Review.reviewed_at, Review.overridden_at,
                               m.Item.tenant_id).join(m.Item, m.Item.id == Review.item_id)
                        .where(Review.item_id == item_id)).first()
    if row is None or not scope.covers(row.tenant_id) or row.overridden_at is not None:
        return None
    left = seconds_left(rt, row.reviewed_at) if rt.settings.review_undo_seconds > 0 else 0
    if left <= 0 or not same_person(reviewer, row.reviewer):
        return None
    return {"item_id": item_id, "verdict": row.verdict, "seconds_left": left}
