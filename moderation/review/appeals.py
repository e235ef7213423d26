"""Appeals (issue 17; the EU's DSA, art. 20): a platform files its user's appeal of a decided item, and a
person other than whoever made that decision upholds or overturns it.

An item has at most one appeal, filed within MODQ_APPEAL_WINDOW_DAYS of its decision (the reviewer's, if a
person reviewed it, else the automatic one). Appeals wait in their own queue, oldest first, with a lease of
their own (``appeal_claims``). Deciding one writes the item's audit entry (``appeal_decide``) and an outbox
alert of kind ``appeal`` (webhook event ``appeal.decided``) in one transaction; overturning it changes the
item's verdict as a review does, and the decision counts as the item's review if it had none, so the item
leaves the review queue for good.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from moderation.alerts import holds
from moderation.alerts.models import Alert
from moderation.alerts.services import decision_alert
from moderation.domain.decisions import APPEAL, Decided
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import Scope
from moderation.infra.clock import aware, utcnow
from moderation.infra.db import transaction
from moderation.items import models as m, subjects
from moderation.items.queries import audit, decision_for, iso, lock_item
from moderation.review import appeal_claims
from moderation.review.models import Appeal, Review
from moderation.review.rebank import rebank
from moderation.review import services as review_services
from moderation.review.services import REASON_MAX, VERDICTS, Conflict, NotFound

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.appeals")
PENDING, DECIDED = "pending", "decided"
UPHELD, OVERTURNED = "upheld", "overturned"
OUTCOMES = (UPHELD, OVERTURNED)
SYSTEM = "system"  # decided_by_original of an automated decision
APPEALABLE = (m.APPROVED, m.REJECTED)  # final verdicts; a flagged item still awaits a person's
STATEMENT_MAX, APPELLANT_MAX = 5000, 255
_TOKEN_SUFFIX = re.compile(r" \(token \d+\)$")


def check_statement(statement: str | None) -> str:
    """The user's words: 1-5,000 characters, not blank, no control characters but newlines and tabs."""
    if not isinstance(statement, str) or not statement.strip():
        raise BadInput("statement: the user's statement is required (1-5000 characters)")
    if len(statement) > STATEMENT_MAX:
        raise BadInput(f"statement: at most {STATEMENT_MAX} characters ({len(statement)} given)")
    if any(not (c.isprintable() or c in "\n\r\t") for c in statement) or not _storable(statement):
        raise BadInput("statement: must not contain control characters (newlines and tabs are allowed)")
    return statement


def check_appellant(appellant: str | None) -> str | None:
    """Who appeals, as the platform names them: 1-255 printable characters, or none."""
    if appellant is None:
        return None
    if not isinstance(appellant, str) or not 1 <= len(appellant) <= APPELLANT_MAX:
        raise BadInput(f"appellant: 1-{APPELLANT_MAX} characters")
    if not appellant.isprintable() or not _storable(appellant):
        raise BadInput("appellant: must not contain control characters")
    return appellant


def _storable(text: str) -> bool:
    return "\x00" not in text and text.encode("utf-8", "replace").decode("utf-8") == text  # no lone surrogate


def same_person(actor: str, other: str | None) -> bool:
    """``actor`` and ``other`` name one person: the same name, whichever of their tokens (``alice (token 3)``)
    or the CLI (``alice``, ``cli:alice``) they acted through."""
    if not other:
        return False
    def name(who: str) -> str:
        return _TOKEN_SUFFIX.sub("", who.strip()).removeprefix("cli:").casefold()
    return name(actor) == name(other)


def file(rt: Runtime, item_id: str, statement: str, appellant: str | None, filed_by: str, *, scope: Scope,
         now: datetime | None = None) -> dict[str, Any]:
    """File the appeal of item ``item_id`` (in ``scope``, else NotFound); Conflict if it is not decided, is
    appealed already, or its decision is older than the window."""
    statement, appellant = check_statement(statement), check_appellant(appellant)
    now = now or utcnow()
    try:
        with transaction(rt.settings.database_url) as s:
            item = lock_item(s, item_id)
            if item is None or not scope.covers(item.tenant_id):
                raise NotFound(f"no item {item_id!r}")
            if item.status not in APPEALABLE:
                raise Conflict(f"item {item_id} is {item.status}: only a decided item (approved or rejected) "
                               "can be appealed")
            if s.scalar(select(Appeal.id).where(Appeal.item_id == item_id)):
                raise Conflict(f"item {item_id} has already been appealed: an item is appealed once")
            review = s.scalar(select(Review).where(Review.item_id == item_id))
            decided_at = aware(review.reviewed_at if review else item.decided_at) or now
            window = rt.settings.appeal_window_days
            if now - decided_at > timedelta(days=window):
                raise Conflict(f"item {item_id} was decided on {decided_at:%Y-%m-%d}: an appeal must be filed "
                               f"within {window} days of the decision (MODQ_APPEAL_WINDOW_DAYS)")
            row = Appeal(item_id=item.id, tenant_id=item.tenant_id, statement=statement, appellant=appellant,
                         filed_by=filed_by, filed_at=now, state=PENDING, original_verdict=item.verdict or item.status,
                         decided_by_original=(review.overridden_by or review.reviewer) if review else SYSTEM)
            s.add(row)
            s.flush()
            audit(s, item, m.AuditAction.APPEAL, item.status, item.status, actor=filed_by,
                  reason=f"appeal {row.id} of the {row.original_verdict} decision by {row.decided_by_original}")
            return view(s, row)
    except IntegrityError:  # a concurrent appeal of the same item committed first
        raise Conflict(f"item {item_id} has already been appealed: an item is appealed once") from None


def decide(rt: Runtime, appeal_id: str, decider: str, outcome: str, verdict: str | None, reason: str,
           admin: bool = False, *, scope: Scope) -> dict[str, Any]:
    """A person's decision of a pending appeal: ``upheld`` (the verdict stands) or ``overturned`` (``verdict``,
    the other final verdict, replaces it). Whoever made the decision appealed may not decide (Conflict)."""
    reason = (reason or "").strip()
    if outcome not in OUTCOMES:
        raise BadInput(f"outcome must be one of {', '.join(OUTCOMES)}")
    if outcome == OVERTURNED and verdict not in VERDICTS:
        raise BadInput(f"verdict: an overturned appeal needs the new verdict, one of {', '.join(VERDICTS)}")
    if not 1 <= len(reason) <= REASON_MAX:
        raise BadInput(f"reason: a reason of 1-{REASON_MAX} characters is required")
    if not decider or same_person(decider, SYSTEM):
        raise Conflict("an appeal must be decided by a person, not by an automated process")
    with transaction(rt.settings.database_url) as s:
        row, item, alerts = _decide(s, rt, appeal_id, decider, outcome, verdict, reason, admin, scope)
        result = view(s, row)
    log.info("appeal_decided", appeal_id=appeal_id, item_id=item, outcome=outcome, decider=decider)
    review_services.publish(rt, alerts)
    return result


def _decide(s: Session, rt: Runtime, appeal_id: str, decider: str, outcome: str, verdict: str | None, reason: str,
            admin: bool, scope: Scope) -> tuple[Appeal, str, list[int]]:
    row = appeal_claims.locked(s, appeal_id, scope)
    if row is None:
        raise NotFound(f"no appeal {appeal_id!r}")
    if row.state != PENDING:
        raise Conflict(f"appeal {appeal_id} has already been decided ({row.outcome})")
    item = lock_item(s, row.item_id)
    review = s.scalar(select(Review).where(Review.item_id == item.id))
    for original in (row.decided_by_original, review.reviewer if review else None,
                     review.overridden_by if review else None):  # an admin's override is their decision too
        if same_person(decider, original):
            raise Conflict(f"you made the decision appealed ({item.status}, by {original}): another reviewer "
                           "must decide its appeal")
    now = utcnow()
    if appeal_claims.leased_to_other(row, decider, now) and not admin:
        raise Conflict(f"appeal {appeal_id} is claimed by {row.lease_owner}")
    previous = item.status
    new = verdict if outcome == OVERTURNED else previous
    if outcome == OVERTURNED and new == previous:
        raise Conflict(f"verdict: the item is already {previous}; to keep it, uphold the appeal")
    row.state, row.outcome, row.new_verdict, row.reason = DECIDED, outcome, new, reason
    row.decided_by, row.decided_at, row.lease_owner, row.lease_expires_at = decider, now, None, None
    audit(s, item, m.AuditAction.APPEAL_DECIDE, previous, new, actor=decider, verdict=new,
          reason=f"appeal {row.id} {outcome}: {reason}")
    if review is None:  # a person has now decided the item: it leaves the review queue (and any escalation ends)
        s.add(Review(item_id=item.id, reviewer=decider, verdict=new, reason=f"appeal {outcome}: {reason}",
                     previous_status=previous, policy_version=item.policy_version, reviewed_at=now))
        review_services.resolve_escalation(s, item, decider, now)
    elif new != previous:  # the review's alerts still held for its undo window announce the verdict replaced
        holds.withdraw(s, list(review.alert_ids or []), now)
    item.status = item.verdict = new
    item.lease_owner = item.lease_expires_at = None
    alert = _alert(s, item, row, previous, now)
    s.add(alert)
    s.flush()
    flagged = []
    if new != previous:  # what the old verdict set in motion follows the new one: the subject rule, the bank
        flagged = [a.id for a in subjects.after_verdict(s, rt, item, new, previous)]
        rebank(s, rt, item, previous, new, decider, reason, scope, cause="appeal overturned")
    flagged += rt.decided(s, Decided(item.id, new, previous, APPEAL, f"p{row.id}", now, decider, reason))
    return row, item.id, [alert.id, *flagged]


def _alert(s: Session, item: m.Item, row: Appeal, previous: str, now: datetime) -> Alert:
    """The outbox row of kind ``appeal`` (SNS and the webhook event ``appeal.decided``); like a review's, it
    does not name the reviewer."""
    decision = decision_for(s, item.id)
    analysis = s.get(m.Analysis, item.analysis_id) if item.analysis_id else None
    alert = decision_alert(item, row.new_verdict, decision.reasons if decision else [],
                           analysis.labels if analysis else [], item.policy_version or "", now, kind="appeal")
    alert.message = {**alert.message, "reasons": [row.reason], "previous_verdict": previous, "appeal_id": row.id,
                     "outcome": row.outcome, "appellant": row.appellant}
    alert.attributes = {**alert.attributes, "kind": "appeal", "outcome": row.outcome}
    return alert


def original_reasons(s: Session, row: Appeal) -> list[str]:
    """Why the decision appealed was made: the reviewer's reason, or the rules the automatic decision cited."""
    if row.decided_by_original != SYSTEM:
        review = s.scalar(select(Review).where(Review.item_id == row.item_id))
        if review is not None and review.reviewer == row.decided_by_original:
            return [review.reason]
    decision = decision_for(s, row.item_id)
    return [r["text"] for r in decision.reasons] if decision else []


def view(s: Session, row: Appeal, with_reviewer: bool = True) -> dict[str, Any]:
    """An appeal as the API, the CLI and the console show it (``with_reviewer`` False: an ingest token's view,
    without the reviewers' names)."""
    out = {"id": row.id, "item_id": row.item_id, "state": row.state, "statement": row.statement,
           "appellant": row.appellant, "filed_at": iso(row.filed_at),
           "original": {"verdict": row.original_verdict, "automated": row.decided_by_original == SYSTEM,
                        "reasons": original_reasons(s, row)},
           "outcome": row.outcome, "new_verdict": row.new_verdict, "reason": row.reason,
           "decided_at": iso(row.decided_at)}
    if with_reviewer:
        out["original"]["decided_by"] = row.decided_by_original
        out.update(filed_by=row.filed_by, decided_by=row.decided_by, lease=appeal_claims.lease_of(row))
    return out


def queue(rt: Runtime, *, scope: Scope, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Pending appeals of ``scope``'s tenants, oldest first."""
    with transaction(rt.settings.database_url) as s:
        return [view(s, row) for row in s.scalars(appeal_claims.pending(scope).limit(limit).offset(offset))]


def claim(rt: Runtime, reviewer: str, *, scope: Scope, lease_seconds: int | None = None) -> dict[str, Any] | None:
    """Lease the oldest pending appeal ``reviewer`` may decide (not of a decision of theirs); its ``view`` and
    the lease, or None if there is none."""
    lease = appeal_claims.claim(rt, reviewer, scope=scope, lease_seconds=lease_seconds,
                                may_decide=lambda who, row: not same_person(who, row.decided_by_original))
    return None if lease is None else get(rt, lease.appeal_id, scope=scope)


def get(rt: Runtime, appeal_id: str, *, scope: Scope) -> dict[str, Any]:
    """The appeal's ``view`` (NotFound if missing or of a tenant outside ``scope``)."""
    with transaction(rt.settings.database_url) as s:
        row = s.get(Appeal, appeal_id)
        if row is None or not scope.covers(row.tenant_id):
            raise NotFound(f"no appeal {appeal_id!r}")
        return view(s, row)


def of_item(s: Session, item_id: str, with_reviewer: bool = True) -> list[dict[str, Any]]:
    """The item's appeals (at most one), for its detail."""
    return [view(s, a, with_reviewer) for a in s.scalars(select(Appeal).where(Appeal.item_id == item_id))]
