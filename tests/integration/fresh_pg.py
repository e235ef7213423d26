"""A throwaway PostgreSQL database, migrated with Alembic and dropped afterwards.

The one implementation behind the session database (tests/integration/conftest.py),
the per-module databases of some tests, and the benchmarks (bench/common.py).
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator

import psycopg

from moderation.infra import db, migrate

PG_ADMIN = os.environ.get("MODQ_TEST_PG_ADMIN", "postgresql://root@127.0.0.1:5432/test")


@contextmanager
def fresh_database(prefix: str, admin_url: str = PG_ADMIN) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        db.dispose_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
