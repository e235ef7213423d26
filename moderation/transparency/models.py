"""Tables of EU DSA transparency (issue 18; migration ``0011_transparency``): the statements of reasons modq
wrote for restrictive decisions, and the notices (Art. 16) users and trusted flaggers filed.

A statement row is also its own outbox: ``state`` says where it is on its way to the Transparency Database
(``submission``), and its body never changes once written (the database keeps what was sent).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from moderation.infra.clock import utcnow
from moderation.infra.schema import Base, new_id

# Statement.state
PENDING, SENT, REJECTED, WITHDRAWN = "pending", "sent", "rejected", "withdrawn"
STATES = (PENDING, SENT, REJECTED, WITHDRAWN)
# Statement.decision: which decision restricted the item
AUTOMATIC, REVIEW, OVERRIDE, APPEAL = "automatic", "review", "override", "appeal"


class Statement(Base):
    """One statement of reasons: the ``StatementStoreRequest`` body (``domain.statements.build_statement``),
    built in the deciding transaction, and its submission state."""

    __tablename__ = "statements"
    __table_args__ = (Index("ix_statements_item", "item_id"),
                      Index("ix_statements_tenant_created", "tenant_id", "created_at"),
                      Index("ix_statements_state", "state", "hold_until"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    puid: Mapped[str] = mapped_column(String(329), unique=True)  # the database's platform unique id
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"))
    decision: Mapped[str] = mapped_column(String(16))  # AUTOMATIC | REVIEW | OVERRIDE | APPEAL
    decision_ref: Mapped[str] = mapped_column(String(64))  # the decision's id: what an undo withdraws
    body: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A reviewer's decision can be undone for MODQ_REVIEW_UNDO_SECONDS: its statement is not sent before.
    hold_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tdb_uuid: Mapped[str | None] = mapped_column(String(64))  # the database's id of the stored statement
    errors: Mapped[dict[str, Any] | None] = mapped_column()  # a 422's field errors, or the last failure


class Notice(Base):
    """A notice (Art. 16 DSA) on an item, filed by its platform for a user or a trusted flagger
    (``POST /v1/notices``). Open until a decision on the item answers it (``decided_at``)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_item_open", "item_id", "decided_at"),
                      Index("ix_notices_tenant_received", "tenant_id", "received_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"))
    explanation: Mapped[str] = mapped_column(Text)
    notifier_name: Mapped[str | None] = mapped_column(String(255))
    notifier_email: Mapped[str | None] = mapped_column(String(320))
    good_faith: Mapped[bool] = mapped_column(Boolean)
    trusted_flagger: Mapped[bool] = mapped_column(Boolean, default=False)
    csam: Mapped[bool] = mapped_column(Boolean, default=False)  # child sexual abuse material: no name needed
    filed_by: Mapped[str] = mapped_column(String(255))  # the token's actor
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(16))  # the verdict that answered it
    automated: Mapped[bool | None] = mapped_column(Boolean)  # whether automated means decided it
    decision_ref: Mapped[str | None] = mapped_column(String(64))  # the decision that answered it (undo reopens)
