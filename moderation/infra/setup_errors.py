"""What an infrastructure exception means to the person who set modq up.

``explain`` turns the exceptions of a database or broker that cannot be used as configured (a URL that does
not parse or needs a driver that is not installed, a server that does not answer or refuses us, a database
without modq's tables) into a ``SetupError`` naming the setting and the fix; anything else is no setup
problem (None). ``modq`` calls it on whatever escapes a command (cli/common.py). The worker and the API keep
their own handling: a worker defers its task while the database is down.
"""

from __future__ import annotations

import traceback
from typing import Iterator

import kombu.exceptions
import redis.exceptions
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from moderation.domain.errors import SetupError
from moderation.infra.redact import Scrubber

EXAMPLES = "e.g. sqlite:///var/modq.db or postgresql://user:password@host:5432/modq"
# PostgreSQL SQLSTATEs. A table or column the code needs is missing: the schema is older than the code.
_UNDEFINED = ("42P01", "42703")
# No working session: connection exception, invalid authorization, no such database, server shutting down
# or not yet accepting connections, too many connections. None: libpq failed before the server said anything.
_CANNOT_CONNECT = ("08", "28", "3D", "57P", "53300")
_SQLITE_UNMIGRATED = ("no such table", "no such column", "has no column named")
_SQLITE_CANNOT_OPEN = ("unable to open database file", "readonly database")


def explain(exc: BaseException, database_url: str, broker_url: str,
            redis_url: str | None = None) -> SetupError | None:
    """The setup error ``exc`` (or an exception it was raised from) means, or None."""
    for e in _chain(exc):
        if isinstance(e, SetupError):
            return e
        found = _database(e, database_url) or _redis(e, broker_url, redis_url)
        if found:
            return found
    return None


def not_migrated(database_url: str, detail: str = "") -> SetupError:
    because = f" ({detail})" if detail else ""
    return SetupError(f"the database at {shown(database_url)} (MODQ_DATABASE_URL) does not have modq's current "
                      f"schema{because}: run `modq db upgrade`")


def shown(url: str) -> str:
    """A URL as an error may print it: no password."""
    return Scrubber(secrets=[]).text(url)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _database(e: BaseException, url: str) -> SetupError | None:
    if isinstance(e, ArgumentError):  # NoSuchModuleError ("postgres://") included
        hint = "write postgresql://, not postgres://" if url.startswith("postgres://") else EXAMPLES
        return SetupError(f"MODQ_DATABASE_URL {shown(url)!r} is not a database URL modq can use "
                          f"({first_line(e)}); {hint}")
    if isinstance(e, ImportError) and _raised_in_sqlalchemy(e):
        return SetupError(f"MODQ_DATABASE_URL {shown(url)!r} needs a database driver that is not installed "
                          f"({e}); {EXAMPLES}")
    if not isinstance(e, DBAPIError):
        return None
    reason, state = first_line(e.orig), getattr(e.orig, "sqlstate", None)
    if state in _UNDEFINED or any(text in reason for text in _SQLITE_UNMIGRATED):
        return not_migrated(url, reason)
    if isinstance(e, OperationalError) and _cannot_connect(url, reason, state):
        return SetupError(f"cannot use the database at {shown(url)} (MODQ_DATABASE_URL): {reason}")
    return None


def _cannot_connect(url: str, reason: str, state: str | None) -> bool:
    if _backend(url) == "sqlite":
        return any(text in reason for text in _SQLITE_CANNOT_OPEN)
    return state is None or state.startswith(_CANNOT_CONNECT)


def _redis(e: BaseException, broker_url: str, redis_url: str | None) -> SetupError | None:
    if isinstance(e, kombu.exceptions.OperationalError):  # what Celery raises when a task cannot be sent
        what, setting, url = "the broker", "MODQ_BROKER_URL", broker_url
    elif isinstance(e, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):  # leases, limits
        what, setting, url = ("Redis", "MODQ_REDIS_URL", redis_url) if redis_url else \
            ("the broker", "MODQ_BROKER_URL", broker_url)
    else:
        return None
    return unreachable(e, what, setting, url)


def unreachable(e: BaseException, what: str, setting: str, url: str) -> SetupError:
    return SetupError(f"cannot reach {what} at {shown(url)} ({setting}): {first_line(e)}")


def _backend(url: str) -> str:
    try:
        return make_url(url).get_backend_name()
    except ArgumentError:
        return ""


def _raised_in_sqlalchemy(e: ImportError) -> bool:
    """An import SQLAlchemy attempted: the DBAPI driver of the URL's dialect."""
    return any("/sqlalchemy/" in frame.filename for frame in traceback.extract_tb(e.__traceback__))


def first_line(e: BaseException) -> str:
    """The first line of the exception's message."""
    text = str(e).strip()
    return text.splitlines()[0].strip() if text else "(no message)"
