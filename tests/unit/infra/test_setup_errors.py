"""setup_errors.explain: the exceptions of a database or broker that cannot be used as set up, as one line
naming the setting and the fix; anything else is not a setup problem."""

from __future__ import annotations

import sqlite3

import kombu.exceptions
import pytest
import redis
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from moderation.domain.errors import SetupError
from moderation.infra import db
from moderation.infra.setup_errors import explain, not_migrated

BROKER = "redis://:brokerpw@127.0.0.1:1/2"


def raised(url: str, sql: str = "SELECT 1") -> BaseException:
    """What running ``sql`` on ``url`` raises, the way a command would meet it."""
    try:
        with db.transaction(url) as s:
            s.execute(text(sql))
    except Exception as exc:  # noqa: BLE001 - the exception is the subject
        return exc
    finally:
        db.dispose_all()
    raise AssertionError(f"{sql} on {url} raised nothing")


def test_a_database_never_migrated_says_run_db_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    problem = explain(raised(url, "SELECT id FROM items"), url, BROKER)
    assert str(problem) == (f"the database at {url} (MODQ_DATABASE_URL) does not have modq's current schema "
                            "(no such table: items): run `modq db upgrade`")


def test_a_schema_older_than_the_code_says_run_db_upgrade(sqlite_url):
    problem = explain(raised(sqlite_url, "SELECT no_such_column FROM items"), sqlite_url, BROKER)
    assert "(no such column: no_such_column): run `modq db upgrade`" in str(problem)


@pytest.mark.parametrize("url, message", [
    ("postgres//nobody", "MODQ_DATABASE_URL 'postgres//nobody' is not a database URL modq can use (Could not parse "
                         "SQLAlchemy URL from given URL string); e.g. sqlite:///var/modq.db or "
                         "postgresql://user:password@host:5432/modq"),
    ("postgres://me:hunter2hunter2@db/modq", "MODQ_DATABASE_URL 'postgres://me:[redacted]@db/modq' is not a "
                                             "database URL modq can use (Can't load plugin: "
                                             "sqlalchemy.dialects:postgres); write postgresql://, not postgres://"),
    ("mysql://me@db/modq", "MODQ_DATABASE_URL 'mysql://me@db/modq' needs a database driver that is not installed "
                           "(No module named 'MySQLdb'); e.g. sqlite:///var/modq.db or "
                           "postgresql://user:password@host:5432/modq"),
])
def test_a_url_modq_cannot_use_is_named_with_an_example(url, message):
    assert str(explain(raised(url), url, BROKER)) == message


def test_a_postgres_port_nobody_listens_on():
    url = "postgresql://modq:s3cretpassword@127.0.0.1:1/modq"
    problem = str(explain(raised(url), url, BROKER))
    assert problem.startswith("cannot use the database at postgresql://modq:[redacted]@127.0.0.1:1/modq "
                              "(MODQ_DATABASE_URL): connection failed:")
    assert "Connection refused" in problem and "s3cret" not in problem and "\n" not in problem


def test_a_sqlite_file_that_cannot_be_opened(tmp_path):
    (tmp_path / "dir.db").mkdir()  # a directory where the database file should be
    url = f"sqlite:///{tmp_path / 'dir.db'}"
    assert str(explain(raised(url), url, BROKER)) == (
        f"cannot use the database at {url} (MODQ_DATABASE_URL): unable to open database file")


def test_a_busy_database_or_a_bug_is_no_setup_problem(sqlite_url):
    locked = OperationalError("UPDATE items SET status = ?", {}, sqlite3.OperationalError("database is locked"))
    assert explain(locked, sqlite_url, BROKER) is None
    assert explain(raised(sqlite_url, "SELEC 1"), sqlite_url, BROKER) is None  # a syntax error is ours
    assert explain(KeyError("x"), sqlite_url, BROKER) is None


def test_a_broker_that_does_not_answer_names_the_broker_url():
    client = redis.Redis.from_url(BROKER, socket_connect_timeout=2)
    with pytest.raises(redis.exceptions.ConnectionError) as info:
        client.ping()
    try:  # how Celery hands it on when a task cannot be sent
        raise kombu.exceptions.OperationalError(str(info.value)) from info.value
    except kombu.exceptions.OperationalError as exc:
        sent = exc
    for exc in (info.value, sent):
        assert str(explain(exc, "sqlite:///x.db", BROKER)) == (
            "cannot reach the broker at redis://:[redacted]@127.0.0.1:1/2 (MODQ_BROKER_URL): Error 111 connecting "
            "to 127.0.0.1:1. Connection refused.")


def test_redis_of_its_own_is_named_by_its_setting():
    problem = explain(redis.exceptions.TimeoutError("Timeout connecting to server"), "sqlite:///x.db", BROKER,
                      redis_url="redis://127.0.0.1:1/5")
    assert str(problem) == "cannot reach Redis at redis://127.0.0.1:1/5 (MODQ_REDIS_URL): Timeout connecting to server"


def test_the_cause_is_found_under_what_wrapped_it_and_a_setup_error_passes_through(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    try:
        try:
            raise raised(url, "SELECT id FROM items")
        except OperationalError as exc:
            raise RuntimeError("while listing items") from exc
    except RuntimeError as wrapped:
        assert "run `modq db upgrade`" in str(explain(wrapped, url, BROKER))
    own = not_migrated(url)
    assert explain(own, url, BROKER) is own and isinstance(own, SetupError)
