"""Legal holds (issue 19.3): an item, or every item of a subject of a tenant, kept whatever retention or an
erasure request says. Retention and erasure ask ``holding`` before they touch an item, and report what they
skipped and why."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from moderation.privacy.models import LegalHold


def holding(s: Session, tenant_id: int, item_id: str, subject_id: str | None) -> LegalHold | None:
    """The active hold on the item (its own, or its subject's in its tenant), if any."""
    on = [LegalHold.item_id == item_id]
    if subject_id:
        on.append(and_(LegalHold.tenant_id == tenant_id, LegalHold.subject_id == subject_id))
    return s.scalar(select(LegalHold).where(LegalHold.released_at.is_(None), or_(*on))
                    .order_by(LegalHold.id).limit(1))
