"""Context on the console's item page, in headless Chromium (issue 17.5, 17.9): a failed item's reason and
its metadata, media that does not load (a message, the verdict buttons off until the reviewer chooses to
decide without it), and a stale form's page. Screens are checked by assertion; screenshots go to
test-artifacts/ for the README. The queue's side: test_console_queue_browser_context.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review.models import Review
from tests.e2e.conftest import screenshot, sign_in, watched_page
from tests.review_items import decided_item

pytestmark = pytest.mark.e2e
LOAD_ERROR = "Failed to load resource"  # Chromium's console line for a 404 image: expected in the media test


def set_item(rt, item_id: str, **values) -> None:
    with transaction(rt.settings.database_url) as s:
        s.execute(update(m.Item).where(m.Item.id == item_id).values(**values))


def reviewed(rt, item_id: str) -> tuple[str, str] | None:
    with transaction(rt.settings.database_url) as s:
        row = s.scalar(select(Review).where(Review.item_id == item_id))
        return (row.verdict, row.reason) if row else None


def test_a_failed_item_shows_its_reason(rt, media_root, fake_provider, console):
    base_url, _, page, errors, _ = console
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70)
    set_item(rt, item_id, status=m.FAILED, attempts=3, item_metadata={"title": "<b>holiday</b>", "lang": "en"},
             failure_reason="the provider refused the image: InvalidImageFormatException")
    page.goto(f"{base_url}/items/{item_id}")
    reason = page.locator("#failure-reason")
    assert reason.is_visible()
    assert reason.inner_text().strip() == ("Processing failed after 3 attempts: "
                                           "the provider refused the image: InvalidImageFormatException")
    assert page.locator("#item-metadata dd").all_inner_texts() == ["en", "<b>holiday</b>"]  # text, not markup
    screenshot(page, "console-item-failed", full_page=True)
    assert errors == [], errors


def test_media_that_does_not_load_says_why_and_holds_the_verdict(rt, media_root, fake_provider, console):
    base_url, _, page, errors, _ = console
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70)
    with transaction(rt.settings.database_url) as s:
        uri = s.get(m.Item, item_id).media_uri
    (media_root / uri.rsplit("/", 1)[-1]).unlink()  # gone since it was analysed
    page.goto(base_url + "/")
    page.keyboard.press("n")  # claim it and open it
    page.wait_for_url(f"**/items/{item_id}")
    message = page.locator("#media-error")
    message.wait_for(state="visible")
    page.wait_for_function("() => document.querySelector('#media-error-reason').textContent.includes('HTTP')")
    assert page.inner_text("#media-error-reason") == "(HTTP 404: this item's media is no longer available)"
    approve, reject = page.locator("button[value=approved]"), page.locator("button[value=rejected]")
    assert approve.is_disabled() and reject.is_disabled()
    assert not page.locator("#reveal").is_visible()  # no empty blurred panel to click
    screenshot(page, "console-item-media-error", full_page=True)

    page.evaluate("() => { window.submitted = false; document.addEventListener('submit', () => "
                  "{ window.submitted = true; }, true); }")
    page.keyboard.press("r")  # the shortcut is held as the button is: no submission starts
    assert page.evaluate("() => window.submitted") is False
    assert page.url.endswith(f"/items/{item_id}") and reviewed(rt, item_id) is None

    page.click("#decide-anyway")
    assert approve.is_enabled() and reject.is_enabled() and not page.locator("#decide-anyway").is_visible()
    page.keyboard.type("media gone; rejected on the labels")
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    page.wait_for_url("**/?notice=empty*")
    assert reviewed(rt, item_id) == ("rejected", "media gone; rejected on the labels")
    assert [e for e in errors if LOAD_ERROR not in e] == [], errors


def test_a_stale_form_explains_and_reloads(rt, media_root, fake_provider, console):
    base_url, context, page, errors, token = console
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70)
    page.goto(base_url + "/")
    page.keyboard.press("n")
    page.wait_for_url(f"**/items/{item_id}")
    other, _ = watched_page(context)  # signing in again in another tab starts a new session
    other.goto(base_url + "/login")
    sign_in(other, base_url, token)
    other.close()

    page.keyboard.press("r")  # this tab's form still carries the old session's token
    page.wait_for_selector("#stale-form")
    assert page.inner_text("h1") == "This form has expired"
    assert "Nothing was recorded" in page.inner_text("#stale-form") and reviewed(rt, item_id) is None
    screenshot(page, "console-stale-form", full_page=True)

    page.click("#stale-form-retry")  # reload the form, with a fresh token
    page.wait_for_url(f"**/items/{item_id}")
    page.keyboard.press("r")
    page.wait_for_url("**/?notice=empty*")
    assert reviewed(rt, item_id) == ("rejected", "violation confirmed (Hate Symbols)")
    assert [e for e in errors if "403" not in e] == [], errors
