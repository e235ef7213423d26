"""Tables for human review: reviews (migration ``0003_review``), appeals (``0009_review_at_scale``),
escalations and reviewer preferences (``0010_review_workflow``); tokens
and sessions: ``moderation.tenants``.

A reviewer's lease on an item is two columns of ``items`` (``Item.lease_owner``,
``Item.lease_expires_at``), so a claim locks one row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    reason_code: Mapped[str | None] = mapped_column(String(64))  # one of the policy's ``reasons`` (issue 17.6)
    alert_ids: Mapped[list[Any]] = mapped_column(default=list)  # its outbox rows: what an undo cancels
    # An admin's override of this review (the latest; the audit trail keeps each): the verdict it replaced.
    overridden_from: Mapped[str | None] = mapped_column(String(16))
    overridden_by: Mapped[str | None] = mapped_column(String(255))
    overridden_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Escalation(Base):
    """A reviewer sent an item to the senior queue with a note (issue 17.6); ``items.escalated_at`` keeps it
    out of the reviewers' queue until a senior reviewer (or an admin) decides it (``resolved_at``)."""

    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_item", "item_id"),
                      Index("ix_escalations_open", "tenant_id", "resolved_at", "escalated_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    note: Mapped[str] = mapped_column(Text)
    escalated_by: Mapped[str] = mapped_column(String(255))
    escalated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_by: Mapped[str | None] = mapped_column(String(255))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewerPreferences(Base):
    """One reviewer's console preferences (issue 17.8-9): what they set, over their tenant's defaults."""

    __tablename__ = "reviewer_preferences"

    reviewer: Mapped[str] = mapped_column(String(255), primary_key=True)  # the actor, "<name> (token <id>)"
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TenantReviewDefaults(Base):
    """A tenant's default reviewer preferences, set by an admin; a reviewer's own settings win."""

    __tablename__ = "tenant_review_defaults"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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
