"""Human review: the queue, claims with a lease, and the reviewer's verdict.

A claim leases one item to one reviewer for a while; nobody else can claim it
until the lease ends, and an abandoned claim frees itself when it expires. A
reviewer holds one lease at a time, and concurrent reviewers never wait on
each other's rows (how, in the database: ``claims``). A verdict is
recorded once per item (unique in the database), with an audit event and an
outbox alert in the same transaction, published like an automatic decision so
the platform learns the final verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.settings import Settings
from moderation.items.banks import services as banks
from moderation.alerts.services import decision_alert
from moderation.domain.decisions import REVIEW, Decided
from moderation.domain.errors import BadInput, ModqError
from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.items import models as m, subjects
from moderation.infra.clock import utcnow
from moderation.alerts.models import Alert
from moderation.infra.db import transaction
from moderation.items.queries import audit, decision_for, lock_item
from moderation.review.models import Appeal, Escalation, Review
from moderation.review import claims, reason_codes
from moderation.review.keyset import Key
from moderation.review.outbox import hold_for_undo, publish  # a review's alerts: held for the undo window, then sent
from moderation.review.queries import REVIEWABLE, QueueFilter, held_by, lease_free, pending

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.review")
VERDICTS = (m.APPROVED, m.REJECTED)
REASON_MAX = 1000
LEASE_MIN_SECONDS = 10


class NotFound(ModqError):
    pass


class Conflict(ModqError):
    """The item is not in a state that allows this (reviewed, leased to someone else, ...)."""


@dataclass(frozen=True)
class Lease:
    item_id: str
    owner: str
    expires_at: datetime


def queue(rt: Runtime, f: QueueFilter, limit: int = 50, offset: int = 0, after: Key | None = None) -> list[m.Item]:
    """A page of the queue: ``limit`` rows from ``offset`` (deprecated), or after the row ``after`` names."""
    with transaction(rt.settings.database_url) as s:
        query = pending(s.get_bind().dialect.name, f, utcnow(), after)
        return list(s.scalars(query.limit(limit).offset(offset)))


def claim(rt: Runtime, reviewer: str, f: QueueFilter | None = None, lease_seconds: int | None = None,
          skip: str | None = None, item_id: str | None = None) -> Lease | None:
    """Lease the oldest matching item (or ``item_id``) of ``f.scope``'s tenants to ``reviewer``; None if none is
    free (an item outside the scope is never free: the caller cannot tell it from a missing one).

    One reviewer, one lease: a reviewer who already holds a lease gets that item
    back (renewed), whatever the filters, so reloading a page or a burst of
    retries never piles up claims; asking for another ``item_id`` meanwhile is
    a Conflict. ``skip`` releases that item first and passes over it this time.
    ``lease_seconds`` above MODQ_REVIEW_MAX_LEASE_SECONDS is refused (BadInput),
    not shortened: the caller learns its lease is not the one it asked for.
    """
    f = f or QueueFilter()
    length = timedelta(seconds=lease_length(rt.settings, lease_seconds))
    with transaction(rt.settings.database_url) as s:
        claims.lock_claims_of(s, reviewer)
        if skip:
            _release(s, skip, reviewer, missing_ok=True, scope=f.scope)
        now = utcnow()
        until = now + length
        held = claims.held(s, reviewer, now)
        if held is not None:
            if (item_id and item_id != held) or not f.scope.covers(s.get(m.Item, held).tenant_id):
                raise Conflict(f"you hold a lease on item {held}: review or release it before claiming another")
            if claims.set_lease(s, held, held_by(reviewer, now), reviewer, until):
                return Lease(held, reviewer, until)
        query = pending(s.get_bind().dialect.name, f, now)
        if skip:
            query = query.where(m.Item.id != skip)
        if item_id:
            query = query.where(m.Item.id == item_id)
        item = claims.take(s, query.where(lease_free(now)), reviewer, until)
        if item is None:
            return None
        item.lease_owner, item.lease_expires_at = reviewer, until
        audit(s, item, m.AuditAction.CLAIM, item.status, item.status, actor=reviewer,
              reason=f"lease until {until.isoformat()}")
        return Lease(item.id, reviewer, until)


def lease_length(settings: Settings, requested: int | None) -> int:
    """Seconds a claim holds its item: the request, within bounds, or the default."""
    if requested is None:
        return settings.review_lease_seconds
    if requested < LEASE_MIN_SECONDS:
        raise BadInput(f"lease_seconds must be at least {LEASE_MIN_SECONDS}")
    if requested > settings.review_max_lease_seconds:
        raise BadInput(f"lease_seconds {requested} is over the limit of {settings.review_max_lease_seconds} "
                       "seconds (MODQ_REVIEW_MAX_LEASE_SECONDS)")
    return requested


def release(rt: Runtime, item_id: str, reviewer: str, admin: bool = False, missing_ok: bool = False, *,
            scope: Scope = EVERY_TENANT) -> None:
    """Give a claimed item back to the queue (an item outside ``scope``: NotFound, as a missing one)."""
    with transaction(rt.settings.database_url) as s:
        _release(s, item_id, reviewer, admin, missing_ok, scope)


def _release(s: Session, item_id: str, reviewer: str, admin: bool = False, missing_ok: bool = False,
             scope: Scope = EVERY_TENANT) -> None:
    item = _locked(s, item_id, scope)
    if item is None:
        if missing_ok:
            return
        raise NotFound(f"no item {item_id!r}")
    if not _holds(item, reviewer):
        if missing_ok:
            return
        if not (admin and item.lease_owner):
            raise Conflict(f"you do not hold a lease on item {item_id}")
    audit(s, item, m.AuditAction.RELEASE, item.status, item.status, actor=reviewer,
          reason=f"lease of {item.lease_owner}")
    item.lease_owner = item.lease_expires_at = None


def review(rt: Runtime, item_id: str, reviewer: str, verdict: str, reason: str, admin: bool = False, *,
           scope: Scope = EVERY_TENANT, reason_code: str | None = None) -> Review:
    """Record a reviewer's final verdict; only the lease holder (or an admin). An item outside ``scope`` is
    NotFound, as a missing one (an admin token for some tenants is no admin of the others).

    Its alerts (the review's, and a subject flag it raised) wait out the undo window (MODQ_REVIEW_UNDO_SECONDS)
    in the outbox, and the row keeps their ids: an undo within the window cancels them (``review.undo``)."""
    reason = (reason or "").strip()
    if verdict not in VERDICTS:
        raise BadInput(f"verdict must be one of {', '.join(VERDICTS)}")
    if not 1 <= len(reason) <= REASON_MAX:
        raise BadInput(f"a reason of 1-{REASON_MAX} characters is required")
    try:
        with transaction(rt.settings.database_url) as s:
            code = reason_codes.checked(rt, s, item_id, reason_code, scope)  # one of the policy's, or None
            row, alert_id = _record(s, item_id, reviewer, verdict, reason, admin, scope, code)
            # The subject rule, if any: a rejection counts, an overturned one no longer does (items/subjects.py).
            flagged = [a.id for a in subjects.after_verdict(s, rt, s.get(m.Item, item_id), verdict, row.previous_status)]
            held = row.reviewed_at + timedelta(seconds=rt.settings.review_undo_seconds)
            flagged += rt.decided(s, Decided(item_id, verdict, row.previous_status, REVIEW, f"r{row.id}",
                                             row.reviewed_at, reviewer, reason, code, held))  # transparency
            row.alert_ids = [alert_id, *flagged]
            hold_for_undo(s, row.alert_ids, row.reviewed_at, rt.settings.review_undo_seconds)
            if verdict == "rejected" and rt.settings.bank_reviewer_rejections:
                item = s.get(m.Item, item_id)  # banked for the item's tenant only (the entry names item, reviewer)
                banks.bank_review_rejection(s, item.content_key, item_id, reviewer, reason, tenant_id=item.tenant_id)
    except IntegrityError:  # a concurrent review of the same item committed first
        raise Conflict(f"item {item_id} has already been reviewed") from None
    log.info("reviewed", item_id=item_id, verdict=verdict, reviewer=reviewer)
    publish(rt, [alert_id, *flagged], hold=rt.settings.review_undo_seconds)
    return row


def _record(s: Session, item_id: str, reviewer: str, verdict: str, reason: str, admin: bool,
            scope: Scope, reason_code: str | None = None) -> tuple[Review, int]:
    item = _locked(s, item_id, scope)
    if item is None:
        raise NotFound(f"no item {item_id!r}")
    if item.status not in REVIEWABLE or s.scalar(select(Review.id).where(Review.item_id == item_id)):
        raise Conflict(f"item {item_id} is not awaiting review (status {item.status})")
    if item.escalated_at is not None and not (admin or _holds(item, reviewer)):  # a senior's claim or an admin
        raise Conflict(f"item {item_id} is escalated: a senior reviewer or an admin claims and decides it "
                       "(the escalated queue)")
    if not admin and not _holds(item, reviewer):
        raise Conflict(f"claim item {item_id} before reviewing it: "
                       + (f"it is leased to {item.lease_owner}" if _leased(item) else "you hold no lease on it"))
    now, previous = utcnow(), item.status
    if s.scalar(select(Appeal.id).where(Appeal.item_id == item_id, Appeal.state == "pending")):
        raise Conflict(f"item {item_id} has a pending appeal: its decision is the appeal's (the appeals queue)")
    row = Review(item_id=item.id, reviewer=reviewer, verdict=verdict, reason=reason, previous_status=previous,
                 policy_version=item.policy_version, reviewed_at=now, reason_code=reason_code)
    s.add(row)
    audit(s, item, m.AuditAction.REVIEW, previous, verdict, actor=reviewer, verdict=verdict, reason=reason)
    resolve_escalation(s, item, reviewer, now)
    item.status = item.verdict = verdict
    item.lease_owner = item.lease_expires_at = None
    alert = _review_alert(s, item, verdict, reason, previous, now)
    alert.message = {**alert.message, "reason_code": reason_code}
    s.add(alert)
    s.flush()
    return row, alert.id


def resolve_escalation(s: Session, item: m.Item, decider: str, now: datetime) -> None:
    """A person decided the item (a review, or an appeal's decision): its open escalation is resolved
    (``items.escalated_at`` stays, as history)."""
    if item.escalated_at is not None:
        s.execute(update(Escalation).where(Escalation.item_id == item.id, Escalation.resolved_at.is_(None))
                  .values(resolved_by=decider, resolved_at=now).execution_options(synchronize_session=False))


def _review_alert(s: Session, item: m.Item, verdict: str, reason: str, previous: str, now: datetime) -> Alert:
    """Same message as an automatic decision, marked kind "review". The
    reviewer's name stays in the audit trail: it is not sent to the platform."""
    decision = decision_for(s, item.id)
    analysis = s.get(m.Analysis, item.analysis_id) if item.analysis_id else None
    alert = decision_alert(item, verdict, decision.reasons if decision else [], analysis.labels if analysis else [],
                           item.policy_version or "", now, kind="review")
    alert.message = {**alert.message, "reasons": [reason], "previous_verdict": previous}
    alert.attributes = {**alert.attributes, "kind": "review"}
    # Reviewed again after an undo: a new event, not a repeat of the undone one (unique dedup_id, and a FIFO
    # topic must not drop it as a duplicate).
    earlier = s.scalar(select(func.count()).select_from(Alert).where(Alert.dedup_id.startswith(alert.dedup_id)))
    if earlier:
        alert.dedup_id = f"{alert.dedup_id}:{earlier + 1}"
    return alert


def _locked(s: Session, item_id: str, scope: Scope) -> m.Item | None:
    """The item, locked, if ``scope`` covers its tenant; else None, as for a missing one."""
    item = lock_item(s, item_id)
    return item if item is not None and scope.covers(item.tenant_id) else None


def _leased(item: m.Item) -> bool:
    return item.leased(utcnow())


def _holds(item: m.Item, reviewer: str) -> bool:
    return _leased(item) and item.lease_owner == reviewer
