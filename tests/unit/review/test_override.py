"""Override (issue 17.2) on SQLite: an admin replaces a recorded review's verdict with a reason; audited, an
``override`` event, the subject rule and the bank follow the new verdict; refused without a review or a change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.alerts.models import Alert
from moderation.items.banks.models import BankEntry
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review import override as overrides, services as review
from moderation.review.models import Review
from tests.review_items import decided_item


@pytest.fixture
def flagged(rt, media_root, fake_provider):
    def make(label="Hate Symbols", confidence=70, **kw):
        return decided_item(rt, media_root, fake_provider, label, confidence, **kw)

    return make


def reviewed(rt, item_id: str, verdict: str = "rejected") -> Review:
    review.claim(rt, "alice", item_id=item_id)
    return review.review(rt, item_id, "alice", verdict, "hate symbol", scope=EVERY_TENANT)


def one(rt, model, *where):
    with transaction(rt.settings.database_url) as s:
        return s.scalars(select(model).where(*where).order_by(model.id.desc())).first()


@pytest.mark.parametrize("first, then", [("rejected", "approved"), ("approved", "rejected")])
def test_an_override_changes_the_verdict_records_it_and_sends_an_event(rt, make_settings, flagged, first, then):
    rt.settings = make_settings(bank_reviewer_rejections=True)
    item_id = flagged(external_id="post-3")
    row = reviewed(rt, item_id, first)

    done = overrides.override(rt, item_id, "root (token 1)", then, "  museum context  ", scope=EVERY_TENANT)

    assert (done["previous_verdict"], done["verdict"], done["reason"]) == (first, then, "museum context")
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        assert (item.status, item.verdict) == (then, then)
        stored = s.scalar(select(Review).where(Review.item_id == item_id))
        assert (stored.verdict, stored.reason, stored.reviewer) == (then, "museum context", "alice")
        assert (stored.overridden_from, stored.overridden_by) == (first, "root (token 1)")
        assert stored.overridden_at is not None
        last = s.scalars(select(m.AuditEvent).where(m.AuditEvent.item_id == item_id)
                         .order_by(m.AuditEvent.id.desc())).first()
        assert (last.action, last.actor, last.from_status, last.to_status) == ("override", "root (token 1)", first,
                                                                               then)
        assert last.reason == f"override of the {first} review by alice: museum context"
    alert = one(rt, Alert, Alert.kind == "override")
    assert alert.id in rt.dispatcher.alerts and alert.hold_until is None  # sent at once
    assert (alert.message["verdict"], alert.message["previous_verdict"]) == (then, first)
    assert alert.message["reasons"] == ["museum context"] and alert.attributes["kind"] == "override"
    assert "root (token 1)" not in str(alert.message) and "alice" not in str(alert.message)
    held = one(rt, Alert, Alert.id == row.alert_ids[0])
    assert held.cancelled_at is not None  # the review's own event, still held, announced the replaced verdict
    entry = one(rt, BankEntry, BankEntry.source == f"review:{item_id}")
    if then == "rejected":
        assert entry.removed_at is None and entry.added_by == "root (token 1)"
    else:
        assert entry.removed_at is not None  # the rejection's entry goes with it


@pytest.mark.parametrize("case, error, message", [
    ("no review", review.Conflict, "has no recorded review to override"),
    ("same verdict", review.Conflict, "is already rejected; an override must change the verdict"),
    ("bad verdict", BadInput, "^verdict: must be one of approved, rejected"),
    ("blank reason", BadInput, "^reason: a reason of 1-1000 characters"),
    ("long reason", BadInput, "^reason: a reason of 1-1000 characters"),
    ("another tenant", review.NotFound, "no item"),
])
def test_an_override_is_refused_and_changes_nothing(rt, flagged, case, error, message):
    item_id = flagged()
    if case != "no review":
        reviewed(rt, item_id)
    verdict = {"same verdict": "rejected", "bad verdict": "flagged"}.get(case, "approved")
    reason = {"blank reason": "  ", "long reason": "x" * 1001}.get(case, "because")
    scope = Scope(frozenset({2})) if case == "another tenant" else EVERY_TENANT
    with transaction(rt.settings.database_url) as s:
        before = s.get(m.Item, item_id).status
    with pytest.raises(error, match=message):
        overrides.override(rt, item_id, "root", verdict, reason, scope=scope)
    with transaction(rt.settings.database_url) as s:
        assert s.get(m.Item, item_id).status == before
        assert s.scalar(select(m.AuditEvent.id).where(m.AuditEvent.action == "override")) is None
    assert one(rt, Alert, Alert.kind == "override") is None


def test_overridden_back_and_forth_each_override_is_its_own_event(rt, flagged):
    item_id = flagged()
    reviewed(rt, item_id)
    overrides.override(rt, item_id, "root", "approved", "context", scope=EVERY_TENANT)
    overrides.override(rt, item_id, "root", "rejected", "no, it is a violation", scope=EVERY_TENANT)
    with transaction(rt.settings.database_url) as s:
        dedups = list(s.scalars(select(Alert.dedup_id).where(Alert.kind == "override").order_by(Alert.id)))
    assert dedups == [f"{item_id}:override:approved", f"{item_id}:override:rejected"]
    overrides.override(rt, item_id, "root", "approved", "final", scope=EVERY_TENANT)
    assert one(rt, Alert, Alert.kind == "override").dedup_id == f"{item_id}:override:approved:2"
