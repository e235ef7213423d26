"""Bulk actions in headless Chromium (issue 17.4): a reviewer selects rows and rejects them with one reason; an
admin selects "all matching this filter", sees the count, confirms in the page, and every item is decided but
the one leased to someone else, which is reported skipped. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from moderation.alerts.models import Alert
from moderation.api.app import create_app
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review import services as review
from moderation.review.models import Review
from moderation.tenants import tokens
from tests.e2e.conftest import screenshot, sign_in, watched_page
from tests.live_server import serve
from tests.review_items import decided_item

pytestmark = pytest.mark.e2e


def decided(rt, item_id: str) -> tuple:
    """(status, [(action, actor, reason) of its review audit entries], review alerts)."""
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        audit = [(e.action, e.actor.split(" (")[0], e.reason) for e in s.scalars(
            select(m.AuditEvent).where(m.AuditEvent.item_id == item_id, m.AuditEvent.action == "review"))]
        alerts = len(s.scalars(select(Alert).where(Alert.item_id == item_id, Alert.kind == "review")).all())
        return item.status, audit, alerts


def test_a_reviewer_selects_two_rows_and_rejects_them_with_one_reason(rt, media_root, fake_provider, console):
    first, second, third = (decided_item(rt, media_root, fake_provider, external_id=f"post-{n}") for n in (1, 2, 3))
    base_url, _, page, errors, _ = console
    page.goto(base_url + "/")
    assert page.locator("#bulk-controls").is_hidden()  # nothing selected: no verdict buttons
    assert page.locator("#bulk-all").count() == 0  # "all matching" is for admins
    page.get_by_label("Select item " + first[:8]).check()
    page.get_by_label("Select item " + third[:8]).check()
    assert page.locator("#bulk-selected").inner_text() == "2 items selected on this page."
    assert page.locator("#bulk-controls").is_visible()
    assert page.get_by_label("Select all on this page").evaluate("box => box.indeterminate")
    page.get_by_label("Reason for every item").fill("spam wave")
    page.select_option("#bulk-reason-code", "hate-symbol")  # the policy's reason codes, as on the item page
    page.evaluate("window.sent = 0; document.getElementById('bulk-form').addEventListener('submit', () => sent++)")
    page.get_by_label("Reason for every item").press("Enter")  # Enter decides nothing: the verdict is a choice
    assert page.evaluate("window.sent") == 0
    page.get_by_role("button", name="Reject selected").click()
    page.wait_for_url(re.compile(r".*bulk=rejected.*"))
    assert page.locator("#bulk-notice").inner_text() == "2 rejected"
    assert page.locator(".bulk-pick").count() == 1  # the queue now holds the one left
    for item_id in (first, third):
        assert decided(rt, item_id) == ("rejected", [("review", "alice", "spam wave")], 1)
        assert code_of(rt, item_id) == "hate-symbol"
    assert decided(rt, second) == ("flagged", [], 0)
    assert errors == []


def test_an_admin_decides_all_matching_after_a_confirmation_and_a_leased_item_is_skipped(rt, media_root,
                                                                                       fake_provider, browser):
    items = [decided_item(rt, media_root, fake_provider, external_id=f"post-{n}") for n in range(4)]
    review.claim(rt, "bob", item_id=items[1])  # bob is looking at this one: a bulk action must not take it
    _, admin = tokens.create(rt.settings.database_url, "root", "admin", created_by="test")
    with serve(create_app(rt, health_checks={})) as base_url:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page, errors = watched_page(context)
        page.goto(base_url + "/login")
        sign_in(page, base_url, admin)
        all_matching = page.locator("#bulk-all")
        all_matching.wait_for(state="visible")  # once the count is in
        assert all_matching.inner_text() == "Select all 4 matching this filter"

        # the count changes between selecting and confirming: refused, nothing decided
        all_matching.click()
        assert page.locator("#bulk-selected").inner_text() == "All 4 items matching this filter are selected."
        late = decided_item(rt, media_root, fake_provider, external_id="post-late")
        page.get_by_label("Reason for every item").fill("old policy: false positives")
        page.get_by_role("button", name="Approve all matching").click()
        page.get_by_role("button", name="Approve 4 items").click()
        page.wait_for_url(re.compile(r".*bulk_error=expected_count.*"))
        assert page.locator("#bulk-notice").inner_text() == (
            "Nothing was decided. The filter matches 5 items now, not the 4 you confirmed.")
        assert all(decided(rt, i)[0] == "flagged" for i in [*items, late])

        # again, with the count as it is: the confirmation names it, Cancel sends nothing
        page.goto(base_url + "/")
        all_matching.wait_for(state="visible")
        assert all_matching.inner_text() == "Select all 5 matching this filter"
        all_matching.click()
        shown = page.url
        assert page.locator(".bulk-pick:checked").count() == 5
        page.get_by_label("Reason for every item").fill("old policy: false positives")
        page.get_by_role("button", name="Approve all matching").click()
        dialog = page.get_by_role("alertdialog")
        assert dialog.is_visible()
        assert dialog.locator("p").inner_text() == (
            "Approve all 5 items matching this filter with the reason “old policy: false positives”? "
            "Items leased to someone else are skipped.")
        assert page.evaluate("document.activeElement.id") == "bulk-confirm-yes"
        screenshot(page, "console-bulk")
        dialog.get_by_role("button", name="Cancel").click()
        assert dialog.is_hidden() and page.url == shown
        assert all(decided(rt, i)[0] == "flagged" for i in [*items, late])

        page.get_by_role("button", name="Approve all matching").click()
        dialog.get_by_role("button", name="Approve 5 items").click()
        page.wait_for_url(re.compile(r".*bulk=approved.*"))
        assert page.locator("#bulk-notice").inner_text() == "4 approved, 1 skipped (1 leased to someone else)"
        assert [row.inner_text() for row in page.locator("table.queue tbody tr td:nth-child(4)").all()] == ["post-1"]
        screenshot(page, "console-bulk-done")
        assert errors == []
        context.close()
    for item_id in [items[0], *items[2:], late]:
        assert decided(rt, item_id) == ("approved", [("review", "root", "old policy: false positives")], 1)
    assert decided(rt, items[1]) == ("flagged", [], 0)


def code_of(rt, item_id: str) -> str | None:
    with transaction(rt.settings.database_url) as s:
        return s.scalar(select(Review.reason_code).where(Review.item_id == item_id))
