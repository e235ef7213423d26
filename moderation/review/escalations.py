"""Escalation (issue 17.6): a reviewer sends an item they cannot or should not decide to the senior queue, with a
note saying why; a senior reviewer (role ``senior``) or an admin decides it.

Escalating sets ``items.escalated_at``, writes an ``escalations`` row and the audit entry ``escalate`` (the note is
its reason), and ends the lease, in one transaction. From then on the reviewers' queue, its claims and its counts
leave the item out (``queries.in_queue``); the escalated queue (``QueueFilter(escalated=True)``) holds only such
items, by priority then escalation time. Deciding the item (``services.review``, which refuses anyone but the
holder of a senior's claim or an admin) resolves the escalation; ``items.escalated_at`` stays, as history.
Who may list and claim the escalated queue is the adapters' check (the role is theirs to know:
``Principal.is_senior``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.domain.errors import BadInput
from moderation.domain.tenancy import Scope
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.items.queries import audit, iso, lock_item
from moderation.review.models import Escalation, Review
from moderation.review.queries import REVIEWABLE, awaiting_review, in_scope
from moderation.review.services import Conflict, NotFound

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.escalations")
NOTE_MAX = 1000


def check_note(note: str | None) -> str:
    """Why the item goes up: 1-1000 characters, not blank, no control characters but newlines and tabs."""
    text = (note or "").strip() if isinstance(note, str) or note is None else None
    if not text:
        raise BadInput(f"note: say why you escalate (1-{NOTE_MAX} characters)")
    if len(text) > NOTE_MAX:
        raise BadInput(f"note: at most {NOTE_MAX} characters ({len(text)} given)")
    if any(not (c.isprintable() or c in "\n\r\t") for c in text):  # a lone surrogate is not printable either
        raise BadInput("note: must not contain control characters (newlines and tabs are allowed)")
    return text


def escalate(rt: Runtime, item_id: str, actor: str, note: str, *, scope: Scope, senior: bool = False) -> dict[str, Any]:
    """Send item ``item_id`` (in ``scope``, else NotFound) to the escalated queue with ``note``. It must await
    review and not be escalated already (Conflict); ``actor`` must hold its lease, unless ``senior`` (a senior
    reviewer or an admin, who may escalate any item awaiting review: a reviewer's lease on it ends)."""
    note = check_note(note)
    with transaction(rt.settings.database_url) as s:
        item = lock_item(s, item_id)
        if item is None or not scope.covers(item.tenant_id):
            raise NotFound(f"no item {item_id!r}")
        _check_escalable(s, item, actor, senior)
        now, lease = utcnow(), item.lease_owner if item.leased(utcnow()) else None
        row = Escalation(item_id=item.id, tenant_id=item.tenant_id, note=note, escalated_by=actor, escalated_at=now)
        s.add(row)
        item.escalated_at = now
        item.lease_owner = item.lease_expires_at = None
        audit(s, item, m.AuditAction.ESCALATE, item.status, item.status, actor=actor,
              reason=note if lease in (None, actor) else f"{note} (lease of {lease} ended)")
        s.flush()
        result = view(row)
    log.info("escalated", item_id=item_id, actor=actor)
    return result


def _check_escalable(s: Session, item: m.Item, actor: str, senior: bool) -> None:
    if item.status not in REVIEWABLE or s.scalar(select(Review.id).where(Review.item_id == item.id)):
        raise Conflict(f"item {item.id} is not awaiting review (status {item.status}): only an item awaiting "
                       "review can be escalated")
    if item.escalated_at is not None:
        raise Conflict(f"item {item.id} is already escalated: it waits in the escalated queue")
    holds = item.leased(utcnow()) and item.lease_owner == actor
    if not (holds or senior):
        leased = f"it is leased to {item.lease_owner}" if item.leased(utcnow()) else "you hold no lease on it"
        raise Conflict(f"claim item {item.id} before escalating it: {leased}")


def view(row: Escalation, with_people: bool = True) -> dict[str, Any]:
    """An escalation as the API, the CLI and the console show it; ``with_people`` False (an ingest token): only
    when, not who or the note (words between moderators)."""
    shown = {"escalated_at": iso(row.escalated_at), "resolved_at": iso(row.resolved_at),
             "open": row.resolved_at is None}
    if with_people:
        shown.update(note=row.note, escalated_by=row.escalated_by, resolved_by=row.resolved_by)
    return shown


def of_item(s: Session, item_id: str, with_people: bool = True) -> dict[str, Any] | None:
    """The item's latest escalation (open or resolved), or None."""
    row = s.scalar(select(Escalation).where(Escalation.item_id == item_id).order_by(Escalation.id.desc()).limit(1))
    return view(row, with_people) if row is not None else None


def open_of(s: Session, item_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Item id -> its open escalation, for a page of the escalated queue: one query."""
    if not item_ids:
        return {}
    rows = s.scalars(select(Escalation).where(Escalation.item_id.in_(item_ids), Escalation.resolved_at.is_(None))
                     .order_by(Escalation.id))
    return {row.item_id: view(row) for row in rows}


def waiting(rt: Runtime, *, scope: Scope) -> int:
    """How many escalated items await a decision in ``scope`` (the console's tab)."""
    with transaction(rt.settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(m.Item)
                        .where(awaiting_review(), in_scope(scope), m.Item.escalated_at.is_not(None))) or 0
