"""Appeal use cases without HTTP: who counts as the person who decided, what a statement may hold, and that
no automated actor can decide an appeal."""

from __future__ import annotations

import pytest

from moderation.domain.errors import BadInput
from moderation.domain.tenancy import EVERY_TENANT
from moderation.review import appeals
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
