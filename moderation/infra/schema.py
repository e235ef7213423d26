"""The declarative base every feature's tables derive from (``<feature>/models.py``).

Schema changes go through Alembic (``moderation/infra/migrations``, whose
``env.py`` imports every feature's models); tests check the migrations produce
exactly these tables.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

JsonType = JSON().with_variant(JSONB(), "postgresql")


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JsonType, list[Any]: JsonType}
