"""Issue 18's "done when": 250 statements of reasons go through the outbox to the (fake) Transparency Database
across an outage and a lost answer, on PostgreSQL, with two runs at once at the end, and each is stored exactly
once: the fake holds 250, and no request was ever answered "duplicate puid" (a statement sent twice would be).

Time is stepped by ``now``; the rate limiter is the real one, in Redis, shared by both runs.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from config.settings import Settings
from moderation.infra.db import transaction
from moderation.transparency import submission
from moderation.transparency.models import SENT, Statement
from tests.fakes.transparency_db import FakeTransparencyDatabase
from tests.integration.fresh_pg import fresh_database
from tests.statement_rows import add_statements, rows_by_puid

pytestmark = pytest.mark.integration
TOKEN = "tdb-token"
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
POSTS, LOOKUPS = "/api/v1/statements", "/api/v1/statement/existing-puid/"


@pytest.fixture
def pg():
    with fresh_database("modq_tdb") as url:
        yield url


@pytest.fixture
def fake():
    with FakeTransparencyDatabase(token=TOKEN) as server:
        yield server


def settings_for(pg: str, fake: FakeTransparencyDatabase, batch: int = 25) -> Settings:
    return Settings(database_url=pg, provider="local", sns_topic_arn=None, dsa_tdb_url=fake.url,
                    dsa_tdb_token=TOKEN, dsa_tdb_batch_size=batch, dsa_tdb_requests_per_second=100,
                    dsa_tdb_interval_seconds=60, dsa_tdb_retry_max_seconds=600)


def statuses(fake, path: str) -> list[int | None]:
    return [r["status"] for r in fake.requests if r["path"].startswith(path)]


def test_250_statements_across_an_outage_and_a_lost_answer_are_each_sent_once(pg, fake):
    settings = settings_for(pg, fake)
    puids = add_statements(pg, 250)

    fake.crash_after_store()  # the first batch is stored, its answer lost
    first = submission.send_due(settings, now=T0)
    assert (first.sent, first.waiting, len(fake.statements)) == (0, 25, 25)

    fake.fail_next(6, status=503)  # then an outage: each run's first request fails and the run stops
    now = T0
    for _ in range(6):
        now += timedelta(seconds=61)
        assert submission.send_due(settings, now=now).sent == 0
    assert statuses(fake, POSTS).count(503) + statuses(fake, LOOKUPS).count(503) == 6

    later = now + timedelta(days=1)  # everything due again; two runs at once work it off
    barrier, summaries = threading.Barrier(2), []

    def one_run():
        barrier.wait()
        summaries.append(submission.send_due(settings, now=later))

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(summaries) == 2 and not any(s.stopped for s in summaries)
    assert all(s.requests for s in summaries)  # both worked at once, each on batches the other had not claimed
    assert sum(s.sent for s in summaries) == 225 and sum(s.already for s in summaries) == 25

    assert set(fake.statements) == set(puids) and len(fake.statements) == 250
    assert 422 not in statuses(fake, POSTS)  # never sent a statement the database already had
    rows = rows_by_puid(pg)
    assert {row.state for row in rows.values()} == {SENT}
    stored_by_answer = [p for p in puids if rows[p].tdb_uuid is not None]
    assert len(stored_by_answer) == 225
    assert all(rows[p].tdb_uuid == fake.statements[p]["uuid"] for p in stored_by_answer)
    assert submission.send_due(settings, now=later + timedelta(days=1)).requests == 0


def test_a_run_skips_the_rows_another_run_is_claiming_instead_of_waiting(pg, fake):
    """SKIP LOCKED: a claim in progress (rows locked, not yet committed) holds nobody up and is not sent twice."""
    settings = settings_for(pg, fake, batch=100)
    puids = add_statements(pg, 40)
    summaries = []
    with transaction(pg) as other:
        locked = list(other.scalars(select(Statement.puid).order_by(Statement.id).limit(10).with_for_update()))
        run = threading.Thread(target=lambda: summaries.append(submission.send_due(settings, now=T0)))
        run.start()
        run.join(30)  # without SKIP LOCKED it would still be waiting for this transaction
        assert not run.is_alive(), "the run waited on rows another run had locked"
    assert summaries[0].sent == 30 and set(fake.statements) == set(puids) - set(locked)
    assert submission.send_due(settings, now=T0).sent == 10
    assert len(fake.statements) == 40 and 422 not in statuses(fake, POSTS)
