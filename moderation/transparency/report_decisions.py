"""The transparency report's decisions, counted from the append-only audit trail (``audit_events``), not from the
columns that hold an item's decision now: a re-evaluation overwrites ``decisions.verdict`` in place, an override
``reviews.verdict``, an appeal on an unreviewed item inserts a ``reviews`` row, and an overturning appeal leaves
the review's verdict stale. Each audit row is one decision, made at its own time (``at``) by one kind of
decider; its verdict is where it left the item (``to_status``): ``rejected`` restricts the content.

A review its reviewer took back (``undo``: the review row is deleted, the audit trail keeps both) is no decision:
a ``review`` row is undone when the next ``review`` or ``undo`` row of its item (by id: the trail is appended
in order, and an undo needs its review committed) is an ``undo``. Nothing else can be undone, and nothing can
come between a review and its undo but leases (an override or an appeal ends the undo window)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, exists, func, not_, or_, select
from sqlalchemy.orm import aliased

from moderation.items import models as im

A = im.AuditAction
# The audit actions that are decisions, and the name each kind of decider has in the report (in this order).
KINDS = {A.DECIDE: "automatic", A.REEVALUATE: "re-evaluation", A.REVIEW: "reviewer", A.OVERRIDE: "override",
         A.APPEAL_DECIDE: "appeal"}
AUTOMATED = frozenset({"automatic", "re-evaluation"})  # the rest are a person's
RESTRICTIVE = im.REJECTED


def standing() -> ColumnElement[bool]:
    """True for every decision row of ``audit_events`` but a review that was undone."""
    event, later = im.AuditEvent, aliased(im.AuditEvent)
    undo = aliased(im.AuditEvent)
    # Correlated explicitly: auto-correlation reaches the enclosing SELECT only, not the outer ``event``.
    review_between = exists().where(later.item_id == event.item_id, later.action == A.REVIEW.value,
                                    later.id > event.id, later.id < undo.id).correlate_except(later)
    undone = exists().where(undo.item_id == event.item_id, undo.action == A.UNDO.value, undo.id > event.id,
                            not_(review_between)).correlate_except(undo)
    return or_(event.action != A.REVIEW.value, not_(undone))


def counted(within, tenant) -> Select:
    """(action, verdict, count) of the standing decisions made in the period by the tenant's items; ``within``
    and ``tenant`` build the period's and the scope's conditions on a column."""
    event = im.AuditEvent
    return (select(event.action, event.to_status, func.count()).join(im.Item, im.Item.id == event.item_id)
            .where(event.action.in_([kind.value for kind in KINDS]), within(event.at), tenant(im.Item.tenant_id),
                   standing())
            .group_by(event.action, event.to_status))


def rows(found: list[tuple[str, str | None, int]]) -> list[tuple[str, str, str, int]]:
    """(decided_by, verdict, restrictive, decisions), by kind in ``KINDS`` order, then verdict."""
    order = list(KINDS)
    return [(KINDS[A(action)], verdict or "", "yes" if verdict == RESTRICTIVE else "no", n)
            for action, verdict, n in sorted(found, key=lambda r: (order.index(A(r[0])), r[1] or ""))]


def first_decisions(action: A, within, tenant) -> Select:
    """(submitted, decided) of each of the tenant's items whose first standing ``action`` decision was made in
    the period: the time from submission to that first decision."""
    event = im.AuditEvent
    first = func.min(event.at)
    return (select(im.Item.created_at, first).join(im.Item, im.Item.id == event.item_id)
            .where(event.action == action.value, tenant(im.Item.tenant_id), standing())
            .group_by(event.item_id, im.Item.created_at).having(within(first)))
