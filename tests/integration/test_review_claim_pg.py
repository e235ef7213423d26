"""Claims on PostgreSQL: concurrent reviewers drain the queue, each item reviewed once.

A database of its own, so the queue holds exactly the items made here.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import event, func, select, text, update

from config.settings import Settings
from moderation.domain import policy
from moderation.review import claims, services as review
from moderation.tenants import tokens
from moderation.api.app import create_app
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.infra import db
from moderation.items import models as m
from moderation.infra.clock import utcnow
from moderation.alerts.models import Alert
from moderation.infra.db import transaction
from moderation.review.models import Review
from moderation.review.queries import QueueFilter
from tests.fakes.providers import RecordingPublisher
from tests.integration.fresh_pg import fresh_database
from tests.live_server import serve

pytestmark = pytest.mark.integration
ITEMS, REVIEWERS = 50, 8


@pytest.fixture(scope="module")
def review_pg_url():
    with fresh_database("modq_review") as url:
        yield url


@pytest.fixture
def pg_rt(review_pg_url, tmp_path):
    settings = Settings(database_url=review_pg_url, media_root=tmp_path)
    with transaction(review_pg_url) as s:  # each test starts with an empty queue
        s.execute(update(m.Item).where(m.Item.status == m.FLAGGED).values(status=m.FAILED))
    return Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())


def make_flagged(rt: Runtime, n: int, label: str = "Hate Symbols") -> list[str]:
    ids = []
    with transaction(rt.settings.database_url) as s:
        for i in range(n):
            analysis = m.Analysis(provider="local", model_version="t", labels=[
                {"Name": label, "ParentName": "", "TaxonomyLevel": 2, "Confidence": 70.0}])
            s.add(analysis)
            s.flush()
            item = m.Item(media_uri=f"s3://bucket/{uuid.uuid4()}.jpg", media_type="image", status=m.FLAGGED,
                          verdict=m.FLAGGED, analysis_id=analysis.id, policy_version="p1",
                          created_at=utcnow() - timedelta(seconds=n - i))
            s.add(item)
            s.flush()
            ids.append(item.id)
    return ids


def test_concurrent_reviewers_drain_the_queue_each_item_reviewed_once(pg_rt):
    ids = make_flagged(pg_rt, ITEMS)
    reviewed: list[tuple[str, str]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(REVIEWERS)

    def reviewer(name: str) -> None:
        try:
            start.wait()
            while (lease := review.claim(pg_rt, name)) is not None:
                review.review(pg_rt, lease.item_id, name, "rejected" if len(reviewed) % 2 else "approved", "ok")
                reviewed.append((lease.item_id, name))
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=reviewer, args=(f"r{i}",)) for i in range(REVIEWERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sorted(i for i, _ in reviewed) == sorted(ids)  # every item, exactly once
    assert len({who for _, who in reviewed}) > 1  # the work really was shared
    with transaction(pg_rt.settings.database_url) as s:
        per_item = Counter(s.scalars(select(Review.item_id).where(Review.item_id.in_(ids))))
        assert set(per_item) == set(ids) and set(per_item.values()) == {1}
        audits = s.scalar(select(func.count()).select_from(m.AuditEvent)
                          .where(m.AuditEvent.item_id.in_(ids), m.AuditEvent.action == "review"))
        assert audits == ITEMS
        alerts = s.scalar(select(func.count()).select_from(Alert)
                          .where(Alert.item_id.in_(ids), Alert.kind == "review"))
        assert alerts == ITEMS
        assert s.scalar(select(func.count()).select_from(m.Item)
                        .where(m.Item.id.in_(ids), m.Item.status == m.FLAGGED)) == 0


def test_simultaneous_claims_never_share_an_item(pg_rt):
    ids = make_flagged(pg_rt, REVIEWERS * 2)
    leases: list = []
    start = threading.Barrier(REVIEWERS)

    def grab(name: str) -> None:
        start.wait()
        leases.append(review.claim(pg_rt, name))
        leases.append(review.claim(pg_rt, name + "-bis"))

    statements: list[str] = []
    engine = db.session_factory(pg_rt.settings.database_url).kw["bind"]
    record = lambda _conn, _cur, sql, *_: statements.append(sql)  # noqa: E731
    event.listen(engine, "before_cursor_execute", record)
    threads = [threading.Thread(target=grab, args=(f"g{i}",)) for i in range(REVIEWERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    event.remove(engine, "before_cursor_execute", record)
    assert sorted(lease.item_id for lease in leases) == sorted(ids)
    assert any("FOR UPDATE OF items SKIP LOCKED" in sql for sql in statements)


def test_expired_lease_moves_on_and_the_late_review_is_refused(pg_rt):
    (item_id,) = make_flagged(pg_rt, 1)
    assert review.claim(pg_rt, "slow").item_id == item_id
    assert review.claim(pg_rt, "fast") is None
    with transaction(pg_rt.settings.database_url) as s:
        s.get(m.Item, item_id).lease_expires_at = utcnow() - timedelta(seconds=1)
    assert review.claim(pg_rt, "fast").item_id == item_id
    with pytest.raises(review.Conflict, match="leased to fast"):
        review.review(pg_rt, item_id, "slow", "approved", "late")
    review.review(pg_rt, item_id, "fast", "rejected", "on time")


def test_label_filter_and_audit_append_only_on_postgres(pg_rt):
    violent = make_flagged(pg_rt, 2, label="Graphic Violence")
    make_flagged(pg_rt, 1, label="Hate Symbols")
    queue = review.queue(pg_rt, QueueFilter(label="graphic violence"))
    assert [i.id for i in queue] == violent
    review.review(pg_rt, violent[0], "root", "approved", "ok", admin=True)
    with pytest.raises(Exception, match="append-only"):
        with transaction(pg_rt.settings.database_url) as s:
            s.execute(update(m.AuditEvent).values(reason="rewritten"))


CLAIMS = 10


def claim_at_once(claim, n: int = CLAIMS) -> list:
    """``claim()`` from ``n`` threads released together; the answers, failures re-raised."""
    answers: list = []
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def one() -> None:
        try:
            start.wait()
            answers.append(claim())
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(answers) == n
    return answers


def leased_to(rt: Runtime, reviewer: str) -> list[str]:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(m.Item.id).where(m.Item.lease_owner == reviewer,
                                                       m.Item.lease_expires_at > utcnow())))


def test_ten_concurrent_claims_by_one_reviewer_lease_one_item(pg_rt):
    make_flagged(pg_rt, CLAIMS * 2)
    leases = claim_at_once(lambda: review.claim(pg_rt, "solo"))
    assert len({lease.item_id for lease in leases}) == 1  # every answer names the same item
    assert leased_to(pg_rt, "solo") == [leases[0].item_id]
    with transaction(pg_rt.settings.database_url) as s:
        claims = s.scalar(select(func.count()).select_from(m.AuditEvent)
                          .where(m.AuditEvent.actor == "solo", m.AuditEvent.action == "claim"))
    assert claims == 1


def test_ten_concurrent_api_claims_with_one_token_lease_one_item(pg_rt):
    make_flagged(pg_rt, CLAIMS * 2)
    token_id, token = tokens.create(pg_rt.settings.database_url, "api-solo", "reviewer", created_by="test")
    owner = f"api-solo (token {token_id})"  # the token, as leases name it (Principal.actor)
    with serve(create_app(pg_rt, health_checks={})) as base_url:
        def claim():
            with httpx.Client(base_url=base_url, timeout=60) as client:
                return client.post("/v1/review/claim", json={}, headers={"Authorization": f"Bearer {token}"})

        responses = claim_at_once(claim)
    assert [r.status_code for r in responses] == [200] * CLAIMS
    answered = {r.json()["item"]["id"] for r in responses}
    assert len(answered) == 1 and {r.json()["lease"]["owner"] for r in responses} == {owner}
    assert leased_to(pg_rt, owner) == list(answered)


def test_each_reviewer_gets_one_item_and_reviewers_get_distinct_ones(pg_rt):
    make_flagged(pg_rt, CLAIMS * 2)
    names = [f"team{i}" for i in range(CLAIMS // 2)]
    turn = iter(names * 2)  # every reviewer claims twice, all at once
    lock = threading.Lock()

    def claim():
        with lock:
            name = next(turn)
        return review.claim(pg_rt, name)

    leases = claim_at_once(claim)
    by_reviewer = {name: {lease.item_id for lease in leases if lease.owner == name} for name in names}
    assert all(len(items) == 1 for items in by_reviewer.values()), by_reviewer
    assert len(set().union(*by_reviewer.values())) == len(names)  # nobody shares an item
    assert sorted(leased_to(pg_rt, n)[0] for n in names) == sorted(set().union(*by_reviewer.values()))


def test_one_reviewers_claim_lock_does_not_hold_up_another_reviewer(pg_rt):
    make_flagged(pg_rt, 2)
    url = pg_rt.settings.database_url
    waiting = []
    with transaction(url) as holder:  # an unfinished claim of alice's, holding her lock
        claims.lock_claims_of(holder, "alice")
        alice = threading.Thread(target=lambda: waiting.append(review.claim(pg_rt, "alice")))
        alice.start()
        assert wait_for_a_blocked_advisory_lock(url), "alice's second claim should wait for her first"
        bob = review.claim(pg_rt, "bob")  # not serialised behind alice: it returns while she waits
        assert bob is not None and bob.owner == "bob"
        assert alice.is_alive() and waiting == []
    alice.join(60)
    assert waiting and waiting[0].owner == "alice" and waiting[0].item_id != bob.item_id


def wait_for_a_blocked_advisory_lock(url: str) -> bool:
    """True once some session waits for an advisory lock (polled: the waiter is another thread)."""
    for _ in range(200):
        with transaction(url) as s:
            if s.scalar(text("SELECT count(*) FROM pg_locks JOIN pg_database d ON d.oid = pg_locks.database "
                             "WHERE d.datname = current_database() AND locktype = 'advisory' AND NOT granted")):
                return True
        time.sleep(0.05)
    return False
