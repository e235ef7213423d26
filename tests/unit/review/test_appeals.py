"""Appeal use cases without HTTP: who counts as the person who decided, what a statement may hold, and that
no automated actor can decide an appeal."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.items.banks.models import BankEntry
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.db import transaction
from moderation.review import appeals, escalations, override as overrides, services as review
from moderation.review.models import Escalation
from moderation.review.services import Conflict
from tests.review_items import decided_item


@pytest.mark.parametrize("actor, other, same", [
    ("alice (token 2)", "alice (token 9)", True),
    ("alice", "alice (token 2)", True),
    ("cli:alice", "Alice (token 2)", True),
    ("alice (token 2)", "alicia (token 2)", False),
    ("bob (token 3)", "system", False),
    ("system", "system", True),
    ("alice (token 2)", None, False),
])
def test_same_person_by_name_whatever_the_token(actor, other, same):
    assert appeals.same_person(actor, other) is same


def test_a_statement_keeps_newlines_and_refuses_other_control_characters():
    assert appeals.check_statement("line one\nline two\ttabbed") == "line one\nline two\ttabbed"
    for bad in ("", "   \n", "s" * 5001, "bell\x07", "escape\x1b[2J", "nul\x00", "lone \ud800"):
        with pytest.raises(BadInput, match="^statement: "):
            appeals.check_statement(bad)
    assert appeals.check_appellant(None) is None
    for bad in ("", "u" * 256, "tab\there"):
        with pytest.raises(BadInput, match="^appellant: "):
            appeals.check_appellant(bad)


@pytest.mark.parametrize("decider", ["system", "", "System"])
def test_no_automated_actor_decides_an_appeal(rt, media_root, fake_provider, decider):
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 95)  # rejected automatically
    appeal = appeals.file(rt, item_id, "please look again", None, "forum (token 1)", scope=EVERY_TENANT)
    assert appeal["original"]["decided_by"] == "system"
    with pytest.raises(Conflict, match="decided by a person"):
        appeals.decide(rt, appeal["id"], decider, "upheld", None, "stands", scope=EVERY_TENANT)
    assert appeals.get(rt, appeal["id"], scope=EVERY_TENANT)["state"] == "pending"


def test_an_overturned_rejection_takes_its_bank_entry_with_it(rt, make_settings, media_root, fake_provider):
    """A reviewer's rejection banked the content (MODQ_BANK_REVIEWER_REJECTIONS); the appeal that overturns it
    removes that entry, or the next upload of the same bytes would be rejected again by the bank."""
    rt.settings = make_settings(bank_reviewer_rejections=True)
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70)  # flagged
    assert review.claim(rt, "alice (token 2)", item_id=item_id).item_id == item_id
    review.review(rt, item_id, "alice (token 2)", "rejected", "hate symbol", scope=EVERY_TENANT)
    banked = f"review:{item_id}"
    assert [e.removed_at for e in entries(rt, banked)] == [None]
    appeal = appeals.file(rt, item_id, "it is a historical photo", None, "forum (token 1)", scope=EVERY_TENANT)
    appeals.decide(rt, appeal["id"], "bob (token 3)", "overturned", "approved", "museum archive",
                   scope=EVERY_TENANT)
    [entry] = entries(rt, banked)
    assert entry.removed_at is not None


def entries(rt, source: str) -> list[BankEntry]:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(BankEntry).where(BankEntry.source == source)))


def test_an_admin_who_overrode_the_decision_may_not_decide_its_appeal(rt, media_root, fake_provider):
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70)
    assert review.claim(rt, "alice (token 2)", item_id=item_id).item_id == item_id
    review.review(rt, item_id, "alice (token 2)", "rejected", "hate symbol", scope=EVERY_TENANT)
    overrides.override(rt, item_id, "root (token 1)", "approved", "museum context", scope=EVERY_TENANT)
    appeal = appeals.file(rt, item_id, "please look again", None, "forum (token 1)", scope=EVERY_TENANT)
    assert appeal["original"]["decided_by"] == "root (token 1)"  # the verdict appealed is the admin's
    for decider in ("root (token 1)", "alice (token 2)"):
        with pytest.raises(Conflict, match="you made the decision appealed"):
            appeals.decide(rt, appeal["id"], decider, "overturned", "rejected", "no", scope=EVERY_TENANT)
    assert appeals.get(rt, appeal["id"], scope=EVERY_TENANT)["state"] == "pending"


def test_while_an_appeal_is_pending_a_review_is_refused_and_its_decision_ends_an_escalation(rt, media_root,
                                                                                           fake_provider):
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 95)  # rejected: still awaits review
    escalations.escalate(rt, item_id, "sam (token 5)", "possible minor", scope=EVERY_TENANT, senior=True)
    appeal = appeals.file(rt, item_id, "it is a museum photo", None, "forum (token 1)", scope=EVERY_TENANT)
    with pytest.raises(Conflict, match="pending appeal"):
        review.review(rt, item_id, "root (token 1)", "approved", "fine", admin=True, scope=EVERY_TENANT)
    appeals.decide(rt, appeal["id"], "bob (token 3)", "overturned", "approved", "museum", scope=EVERY_TENANT)
    with transaction(rt.settings.database_url) as s:
        [escalation] = s.scalars(select(Escalation).where(Escalation.item_id == item_id)).all()
        assert (escalation.resolved_by, escalation.resolved_at is not None) == ("bob (token 3)", True)
