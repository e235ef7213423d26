"""Bank entries a reviewer's rejection made (``banks.bank_review_rejection``, MODQ_BANK_REVIEWER_REJECTIONS)
follow the item's verdict when a person changes it: an undo, an override, an overturned appeal."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.items.banks import services as banks
from moderation.items.banks.models import BankEntry
from moderation.domain.tenancy import Scope
from moderation.items import models as m

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime


def unbankable(s: Session, item_id: str, since: datetime | None = None) -> list[int]:
    """Active bank entries a review of ``item_id`` made (``bank_review_rejection``), since ``since``."""
    query = select(BankEntry.id).where(BankEntry.source == f"review:{item_id}", BankEntry.removed_at.is_(None))
    return list(s.scalars(query if since is None else query.where(BankEntry.added_at >= since)))


def rebank(s: Session, rt: Runtime, item: m.Item, previous: str, verdict: str, actor: str, reason: str,
           scope: Scope, cause: str = "override") -> None:
    """A reviewer-rejection bank entry follows the verdict: removed when the rejection is overridden (or its
    appeal overturns it: ``cause``), made when an approval becomes a rejection (MODQ_BANK_REVIEWER_REJECTIONS)."""
    if previous == m.REJECTED:
        for entry_id in unbankable(s, item.id):
            banks.remove(s, entry_id, f"{actor} ({cause})", scope)
    if verdict == m.REJECTED and rt.settings.bank_reviewer_rejections:
        banks.bank_review_rejection(s, item.content_key, item.id, actor, reason, tenant_id=item.tenant_id)
