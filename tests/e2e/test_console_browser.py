"""The review console in headless Chromium: sign in, open the queue, review
with the keyboard, and check the database changed. Screenshots go to
test-artifacts/ (git-ignored) so CI can keep them.

Debian's ``chromium`` driven by Playwright (never ``playwright install``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from moderation.items import services as service
from moderation.tenants import tokens
from moderation.api.app import create_app
from moderation.items import models as m
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.review.models import Review
from tests.animated_media import BLUE, RED, animated
from tests.e2e.conftest import ARTIFACTS, screenshot, sign_in, watched_page
from tests.live_server import serve
from tests.review_items import decided_item

pytestmark = pytest.mark.e2e


@pytest.fixture
def queue(rt, media_root, fake_provider) -> list[str]:
    """Two flagged items, the hate-symbol one older."""
    first = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70, external_id="post-1")
    second = decided_item(rt, media_root, fake_provider, "Graphic Violence", 60, external_id="post-2")
    with transaction(rt.settings.database_url) as s:
        s.execute(update(m.Item).where(m.Item.id == first).values(created_at=utcnow() - timedelta(minutes=30)))
    return [first, second]


def review_of(rt, item_id: str) -> tuple[str, str, str, str]:
    with transaction(rt.settings.database_url) as s:
        row = s.scalar(select(Review).where(Review.item_id == item_id))
        return s.get(m.Item, item_id).status, row.reviewer, row.verdict, row.reason


def test_sign_in_and_review_with_the_keyboard(rt, queue, browser):
    first, second = queue
    token_id, token = tokens.create(rt.settings.database_url, "alice", "reviewer", created_by="test")
    alice = f"alice (token {token_id})"  # reviews name the token, not just its name (issue 16)
    with serve(create_app(rt, health_checks={})) as base_url:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page, errors = watched_page(context)

        page.goto(base_url + "/")
        page.wait_for_url("**/login")
        sign_in(page, base_url, token)
        assert page.locator("table.queue tbody tr").count() == 2
        screenshot(page, "console-queue", full_page=True)
        session = next(c for c in context.cookies() if c["name"] == "modq_session")
        assert session["httpOnly"] and session["sameSite"] == "Lax"

        page.keyboard.press("n")  # claim the oldest and open it
        page.wait_for_url(f"**/items/{first}")
        media = page.locator("#media")
        assert "blurred" in media.get_attribute("class")
        assert page.evaluate("document.querySelector('#media img').naturalWidth") > 0  # served after the auth check
        screenshot(page, "console-item-blurred")
        page.click("#reveal")
        assert "blurred" not in media.get_attribute("class")
        assert page.locator(".rules li").first.inner_text().startswith("flag Hate Symbols")
        screenshot(page, "console-item", full_page=True)

        page.keyboard.press("r")  # reject with the suggested reason, then on to the next item
        page.wait_for_url(f"**/items/{second}?undo={first}")  # with the Undo toast (issue 17.2)
        assert review_of(rt, first) == ("rejected", alice, "rejected", "violation confirmed (Hate Symbols)")

        page.keyboard.press("e")  # type a reason of one's own, leave the field, approve
        page.keyboard.type("news footage, not gratuitous")
        page.keyboard.press("Escape")
        page.keyboard.press("a")
        page.wait_for_url("**/?notice=empty*")
        assert review_of(rt, second) == ("approved", alice, "approved", "news footage, not gratuitous")
        assert "Nothing left to claim" in page.inner_text("main")

        page.goto(f"{base_url}/audit?actor=alice&action=review")
        assert page.locator("table.audit tbody tr").count() == 2
        screenshot(page, "console-audit", full_page=True)
        context.close()
    assert errors == [], errors  # no JavaScript errors, no CSP violations
    assert (ARTIFACTS / "console-item.png").stat().st_size > 10_000


# The colour at the centre of the image the page shows, read back from a canvas: what the reviewer sees.
CENTRE_RGB = """(selector) => {
    const img = document.querySelector(selector);
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext("2d");
    context.drawImage(img, 0, 0);
    return Array.from(context.getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data.slice(0, 3));
}"""


def test_an_animation_shows_the_frame_a_rule_fired_on(rt, media_root, fake_provider, console):
    """A GIF whose clean first frame (50 ms) hides an explicit second one (10 s): the reviewer is shown the
    explicit frame, not the clean one a browser would show first."""
    base_url, _, page, errors, _ = console
    fake_provider.by_color = True
    (media_root / "anim.gif").write_bytes(animated("gif", [BLUE, RED], [50, 10_000]))
    item_id = service.submit("anim.gif", rt=rt).item_id
    assert service.process_image(item_id, rt=rt) == "rejected"

    page.goto(f"{base_url}/items/{item_id}")
    page.click("#reveal")
    page.wait_for_function("() => { const i = document.querySelector('#fired-frame');"
                           " return i && i.complete && i.naturalWidth > 0; }")
    assert page.evaluate(CENTRE_RGB, "#fired-frame") == list(RED)
    assert "frame 1 at 0:00.050" in page.inner_text("#frame-note")
    rule = page.locator(".rules li").first.inner_text()
    assert rule.startswith("reject Exposed Female Genitalia") and rule.endswith("frame 1")
    screenshot(page, "console-animation-frame", full_page=True)
    assert errors == [], errors
