"""``notice_views.notices_of``: an item's notices as a reviewer sees them (issue 18.4 review finding): what was
reported, whether a trusted flagger or a CSAM report, open or answered; never the notifier; nothing outside the
caller's tenants."""

from __future__ import annotations


import pytest

from moderation.domain.tenancy import DEFAULT_TENANT_ID, EVERY_TENANT, Scope
from moderation.review import services as review
from moderation.review.queries import QueueFilter
from moderation.transparency import notice_filing
from moderation.transparency.notice_input import NoticeIn
from moderation.transparency.notice_views import notices_of
from tests.review_items import decided_item
from tests.transparency_items import IWF, trusted_flaggers  # noqa: F401 (an autouse fixture)

OURS = Scope(frozenset({DEFAULT_TENANT_ID}))



@pytest.fixture
def item_id(rt, media_root, fake_provider):
    return decided_item(rt, media_root, fake_provider, None, 70, external_id="post-1")


def file(rt, **fields) -> None:
    notice_filing.file(rt, NoticeIn(external_id="post-1", good_faith=True, **fields), tenant_id=DEFAULT_TENANT_ID,
                       actor="forum-backend")


def test_each_notice_without_its_notifier_oldest_first(rt, item_id):
    file(rt, explanation="first", notifier_name="A. User", notifier_email="a.user@example.org")
    file(rt, explanation="second", notifier_name=IWF, notifier_email="r@iwf.example", trusted_flagger=True)
    file(rt, explanation="third", csam=True)
    found = notices_of(rt.settings.database_url, item_id, scope=OURS)
    assert [(n["explanation"], n["trusted_flagger"], n["csam"], n["state"]) for n in found] == [
        ("first", False, False, "open"), ("second", True, False, "open"), ("third", False, True, "open")]
    assert all(set(n) == {"id", "explanation", "trusted_flagger", "csam", "received_at", "state", "outcome"}
               for n in found)
    assert "A. User" not in str(found) and IWF not in str(found) and "@" not in str(found)


def test_a_decision_answers_them(rt, item_id):
    file(rt, explanation="report", notifier_name="A. User", notifier_email="a.user@example.org")
    review.claim(rt, "alice", QueueFilter(scope=OURS))
    review.review(rt, item_id, "alice", "rejected", "confirmed", scope=OURS)
    [answered] = notices_of(rt.settings.database_url, item_id, scope=EVERY_TENANT)
    assert (answered["state"], answered["outcome"]) == ("answered", "rejected")


def test_none_outside_the_scope_and_none_for_an_unknown_item(rt, item_id):
    file(rt, explanation="report", notifier_name="A. User", notifier_email="a.user@example.org")
    assert notices_of(rt.settings.database_url, item_id, scope=Scope(frozenset({DEFAULT_TENANT_ID + 1}))) == []
    assert notices_of(rt.settings.database_url, "no-such-item", scope=OURS) == []
