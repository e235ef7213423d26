"""Tenants and who may act for them: API tokens and console sessions (migrations ``0003_review``, ``0008_tenants``).

A tenant is one platform (community) the deployment moderates for. Items,
policy activations, bank entries (optionally), alerts and webhooks carry a
``tenant_id``; reviews reach theirs through the item. A token belongs to one
tenant (ingest) or to several or all (reviewer, admin: ``all_tenants``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from moderation.infra.clock import utcnow
from moderation.infra.schema import Base, Tenant  # noqa: F401  (Tenant: infra.schema says why it lives there)

INGEST, REVIEWER, SENIOR, ADMIN = "ingest", "reviewer", "senior", "admin"
ROLES = (INGEST, REVIEWER, SENIOR, ADMIN)  # senior: a reviewer who also decides escalated items (issue 17.6)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The tenants it acts for (ids); ``all_tenants``: every tenant, present and future ('*').
    tenant_ids: Mapped[list[Any]] = mapped_column(default=list)
    all_tenants: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConsoleSession(Base):
    """A signed-in browser. Server-side, so revoking the token ends it at once
    and no signing secret has to be shared between API replicas."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
