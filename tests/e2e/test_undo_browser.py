"""Undo after a verdict (issue 17.2) in headless Chromium: the verdict key opens the next item with a toast
counting the undo window down; Undo (the key u) reopens the item as it was, and nothing the review wrote has
left the outbox. After the window the toast is gone and the server refuses the undo. An admin overrides a
recorded review from its page.

The browser's time moves with Playwright's clock; the server's window is moved in the database to match (the
review recorded earlier). Screenshots go to test-artifacts/ (docs/img with MODQ_DOCS_SCREENSHOTS=1).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from moderation.alerts import services as alerts
from moderation.alerts.models import Alert
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review.models import Review
from moderation.tenants import tokens
from tests.e2e.conftest import screenshot, sign_in, watched_page
from tests.review_items import decided_item

pytestmark = pytest.mark.e2e


def two_items(rt, media_root, fake_provider) -> tuple[str, str]:
    first = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70, external_id="post-1")
    following = decided_item(rt, media_root, fake_provider, "Graphic Violence", 60, external_id="post-2")
    with transaction(rt.settings.database_url) as s:  # first in the queue
        s.execute(update(m.Item).where(m.Item.id == first).values(created_at=utcnow() - timedelta(minutes=30)))
    return first, following


def review_alerts(rt, item_id: str) -> list[Alert]:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(Alert).where(Alert.item_id == item_id, Alert.kind == "review")))


def approve_first(page, base_url: str, first: str, following: str) -> None:
    """Claim the queue's first item, press a, land on the next item with the toast."""
    page.clock.install(time=datetime.now(timezone.utc))  # before the pages load: their timers are Playwright's
    page.goto(f"{base_url}/")
    page.click("#next-form button[type=submit]")
    page.wait_for_url(f"**/items/{first}")
    page.keyboard.press("a")
    page.wait_for_url(f"**/items/{following}?undo={first}")


def test_undo_within_the_window_restores_the_item_and_nothing_is_sent(rt, media_root, fake_provider, console):
    base_url, _, page, errors, _ = console
    first, following = two_items(rt, media_root, fake_provider)
    alerts.flush_outbox(rt.settings.database_url, rt.publisher)  # the automatic flags' alerts
    sent_before = list(rt.publisher.sent)

    approve_first(page, base_url, first, following)
    page.clock.pause_at(datetime.now(timezone.utc) + timedelta(seconds=1))  # from here, time moves when told

    toast = page.locator("#undo-toast")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text(f"You approved item {first[:8]}")
    expect(page.locator("#undo-button")).to_contain_text("Undo")
    shown = int(page.locator("#undo-seconds").inner_text())
    assert 8 <= shown <= 10
    page.clock.run_for(3_000)
    expect(page.locator("#undo-seconds")).to_have_text(str(shown - 3))  # counting down with the clock
    assert toast.get_attribute("role") == "status"
    screenshot(page, "console-undo-toast")
    [held] = review_alerts(rt, first)
    assert held.hold_until is not None and held.published_at is None
    assert (held.id, 11) in rt.dispatcher.delayed  # to be sent when the window closes, not now

    page.keyboard.press("u")
    page.wait_for_url(f"**/items/{first}")

    expect(page.locator("#item-status")).to_have_text("flagged")
    expect(page.locator("#review-form button[value=approved]")).to_be_enabled()
    expect(page.locator("#review-form button[value=rejected]")).to_be_enabled()
    expect(page.locator("#undo-toast")).to_have_count(0)
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, first)
        assert (item.status, item.lease_owner) == ("flagged", "alice (token 1)")
        assert s.scalar(select(Review.id).where(Review.item_id == first)) is None
        assert s.get(m.Item, following).lease_owner is None  # the next item went back to the queue
    [cancelled] = review_alerts(rt, first)
    assert cancelled.cancelled_at is not None and cancelled.published_at is None
    assert alerts.flush_outbox(rt.settings.database_url, rt.publisher) == 0
    assert rt.publisher.sent == sent_before  # nothing about the undone review reached SNS
    screenshot(page, "console-undo-restored")

    # decided again at once, with the other key: recorded, and the toast offers that one's undo
    page.keyboard.press("r")
    page.wait_for_url(f"**/items/{following}?undo={first}")
    expect(page.locator("#undo-toast")).to_contain_text(f"You rejected item {first[:8]}")
    assert errors == []


def test_after_the_window_the_toast_is_gone_and_undo_is_refused(rt, media_root, fake_provider, console):
    base_url, _, page, errors, _ = console
    first, following = two_items(rt, media_root, fake_provider)

    approve_first(page, base_url, first, following)
    expect(page.locator("#undo-toast")).to_be_visible()
    csrf = page.locator("#undo-form input[name=csrf]").get_attribute("value")

    page.clock.run_for(11_000)  # the browser's window closes...
    with transaction(rt.settings.database_url) as s:  # ...and the server's: the review recorded 11 s ago
        s.execute(update(Review).where(Review.item_id == first)
                  .values(reviewed_at=utcnow() - timedelta(seconds=11)))
    expect(page.locator("#undo-toast")).to_be_hidden()
    # nothing: the toast is gone (a submission would start inside the key's handler, run when press() returns)
    page.evaluate("() => { window.submitted = false; document.addEventListener('submit', () => "
                  "{ window.submitted = true; }, true); }")
    page.keyboard.press("u")
    assert page.evaluate("() => window.submitted") is False
    assert page.url.endswith(f"/items/{following}?undo={first}")

    refused = page.request.post(f"{base_url}/items/{first}/undo", form={"csrf": csrf})
    assert refused.status == 409
    assert "the undo window of 10 s (MODQ_REVIEW_UNDO_SECONDS) closed" in refused.text()
    page.reload()
    expect(page.locator("#undo-toast")).to_have_count(0)  # the server no longer offers it
    with transaction(rt.settings.database_url) as s:
        assert s.get(m.Item, first).status == "approved"
    assert errors == []


def test_an_admin_overrides_a_recorded_review(rt, media_root, fake_provider, browser, console):
    base_url, _, page, errors, _ = console
    first, following = two_items(rt, media_root, fake_provider)
    approve_first(page, base_url, first, following)
    expect(page.locator("#override-form")).to_have_count(0)  # reviewers get no override form

    _, root = tokens.create(rt.settings.database_url, "root", "admin", created_by="test")
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    admin, admin_errors = watched_page(context)
    admin.goto(base_url + "/login")
    sign_in(admin, base_url, root)
    admin.goto(f"{base_url}/items/{first}")
    expect(admin.locator("#review-outcome")).to_contain_text("approved")
    admin.click("#override summary")
    admin.fill("#override-reason", "the flag is a hate symbol after all")
    screenshot(admin, "console-override", full_page=True)
    admin.click("#override-submit")
    admin.wait_for_url(f"**/items/{first}")
    expect(admin.locator("#item-status")).to_have_text("rejected")
    expect(admin.locator("#review-outcome")).to_contain_text(re.compile("rejected.*the flag is a hate symbol", re.S))
    expect(admin.locator("#review-overridden")).to_contain_text(re.compile(r"Overridden from\s+approved\s+by root"))
    with transaction(rt.settings.database_url) as s:
        row = s.scalar(select(Review).where(Review.item_id == first))
        assert (row.overridden_from, row.verdict) == ("approved", "rejected")
        event = s.scalar(select(Alert).where(Alert.item_id == first, Alert.kind == "override"))
        assert event.message["previous_verdict"] == "approved" and event.message["verdict"] == "rejected"
    assert admin_errors == [] and errors == []
    context.close()
