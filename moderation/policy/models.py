"""Versioned threshold policies (``modq policy apply``; migration ``0004_policy``).

``policy_versions`` holds each distinct thresholds text once, keyed by its
content hash (``ThresholdPolicy.version``); ``policy_activations`` is the
append-only log of which version became active, when, by whom and why. The
active policy is the newest activation; re-applying an older version is a
rollback (a new activation of an existing version).

``policy_reevaluations`` (migration ``0007_policy_reevaluations``) holds the
background re-evaluations ``PUT /v1/policy?reevaluate=true`` starts: their
state and progress, in the database so that every API process sees them and
a restarted worker carries on (``moderation/policy/reevaluations.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from moderation.infra.clock import utcnow
from moderation.infra.schema import Base, new_id


class PolicyVersion(Base):
    __tablename__ = "policy_versions"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    yaml_text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(128))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PolicyActivation(Base):
    __tablename__ = "policy_activations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(ForeignKey("policy_versions.version"), index=True)
    # The tenant this activation is for; NULL: the deployment's policy, used by tenants without their own.
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    author: Mapped[str] = mapped_column(String(128))
    note: Mapped[str] = mapped_column(Text, default="")
    activated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Reevaluation(Base):
    __tablename__ = "policy_reevaluations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version: Mapped[str] = mapped_column(ForeignKey("policy_versions.version"))
    # Whose version it applies, so whose items it walks; NULL: the deployment's (tenants without their own).
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"))
    actor: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed
    done: Mapped[int] = mapped_column(Integer, default=0)  # items walked
    total: Mapped[int | None] = mapped_column(Integer)  # items to walk, once the pass has counted them
    after: Mapped[str] = mapped_column(String(36), default="")  # the last item id of the last finished batch
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # examined, unchanged, approved, ... so far
    errors: Mapped[list[Any]] = mapped_column(default=list)
    runs: Mapped[int] = mapped_column(Integer, default=0)  # deliveries that began it (more than 1: resumed)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
