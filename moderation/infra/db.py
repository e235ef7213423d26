"""Engines and sessions: one engine per database URL per process."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

_lock = threading.Lock()
_factories: dict[str, sessionmaker[Session]] = {}
IDLE_PING_SECONDS = 1.0  # a pooled connection idle longer than this is pinged before use (``ping_when_idle``)


def make_engine(url: str, pool_size: int = 5, idle_ping: float | None = None) -> Engine:
    """``idle_ping``: ping a pooled connection idle longer than this many seconds (``ping_when_idle``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)
    ping_when_idle(engine, IDLE_PING_SECONDS if idle_ping is None else idle_ping)
    return engine


def ping_when_idle(engine: Engine, idle: float) -> None:
    """SQLAlchemy's ``pool_pre_ping``, for connections that sat in the pool longer than ``idle`` seconds.

    A worker outlives database restarts; a stale pooled connection must not turn into a failed item, so
    one is pinged before use and replaced if dead. A connection used moments ago is not pinged (that
    was a round trip per transaction, three per image): a restart within that moment also breaks the
    transactions in flight, and either way the statement's error is a disconnect that makes SQLAlchemy
    replace the whole pool, and to a task an ``OperationalError``, which defers it (README guarantee 3).
    """

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _now_idle(_dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):
        if time.monotonic() - record.info.get("idle_since", 0.0) < idle:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:  # the pool drops it and checks out another
            raise DisconnectionError(f"pooled connection is dead: {exc}") from exc


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
