"""Engines and sessions: one engine per database URL per process."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_lock = threading.Lock()
_factories: dict[str, sessionmaker[Session]] = {}


def make_engine(url: str, pool_size: int = 5) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # pre_ping: a worker outlives database restarts; stale pooled connections
    # must not turn into failed items.
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # WAL lets the CLI read while workers write
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


def session_factory(url: str) -> sessionmaker[Session]:
    with _lock:
        factory = _factories.get(url)
        if factory is None:
            factory = sessionmaker(make_engine(url), expire_on_commit=False)
            _factories[url] = factory
        return factory


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error."""
    with session_factory(url).begin() as session:
        yield session


@contextmanager
def core_transaction(url: str) -> Iterator[Connection]:
    """``transaction`` without the ORM: a Core connection that commits on success and rolls back on any
    error, for hot paths that build no ORM objects (submit: one lookup, multi-row INSERTs)."""
    with session_factory(url).kw["bind"].begin() as conn:
        yield conn


@contextmanager
def autocommit(url: str) -> Iterator[Connection]:
    """A connection for reads that need no transaction of their own: no BEGIN and COMMIT round trips
    (the API's token check, on every request)."""
    with session_factory(url).kw["bind"].connect() as conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT")


def ping(url: str) -> None:
    """Raise unless the database answers a query (the health check)."""
    with transaction(url) as session:
        session.execute(text("SELECT 1"))


def dispose_all() -> None:
    """Drop pooled connections (after fork, and in tests)."""
    with _lock:
        for factory in _factories.values():
            factory.kw["bind"].dispose()
        _factories.clear()


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
