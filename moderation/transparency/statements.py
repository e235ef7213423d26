"""Statements of reasons: built and stored in the deciding transaction (issue 18.1). STUB: to be written."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from moderation.domain.decisions import Decided, Undone

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime

RESTRICTIVE = "rejected"


def restrictive(event: Decided) -> bool:
    return event.verdict == RESTRICTIVE


def record(s: Session, rt: Runtime, event: Decided) -> None:
    return None


def withdraw(s: Session, event: Undone) -> None:
    return None
