"""Escalation and reason codes as use cases on SQLite (issue 17.6): who may escalate what, the two queues kept
apart (lists, claims, counts), the escalated queue's order, deciding resolves, and a review's reason code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from moderation.alerts.models import Alert
from moderation.domain import policy
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review import backlog, escalations, keyset, views
from moderation.review import services as review
from moderation.review.models import Escalation, Review
from moderation.review.queries import QueueFilter
from tests.review_items import decided_item

ESCALATED = QueueFilter(escalated=True)
NOTE = "Possible minor in the picture: a senior should decide."


@pytest.fixture
def flagged(rt, media_root, fake_provider):
    def make(label="Hate Symbols", confidence=70):
        return decided_item(rt, media_root, fake_provider, label, confidence)

    return make


@pytest.fixture
def held(rt, flagged):
    """A flagged item alice holds the lease on."""
    def make(label="Hate Symbols") -> str:
        item_id = flagged(label)
        assert review.claim(rt, "alice", item_id=item_id).item_id == item_id
        return item_id

    return make


def item(rt, item_id: str) -> m.Item:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id)


def rows(rt, model, item_id: str) -> list:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(model).where(model.item_id == item_id)))


def last_event(rt, item_id: str) -> tuple:
    with transaction(rt.settings.database_url) as s:
        e = s.scalars(select(m.AuditEvent).where(m.AuditEvent.item_id == item_id).order_by(m.AuditEvent.id.desc())).first()
        return e.action, e.actor, e.reason


def ids(rt, f: QueueFilter) -> list[str]:
    return [i.id for i in review.queue(rt, f)]


def test_the_lease_holder_escalates_and_the_item_moves_to_the_escalated_queue(rt, held, flagged):
    item_id, other = held(), flagged()
    shown = escalations.escalate(rt, item_id, "alice", f"  {NOTE}\n", scope=EVERY_TENANT)
    assert (shown["note"], shown["escalated_by"], shown["open"]) == (NOTE, "alice", True)
    row = item(rt, item_id)
    assert row.escalated_at is not None and row.lease_owner is None and row.status == "flagged"
    assert last_event(rt, item_id) == ("escalate", "alice", NOTE)
    assert [(e.note, e.tenant_id, e.resolved_at) for e in rows(rt, Escalation, item_id)] == [(NOTE, row.tenant_id, None)]
    # the reviewers' queue, its claims and its counts leave it out; the escalated queue has only it
    assert ids(rt, QueueFilter()) == [other] and ids(rt, ESCALATED) == [item_id]
    assert review.claim(rt, "bob", item_id=item_id) is None
    assert review.claim(rt, "bob").item_id == other
    url, ranks = rt.settings.database_url, rt.active_policy().priorities
    assert sum(c["count"] for c in backlog.by_category(url, ranks, scope=EVERY_TENANT)) == 1
    assert backlog.by_category(url, ranks, scope=EVERY_TENANT, escalated=True) == [
        {"category": "Hate Symbols / Violence", "rank": 2, "count": 1, "oldest_seconds": pytest.approx(0, abs=60)}]
    with transaction(url) as s:  # the metric still counts every item awaiting a person
        assert sum(r[2] for r in s.execute(backlog.query()).all()) == 2
    assert escalations.waiting(rt, scope=EVERY_TENANT) == 1


@pytest.mark.parametrize("note, message", [
    ("", "note: say why"), ("   \n ", "note: say why"), (None, "note: say why"),
    ("x" * 1001, "at most 1000 characters"), ("bell \x07", "control characters"), ("nul \x00", "control characters"),
    ("lone \ud800", "control characters"), (42, "note: say why"),
])
def test_a_bad_note_is_refused_naming_it_and_nothing_is_stored(rt, held, note, message):
    item_id = held()
    with pytest.raises(BadInput, match=message) as info:
        escalations.escalate(rt, item_id, "alice", note, scope=EVERY_TENANT)
    assert str(info.value).startswith("note:")
    assert item(rt, item_id).escalated_at is None and item(rt, item_id).lease_owner == "alice"
    assert rows(rt, Escalation, item_id) == [] and last_event(rt, item_id)[0] == "claim"


def test_a_note_of_1000_characters_with_newlines_is_kept(rt, held):
    note = ("line\n\t" * 200)[:1000]
    assert escalations.escalate(rt, held(), "alice", note, scope=EVERY_TENANT)["note"] == note.strip()


def test_a_reviewer_must_hold_the_lease_a_senior_need_not(rt, held, flagged):
    free, leased = flagged(), held()
    with pytest.raises(review.Conflict, match="you hold no lease"):
        escalations.escalate(rt, free, "bob", NOTE, scope=EVERY_TENANT)
    with pytest.raises(review.Conflict, match="leased to alice"):
        escalations.escalate(rt, leased, "bob", NOTE, scope=EVERY_TENANT)
    assert rows(rt, Escalation, leased) == []
    escalations.escalate(rt, leased, "carol", NOTE, scope=EVERY_TENANT, senior=True)  # alice's lease ends
    assert item(rt, leased).lease_owner is None
    assert last_event(rt, leased) == ("escalate", "carol", f"{NOTE} (lease of alice ended)")
    escalations.escalate(rt, free, "carol", NOTE, scope=EVERY_TENANT, senior=True)
    assert set(ids(rt, ESCALATED)) == {free, leased}


def test_only_an_item_awaiting_review_and_not_escalated_can_be_escalated(rt, held, flagged, media_root,
                                                                        fake_provider):
    item_id = held()
    escalations.escalate(rt, item_id, "alice", NOTE, scope=EVERY_TENANT)
    with pytest.raises(review.Conflict, match="already escalated"):
        escalations.escalate(rt, item_id, "carol", "again", scope=EVERY_TENANT, senior=True)
    approved = decided_item(rt, media_root, fake_provider, None)
    with pytest.raises(review.Conflict, match="not awaiting review"):
        escalations.escalate(rt, approved, "carol", NOTE, scope=EVERY_TENANT, senior=True)
    reviewed = flagged()
    review.review(rt, reviewed, "root", "approved", "fine", admin=True)
    with pytest.raises(review.Conflict, match="not awaiting review"):
        escalations.escalate(rt, reviewed, "carol", NOTE, scope=EVERY_TENANT, senior=True)
    assert len(rows(rt, Escalation, item_id)) == 1


def test_another_tenant_s_item_is_not_found_like_a_missing_one(rt, held):
    item_id = held()
    other_tenant = Scope(frozenset({item(rt, item_id).tenant_id + 1}))
    for ref in (item_id, "no-such-item"):
        with pytest.raises(review.NotFound, match="no item"):
            escalations.escalate(rt, ref, "alice", NOTE, scope=other_tenant, senior=True)
    assert item(rt, item_id).escalated_at is None


def test_the_escalated_queue_is_by_priority_then_escalation_time_and_pages_by_cursor(rt, flagged):
    older, newer, urgent = flagged("Hate Symbols"), flagged("Hate Symbols"), flagged("Self-Harm", 60)
    with transaction(rt.settings.database_url) as s:
        s.execute(update(m.Item).where(m.Item.id == older).values(created_at=utcnow() - timedelta(hours=5)))
    for item_id in (newer, older, urgent):  # escalated in this order: newer before older
        escalations.escalate(rt, item_id, "carol", NOTE, scope=EVERY_TENANT, senior=True)
    assert ids(rt, ESCALATED) == [urgent, newer, older]  # Self-Harm (1) first, then by escalation time
    rows_, cursor = backlog.page(rt, ESCALATED, 2)
    assert [r["id"] for r in rows_] == [urgent, newer] and rows_[0]["escalation"]["note"] == NOTE
    assert [r["id"] for r in backlog.page(rt, ESCALATED, 2, after=keyset.decode(cursor))[0]] == [older]
    assert ids(rt, QueueFilter()) == [] and ids(rt, QueueFilter(verdict="rejected")) == []


def test_the_escalated_queue_holds_either_verdict(rt, flagged):
    rejected = flagged("Hate Symbols", 95)  # reject 90: rejected automatically, still reviewable
    escalations.escalate(rt, rejected, "carol", NOTE, scope=EVERY_TENANT, senior=True)
    assert ids(rt, ESCALATED) == [rejected] and ids(rt, QueueFilter(verdict="rejected")) == []


def test_only_a_senior_s_claim_or_an_admin_decides_and_deciding_resolves(rt, held):
    item_id = held()
    escalations.escalate(rt, item_id, "alice", NOTE, scope=EVERY_TENANT)
    with pytest.raises(review.Conflict, match="escalated: a senior reviewer or an admin"):
        review.review(rt, item_id, "alice", "rejected", "it is bad")
    assert review.claim(rt, "carol", ESCALATED).item_id == item_id  # the adapters let seniors only ask for it
    review.review(rt, item_id, "carol", "rejected", "minor: removed", reason_code="hate-symbol")
    [esc] = rows(rt, Escalation, item_id)
    assert esc.resolved_by == "carol" and esc.resolved_at is not None
    assert ids(rt, ESCALATED) == [] and escalations.waiting(rt, scope=EVERY_TENANT) == 0
    with transaction(rt.settings.database_url) as s:
        shown = views.detail(s, s.get(m.Item, item_id))
        hidden = views.detail(s, s.get(m.Item, item_id), with_reviewer=False)
    assert shown["escalation"] == {"escalated_at": shown["escalation"]["escalated_at"], "open": False,
                                   "resolved_at": shown["escalation"]["resolved_at"], "note": NOTE,
                                   "escalated_by": "alice", "resolved_by": "carol"}
    assert set(hidden["escalation"]) == {"escalated_at", "resolved_at", "open"}  # no note, no names
    assert shown["review"]["reason_code"] == "hate-symbol"


def test_an_admin_decides_an_escalated_item_without_a_claim(rt, held):
    item_id = held()
    escalations.escalate(rt, item_id, "alice", NOTE, scope=EVERY_TENANT)
    review.review(rt, item_id, "root", "approved", "fine", admin=True)
    assert rows(rt, Escalation, item_id)[0].resolved_by == "root"


def test_a_reason_code_is_stored_and_sent(rt, held):
    item_id = held()
    review.review(rt, item_id, "alice", "rejected", "swastika on a flag", reason_code="hate-symbol")
    assert rows(rt, Review, item_id)[0].reason_code == "hate-symbol"
    with transaction(rt.settings.database_url) as s:
        alert = s.scalars(select(Alert).where(Alert.item_id == item_id, Alert.kind == "review")).one()
    assert alert.message["reason_code"] == "hate-symbol"


def test_any_category_s_code_is_accepted_not_only_those_that_fired(rt, held):
    item_id = held("Hate Symbols")
    review.review(rt, item_id, "alice", "rejected", "it is gore, in fact", reason_code="gore")
    assert rows(rt, Review, item_id)[0].reason_code == "gore"


@pytest.mark.parametrize("code, message", [
    ("not-a-code", "unknown code 'not-a-code'"), ("Hate-Symbol", "is not a reason code"),
    ("hate symbol", "is not a reason code"), ("", "is not a reason code"), ("x" * 65, "is not a reason code"),
])
def test_an_unknown_code_is_refused_naming_reason_code_and_nothing_is_recorded(rt, held, code, message):
    item_id = held()
    with pytest.raises(BadInput, match=message) as info:
        review.review(rt, item_id, "alice", "rejected", "swastika", reason_code=code)
    assert str(info.value).startswith("reason_code:")
    assert rows(rt, Review, item_id) == [] and item(rt, item_id).status == "flagged"
    with transaction(rt.settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(Alert).where(Alert.kind == "review")) == 0


def test_without_a_reasons_section_no_code_is_accepted_but_free_text_is(rt, held):
    rt.policy = policy.parse("min_confidence: 50\ndefault: {flag: 60, reject: null}\n")
    item_id = held()
    with pytest.raises(BadInput, match="none: the policy has no reasons section"):
        review.review(rt, item_id, "alice", "rejected", "swastika", reason_code="hate-symbol")
    review.review(rt, item_id, "alice", "rejected", "swastika")
    assert rows(rt, Review, item_id)[0].reason_code is None


def test_a_missing_item_with_a_code_is_not_found(rt):
    with pytest.raises(review.NotFound):
        review.review(rt, "no-such-item", "root", "rejected", "x", admin=True, reason_code="hate-symbol")
