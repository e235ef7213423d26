"""Bulk review (issue 17.4) on SQLite: each item decided as a single review (own audit entry and alert), items
others hold skipped, every id answered; "all matching" for admins only, refused when the count changed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from moderation.alerts.models import Alert
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import DEFAULT_TENANT_ID, EVERY_TENANT, Scope
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review import bulk as bulk_review
from moderation.review import services as review
from moderation.review.models import Review
from moderation.review.queries import QueueFilter
from moderation.tenants import services as tenants
from tests.review_items import decided_item
from tests.unit.review.test_scope import move

A = Scope(tenant_ids=frozenset({DEFAULT_TENANT_ID}))


@pytest.fixture
def flagged(rt, media_root, fake_provider):
    def make(label="Hate Symbols", confidence=70, **kw):
        return decided_item(rt, media_root, fake_provider, label, confidence, **kw)

    return make


def state(rt, item_id: str) -> tuple:
    """(status, lease owner, review rows, review audit entries, review alerts) of the item."""
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        reviews = s.scalar(select(func.count()).select_from(Review).where(Review.item_id == item_id))
        audits = list(s.scalars(select(m.AuditEvent.actor).where(m.AuditEvent.item_id == item_id,
                                                                 m.AuditEvent.action == "review")))
        sent = s.scalar(select(func.count()).select_from(Alert).where(Alert.item_id == item_id,
                                                                       Alert.kind == "review"))
        return item.status, item.lease_owner, reviews, audits, sent


def outcomes(result) -> dict[str, tuple]:
    return {r.item_id: (r.outcome, r.reason) for r in result.results}


@pytest.fixture
def mixed(rt, flagged):
    """free, held by alice, leased by bob, already reviewed, another tenant's, missing (ids, by name)."""
    b = tenants.create(rt.settings.database_url, "b", "test")["id"]
    ids = {name: flagged() for name in ("free", "mine", "bobs", "done", "theirs")}
    move(rt, ids["theirs"], b)
    review.claim(rt, "alice", QueueFilter(scope=A), item_id=ids["mine"])
    review.claim(rt, "bob", QueueFilter(scope=A), item_id=ids["bobs"])
    review.review(rt, ids["done"], "carol", "approved", "fine", admin=True)
    ids["missing"] = "no-such-item"
    return ids


def test_each_id_gets_an_outcome_and_each_decided_item_its_own_audit_entry_and_alert(rt, mixed):
    result = bulk_review.bulk(rt, "alice", "rejected", "spam wave", item_ids=list(mixed.values()), admin=False,
                              scope=A)
    assert outcomes(result) == {
        mixed["free"]: ("reviewed", None), mixed["mine"]: ("reviewed", None),
        mixed["bobs"]: ("skipped", "leased"), mixed["done"]: ("skipped", "not_awaiting_review"),
        mixed["theirs"]: ("skipped", "not_found"), mixed["missing"]: ("skipped", "not_found")}
    assert [r.item_id for r in result.results] == list(mixed.values())  # in the order given
    for name in ("free", "mine"):
        assert state(rt, mixed[name]) == ("rejected", None, 1, ["alice"], 1)
    assert state(rt, mixed["bobs"]) == ("flagged", "bob", 0, [], 0)  # bob keeps his item
    assert state(rt, mixed["theirs"])[:3] == ("flagged", None, 0)  # another tenant's: untouched
    body = result.as_dict()
    assert (body["requested"], body["reviewed"], body["skipped"]) == (6, 2, 4)
    assert body["skipped_by_reason"] == {"leased": 1, "not_awaiting_review": 1, "not_found": 2}
    assert result.summary() == ("2 rejected, 4 skipped (1 leased to someone else, 1 not awaiting review, "
                                "2 not found)")


def test_another_tenant_s_item_reads_exactly_as_a_missing_one(rt, mixed):
    result = bulk_review.bulk(rt, "alice", "approved", "ok", item_ids=[mixed["theirs"], "no-such-item"],
                              admin=True, scope=A)
    theirs, missing = result.results
    assert (theirs.outcome, theirs.reason, theirs.detail) == (missing.outcome, missing.reason, missing.detail)


def test_an_admin_s_bulk_does_not_take_items_others_hold_either(rt, mixed):
    result = bulk_review.bulk(rt, "root", "approved", "ok", item_ids=[mixed["bobs"], mixed["free"]], admin=True,
                              scope=EVERY_TENANT)
    assert outcomes(result) == {mixed["bobs"]: ("skipped", "leased"), mixed["free"]: ("reviewed", None)}
    assert state(rt, mixed["bobs"])[:2] == ("flagged", "bob")


def test_an_expired_lease_of_someone_else_does_not_stop_it(rt, flagged):
    item_id = flagged()
    review.claim(rt, "bob", item_id=item_id)
    with transaction(rt.settings.database_url) as s:
        s.get(m.Item, item_id).lease_expires_at = m.Item.created_at  # long past
    result = bulk_review.bulk(rt, "alice", "approved", "ok", item_ids=[item_id], admin=False, scope=A)
    assert outcomes(result) == {item_id: ("reviewed", None)}


def test_duplicate_ids_are_answered_once(rt, flagged):
    item_id = flagged()
    result = bulk_review.bulk(rt, "alice", "approved", "ok", item_ids=[item_id, item_id], admin=False, scope=A)
    assert outcomes(result) == {item_id: ("reviewed", None)} and len(result.results) == 1


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"verdict": "flagged"}, "verdict"), ({"reason": "  "}, "reason"), ({"reason": "x" * 1001}, "reason"),
    ({"item_ids": []}, "item_ids"), ({"item_ids": [f"id-{n}" for n in range(201)]}, "item_ids"),
    ({"item_ids": ["x" * 65]}, "item_ids"), ({"item_ids": None}, "item_ids"),
])
def test_bad_input_names_the_field_and_changes_nothing(rt, flagged, kwargs, field):
    item_id = flagged()
    args = {"verdict": "approved", "reason": "ok", "item_ids": [item_id], **kwargs}
    with pytest.raises(BadInput, match=f"^{field}:"):
        bulk_review.bulk(rt, "alice", args.pop("verdict"), args.pop("reason"), **args, admin=True, scope=A)
    assert state(rt, item_id) == ("flagged", None, 0, [], 0)


def test_ids_and_a_filter_together_are_refused(rt, flagged):
    item_id = flagged()
    with pytest.raises(BadInput, match="not both"):
        bulk_review.bulk(rt, "root", "approved", "ok", item_ids=[item_id], f=QueueFilter(), expected=1,
                         admin=True, scope=A)


def test_all_matching_decides_every_match_and_skips_leased_ones(rt, flagged):
    hate = [flagged("Hate Symbols", 70) for _ in range(3)]
    other = flagged("Graphic Violence", 60)
    review.claim(rt, "bob", item_id=hate[1])
    f = QueueFilter(label="Hate Symbols")
    assert bulk_review.matching(rt, f, A) == 3
    result = bulk_review.bulk(rt, "root", "approved", "false positives", f=f, expected=3, admin=True, scope=A)
    assert outcomes(result) == {hate[0]: ("reviewed", None), hate[1]: ("skipped", "leased"),
                                hate[2]: ("reviewed", None)}
    assert state(rt, other)[0] == "flagged"
    assert result.summary() == "2 approved, 1 skipped (1 leased to someone else)"


def test_all_matching_stays_in_the_scope(rt, flagged):
    b = tenants.create(rt.settings.database_url, "b", "test")["id"]
    ours, theirs = flagged(), flagged()
    move(rt, theirs, b)
    assert bulk_review.matching(rt, QueueFilter(), A) == 1
    result = bulk_review.bulk(rt, "root", "approved", "ok", f=QueueFilter(scope=EVERY_TENANT), expected=1,
                              admin=True, scope=A)  # the scope given wins over the filter's
    assert outcomes(result) == {ours: ("reviewed", None)} and state(rt, theirs)[0] == "flagged"


def test_a_changed_count_is_refused_and_nothing_is_decided(rt, flagged):
    items = [flagged() for _ in range(3)]
    with pytest.raises(review.Conflict, match="now matches 3 items, not the 2 you confirmed"):
        bulk_review.bulk(rt, "root", "rejected", "spam", f=QueueFilter(), expected=2, admin=True, scope=A)
    with pytest.raises(BadInput, match="^expected_count:"):
        bulk_review.bulk(rt, "root", "rejected", "spam", f=QueueFilter(), admin=True, scope=A)
    assert all(state(rt, i) == ("flagged", None, 0, [], 0) for i in items)


def test_only_an_admin_decides_all_matching(rt, flagged):
    item_id = flagged()
    with pytest.raises(bulk_review.Forbidden, match="only an admin"):
        bulk_review.bulk(rt, "alice", "rejected", "spam", f=QueueFilter(), expected=1, admin=False, scope=A)
    assert state(rt, item_id) == ("flagged", None, 0, [], 0)


def test_all_matching_has_a_cap(rt, flagged, monkeypatch):
    monkeypatch.setattr(bulk_review, "MATCHING_MAX", 2)
    items = [flagged() for _ in range(3)]
    with pytest.raises(BadInput, match="over 2 items"):
        bulk_review.bulk(rt, "root", "rejected", "spam", f=QueueFilter(), expected=3, admin=True, scope=A)
    assert all(state(rt, i)[0] == "flagged" for i in items)


def test_items_are_taken_a_batch_at_a_time(rt, flagged, monkeypatch):
    monkeypatch.setattr(bulk_review, "BATCH", 2)
    items = [flagged() for _ in range(5)]
    result = bulk_review.bulk(rt, "alice", "approved", "ok", item_ids=items, admin=False, scope=A)
    assert result.reviewed == 5 and all(state(rt, i)[:2] == ("approved", None) for i in items)


def test_a_failure_part_way_gives_back_the_leases_it_took(rt, flagged, monkeypatch):
    items = [flagged() for _ in range(3)]
    real = review.review
    calls = []

    def failing(rt_, item_id, *args, **kw):
        calls.append(item_id)
        if len(calls) == 2:
            raise OSError("database connection lost")
        return real(rt_, item_id, *args, **kw)

    monkeypatch.setattr(review, "review", failing)
    with pytest.raises(OSError):
        bulk_review.bulk(rt, "alice", "approved", "ok", item_ids=items, admin=False, scope=A)
    assert state(rt, items[0])[:2] == ("approved", None)
    assert [state(rt, i)[:2] for i in items[1:]] == [("flagged", None), ("flagged", None)]


def test_an_item_the_single_review_refuses_is_reported_and_the_others_go_on(rt, flagged, monkeypatch):
    items = [flagged() for _ in range(3)]
    real = review.review

    def picky(rt_, item_id, *args, **kw):
        if item_id == items[1]:
            raise BadInput("reason_code: 'spam' is not a reason code of this item's category")
        return real(rt_, item_id, *args, **kw)

    monkeypatch.setattr(review, "review", picky)
    result = bulk_review.bulk(rt, "alice", "approved", "ok", item_ids=items, admin=False, scope=A)
    assert outcomes(result) == {items[0]: ("reviewed", None), items[1]: ("skipped", "refused"),
                                items[2]: ("reviewed", None)}
    assert "not a reason code" in result.results[1].detail
    assert state(rt, items[1])[:2] == ("flagged", None)  # its lease given back


def test_a_race_lost_after_taking_is_a_skip_and_the_lease_goes_back(rt, flagged, monkeypatch):
    item_id = flagged()

    def decided_meanwhile(*args, **kw):
        raise review.Conflict(f"item {item_id} is not awaiting review (status approved)")

    monkeypatch.setattr(review, "review", decided_meanwhile)
    result = bulk_review.bulk(rt, "alice", "approved", "ok", item_ids=[item_id], admin=False, scope=A)
    assert outcomes(result) == {item_id: ("skipped", "not_awaiting_review")}
    assert state(rt, item_id)[1] is None


def test_an_escalated_item_is_left_to_the_senior_queue(rt, flagged):
    item_id, other = flagged(), flagged()
    with transaction(rt.settings.database_url) as s:
        s.get(m.Item, item_id).escalated_at = s.get(m.Item, item_id).created_at
    result = bulk_review.bulk(rt, "alice", "approved", "ok", item_ids=[item_id, other], admin=False, scope=A)
    assert outcomes(result) == {item_id: ("skipped", "escalated"), other: ("reviewed", None)}
    assert state(rt, item_id) == ("flagged", None, 0, [], 0)
