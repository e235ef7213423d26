"""Statements of reasons (issue 18.1): built and stored in the deciding transaction, so a restriction is never
recorded without its statement, nor a statement without its restriction.

Every restriction gets one: a rejection, whoever decided it (the automatic decision, a review, an admin's
override to rejected, an appeal's decision that upholds a rejection or overturns an approval). The row waits
as ``pending`` (after ``hold_until``, a review's undo window) for the submission to the Transparency Database;
an undo within the window withdraws it, never sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from moderation.domain.decisions import REVIEW, Decided, Undone
from moderation.domain.statements import build_statement
from moderation.transparency import facts as decision_facts
from moderation.transparency.models import PENDING, WITHDRAWN, Statement

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime

RESTRICTIVE = "rejected"


def restrictive(event: Decided) -> bool:
    """A decision that leaves the item rejected restricts it; an upheld appeal of a rejection too (Art. 20: the
    appeal's decision is a decision of its own, on a person's word this time). A reviewer confirming the
    automatic rejection imposes nothing new: its restriction and statement stand."""
    return event.verdict == RESTRICTIVE and not (event.kind == REVIEW and event.previous == RESTRICTIVE)


def record(s: Session, rt: Runtime, event: Decided) -> Statement | None:
    """Store the statement of reasons of ``event`` (pending); None when it has one already (the same decision
    handed on twice). A withdrawn statement of the same decision ref (SQLite may give an undone review's id to
    the next review of the item) is written over: it was never sent, so its puid is still free."""
    read = decision_facts.read(s, rt, event)
    body = build_statement(read.facts, read.transparency)
    row = s.scalar(select(Statement).where(Statement.puid == read.facts.puid))
    if row is not None and row.state != WITHDRAWN:
        return None
    if row is None:
        row = Statement(puid=read.facts.puid)
        s.add(row)
    row.tenant_id, row.item_id, row.decision, row.decision_ref = read.tenant_id, event.item_id, event.kind, event.ref
    row.body, row.created_at, row.hold_until, row.state = body, event.at, event.hold_until, PENDING
    row.attempts, row.errors, row.sent_at, row.tdb_uuid = 0, None, None, None
    row.last_attempt_at = row.next_attempt_at = None
    s.flush()
    return row


def supersede(s: Session, event: Decided) -> int:
    """A decision that lifts the restriction (an override or appeal to approved) while the restricting review's
    statement is still held for its undo window withdraws that statement, as it cancels the review's held
    alerts: the restriction never took effect. One whose hold has passed stays: that restriction was real.
    How many rows changed."""
    if restrictive(event) or not event.by_person:
        return 0
    done = s.execute(update(Statement).where(Statement.item_id == event.item_id, Statement.state == PENDING,
                                             Statement.hold_until > event.at)
                     .values(state=WITHDRAWN).execution_options(synchronize_session=False))
    return done.rowcount or 0


def withdraw(s: Session, event: Undone) -> int:
    """The undone decision's statement, if still pending (it is: a review's is held for its undo window),
    becomes ``withdrawn`` and is never sent. How many rows changed."""
    done = s.execute(update(Statement).where(Statement.item_id == event.item_id,
                                             Statement.decision_ref == event.ref, Statement.state == PENDING)
                     .values(state=WITHDRAWN).execution_options(synchronize_session=False))
    return done.rowcount or 0
