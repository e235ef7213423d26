"""Hash banks' table: content with a standing verdict (migration ``0006_pay_once``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from moderation.infra.clock import utcnow
from moderation.infra.schema import Base


class BankEntry(Base):
    """A known piece of content with a standing verdict: known-bad (rejected) or known-good (approved).

    ``content_key`` is what items carry (sha256 of the bytes, or an S3 object's
    identity when the provider read it in place); ``pdq`` is the 256-bit PDQ
    perceptual hash as 64 hex digits, for near-duplicate matching. A removed
    entry stays (``removed_at``) so an old decision's reason can still be traced.
    """

    __tablename__ = "bank_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    content_key: Mapped[str] = mapped_column(String(255), index=True)
    # The tenant whose items it decides; NULL: a global entry, for every tenant.
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    pdq: Mapped[str | None] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(64))  # "cli:<user>", "api", "review:<item id>"
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_by: Mapped[str | None] = mapped_column(String(128))
