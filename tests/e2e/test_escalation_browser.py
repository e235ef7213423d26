"""Reason codes and escalation in headless Chromium (issue 17.6): the reviewer alice escalates the item she holds
with a note (the review form offers the policy's reason codes); a senior reviewer signs in, sees the Escalated
tab with its count, the queue page with the note and the count per category, claims the item, sees the note,
who and when, and decides it with a reason code. The escalation is resolved; the code is recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.infra.db import transaction
from moderation.review.models import Escalation, Review
from moderation.tenants import tokens
from tests.e2e.conftest import screenshot, sign_in, watched_page
from tests.review_items import decided_item

pytestmark = pytest.mark.e2e
NOTE = "The person in the picture may be a minor: a senior should decide."


def test_a_reviewer_escalates_with_a_note_and_a_senior_decides_with_a_reason_code(console, rt, media_root,
                                                                                  fake_provider, browser):
    base_url, _, page, errors, _ = console
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70, external_id="post-17")

    # alice claims the item: the review form offers the codes of Hate Symbols (what fired) first
    page.goto(base_url + "/")
    page.click("#next-form button[type=submit]")
    page.wait_for_url(f"**/items/{item_id}")
    codes = page.locator("#reason-code optgroup").first
    assert codes.get_attribute("label") == "Hate Symbols"
    assert codes.locator("option").all_inner_texts() == ["hate-symbol", "extremist-propaganda", "educational-context"]
    page.keyboard.press("x")  # the key starts the note (a required field: no verdict-like single key sends it)
    assert page.evaluate("document.activeElement.id") == "escalate-note"
    page.keyboard.type(NOTE)
    page.click("#escalate-submit")
    page.wait_for_url(f"**/items/{item_id}")
    assert page.locator("#escalation-title").text_content() == "Escalated"
    assert page.locator("#escalation-note").inner_text() == NOTE
    assert page.locator("#escalate-form").count() == 0 and page.locator("#review-form").count() == 0
    assert page.locator("#nav-escalated").count() == 0  # no Escalated tab for a reviewer
    assert errors == []

    # a senior reviewer: the tab counts 1; the page shows the note and the count per category
    _, secret = tokens.create(rt.settings.database_url, "sam", "senior", created_by="test")
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    senior, senior_errors = watched_page(context)
    senior.goto(base_url + "/login")
    sign_in(senior, base_url, secret)
    assert senior.locator("#nav-escalated").inner_text() == "Escalated (1)"
    senior.click("#nav-escalated")
    senior.wait_for_url("**/escalated")
    rows = senior.locator("#escalated tbody tr")
    assert rows.count() == 1 and rows.first.get_attribute("data-item") == item_id
    assert rows.first.locator(".escalation-note").inner_text() == NOTE
    assert "alice" in rows.first.inner_text()
    backlog = senior.locator("tr[data-category='Hate Symbols / Violence'] .backlog-count")
    assert backlog.inner_text() == "1"
    screenshot(senior, "console-escalated", full_page=True)

    # claims it, sees who escalated it and why, decides with a reason code
    senior.click("#next-escalated-form button[type=submit]")
    senior.wait_for_url(f"**/items/{item_id}")
    assert senior.locator("#escalation-note").inner_text() == NOTE
    assert senior.locator("#escalated-by").inner_text().startswith("alice (token ")
    assert senior.locator("#escalated-at").inner_text().endswith(" ago")
    assert senior.locator("#escalation").evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
    senior.select_option("#reason-code", "hate-symbol")
    senior.fill("#reason", "swastika on the flag; not a minor")
    screenshot(senior, "console-escalated-item", full_page=True)
    senior.click("#review-form button[value=rejected]")
    senior.wait_for_url("**/?notice=empty*")
    assert senior.locator("#nav-escalated").inner_text() == "Escalated (0)"
    senior.goto(f"{base_url}/items/{item_id}")
    assert senior.locator("#escalation-title").text_content() == "Escalation decided"
    assert senior.locator("#review-code").inner_text() == "hate-symbol"
    assert senior_errors == []
    context.close()

    with transaction(rt.settings.database_url) as s:
        review = s.scalars(select(Review).where(Review.item_id == item_id)).one()
        escalation = s.scalars(select(Escalation).where(Escalation.item_id == item_id)).one()
    assert (review.verdict, review.reason_code) == ("rejected", "hate-symbol")
    assert review.reviewer.startswith("sam (token ") and escalation.resolved_by == review.reviewer
    assert escalation.escalated_by.startswith("alice (token ") and escalation.note == NOTE
