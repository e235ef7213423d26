"""The declarative base every feature's tables derive from (``<feature>/models.py``), and the ``tenants`` table.

``tenants`` is here, not in ``moderation.tenants``, because nearly every table
has a foreign key to it: SQLAlchemy needs the table in the metadata of every
process that writes those rows (a worker never imports ``moderation.tenants``),
and infra is the one package every feature already imports.

Schema changes go through Alembic (``moderation/infra/migrations``, whose
``env.py`` imports every feature's models); tests check the migrations produce
exactly these tables.
"""

from __future__ import annotations

import uuid
from typing import Any

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from moderation.infra.clock import utcnow

JsonType = JSON().with_variant(JSONB(), "postgresql")


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JsonType, list[Any]: JsonType}


class Tenant(Base):
    """One platform (community) the deployment moderates for (``moderation.tenants``; migration 0008_tenants)."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
