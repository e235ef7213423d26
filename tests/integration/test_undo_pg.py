"""Undo racing the outbox relay on PostgreSQL (issue 17.2): whichever takes the alert row first wins, and the
outcome is always one of the two coherent ones: published and followed by ``review.undone``, or cancelled and
never published. Never published without a follow-up, never cancelled after it went out."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from moderation.alerts import services as alerts
from moderation.alerts.models import Alert
from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.review import services as review, undo as undos
from tests.integration.test_review_claim_pg import make_flagged, pg_rt, review_pg_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration


class SlowPublisher:
    """Publishes only when told, so the relay holds the alert row's lock meanwhile."""

    def __init__(self):
        self.started, self.go, self.sent = threading.Event(), threading.Event(), []

    def publish(self, alert) -> str:
        self.started.set()
        assert self.go.wait(10)
        self.sent.append(alert.id)
        return f"msg-{alert.id}"


def reviewed_with_hold_passed(rt) -> tuple[str, int]:
    """A review whose alert the relay may send now (its hold passed) while the review may still be undone."""
    [item_id] = make_flagged(rt, 1)
    review.claim(rt, "alice", item_id=item_id)
    row = review.review(rt, item_id, "alice", "rejected", "hate symbol", scope=EVERY_TENANT)
    with transaction(rt.settings.database_url) as s:
        s.execute(update(Alert).where(Alert.id == row.alert_ids[0]).values(hold_until=utcnow() - timedelta(seconds=1)))
    return item_id, row.alert_ids[0]


def state(rt, item_id: str, alert_id: int) -> tuple[bool, bool, int]:
    with transaction(rt.settings.database_url) as s:
        alert = s.get(Alert, alert_id)
        follow = s.scalars(select(Alert).where(Alert.item_id == item_id, Alert.kind == "undo")).all()
        return alert.published_at is not None, alert.cancelled_at is not None, len(follow)


def test_an_undo_waits_for_a_publish_in_flight_and_follows_it_up(pg_rt):
    item_id, alert_id = reviewed_with_hold_passed(pg_rt)
    publisher, outcome = SlowPublisher(), {}
    relay = threading.Thread(target=lambda: outcome.update(sent=alerts.deliver(alert_id, pg_rt.settings.database_url,
                                                                                publisher)))
    relay.start()
    assert publisher.started.wait(10)  # publishing, the row locked
    undoing = threading.Thread(target=lambda: outcome.update(undo=undos.undo(pg_rt, item_id, "alice",
                                                                              scope=EVERY_TENANT)))
    undoing.start()
    undoing.join(0.5)
    assert undoing.is_alive()  # waiting for the relay's lock
    publisher.go.set()
    relay.join(10), undoing.join(10)

    assert outcome["sent"] is True and outcome["undo"]["followed_up"] is True
    assert state(pg_rt, item_id, alert_id) == (True, False, 1)


def test_a_relay_after_the_undo_sends_nothing(pg_rt):
    item_id, alert_id = reviewed_with_hold_passed(pg_rt)
    assert undos.undo(pg_rt, item_id, "alice", scope=EVERY_TENANT)["followed_up"] is False
    publisher = SlowPublisher()
    publisher.go.set()
    assert alerts.deliver(alert_id, pg_rt.settings.database_url, publisher) is False
    assert publisher.sent == [] and state(pg_rt, item_id, alert_id) == (False, True, 0)


@pytest.mark.parametrize("attempt", range(5))
def test_undo_and_relay_at_once_end_coherent(pg_rt, attempt):
    item_id, alert_id = reviewed_with_hold_passed(pg_rt)
    publisher, barrier = SlowPublisher(), threading.Barrier(2)
    publisher.go.set()

    def relay():
        barrier.wait()
        alerts.deliver(alert_id, pg_rt.settings.database_url, publisher)

    def undo():
        barrier.wait()
        undos.undo(pg_rt, item_id, "alice", scope=EVERY_TENANT)

    threads = [threading.Thread(target=relay), threading.Thread(target=undo)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert state(pg_rt, item_id, alert_id) in ((True, False, 1), (False, True, 0))
