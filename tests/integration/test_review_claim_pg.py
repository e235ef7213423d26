"""Claims on PostgreSQL: concurrent reviewers drain the queue, each item reviewed once.

A database of its own, so the queue holds exactly the items made here.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from config.settings import Settings
from moderation import policy, review
from moderation.runtime import InMemoryDispatcher, Runtime
from moderation.store import db
from moderation.store import models as m
from moderation.store.db import transaction
from moderation.store.review_models import Review
from moderation.store.review_queries import QueueFilter
from tests.fakes.providers import RecordingPublisher
from tests.integration.fresh_pg import fresh_database

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
                          created_at=m.utcnow() - timedelta(seconds=n - i))
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
        alerts = s.scalar(select(func.count()).select_from(m.Alert)
                          .where(m.Alert.item_id.in_(ids), m.Alert.kind == "review"))
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
        s.get(m.Item, item_id).lease_expires_at = m.utcnow() - timedelta(seconds=1)
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
