"""Tables for human review: reviews (migration ``0003_review``), appeals (``0009_review_at_scale``); tokens
and sessions: ``moderation.tenants``.

A reviewer's lease on an item is two columns of ``items`` (``Item.lease_owner``,
``Item.lease_expires_at``), so a claim locks one row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from moderation.infra.clock import utcnow
from moderation.infra.schema import Base, new_id


class Review(Base):
    """A reviewer's final verdict on an item; at most one per item."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), unique=True)
    reviewer: Mapped[str] = mapped_column(String(128), index=True)
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    previous_status: Mapped[str] = mapped_column(String(16))
    policy_version: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class Appeal(Base):
    """A user's appeal of a decided item, filed by their platform (``POST /v1/items/{id}/appeals``; issue 17).

    One per item. It waits in the appeals queue (its own lease columns, as items have theirs) until a person
    other than whoever made the decision appealed (``decided_by_original``) decides it: ``upheld`` or
    ``overturned`` (with ``new_verdict``).
    """

    __tablename__ = "appeals"
    __table_args__ = (UniqueConstraint("item_id", name="uq_appeals_item"),
                      Index("ix_appeals_queue", "tenant_id", "state", "filed_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    statement: Mapped[str] = mapped_column(Text)  # the user's words, up to 5,000 characters
    appellant: Mapped[str | None] = mapped_column(String(255))  # who appeals, as the platform names them
    filed_by: Mapped[str] = mapped_column(String(255))  # the token that filed it ("<name> (token <id>)")
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending, decided
    original_verdict: Mapped[str] = mapped_column(String(16))
    decided_by_original: Mapped[str] = mapped_column(String(255))  # "system" (automated) or the reviewer
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(16))  # upheld, overturned
    new_verdict: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
