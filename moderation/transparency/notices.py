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


def source_for(s: Session, item_id: str) -> str:
    """How the item came to be judged, a key of ``domain.statements.SOURCES``: "trusted_flagger" if a trusted
    flagger's notice is open on it, "notice" for another open notice, else "voluntary"."""
    return "voluntary"
