"""Statements of reasons (issue 18.1) through the real deciding use cases on SQLite: every restriction (the
automatic decision, a review, an override, an appeal's decision) stores one that the Transparency Database
would accept, mapped and automated as the facts say; an undo withdraws it; approvals store none."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from moderation.domain import policy, taxonomy
from moderation.domain.decisions import APPEAL, AUTOMATIC, OVERRIDE, Decided
from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.domain.transparency_config import BUILT_IN
from moderation.infra.clock import aware, utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review import appeals, override as overrides, services as review, undo as undos
from moderation.review.models import Review
from moderation.tenants import services as tenants
from moderation.transparency import queries, statements as writer
from moderation.transparency.models import Notice, Statement
from tests.fakes.transparency_rules import validate_statement
from tests.transparency_items import statements, tenant_item

REJECT_ALL = """min_confidence: 50
default: {flag: null, reject: 50}
reasons:
  Hate Symbols: [hate-symbol]
  Violence: [violent-act]
"""
ALICE = "alice (token 2)"


@pytest.fixture
def item(rt, media_root, fake_provider):
    def make(label: str | None = "Hate Symbols", confidence: float = 70, tenant_id: int = 1,
             external_id: str | None = None) -> str:
        return tenant_item(rt, media_root, fake_provider, label, confidence, tenant_id, external_id)

    return make


def reviewed(rt, item_id: str, verdict: str = "rejected", reason: str = "hate symbol", **kw) -> Review:
    review.claim(rt, ALICE, item_id=item_id)
    return review.review(rt, item_id, ALICE, verdict, reason, scope=EVERY_TENANT, **kw)


def status(rt, item_id: str) -> str:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id).status


def valid(row: Statement) -> dict:
    assert validate_statement(row.body) == {}, row.body
    assert row.body["puid"] == row.puid
    return row.body


@pytest.mark.parametrize("category", list(taxonomy.TREE))
def test_a_rejection_for_each_top_level_category_is_valid_and_mapped(rt, item, category):
    rt.policy = policy.parse(REJECT_ALL)
    item_id = item(category, 95)
    assert status(rt, item_id) == "rejected"

    [row] = statements(rt, item_id)
    body = valid(row)
    mapped = BUILT_IN[category]
    assert body["category"] == mapped.category
    assert body["category_specification"] == list(mapped.keywords)
    assert f"{category} 95.0%" in body["decision_facts"]
    assert (row.decision, row.state, row.tenant_id, row.hold_until) == ("automatic", "pending", 1, None)
    assert body["content_type"] == ["CONTENT_TYPE_IMAGE"]


def test_an_automatic_rejection_is_fully_automated(rt, item):
    item_id = item("Hate Symbols", 95)  # the default thresholds reject at 90
    [row] = statements(rt, item_id)
    body = valid(row)
    assert (body["automated_detection"], body["automated_decision"]) == ("Yes", "AUTOMATED_DECISION_FULLY")
    assert body["source_type"] == "SOURCE_VOLUNTARY"
    with transaction(rt.settings.database_url) as s:
        decision = s.scalar(select(m.Decision).where(m.Decision.item_id == item_id))
        created = aware(s.get(m.Item, item_id).created_at)
    assert row.decision_ref == f"d{decision.id}" and row.puid == f"default_{item_id}_d{decision.id}"
    assert f"Policy version {decision.policy_version}." in body["decision_facts"]
    assert body["content_date"] == created.date().isoformat()
    assert "without human review" in body["decision_facts"]


def test_a_reviewer_confirming_a_flag_is_partially_automated_and_held_for_the_undo_window(rt, item):
    item_id = item("Hate Symbols", 70)  # flagged
    assert statements(rt, item_id) == []  # a flag restricts nothing yet
    row = reviewed(rt, item_id, reason="a swastika on the flag")

    [stored] = statements(rt, item_id)
    body = valid(stored)
    assert (body["automated_detection"], body["automated_decision"]) == ("Yes", "AUTOMATED_DECISION_PARTIALLY")
    assert (stored.decision, stored.decision_ref) == ("review", f"r{row.id}")
    assert (aware(stored.hold_until) - aware(row.reviewed_at)).total_seconds() == rt.settings.review_undo_seconds
    assert "Reviewer's reason: a swastika on the flag" in body["decision_facts"]
    assert body["category"] == "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"


@pytest.mark.parametrize("trusted, source", [(False, "SOURCE_ARTICLE_16"), (True, "SOURCE_TRUSTED_FLAGGER")])
def test_a_reviewer_rejecting_what_the_model_approved_on_a_notice_is_not_automated(rt, item, trusted, source):
    rt.policy = policy.parse(REJECT_ALL.replace("reject: 50", "reject: 99"))
    item_id = item(None)  # the model found nothing
    assert status(rt, item_id) == "approved"
    with transaction(rt.settings.database_url) as s:  # what a notice does (issue 18.4): before a person again
        s.add(Notice(tenant_id=1, item_id=item_id, explanation="this glorifies violence", good_faith=True,
                     trusted_flagger=trusted, filed_by="forum (token 1)"))
        s.execute(update(m.Item).where(m.Item.id == item_id).values(status="flagged"))
    review.review(rt, item_id, "root (token 1)", "rejected", "glorifies an attack", admin=True,
                  scope=EVERY_TENANT, reason_code="violent-act")

    [stored] = statements(rt, item_id)
    body = valid(stored)
    assert (body["automated_detection"], body["automated_decision"]) == ("No", "AUTOMATED_DECISION_NOT_AUTOMATED")
    assert body["category"] == "STATEMENT_CATEGORY_VIOLENCE"  # from the reviewer's reason code
    assert body["source_type"] == source  # notices.source_for
    assert "Detected automatically" not in body["decision_facts"]
    assert "(reason code: violent-act)" in body["decision_facts"]


def test_an_override_to_rejected_stores_one_and_the_approval_none(rt, item):
    item_id = item("Hate Symbols", 70)
    reviewed(rt, item_id, "approved", "a historical photo")
    assert statements(rt, item_id) == []  # approvals restrict nothing

    overrides.override(rt, item_id, "root (token 1)", "rejected", "not historical: propaganda", scope=EVERY_TENANT)

    [stored] = statements(rt, item_id)
    body = valid(stored)
    assert stored.decision == "override" and stored.decision_ref.startswith("o")
    assert body["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"  # the model had flagged it
    assert "not historical: propaganda" in body["decision_facts"]


def test_an_upheld_appeal_of_a_rejection_restricts_again_with_its_own_statement(rt, item):
    item_id = item("Hate Symbols", 95)  # rejected automatically
    appeal = appeals.file(rt, item_id, "it is satire", None, "forum (token 1)", scope=EVERY_TENANT)
    appeals.decide(rt, appeal["id"], ALICE, "upheld", None, "not satire", scope=EVERY_TENANT)

    automatic, upheld = statements(rt, item_id)
    assert (automatic.decision, upheld.decision, upheld.decision_ref) == ("automatic", "appeal", f"p{appeal['id']}")
    body = valid(upheld)
    assert body["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"
    assert automatic.puid != upheld.puid
    assert queries.latest_for_item(rt.settings.database_url, item_id, EVERY_TENANT)["puid"] == upheld.puid


def test_an_overturned_appeal_of_an_approval_stores_one_and_an_overturn_to_approved_none(rt, item):
    approved = item("Hate Symbols", 70)
    reviewed(rt, approved, "approved", "fine")
    appeal = appeals.file(rt, approved, "it is a hate symbol", None, "forum (token 1)", scope=EVERY_TENANT)
    appeals.decide(rt, appeal["id"], "bob (token 3)", "overturned", "rejected", "it is", scope=EVERY_TENANT)
    [stored] = statements(rt, approved)
    assert stored.decision == "appeal" and valid(stored)["decision_ground"]

    rejected = item("Hate Symbols", 95)
    appeal = appeals.file(rt, rejected, "satire", None, "forum (token 1)", scope=EVERY_TENANT)
    appeals.decide(rt, appeal["id"], ALICE, "overturned", "approved", "satire indeed", scope=EVERY_TENANT)
    assert [s.decision for s in statements(rt, rejected)] == ["automatic"]  # the lifting restricts nothing


def test_an_undo_within_the_window_withdraws_the_reviews_statement_and_a_new_review_writes_one(rt, item):
    item_id = item("Hate Symbols", 70)
    reviewed(rt, item_id)
    [pending] = statements(rt, item_id)
    assert pending.state == "pending"

    undos.undo(rt, item_id, ALICE, scope=EVERY_TENANT)

    [withdrawn] = statements(rt, item_id)
    assert withdrawn.state == "withdrawn"
    assert queries.latest_for_item(rt.settings.database_url, item_id, EVERY_TENANT) is None
    again = review.review(rt, item_id, ALICE, "rejected", "looked again", scope=EVERY_TENANT)
    live = [s for s in statements(rt, item_id) if s.state == "pending"]
    assert [s.decision_ref for s in live] == [f"r{again.id}"]  # SQLite may reuse the undone review's id
    assert "looked again" in valid(live[0])["decision_facts"]


def test_lifting_a_restriction_within_its_hold_withdraws_the_held_statement_only(rt, item):
    """``supersede`` (for ``services.on_decision`` to call on a decision that is no restriction)."""
    held, past = item("Hate Symbols", 70), item("Hate Symbols", 70)
    reviewed(rt, held)
    reviewed(rt, past)
    with transaction(rt.settings.database_url) as s:
        s.execute(update(Statement).where(Statement.item_id == past).values(hold_until=utcnow() - timedelta(seconds=1)))
    for item_id, left in ((held, 1), (past, 0)):
        with transaction(rt.settings.database_url) as s:
            lifted = Decided(item_id, "approved", "rejected", OVERRIDE, "o1-1", aware(utcnow()), "root", "museum")
            assert writer.supersede(s, lifted) == left
            assert writer.supersede(s, replace(lifted, verdict="rejected")) == 0  # a restriction lifts nothing
    assert [r.state for r in statements(rt, held)] == ["withdrawn"]
    assert [r.state for r in statements(rt, past)] == ["pending"]


def test_approvals_store_nothing(rt, item):
    automatic = item(None)
    flagged = item("Hate Symbols", 70)
    reviewed(rt, flagged, "approved", "fine")
    assert (status(rt, automatic), status(rt, flagged)) == ("approved", "approved")
    assert statements(rt, automatic) == statements(rt, flagged) == []


def test_another_tenants_data_never_appears_in_decision_facts(rt, item):
    other = tenants.create(rt.settings.database_url, "other", "test")["id"]
    theirs = item("Explicit", 95, tenant_id=other, external_id="post-1")  # rejected: Explicit rejects at 80
    ours = item("Hate Symbols", 95, external_id="post-1")
    reviewed(rt, item("Hate Symbols", 70, tenant_id=other), reason="their-secret-reason from their moderator")

    [mine] = statements(rt, ours)
    [their] = statements(rt, theirs)
    assert (mine.tenant_id, their.tenant_id) == (1, other)
    assert mine.puid.startswith("default_") and their.puid.startswith("other_")
    text = " ".join(str(v) for v in valid(mine).values())
    for leak in (theirs, "Explicit", "their-secret-reason", "other_"):
        assert leak not in text
    assert queries.latest_for_item(rt.settings.database_url, theirs, Scope(tenant_ids=frozenset({1}))) is None


def test_each_decision_has_its_own_puid_and_a_repeated_event_stores_no_second(rt, item):
    item_id = item("Hate Symbols", 95)
    review.review(rt, item_id, "root (token 1)", "rejected", "confirmed", admin=True, scope=EVERY_TENANT)
    assert [r.decision for r in statements(rt, item_id)] == ["automatic"]  # a confirmation restricts nothing new
    appeal = appeals.file(rt, item_id, "please", None, "forum (token 1)", scope=EVERY_TENANT)
    appeals.decide(rt, appeal["id"], "bob (token 3)", "upheld", None, "stands", scope=EVERY_TENANT)

    rows = statements(rt, item_id)
    assert [r.decision for r in rows] == ["automatic", "appeal"]
    assert len({r.puid for r in rows}) == 2
    assert all(valid(r) for r in rows)
    with transaction(rt.settings.database_url) as s:  # the same decision handed on twice
        assert writer.record(s, rt, Decided(item_id, "rejected", "rejected", APPEAL, rows[1].decision_ref,
                                            rows[1].created_at, "bob (token 3)", "stands")) is None
    assert len(statements(rt, item_id)) == 2


@pytest.mark.parametrize("media_type, reasons, says", [
    ("video", [{"label": "Graphic Violence", "confidence": 97.5, "action": "reject", "threshold": 90,
                "rule": "Graphic Violence", "text": "...", "timestamps_ms": [3250], "first_ms": 3250}],
     "Graphic Violence 97.5% (at 0:03)"),
    ("image", [{"label": "Explicit", "confidence": 88.0, "action": "reject", "threshold": 80, "rule": "Explicit",
                "text": "...", "frame_index": 4, "offset_ms": 400}], "Explicit 88.0% (frame 4 at 0:00)"),
    ("image", [{"kind": "bank", "bank_entry": 3, "verdict": "rejected", "distance": 0,
                "text": "hash bank entry #3 (rejected, same content): note from /srv/banks/x.txt"}],
     "matched a hash bank"),
])
def test_where_in_the_media_and_a_bank_match_are_told(rt, media_type, reasons, says):
    """Decisions as the video, animation and bank paths store them (their reasons), read back by ``record``."""
    now = aware(utcnow())
    with transaction(rt.settings.database_url) as s:
        s.add(m.Item(id="clip-1", tenant_id=1, media_uri="clip.mp4", media_type=media_type, status="rejected",
                     verdict="rejected", policy_version="abc123"))
        s.flush()
        s.add(m.Decision(item_id="clip-1", verdict="rejected", reasons=reasons, policy_version="abc123"))
        s.flush()
        row = writer.record(s, rt, Decided("clip-1", "rejected", "processing", AUTOMATIC, "d1", now))

    body = valid(row)
    assert says in body["decision_facts"] and "/srv/banks" not in body["decision_facts"]
    assert body["content_type"] == [f"CONTENT_TYPE_{media_type.upper()}"]
    assert (body["automated_detection"], body["automated_decision"]) == ("Yes", "AUTOMATED_DECISION_FULLY")
