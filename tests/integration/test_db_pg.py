"""moderation/infra/db.py on PostgreSQL: a pooled connection the server dropped is replaced, not used."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from moderation.infra import db

pytestmark = pytest.mark.integration


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def kill(pg_url: str, pid: int) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_idle_past_the_limit_is_pinged_and_a_dead_one_replaced(pg_url):
    engine = db.make_engine(pg_url, pool_size=1, idle_ping=0.0)  # every checkout counts as idle: always pinged
    first = backend_pid(engine)
    kill(pg_url, first)

    assert backend_pid(engine) != first  # the dead connection was dropped before any statement used it
    engine.dispose()


def test_a_connection_used_moments_ago_is_not_pinged_and_a_dead_one_fails_once_then_is_replaced(pg_url):
    engine = db.make_engine(pg_url, pool_size=1, idle_ping=3600.0)  # never idle long enough to be pinged
    first = backend_pid(engine)
    kill(pg_url, first)

    with pytest.raises(OperationalError):  # a task defers on it (README guarantee 3)
        backend_pid(engine)
    assert backend_pid(engine) != first  # the disconnect replaced the pool
    engine.dispose()
