"""Review use cases on SQLite: queue, claims and leases, verdicts, audit, alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DatabaseError

from moderation.alerts import services as alerts
from moderation.review import services as review
from moderation.domain.errors import BadInput
from moderation.items import models as m
from moderation.infra.clock import utcnow
from moderation.alerts.models import Alert
from moderation.infra.db import transaction
from moderation.review.models import Review
from moderation.review.queries import QueueFilter
from tests.review_items import decided_item


@pytest.fixture
def flagged(rt, media_root, fake_provider):
    def make(label="Hate Symbols", confidence=70, **kw):
        return decided_item(rt, media_root, fake_provider, label, confidence, **kw)

    return make


def age(rt, item_id: str, seconds: int) -> None:
    with transaction(rt.settings.database_url) as s:
        s.execute(update(m.Item).where(m.Item.id == item_id).values(created_at=utcnow() - timedelta(seconds=seconds)))


def events(rt, item_id: str) -> list[tuple]:
    with transaction(rt.settings.database_url) as s:
        rows = s.scalars(select(m.AuditEvent).where(m.AuditEvent.item_id == item_id).order_by(m.AuditEvent.id))
        return [(e.action, e.actor, e.from_status, e.to_status, e.reason) for e in rows]


def test_queue_holds_flagged_items_oldest_first(rt, flagged):
    a, b = flagged(), flagged()
    decided_item(rt, rt.settings.media_root, rt._provider, label=None)  # approved: not in the queue
    age(rt, b, 600)
    assert [i.id for i in review.queue(rt, QueueFilter())] == [b, a]


def test_queue_filters(rt, flagged):
    hate, nudity = flagged("Hate Symbols", 70), flagged("Exposed Female Genitalia", 99)
    old = flagged("Graphic Violence", 60)
    age(rt, old, 7200)
    ids = lambda **kw: [i.id for i in review.queue(rt, QueueFilter(**kw))]  # noqa: E731
    assert ids(verdict="rejected") == [nudity]
    assert ids(label="hate symbols") == [hate]  # case-insensitive, canonical name
    assert ids(label="Violence") == [old]  # an L1 name matches detections under it
    assert ids(label="Explicit", verdict="rejected") == [nudity]
    assert ids(media_type="video") == []
    assert ids(min_age=3600) == [old]
    assert ids(max_age=3600) == [hate]


def test_claim_leases_distinct_items_and_is_idempotent(rt, flagged):
    a, b = flagged(), flagged()
    age(rt, a, 60)
    first = review.claim(rt, "alice")
    assert first.item_id == a and first.owner == "alice"
    assert review.claim(rt, "alice").item_id == a  # same item again, lease renewed
    assert review.claim(rt, "bob").item_id == b
    assert review.claim(rt, "carol") is None
    assert [e[0] for e in events(rt, a)].count("claim") == 1


def test_expired_lease_returns_to_queue(rt, flagged):
    item_id = flagged()
    review.claim(rt, "alice", lease_seconds=30)
    with transaction(rt.settings.database_url) as s:
        s.get(m.Item, item_id).lease_expires_at = utcnow() - timedelta(seconds=1)
    assert review.claim(rt, "bob").item_id == item_id
    with pytest.raises(review.Conflict, match="leased to bob"):
        review.review(rt, item_id, "alice", "approved", "late")


def test_skip_releases_and_passes_over(rt, flagged):
    a, b = flagged(), flagged()
    age(rt, a, 60)
    assert review.claim(rt, "alice").item_id == a
    assert review.claim(rt, "alice", skip=a).item_id == b
    assert review.claim(rt, "bob").item_id == a  # released, so free again


def test_review_records_verdict_audit_and_alert(rt, make_settings, flagged):
    rt.settings = make_settings(review_undo_seconds=0)  # no undo window: sent at once (held: tests/unit/review/test_undo.py)
    item_id = flagged()
    review.claim(rt, "alice")
    row = review.review(rt, item_id, "alice", "rejected", "  hate symbol on a flag  ")
    assert (row.verdict, row.reason, row.previous_status) == ("rejected", "hate symbol on a flag", "flagged")
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        assert (item.status, item.verdict, item.lease_owner) == ("rejected", "rejected", None)
        alert = s.scalar(select(Alert).where(Alert.kind == "review"))
    last = events(rt, item_id)[-1]
    assert last == ("review", "alice", "flagged", "rejected", "hate symbol on a flag")
    assert alert.id in rt.dispatcher.alerts
    assert alerts.flush_outbox(rt.settings.database_url, rt.publisher) == 2  # the flag, then the review
    sent = rt.publisher.sent[-1]
    assert sent["attributes"] == {"verdict": "rejected", "top_label": "Hate Symbols", "media_type": "image",
                                  "kind": "review"}
    msg = sent["message"]
    assert (msg["kind"], msg["verdict"], msg["previous_verdict"]) == ("review", "rejected", "flagged")
    assert msg["reasons"] == ["hate symbol on a flag"] and "alice" not in str(msg)
    assert msg["policy_version"] == rt.policy.version


def test_only_the_lease_holder_or_an_admin_reviews(rt, flagged):
    a, b = flagged(), flagged()
    with pytest.raises(review.Conflict, match="you hold no lease"):
        review.review(rt, a, "alice", "approved", "fine")
    review.claim(rt, "bob")
    with pytest.raises(review.Conflict, match="leased to bob"):
        review.review(rt, a, "alice", "approved", "fine")
    assert review.review(rt, a, "root", "approved", "override", admin=True).verdict == "approved"
    assert review.review(rt, b, "root", "rejected", "no claim needed", admin=True).verdict == "rejected"


def test_an_item_is_reviewed_once(rt, flagged):
    item_id = flagged()
    review.claim(rt, "alice")
    review.review(rt, item_id, "alice", "approved", "ok")
    with pytest.raises(review.Conflict, match="not awaiting review"):
        review.review(rt, item_id, "root", "rejected", "again", admin=True)
    assert review.claim(rt, "alice") is None


def test_auto_rejected_items_can_be_overturned_once(rt, flagged):
    item_id = flagged("Exposed Female Genitalia", 99)
    assert review.claim(rt, "alice", QueueFilter(verdict="rejected")).item_id == item_id
    review.review(rt, item_id, "alice", "approved", "medical illustration")
    assert review.queue(rt, QueueFilter(verdict="rejected")) == []


@pytest.mark.parametrize("verdict, reason, message", [
    ("maybe", "x", "verdict must be"), ("approved", "   ", "reason"), ("rejected", "x" * 1001, "reason"),
])
def test_bad_review_input(rt, flagged, verdict, reason, message):
    item_id = flagged()
    with pytest.raises(BadInput, match=message):
        review.review(rt, item_id, "root", verdict, reason, admin=True)


def test_unknown_items(rt):
    with pytest.raises(review.NotFound):
        review.review(rt, "nope", "root", "approved", "x", admin=True)
    with pytest.raises(review.NotFound):
        review.release(rt, "nope", "alice")


def test_release(rt, flagged):
    item_id = flagged()
    review.claim(rt, "alice")
    with pytest.raises(review.Conflict):
        review.release(rt, item_id, "bob")
    review.release(rt, item_id, "root", admin=True)
    assert [e[0] for e in events(rt, item_id)][-2:] == ["claim", "release"]
    assert review.claim(rt, "bob").item_id == item_id


def test_review_row_is_unique_per_item_in_the_database(rt, flagged):
    item_id = flagged()
    review.review(rt, item_id, "root", "approved", "ok", admin=True)
    with pytest.raises(DatabaseError):
        with transaction(rt.settings.database_url) as s:
            s.add(Review(item_id=item_id, reviewer="x", verdict="rejected", reason="r", previous_status="flagged"))


def test_audit_trail_is_append_only(rt, flagged):
    item_id = flagged()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction(rt.settings.database_url) as s:
            s.execute(update(m.AuditEvent).where(m.AuditEvent.item_id == item_id).values(actor="someone else"))
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction(rt.settings.database_url) as s:
            s.execute(m.AuditEvent.__table__.delete())


def test_concurrent_claims_on_sqlite_never_share_an_item(rt, flagged):
    import threading

    ids = [flagged() for _ in range(12)]
    taken, errors = [], []
    start = threading.Barrier(4)

    def reviewer(name):
        try:
            start.wait()
            while (lease := review.claim(rt, name)) is not None:
                review.review(rt, lease.item_id, name, "approved", "ok")
                taken.append(lease.item_id)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reviewer, args=(f"r{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and sorted(taken) == sorted(ids)


def test_concurrent_claims_by_one_reviewer_on_sqlite_lease_one_item(rt, flagged):
    import threading

    for _ in range(4):
        flagged()
    answers, errors = [], []
    start = threading.Barrier(8)

    def claim():
        try:
            start.wait()
            answers.append(review.claim(rt, "alice").item_id)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(answers) == 8
    assert len(set(answers)) == 1  # the check for a held lease and the claim share one write lock
    with transaction(rt.settings.database_url) as s:
        assert s.scalars(select(m.Item.id).where(m.Item.lease_owner == "alice")).all() == answers[:1]


def test_a_reviewer_holds_one_lease_whatever_the_filter(rt, flagged):
    held, auto_rejected = flagged(), flagged("Exposed Female Genitalia", 99)
    assert review.claim(rt, "alice").item_id == held
    assert review.claim(rt, "alice", QueueFilter(verdict="rejected")).item_id == held  # renewed, not a second
    with pytest.raises(review.Conflict, match=f"you hold a lease on item {held}: review or release it"):
        review.claim(rt, "alice", QueueFilter(verdict="rejected"), item_id=auto_rejected)
    assert review.claim(rt, "alice", QueueFilter(verdict="rejected"), skip=held).item_id == auto_rejected
    assert review.claim(rt, "bob").item_id == held  # skipped, so free again


OVER_LIMIT = "lease_seconds {} is over the limit of 3600 seconds (MODQ_REVIEW_MAX_LEASE_SECONDS)"


@pytest.mark.parametrize("seconds, message", [(3601, OVER_LIMIT.format(3601)), (86400, OVER_LIMIT.format(86400)),
                                              (9, "lease_seconds must be at least 10"),
                                              (0, "lease_seconds must be at least 10")])
def test_a_lease_outside_the_limits_is_refused_and_nothing_is_leased(rt, flagged, seconds, message):
    item_id = flagged()
    with pytest.raises(BadInput) as refused:
        review.claim(rt, "alice", lease_seconds=seconds)
    assert str(refused.value) == message
    assert "claim" not in [e[0] for e in events(rt, item_id)]
    assert review.claim(rt, "bob").item_id == item_id  # still free


def test_the_lease_limit_is_a_setting(rt, make_settings, flagged):
    item_id = flagged()
    rt.settings = make_settings(review_max_lease_seconds=86400)
    before = utcnow()
    lease = review.claim(rt, "alice", lease_seconds=86400)
    assert lease.item_id == item_id and lease.expires_at >= before + timedelta(seconds=86400)
    rt.settings = make_settings()
    assert review.claim(rt, "alice", lease_seconds=3600).expires_at < before + timedelta(seconds=3700)
