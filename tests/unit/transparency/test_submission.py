"""Sending statements of reasons to the Transparency Database (issue 18.3), against the fake server on SQLite:
batches of at most 100, a 422's invalid statements rejected with their errors and the rest sent, duplicates,
429's Retry-After, an outage's doubling backoff, a lost answer looked up (existing-puid) rather than resent,
statements in their undo window held, and nothing at all without MODQ_DSA_TDB_URL. Time is stepped by ``now``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from moderation.domain.errors import Throttled
from moderation.infra.clock import aware
from moderation.infra.db import transaction
from moderation.transparency import client as tdb, outbox, submission
from moderation.transparency.models import PENDING, REJECTED, SENT, WITHDRAWN, Statement
from tests.fakes.transparency_db import FakeTransparencyDatabase
from tests.statement_rows import add_statements, rows_by_puid

TOKEN = "tdb-token"
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
POSTS, LOOKUPS = "/api/v1/statements", "/api/v1/statement/existing-puid/"


class CountingLimiter:
    """Counts the tokens taken; ``refuse`` makes it answer as a limiter whose wait is too long."""

    def __init__(self, refuse: float | None = None):
        self.taken, self.refuse = 0, refuse

    def acquire(self, operation: str) -> float:
        if self.refuse is not None:
            raise Throttled("at the rate limit", retry_after=self.refuse)
        self.taken += 1
        return 0.0


@pytest.fixture
def fake():
    with FakeTransparencyDatabase(token=TOKEN) as server:
        yield server


@pytest.fixture
def settings(make_settings, fake):
    return make_settings(dsa_tdb_url=fake.url, dsa_tdb_token=TOKEN, dsa_tdb_requests_per_second=200,
                         dsa_tdb_interval_seconds=60, dsa_tdb_retry_max_seconds=600)


def run(settings, now=T0, **kwargs) -> submission.Summary:
    return submission.send_due(settings, now=now, limiter=kwargs.pop("limiter", CountingLimiter()), **kwargs)


def posts(fake) -> list[dict]:
    return [r for r in fake.requests if r["path"] == POSTS]


def lookups(fake) -> list[dict]:
    return [r for r in fake.requests if r["path"].startswith(LOOKUPS)]


def test_batches_of_at_most_100_each_statement_sent_once_with_its_uuid(settings, fake):
    puids = add_statements(settings.database_url, 250)
    summary = run(settings)
    assert (summary.sent, summary.stopped) == (250, None)
    assert [r["status"] for r in posts(fake)] == [201, 201, 201] and lookups(fake) == []
    rows = rows_by_puid(settings.database_url)
    assert set(fake.statements) == set(puids)
    assert all(rows[p].state == SENT and rows[p].tdb_uuid == fake.statements[p]["uuid"] for p in puids)
    assert all(aware(rows[p].sent_at) == T0 and rows[p].attempts == 1 for p in puids)
    assert run(settings, T0 + timedelta(hours=1)).requests == 0  # nothing is sent twice


def test_the_batch_size_setting_is_used(make_settings, fake):
    settings = make_settings(dsa_tdb_url=fake.url, dsa_tdb_token=TOKEN, dsa_tdb_batch_size=7)
    add_statements(settings.database_url, 15)
    assert run(settings).sent == 15 and len(posts(fake)) == 3


def test_invalid_statements_are_rejected_with_their_errors_and_the_rest_sent(settings, fake):
    from prometheus_client import REGISTRY

    def counted(outcome: str) -> float:
        return REGISTRY.get_sample_value("modq_dsa_statements_total", {"outcome": outcome}) or 0.0

    puids = add_statements(settings.database_url, 5, invalid=frozenset({1, 3}))
    before = counted("sent"), counted("rejected")
    summary = run(settings)
    assert (summary.sent, summary.rejected) == (3, 2)
    assert (counted("sent") - before[0], counted("rejected") - before[1]) == (3, 2)  # the metric follows
    assert [r["status"] for r in posts(fake)] == [422, 201]  # all or nothing: the valid ones sent again at once
    rows = rows_by_puid(settings.database_url)
    for index in (1, 3):
        assert rows[puids[index]].state == REJECTED
        assert rows[puids[index]].errors == {"fields": {"category": ["The selected category is invalid."]}}
    assert set(fake.statements) == {puids[0], puids[2], puids[4]}
    assert run(settings, T0 + timedelta(days=1)).requests == 0  # a rejected statement is never sent again


def test_puids_already_in_the_database_are_marked_sent_and_the_rest_sent(settings, fake):
    puids = add_statements(settings.database_url, 4)
    fake.preload(puids[0], puids[2])
    summary = run(settings)
    assert (summary.sent, summary.already) == (2, 2)
    assert [r["status"] for r in posts(fake)] == [422, 201]
    rows = rows_by_puid(settings.database_url)
    assert all(row.state == SENT for row in rows.values())
    assert rows[puids[0]].tdb_uuid is None and "duplicate puid" in rows[puids[0]].errors["note"]
    assert rows[puids[1]].tdb_uuid == fake.statements[puids[1]]["uuid"]


def test_rate_limited_waits_retry_after_and_stops_the_run(settings, fake):
    puids = add_statements(settings.database_url, 150)
    fake.rate_limit(1, retry_after=30)
    summary = run(settings)
    assert (summary.sent, summary.waiting, len(posts(fake))) == (0, 100, 1)  # the second batch is not tried
    rows = rows_by_puid(settings.database_url)
    assert aware(rows[puids[0]].next_attempt_at) == T0 + timedelta(seconds=30)
    assert rows[puids[0]].errors["stored"] is False  # a 429 stores nothing: no lookup before sending again
    assert run(settings, T0 + timedelta(seconds=29)).sent == 50  # the other batch was never sent: due now
    assert run(settings, T0 + timedelta(seconds=30)).sent == 100
    assert lookups(fake) == [] and len(fake.statements) == 150


def test_an_outage_backs_off_doubling_up_to_the_cap(settings, fake):
    puids = add_statements(settings.database_url, 3)
    fake.fail_next(1, status=503)
    assert run(settings).waiting == 3
    waits = []
    for step in range(5):  # 60, 120, 240, 480, then capped at 600
        row = rows_by_puid(settings.database_url)[puids[0]]
        waits.append((aware(row.next_attempt_at) - aware(row.last_attempt_at)).total_seconds())
        fake.fail_next(1, status=503)
        assert run(settings, aware(row.next_attempt_at) - timedelta(seconds=1)).requests == 0  # not yet
        assert run(settings, aware(row.next_attempt_at)).waiting == 3  # the lookup fails: all wait again
    assert waits == [60, 120, 240, 480, 600]
    final = run(settings, T0 + timedelta(days=1))
    assert final.sent == 3 and len(fake.statements) == 3
    assert rows_by_puid(settings.database_url)[puids[0]].attempts == 7


def test_an_answer_lost_after_the_store_is_looked_up_not_resent(settings, fake):
    puids = add_statements(settings.database_url, 3)
    fake.crash_after_store()
    first = run(settings)
    assert first.waiting == 3 and len(fake.statements) == 3  # stored, but the answer never came
    row = rows_by_puid(settings.database_url)[puids[0]]
    assert "stored" not in row.errors  # maybe stored
    second = run(settings, aware(row.next_attempt_at))
    assert (second.already, second.sent) == (3, 0)
    assert len(posts(fake)) == 1 and len(lookups(fake)) == 3  # asked, never sent again
    rows = rows_by_puid(settings.database_url)
    assert all(rows[p].state == SENT and "existing-puid" in rows[p].errors["note"] for p in puids)


class DiesAfterSending(tdb.TransparencyClient):
    """A worker killed between the send and the commit of its answer."""

    def store_batch(self, statements):
        super().store_batch(statements)
        raise KeyboardInterrupt("killed")


def test_a_worker_killed_after_sending_leaves_a_claim_the_next_run_looks_up(settings, fake):
    puids = add_statements(settings.database_url, 2)
    with pytest.raises(KeyboardInterrupt):
        run(settings, client=DiesAfterSending(fake.url, TOKEN, 5))
    claim_ends = T0 + timedelta(seconds=submission.claim_seconds(settings))
    assert run(settings, claim_ends - timedelta(seconds=1)).requests == 0  # still claimed by the dead run
    assert run(settings, claim_ends).already == 2
    assert len(posts(fake)) == 1 and set(fake.statements) == set(puids)


def test_a_lookup_that_finds_nothing_sends(settings, fake):
    puids = add_statements(settings.database_url, 2)
    fake.fail_next(1, status=502)  # a proxy's 5xx: the batch may or may not have reached the database
    run(settings)
    again = run(settings, T0 + timedelta(hours=1))
    assert again.sent == 2 and len(lookups(fake)) == 2 and set(fake.statements) == set(puids)


def test_held_statements_wait_for_their_undo_window(settings, fake):
    add_statements(settings.database_url, 2, hold_until=T0 + timedelta(seconds=60))
    assert run(settings).requests == 0 and fake.request_count == 0
    # Not at the window's end either: the margin covers clocks a little apart between the API and the worker.
    assert run(settings, T0 + timedelta(seconds=60)).requests == 0
    assert run(settings, T0 + timedelta(seconds=60) + outbox.HOLD_MARGIN).sent == 2


def test_withdrawn_statements_are_never_sent(settings, fake):
    add_statements(settings.database_url, 2)
    with transaction(settings.database_url) as s:
        s.execute(update(Statement).values(state=WITHDRAWN))
    assert run(settings).requests == 0 and fake.request_count == 0


def test_nothing_is_sent_without_a_url(make_settings, fake):
    settings = make_settings()
    puids = add_statements(settings.database_url, 2)
    summary = submission.send_due(settings, now=T0)
    assert summary.requests == 0 and "MODQ_DSA_TDB_URL" in summary.stopped and fake.request_count == 0
    row = rows_by_puid(settings.database_url)[puids[0]]
    assert (row.state, row.attempts) == (PENDING, 0)


def test_every_request_takes_a_token_and_no_token_sends_nothing(settings, fake):
    add_statements(settings.database_url, 120)
    limiter = CountingLimiter()
    run(settings, limiter=limiter)
    assert limiter.taken == fake.request_count == 2
    add_statements(settings.database_url, 1)
    summary = run(settings, limiter=CountingLimiter(refuse=4.0))
    assert (summary.waiting, fake.request_count) == (1, 2)
    assert summary.stopped.startswith("rate limited")


def test_the_shared_limiter_in_redis_paces_a_real_run(settings, fake):
    add_statements(settings.database_url, 3)
    assert submission.send_due(settings, now=T0).sent == 3  # built from settings: the Redis token bucket


def test_a_wrong_token_waits_and_is_logged_as_refused(make_settings, fake):
    settings = make_settings(dsa_tdb_url=fake.url, dsa_tdb_token="wrong")
    puids = add_statements(settings.database_url, 1)
    summary = run(settings)
    assert summary.waiting == 1 and summary.stopped.startswith("HTTP 401")
    row = rows_by_puid(settings.database_url)[puids[0]]
    assert row.state == PENDING and row.errors["status"] == 401 and row.errors["stored"] is False


def test_without_redis_one_process_paces_itself(make_settings):
    settings = make_settings(broker_url="memory://", dsa_tdb_url="https://tdb.example", dsa_tdb_token=TOKEN,
                             dsa_tdb_requests_per_second=0.5)
    assert isinstance(submission.build_limiter(settings), submission.LocalPace)
    slept = []
    pace = submission.LocalPace(0.5, sleep=slept.append)
    pace.acquire("api")
    pace.acquire("api")
    assert slept and 0 < slept[0] <= 2.0  # the second request waits its turn (2 s apart at 0.5/s)


def test_a_run_whose_claim_ran_out_leaves_the_rows_to_the_run_that_took_them(settings):
    """The claim's time is its token: a slow run's renewal and release do not touch rows another run claimed
    after the first one's claim ran out."""
    url = settings.database_url
    add_statements(url, 3)
    first = outbox.claim(url, T0, 10, 60)
    assert len(first) == 3 and outbox.claim(url, T0, 10, 60) == []  # claimed: not due for another run
    later = T0 + timedelta(seconds=61)
    second = outbox.claim(url, later, 10, 60)  # the first run's claim ran out
    assert [c.id for c in second] == [c.id for c in first] and all(c.uncertain for c in second)
    ids = [c.id for c in first]
    assert outbox.renew(url, ids, T0, later + timedelta(seconds=60)) == set()  # no longer the first run's
    outbox.release(url, {i: later + timedelta(hours=1) for i in ids}, "boom", 503, False, T0)
    rows = rows_by_puid(url)
    assert all(aware(r.next_attempt_at) == later + timedelta(seconds=60) and r.errors is None for r in rows.values())
    assert outbox.renew(url, ids, later, later + timedelta(seconds=90)) == set(ids)  # the second run's, renewed


def test_a_run_renews_its_claim_and_drops_rows_another_run_took(settings, fake):
    """A batch slower than its claim: before the next request the run renews, and a row another run took
    meanwhile is not sent by this one."""
    add_statements(settings.database_url, 2)
    clock = [T0]
    first = outbox.claim(settings.database_url, T0, 10, submission.claim_seconds(settings))
    clock[0] = T0 + timedelta(seconds=submission.claim_seconds(settings) + 1)
    taken = outbox.claim(settings.database_url, clock[0], 1, 60)  # another run takes the first row
    run_ = submission._Run(settings, lambda: clock[0], tdb.TransparencyClient.of(settings), submission.LocalPace(1000))
    run_.batch(first)
    assert [r["path"] for r in fake.requests] == ["/api/v1/statements"]
    assert set(fake.statements) == {c.puid for c in first} - {c.puid for c in taken}
