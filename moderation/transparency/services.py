"""What a decision sets off for EU DSA transparency, in the deciding transaction (``Runtime.decided``): a
statement of reasons for each restriction (``statements``), and an answer to the item's open notices
(``notices``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from moderation.domain.decisions import Decided, Undone
from moderation.transparency import notices, statements

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime


def on_decision(s: Session, rt: Runtime, event: Decided) -> list[int]:
    """The ids of the outbox rows written (``notice.decided`` events), for the caller to publish."""
    if statements.restrictive(event):
        statements.record(s, rt, event)
    else:
        statements.supersede(s, event)  # a restriction lifted within its undo hold: its statement never leaves
    return notices.answer(s, rt, event)


def on_undo(s: Session, rt: Runtime, event: Undone) -> None:
    statements.withdraw(s, event)
    notices.reopen(s, event)
