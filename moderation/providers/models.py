"""Tables for paying once: every provider call (cost accounting) and hash banks.

Imported at the end of ``models.py`` so Alembic and ``Base.metadata`` see
them. Migration: ``0006_pay_once``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from moderation.items.models import Base, utcnow

# ProviderCall.outcome: a call that was made ("ok", or what went wrong, as the
# metrics' outcome label says), or one that was not needed.
REUSED, BANKED = "reused", "banked"
AVOIDED = (REUSED, BANKED)


class ProviderCall(Base):
    """Provider calls made for an item, aggregated per (operation, outcome) and task run.

    ``calls`` is how many calls the row stands for (an offline video is one row
    for all its frames); ``calls`` avoided by dedupe or a bank are rows too, so
    that ``modq stats`` can show what paying once saved.
    """

    __tablename__ = "provider_calls"
    __table_args__ = (Index("ix_provider_calls_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    item_id: Mapped[str | None] = mapped_column(String(36), index=True)
    media_type: Mapped[str | None] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(32))
    operation: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    calls: Mapped[int] = mapped_column(Integer, default=1)
    video_seconds: Mapped[float] = mapped_column(Float, default=0.0)


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
    pdq: Mapped[str | None] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(64))  # "cli:<user>", "api", "review:<item id>"
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_by: Mapped[str | None] = mapped_column(String(128))
