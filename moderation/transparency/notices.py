"""Notices (Art. 16 DSA; issue 18.4). STUB: to be written."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from moderation.domain.decisions import Decided, Undone

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime


def answer(s: Session, rt: Runtime, event: Decided) -> list[int]:
    return []


def reopen(s: Session, event: Undone) -> None:
    return None
