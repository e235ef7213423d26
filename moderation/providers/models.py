"""Every provider call, for cost accounting and to show what paying once saved (migration ``0006_pay_once``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from moderation.infra.clock import utcnow
from moderation.infra.schema import Base

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

