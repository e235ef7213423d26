"""A PostgreSQL database of a test module's own, migrated with Alembic."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator

import psycopg

from moderation.store import db, migrate
from tests.integration.conftest import PG_ADMIN


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        db.dispose_all()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
