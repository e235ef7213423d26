"""The item and what its automatic decision keeps: the analysis, the decision, the audit trail.

Every table derives from ``moderation.infra.schema.Base``; each feature keeps
its own in its ``models.py``. Schema changes go through Alembic
(``moderation/infra/migrations``); tests check the migrations produce exactly
these tables.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, validates

from moderation.domain.tenancy import DEFAULT_TENANT_ID
from moderation.infra.clock import aware, utcnow
from moderation.infra.schema import Base, new_id

# Statuses an item can be in; see README "Item lifecycle".
QUEUED, PROCESSING, SUBMITTED = "queued", "processing", "submitted"
APPROVED, FLAGGED, REJECTED, FAILED = "approved", "flagged", "rejected", "failed"
IN_FLIGHT = (QUEUED, PROCESSING, SUBMITTED)
DECIDED = (APPROVED, FLAGGED, REJECTED)
TERMINAL = (*DECIDED, FAILED)


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        # The review queue is "pending items of one status, oldest first".
        Index("ix_items_status_created_at", "status", "created_at"),
        # A platform's own id names one item of that platform: two tenants may both send "post-1".
        UniqueConstraint("tenant_id", "external_id", name="uq_items_tenant_external_id"),
        # A subject's history: GET /v1/subjects/{id}, the subject rule.
        Index("ix_items_tenant_subject_created_at", "tenant_id", "subject_id", "created_at"),
        # The review queue by priority, then age (keyset pagination over these columns and id).
        Index("ix_items_review_queue", "status", "review_priority", "created_at", "id"),
        # Found by EXPLAIN on a million items (migration 0013_indexes): the escalated queue and its count, a
        # reviewer's lease, a tenant's items newest first, retention's scans of what is not purged yet, and the
        # erasures waiting for an item to finish. Partial ones hold only the few rows their query wants.
        Index("ix_items_escalated", "review_priority", "escalated_at", "id",
              postgresql_where=text("escalated_at IS NOT NULL"), sqlite_where=text("escalated_at IS NOT NULL")),
        Index("ix_items_lease_owner", "lease_owner",
              postgresql_where=text("lease_owner IS NOT NULL"), sqlite_where=text("lease_owner IS NOT NULL")),
        Index("ix_items_tenant_created_at", "tenant_id", "created_at"),
        Index("ix_items_notice_open", "notice_open_at",  # the notice queue (0014_notice_open)
              postgresql_where=text("notice_open_at IS NOT NULL"), sqlite_where=text("notice_open_at IS NOT NULL")),
        Index("ix_items_retention", "tenant_id", "status", "decided_at",
              postgresql_where=text("purged_at IS NULL"), sqlite_where=text("purged_at IS NULL")),
        Index("ix_items_unpurged", "tenant_id", "id",
              postgresql_where=text("purged_at IS NULL"), sqlite_where=text("purged_at IS NULL")),
        Index("ix_items_erase_requested", "tenant_id", "id", postgresql_where=text("erase_requested_at IS NOT NULL"),
              sqlite_where=text("erase_requested_at IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), default=DEFAULT_TENANT_ID)
    external_id: Mapped[str | None] = mapped_column(String(255))
    # The uploader's account on the platform (optional): moderators judge an upload by its uploader's history.
    subject_id: Mapped[str | None] = mapped_column(String(255))
    # Where it waits in the review queue: the most urgent category its rules fired on (lower first; the
    # thresholds file's ``priority``), set with its decision; NULL: not awaiting review, or no category ranked.
    review_priority: Mapped[int | None] = mapped_column(Integer)
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
    # The lease a reviewer holds on a claimed item (moderation/review). Columns
    # here, not a table of their own, so a claim is one locked row: SELECT ...
    # FOR UPDATE SKIP LOCKED on PostgreSQL, a conditional UPDATE on SQLite. An
    # expired lease is simply free again; nothing has to sweep it.
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Escalated to the senior queue (moderation/review/escalations.py): out of the reviewers' queue until decided.
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Personal data replaced by tombstones (moderation/privacy: ``purge_cause`` retention or erasure), and an
    # erasure asked while the item was still being moderated (done when it ends).
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The oldest open notice (Art. 16 DSA) on the item, kept by moderation/transparency/notices.py: the review
    # queue's source=notice filter and re-evaluation read it here, not in transparency's table above them.
    notice_open_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    purge_cause: Mapped[str | None] = mapped_column(String(16))
    erase_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def leased(self, now: datetime) -> bool:
        """A reviewer holds a lease on this item that has not expired."""
        return bool(self.lease_owner) and self.lease_expires_at is not None and aware(self.lease_expires_at) > now


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


class AuditAction(StrEnum):
    """Every ``audit_events.action`` modq writes: the one list (docs/api.md "Audit trail" documents each)."""

    SUBMIT = "submit"
    PROCESSING = "processing"
    SUBMITTED = "submitted"  # a video's provider job started
    DECIDE = "decide"
    FAIL = "fail"
    RESEND = "resend"  # the reaper re-sent a stuck item's task
    RETRY = "retry"  # `modq items retry` re-drove a failed item
    REEVALUATE = "reevaluate"  # re-decided under a newly applied policy
    CLAIM = "claim"
    RELEASE = "release"
    REVIEW = "review"
    APPEAL = "appeal"  # a platform filed its user's appeal of the decision (issue 17)
    APPEAL_DECIDE = "appeal_decide"  # a person upheld or overturned it
    UNDO = "undo"  # the reviewer took their review back within the undo window (issue 17.2)
    OVERRIDE = "override"  # an admin replaced a recorded review's verdict, with a reason
    ESCALATE = "escalate"  # a reviewer sent the item to the senior queue with a note (issue 17.6)
    NOTICE = "notice"  # a notice (Art. 16 DSA) sent an item approved automatically back to review (issue 18.4)
    PURGE = "purge"  # retention replaced the item's personal data with tombstones (issue 19)
    ERASE = "erase"  # an erasure request did (the item's, or its subject's); the entry names no erased data
    HOLD = "hold"  # an admin put the item (or its subject) under legal hold
    RELEASE_HOLD = "release_hold"  # ... and released it
    TOKEN_CREATE = "token_create"
    TOKEN_REVOKE = "token_revoke"
    REVIEW_DEFAULTS = "review_defaults"  # an admin set their tenant's reviewer preference defaults (issue 17.8)


class AuditEvent(Base):
    """Append-only history of everything that happened to an item."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str | None] = mapped_column(ForeignKey("items.id"), index=True)
    # Events about no item (a tenant's policy, webhook or token) name their tenant here; an item's events
    # reach it through the item. NULL: deployment-wide.
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))  # "<token name> (token <id>)", "cli:<user>", "system"
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    verdict: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    policy_version: Mapped[str | None] = mapped_column(String(64))

    @validates("action")
    def _known_action(self, _key: str, value: str) -> str:
        # Every writer goes through here, so AuditAction stays the complete list of actions.
        return AuditAction(value).value



class SubjectFlag(Base):
    """A subject (uploader) crossing its tenant's rule (``subjects: alert_after``): one row, and one
    ``subject.flagged`` alert, per crossing; ``cleared_at`` is set when it falls back under the rule."""

    __tablename__ = "subject_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    subject_id: Mapped[str] = mapped_column(String(255))
    rule: Mapped[str] = mapped_column(String(64))  # e.g. "rejected>=3 within 7d"
    count: Mapped[int] = mapped_column(Integer)  # what it counted when it crossed
    crossed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_subject_flags_tenant_subject", "tenant_id", "subject_id"),)
