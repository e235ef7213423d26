"""Legal holds (issue 19; migration ``0012_privacy``): data kept whatever retention or an erasure request says,
as evidence (a court order, a law-enforcement request, a platform's own investigation).

A hold names an item, or a subject (an uploader's account id) of a tenant: every item of that subject, now and
later, is held. Released holds stay, with who released them and when, as their history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from moderation.infra.clock import utcnow
from moderation.infra.schema import Base

TOMBSTONE_PURGED, TOMBSTONE_ERASED = "[purged]", "[erased]"  # what replaces personal text (audit trigger: 0012)


class LegalHold(Base):
    __tablename__ = "legal_holds"
    __table_args__ = (Index("ix_legal_holds_item", "item_id"),
                      Index("ix_legal_holds_subject", "tenant_id", "subject_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    item_id: Mapped[str | None] = mapped_column(ForeignKey("items.id"))  # one of item_id, subject_id
    subject_id: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(255))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
