"""SQLAlchemy 2 models. The database is the source of truth for every item.

Schema changes go through Alembic (``moderation/infra/migrations``); tests
check the migrations produce exactly these tables.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JsonType = JSON().with_variant(JSONB(), "postgresql")

# Statuses an item can be in; see README "Item lifecycle".
QUEUED, PROCESSING, SUBMITTED = "queued", "processing", "submitted"
APPROVED, FLAGGED, REJECTED, FAILED = "approved", "flagged", "rejected", "failed"
IN_FLIGHT = (QUEUED, PROCESSING, SUBMITTED)
DECIDED = (APPROVED, FLAGGED, REJECTED)
TERMINAL = (*DECIDED, FAILED)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JsonType, list[Any]: JsonType}


class Item(Base):
    __tablename__ = "items"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    media_uri: Mapped[str] = mapped_column(Text)
    media_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True, default=QUEUED)
    verdict: Mapped[str | None] = mapped_column(String(16), index=True)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    item_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    provider: Mapped[str | None] = mapped_column(String(32))
    policy_version: Mapped[str | None] = mapped_column(String(64))
    analysis_id: Mapped[int | None] = mapped_column(ForeignKey("analyses.id"))
    content_key: Mapped[str | None] = mapped_column(String(255), index=True)
    job_id: Mapped[str | None] = mapped_column(String(64), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Analysis(Base):
    """A provider's full answer, kept as evidence and for replay."""

    __tablename__ = "analyses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(32))
    model_version: Mapped[str] = mapped_column(String(64))
    content_key: Mapped[str | None] = mapped_column(String(255), index=True)
    min_confidence: Mapped[float] = mapped_column(default=0.0)
    labels: Mapped[list[Any]] = mapped_column(default=list)
    content_types: Mapped[list[Any]] = mapped_column(default=list)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Decision(Base):
    """The automatic decision; at most one per item (duplicate tasks can't add one)."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("item_id", name="uq_decisions_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"))
    analysis_id: Mapped[int | None] = mapped_column(ForeignKey("analyses.id"))
    verdict: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    policy_version: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Alert(Base):
    """Outbox row, written in the decision's transaction, published afterwards."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str | None] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    dedup_id: Mapped[str] = mapped_column(String(128), unique=True)
    subject: Mapped[str] = mapped_column(String(100))
    message: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    """Append-only history of everything that happened to an item."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str | None] = mapped_column(ForeignKey("items.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    verdict: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    policy_version: Mapped[str | None] = mapped_column(String(64))


from moderation.review import ( # noqa: E402,F401  (review tables and item leases; see that module)
    models as review_models,
)

from moderation.video import models as video_models  # noqa: E402,F401  (registers the video tables for Alembic)

from moderation.policy import models as policy_models  # noqa: E402,F401  (versioned policies; migration 0004_policy)

from moderation.providers import ( # noqa: E402,F401  (provider calls and hash banks; migration 0006_pay_once)
    models as usage_models,
)

from moderation.ingest import ( # noqa: E402,F401  (rejected S3 event records; migration 0005_s3_ingest)
    models as ingest_models,
)
