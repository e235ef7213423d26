"""Undo (issue 17.2) on SQLite: within the window a review is taken back completely and nothing it wrote goes
out; after it, or by anyone else, it is refused; what had already gone out gets a ``review.undone`` event."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from moderation.alerts import fanout, services as alerts, webhooks
from moderation.alerts.models import Alert, WebhookDelivery
from moderation.items.banks.models import BankEntry
from moderation.domain import policy
from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m, services as service
from moderation.items.submission import Origin
from moderation.review import escalations, override as overrides, services as review, undo as undos
from moderation.review.models import Escalation, Review
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for
from tests.review_items import decided_item
from tests.unit.items.test_subjects import RULE, flags


@pytest.fixture
def flagged(rt, media_root, fake_provider):
    def make(label="Hate Symbols", confidence=70, **kw):
        return decided_item(rt, media_root, fake_provider, label, confidence, **kw)

    return make


def reviewed(rt, item_id: str, verdict: str = "rejected", who: str = "alice (token 2)") -> Review:
    assert review.claim(rt, who, item_id=item_id).item_id == item_id
    return review.review(rt, item_id, who, verdict, "hate symbol", scope=EVERY_TENANT)


def rows(rt, model, *where):
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(model).where(*where).order_by(model.id)))


def audit_actions(rt, item_id: str) -> list[tuple[str, str | None]]:
    return [(e.action, e.verdict) for e in rows(rt, m.AuditEvent, m.AuditEvent.item_id == item_id)]


def pass_hold(rt, item_id: str, seconds: int = 1) -> None:
    """As if the undo window of the item's alerts had closed (the review itself keeps its time)."""
    with transaction(rt.settings.database_url) as s:
        s.execute(update(Alert).where(Alert.item_id == item_id)
                  .values(hold_until=utcnow() - timedelta(seconds=seconds)))


def age_review(rt, item_id: str, seconds: int) -> None:
    with transaction(rt.settings.database_url) as s:
        s.execute(update(Review).where(Review.item_id == item_id)
                  .values(reviewed_at=utcnow() - timedelta(seconds=seconds)))


def test_within_the_window_an_undo_reverts_everything_and_nothing_goes_out(rt, make_settings, flagged):
    rt.settings = make_settings(bank_reviewer_rejections=True)
    webhooks.add(rt.settings.database_url, 1, "https://hooks.example.com/modq", None, "test")
    item_id = flagged()
    alerts.flush_outbox(rt.settings.database_url, rt.publisher)  # the automatic flag's alert
    row = reviewed(rt, item_id)
    [held] = rows(rt, Alert, Alert.id.in_(row.alert_ids))
    assert held.kind == "review" and held.hold_until is not None
    assert rt.dispatcher.delayed == [(held.id, 11)]  # handed on to be sent when the window closes
    assert len(rows(rt, BankEntry, BankEntry.source == f"review:{item_id}")) == 1
    sent_before = len(rt.publisher.sent)
    assert alerts.flush_outbox(rt.settings.database_url, rt.publisher) == 0  # held: SNS does not get it yet
    assert not alerts.deliver(held.id, rt.settings.database_url, rt.publisher)
    fanout.sweep(rt.settings.database_url)
    assert rows(rt, WebhookDelivery, WebhookDelivery.alert_id == held.id) == []  # nor the webhook endpoint

    done = undos.undo(rt, item_id, "alice (token 2)", scope=EVERY_TENANT)

    assert (done["verdict"], done["status"], done["followed_up"]) == ("rejected", "flagged", False)
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        assert (item.status, item.verdict, item.lease_owner) == ("flagged", "flagged", "alice (token 2)")
        assert s.scalar(select(Review).where(Review.item_id == item_id)) is None
    assert audit_actions(rt, item_id)[-3:] == [("review", "rejected"), ("undo", "rejected"), ("claim", None)]
    [cancelled] = rows(rt, Alert, Alert.id == held.id)
    assert cancelled.cancelled_at is not None and cancelled.published_at is None
    assert rows(rt, BankEntry, BankEntry.source == f"review:{item_id}")[0].removed_at is not None
    later = lambda: utcnow() + timedelta(hours=1)  # noqa: E731 - long after the window
    assert alerts.flush_outbox(rt.settings.database_url, rt.publisher) == 0
    assert not alerts.deliver(held.id, rt.settings.database_url, rt.publisher)  # the delayed task: nothing
    fanout.sweep(rt.settings.database_url, clock=later)
    assert rows(rt, WebhookDelivery, WebhookDelivery.alert_id == held.id) == []
    assert len(rt.publisher.sent) == sent_before
    assert not [a for a in rows(rt, Alert) if a.kind == "undo"]  # nothing to follow up

    again = review.review(rt, item_id, "alice (token 2)", "rejected", "looked again", scope=EVERY_TENANT)
    [new] = rows(rt, Alert, Alert.id == again.alert_ids[0])
    assert new.dedup_id == f"{item_id}:review:rejected:2"  # a new event, not a repeat of the undone one


def test_the_undo_gives_the_item_back_to_its_reviewer_and_releases_the_next_one(rt, flagged):
    first, second = flagged(), flagged()
    reviewed(rt, first, "approved")
    assert review.claim(rt, "alice (token 2)").item_id == second  # the console opens the next item
    undos.undo(rt, first, "alice (token 2)", scope=EVERY_TENANT)
    with transaction(rt.settings.database_url) as s:
        assert s.get(m.Item, first).lease_owner == "alice (token 2)"
        assert s.get(m.Item, second).lease_owner is None
    assert audit_actions(rt, second)[-1] == ("release", None)
    assert review.claim(rt, "alice (token 2)").item_id == first  # one lease: the undone item
    assert review.claim(rt, "bob").item_id == second
    assert review.review(rt, first, "alice (token 2)", "rejected", "on second thought").verdict == "rejected"


@pytest.mark.parametrize("case, message", [
    ("another reviewer", r"only the reviewer who recorded it \(alice \(token 2\)\) can undo"),
    ("after the window", r"the undo window of 10 s \(MODQ_REVIEW_UNDO_SECONDS\) closed"),
    ("no review", "has no review to undo"),
    ("undo off", r"undo is turned off \(MODQ_REVIEW_UNDO_SECONDS=0\)"),
    ("overridden", "was overridden by root"),
    ("undone already", "has no review to undo"),
])
def test_an_undo_is_refused_and_changes_nothing(rt, make_settings, flagged, case, message):
    if case == "undo off":
        rt.settings = make_settings(review_undo_seconds=0)
    item_id = flagged()
    if case != "no review":
        reviewed(rt, item_id)
    who = "bob (token 3)" if case == "another reviewer" else "alice (token 2)"
    if case == "after the window":
        age_review(rt, item_id, 10)
    if case == "overridden":
        overrides.override(rt, item_id, "root", "approved", "context", scope=EVERY_TENANT)
    if case == "undone already":
        undos.undo(rt, item_id, who, scope=EVERY_TENANT)
    before = (audit_actions(rt, item_id), [(a.id, a.cancelled_at) for a in rows(rt, Alert)])
    with pytest.raises(review.Conflict, match=message):
        undos.undo(rt, item_id, who, scope=EVERY_TENANT)
    assert (audit_actions(rt, item_id), [(a.id, a.cancelled_at) for a in rows(rt, Alert)]) == before


def test_another_tenants_item_is_not_found(rt, flagged):
    item_id = flagged()
    reviewed(rt, item_id)
    with pytest.raises(review.NotFound):
        undos.undo(rt, item_id, "alice (token 2)", scope=Scope(frozenset({2})))
    with pytest.raises(review.NotFound):
        undos.undo(rt, "no-such-item", "alice (token 2)", scope=EVERY_TENANT)


def test_the_same_person_through_another_token_may_undo(rt, flagged):
    item_id = flagged()
    reviewed(rt, item_id)
    assert undos.undo(rt, item_id, "alice (token 7)", scope=EVERY_TENANT)["status"] == "flagged"


def test_held_alerts_go_out_when_the_hold_passes(rt, flagged):
    item_id = flagged()
    row = reviewed(rt, item_id)
    assert alerts.flush_outbox(rt.settings.database_url, rt.publisher) == 1  # the automatic flag only
    pass_hold(rt, item_id)
    assert alerts.flush_outbox(rt.settings.database_url, rt.publisher) == 1
    assert rt.publisher.sent[-1]["id"] == row.alert_ids[0]


def test_the_publish_task_at_the_windows_end_fans_a_held_alert_out_to_webhooks(rt, flagged):
    webhooks.add(rt.settings.database_url, 1, "https://hooks.example.com/modq", ["item.reviewed"], "test")
    item_id = flagged()
    row = reviewed(rt, item_id)
    assert fanout.released(rt.settings.database_url, rt.dispatcher, row.alert_ids[0]) == []  # still held
    pass_hold(rt, item_id)
    queued = fanout.released(rt.settings.database_url, rt.dispatcher, row.alert_ids[0])
    assert len(queued) == 1 and rt.dispatcher.webhooks[-1:] == queued
    assert fanout.released(rt.settings.database_url, rt.dispatcher, row.alert_ids[0]) == []  # once


def test_with_no_window_a_review_is_sent_at_once(rt, make_settings, flagged):
    rt.settings = make_settings(review_undo_seconds=0)
    item_id = flagged()
    row = reviewed(rt, item_id)
    [alert] = rows(rt, Alert, Alert.id.in_(row.alert_ids))
    assert alert.hold_until is None and rt.dispatcher.delayed == [] and alert.id in rt.dispatcher.alerts
    assert alerts.deliver(alert.id, rt.settings.database_url, rt.publisher)


def test_an_alert_already_sent_is_followed_by_review_undone(rt, flagged):
    item_id = flagged(external_id="post-9")
    row = reviewed(rt, item_id)
    pass_hold(rt, item_id)  # the relay raced the undo and won
    alerts.flush_outbox(rt.settings.database_url, rt.publisher)
    assert rows(rt, Alert, Alert.id == row.alert_ids[0])[0].published_at is not None

    assert undos.undo(rt, item_id, "alice (token 2)", scope=EVERY_TENANT)["followed_up"] is True

    [follow] = rows(rt, Alert, Alert.kind == "undo")
    assert follow.id in rt.dispatcher.alerts and follow.hold_until is None  # at once: an undo is not undone
    assert follow.message["undone_verdict"] == "rejected" and follow.message["verdict"] == "flagged"
    assert follow.message["external_id"] == "post-9" and "alice" not in str(follow.message)
    assert alerts.flush_outbox(rt.settings.database_url, rt.publisher) == 1
    assert rt.publisher.sent[-1]["attributes"]["kind"] == "undo"


def test_a_pending_webhook_delivery_is_cancelled_before_any_attempt(rt, flagged):
    webhooks.add(rt.settings.database_url, 1, "https://hooks.example.com/modq", ["item.reviewed"], "test")
    item_id = flagged()
    row = reviewed(rt, item_id)
    pass_hold(rt, item_id)
    assert len(fanout.sweep(rt.settings.database_url)) == 1  # fanned out, not attempted yet

    assert undos.undo(rt, item_id, "alice (token 2)", scope=EVERY_TENANT)["followed_up"] is False

    [delivery] = rows(rt, WebhookDelivery, WebhookDelivery.alert_id == row.alert_ids[0])
    assert delivery.state == "failed" and delivery.attempts == 0 and delivery.last_error.startswith("cancelled")


def test_undoing_a_rejection_clears_the_subject_flag_it_raised(rt, media_root, fake_provider):
    rt.policy = policy.parse(rt.settings.thresholds.read_text() + RULE)
    ids = []
    for n, confidence in enumerate((95, 95, 70)):  # two rejected automatically, one flagged
        data = jpeg_bytes(width=300 + n, color=(n, 70, 9))
        (media_root / f"u{n}.jpg").write_bytes(data)
        fake_provider.by_key[hashlib.sha256(data).hexdigest()] = labels_for("Hate Symbols", confidence)
        ids.append(service.submit(f"u{n}.jpg", rt=rt, subject_id="u-1", origin=Origin(1, "test")).item_id)
        service.process_image(ids[-1], rt=rt)
    row = reviewed(rt, ids[2], "rejected")  # the third rejection: the subject is flagged
    [flag] = flags(rt)
    assert flag.cleared_at is None and len(row.alert_ids) == 2  # the review's and the flag's, both held

    undos.undo(rt, ids[2], "alice (token 2)", scope=EVERY_TENANT)

    assert flags(rt)[0].cleared_at is not None
    assert all(a.cancelled_at is not None for a in rows(rt, Alert, Alert.id.in_(row.alert_ids)))


def test_undoing_the_decision_of_an_escalated_item_reopens_its_escalation(rt, flagged):
    item_id = flagged()
    review.claim(rt, "alice (token 2)", item_id=item_id)
    escalations.escalate(rt, item_id, "alice (token 2)", "possible minor", scope=EVERY_TENANT)
    review.review(rt, item_id, "root (token 1)", "rejected", "senior: violation", admin=True, scope=EVERY_TENANT)
    [escalation] = rows(rt, Escalation, Escalation.item_id == item_id)
    assert escalation.resolved_by == "root (token 1)"

    undos.undo(rt, item_id, "root (token 1)", scope=EVERY_TENANT)

    [escalation] = rows(rt, Escalation, Escalation.item_id == item_id)
    assert (escalation.resolved_by, escalation.resolved_at) == (None, None)
