"""Notices (Art. 16 DSA; issue 18.4): what a decision does to the notices on its item, and what they do to it.

A notice puts its item in front of a person (``route``): an item approved automatically goes back to the review
queue (flagged); one awaiting review stays; a trusted flagger's notice (Art. 22) ranks it ahead of every label
(``review_priority`` 0). Several notices on one item are one queue entry, answered together.

``answer`` (``Runtime.decided``, in the deciding transaction) answers the item's open notices:
- a person's decision (review, override, appeal) answers them with its verdict; ``automated`` only when a
  model's or hash bank's finding was part of it (the item's automatic decision flagged or rejected it), as
  ``domain.statements.automation`` has it for the statement;
- an automatic rejection answers them (``automated``); an automatic approval routes them to a person; an
  automatic ``flagged`` leaves them open for the reviewer;
- an override or an appeal's decision that changes the outcome answers the notices again, with a new event (the
  review's, if still held for its undo window, is cancelled by the override: the notifier hears the final one).
Each answered notice writes one outbox row (``notice_alerts``) for the caller to publish; a review's are held
for its undo window like its own, and an undo (``reopen``) opens the notices again.
Filing (``notice_filing``) is the other way in.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from moderation.alerts.queries import add_alert
from moderation.domain.decisions import APPEAL, AUTOMATIC, OVERRIDE, Decided, Undone
from moderation.items import models as m
from moderation.items.queries import add_audit, decision_for, set_item
from moderation.transparency.models import Notice
from moderation.transparency.notice_alerts import notice_alert

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime

TRUSTED_RANK = 0  # review_priority: ahead of every label's rank (1 = the most urgent a policy can give)
ROUTED = m.AuditAction.NOTICE  # a notice sent an approved item back to review
_ITEM = (m.Item.id, m.Item.tenant_id, m.Item.external_id, m.Item.media_type, m.Item.status, m.Item.review_priority)


def answer(s: Session, rt: Runtime, event: Decided) -> list[int]:
    """Answer (or route) the item's open notices after ``event``; the ids of the outbox rows written."""
    if event.kind == AUTOMATIC and event.verdict != m.REJECTED:  # approved or flagged: a person answers them
        waiting = open_notices(s, event.item_id)  # the hot path's one query: almost always none
        if waiting:
            route(s, rt, item_row(s, event.item_id), actor="system", waiting=waiting)
        return []
    automated = event.kind == AUTOMATIC or model_involved(s, event.item_id)
    if event.kind in (OVERRIDE, APPEAL):  # a later decision that changes the outcome answers the notices again
        s.execute(update(Notice).where(Notice.item_id == event.item_id, Notice.decided_at.is_not(None),
                                       Notice.outcome != event.verdict)
                  .values(decided_at=None, outcome=None, automated=None, decision_ref=None)
                  .execution_options(synchronize_session="fetch"))
    return settle(s, item_row(s, event.item_id), event.verdict, automated, event.ref, event.at)


def reopen(s: Session, event: Undone) -> None:
    """The notices the undone decision answered are open again (its unsent alerts the undo cancels); the item
    is back in the queue with the priority it had."""
    opened = s.execute(update(Notice).where(Notice.item_id == event.item_id, Notice.decision_ref == event.ref)
                       .values(decided_at=None, outcome=None, automated=None, decision_ref=None)
                       .execution_options(synchronize_session="fetch")).rowcount
    if opened:
        sync_open(s, event.item_id)


def sync_open(s: Session, item_id: str) -> None:
    """``items.notice_open_at``: the oldest open notice's time, or None: what the review queue's source=notice
    filter and re-evaluation read, on the item (review and policy sit below transparency)."""
    oldest = s.scalar(select(func.min(Notice.received_at)).where(Notice.item_id == item_id,
                                                                 Notice.decided_at.is_(None)))
    set_item(s, item_id, notice_open_at=oldest)


def source_for(s: Session, item_id: str) -> str:
    """How the item came to be judged, a key of ``domain.statements.SOURCES``: "trusted_flagger" if a trusted
    flagger filed a notice on it, "notice" for another notice, else "voluntary". Every notice counts, open or
    answered: a statement is recorded before its decision answers the open ones (``services.on_decision``), and
    a later decision (an override, an appeal) still acts on an item a notice brought to a person."""
    flags = s.scalars(select(Notice.trusted_flagger).where(Notice.item_id == item_id)).all()
    return "trusted_flagger" if any(flags) else "notice" if flags else "voluntary"


def open_notices(s: Session, item_id: str) -> list[Notice]:
    return list(s.scalars(select(Notice).where(Notice.item_id == item_id, Notice.decided_at.is_(None))
                          .order_by(Notice.received_at, Notice.id)))


def item_row(s: Session, item_id: str) -> Any:
    """The item's columns notices need, read afresh (a deciding use case may have changed it by statement)."""
    return s.execute(select(*_ITEM).where(m.Item.id == item_id)).one()


def route(s: Session, rt: Runtime, item: Any, actor: str, waiting: list[Notice] | None = None) -> None:
    """Put an item with open notices in front of a person: approved -> flagged (audited); its rank raised to
    ``TRUSTED_RANK`` when a trusted flagger's notice is open, an approved item's set to the policy's default
    rank (it had none). Nothing when no notice is open."""
    waiting = open_notices(s, item.id) if waiting is None else waiting
    if not waiting:
        return
    rank = item.review_priority
    if item.status == m.APPROVED:
        rank = rt.active_policy(item.tenant_id).priorities.default
    if any(n.trusted_flagger for n in waiting):
        rank = TRUSTED_RANK
    if item.status == m.APPROVED:
        set_item(s, item.id, status=m.FLAGGED, review_priority=rank)
        who = "a trusted flagger" if rank == TRUSTED_RANK else "a user"
        add_audit(s, item.id, ROUTED, m.APPROVED, m.FLAGGED, actor=actor,
                  reason=f"notice {waiting[-1].id} from {who}: back to review ({len(waiting)} open)")
    elif rank != item.review_priority:
        set_item(s, item.id, review_priority=rank)


def settle(s: Session, item: Any, verdict: str, automated: bool, ref: str, at: datetime) -> list[int]:
    """Answer the item's open notices with ``verdict``; one outbox row each, their ids."""
    ids = []
    for notice in open_notices(s, item.id):
        notice.decided_at, notice.outcome, notice.automated, notice.decision_ref = at, verdict, automated, ref
        ids.append(add_alert(s, notice_alert(notice, item, at)))
    s.flush()
    if ids:
        sync_open(s, item.id)
    return ids


def model_involved(s: Session, item_id: str) -> bool:
    """Whether a model or hash bank found something in the item: its automatic decision flagged or rejected it,
    or a bank matched (as ``facts`` reads it for the statement); an item approved automatically reached a person
    through a notice alone."""
    decision = decision_for(s, item_id)
    if decision is None:
        return False
    banked = any(isinstance(r, dict) and r.get("kind") == "bank" for r in decision.reasons or [])
    return decision.verdict in (m.FLAGGED, m.REJECTED) or banked
