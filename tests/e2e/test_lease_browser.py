"""Leases that don't lose work (issue 17.3), in headless Chromium: the item page counts the lease down, renews it
when the reviewer is active in its last half (and not while idle), warns a minute before it ends, and when it
has ended disables the verdict buttons and offers "Claim again"; the reason typed before the end is back in the
field after the new claim, and gone from the browser's storage once the verdict is recorded.

The browser's time moves with Playwright's clock; the server's lease is moved in the database to match, so it
really ends on the server too. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review.models import Review
from tests.e2e.conftest import screenshot
from tests.review_items import decided_item, ends_in, lease_of

pytestmark = pytest.mark.e2e
REASON = "museum exhibit about the war, educational context"
# Chromium logs an HTTP error answer to a fetch as a console error: lease.js asking whether the lease it counted
# down has really ended gets 409 (it has). Any other console error fails the test.
ENDED_409 = "Failed to load resource: the server responded with a status of 409 (Conflict)"




def shown_seconds(page) -> int:
    minutes, seconds = page.locator("#lease-countdown").inner_text().split(":")
    return int(minutes) * 60 + int(seconds)


def is_lease_call(method: str):
    return lambda r: r.url.endswith("/lease") and r.request.method == method


def test_lease_countdown_renewal_warning_and_expiry_keep_the_reason(rt, media_root, fake_provider, console):
    base_url, _, page, errors, _ = console
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70, external_id="post-1")
    following = decided_item(rt, media_root, fake_provider, "Graphic Violence", 60, external_id="post-2")
    with transaction(rt.settings.database_url) as s:  # item_id first in the queue
        s.execute(update(m.Item).where(m.Item.id == item_id).values(created_at=utcnow() - timedelta(minutes=30)))

    page.clock.install(time=datetime.now(timezone.utc))  # before the item page loads: its timers are Playwright's
    page.goto(f"{base_url}/items/{item_id}")
    with page.expect_response(is_lease_call("GET")):  # lease.js asks the server for its count on load
        page.locator("#claim-form").evaluate("form => form.requestSubmit()")  # no pointer: the reviewer is idle
    page.wait_for_url(f"**/items/{item_id}")
    page.clock.pause_at(datetime.now(timezone.utc) + timedelta(seconds=1))  # from here, time moves when told

    # the countdown: m:ss of what is left, going down with the (browser's) clock
    owner, claimed_until = lease_of(rt, item_id)
    expect(page.locator("#lease-status")).to_contain_text(re.compile(r"Yours for [45]:\d\d"))
    before = shown_seconds(page)
    assert 290 <= before <= 300
    page.clock.run_for(10_000)
    assert before - 11 <= shown_seconds(page) <= before - 9
    expect(page.locator("#lease-warning")).to_be_hidden()
    screenshot(page, "console-lease")

    # idle in the lease's last half: no renewal; typing the reason: renewed on the server
    page.clock.fast_forward(150_000)
    ends_in(rt, item_id, shown_seconds(page))
    page.clock.run_for(3_000)
    idle_until = lease_of(rt, item_id)[1]
    assert idle_until < claimed_until  # (moved by the test only: nothing renewed it)
    with page.expect_response(is_lease_call("POST")) as renewal:
        page.fill("#reason", REASON)  # one input event: activity, then idle again
    assert renewal.value.status == 200
    renewed_owner, renewed_until = lease_of(rt, item_id)
    assert renewed_owner == owner and renewed_until > idle_until + timedelta(seconds=100)
    page.clock.run_for(1_000)
    assert shown_seconds(page) >= 290

    # a minute before the end, idle: the warning
    page.clock.fast_forward((shown_seconds(page) - 55) * 1000)
    ends_in(rt, item_id, 55)
    warning = page.locator("#lease-warning")
    expect(warning).to_be_visible()
    assert warning.get_attribute("role") == "alert"
    expect(warning).to_have_text(re.compile(r"^Your claim ends in 0:5\d; move or type to keep it$"))
    screenshot(page, "console-lease-warning")
    warned_until = lease_of(rt, item_id)[1]
    assert warned_until < renewed_until  # still nothing renewed it
    with page.expect_response(is_lease_call("POST")) as renewal:  # "move ... to keep it": the mouse, this time
        page.mouse.move(400, 300, steps=3)
    assert renewal.value.status == 200 and lease_of(rt, item_id)[1] > warned_until + timedelta(seconds=200)
    expect(warning).to_be_hidden()

    # the end: the server's lease has ended; the page says so, the verdict buttons are off, "Claim again" is on
    ends_in(rt, item_id, -1)
    page.clock.fast_forward((shown_seconds(page) + 1) * 1000)
    expect(page.locator("#lease-ended")).to_contain_text("Your claim on this item ended")
    expect(page.locator("#lease-ended")).to_contain_text("Your reason is kept")
    expect(warning).to_be_hidden()
    for verdict in ("approved", "rejected"):
        expect(page.locator(f"#review-form button[value={verdict}]")).to_be_disabled()
    expect(page.locator("#lease-release-form")).to_be_hidden()
    page.keyboard.press("Escape")  # out of the reason field, then the shortcut: it records nothing either
    page.keyboard.press("a")
    assert page.locator("#reason").input_value() == REASON
    with transaction(rt.settings.database_url) as s:
        assert s.scalar(select(Review.id).where(Review.item_id == item_id)) is None
    screenshot(page, "console-lease-ended")
    page.mouse.move(300, 300)  # activity after the end renews nothing
    page.clock.run_for(2_000)
    assert lease_of(rt, item_id)[1] < utcnow()

    # claim again: a new lease, the reason typed before the end back in the field
    expect(page.get_by_role("button", name="Claim again")).to_be_visible()
    page.keyboard.press("c")  # the claim key claims again, as the button does
    page.wait_for_url(f"**/items/{item_id}")
    expect(page.locator("#reason")).to_have_value(REASON)
    assert lease_of(rt, item_id)[0] == owner and lease_of(rt, item_id)[1] > utcnow() + timedelta(seconds=250)
    page.clock.run_for(2_000)  # the page's clock is ahead of the server's by now: the server's count decides
    expect(page.locator("#lease-status")).to_contain_text(re.compile(r"Yours for [45]:\d\d"))
    expect(page.locator("#review-form button[value=approved]")).to_be_enabled()

    # the verdict records the reason, and the saved copy goes once the console moves on to the next item
    page.click("#review-form button[value=approved]")
    page.wait_for_url(re.compile(rf"/items/{following}(\?|$)"))  # (with the Undo toast's query, issue 17.2)
    with transaction(rt.settings.database_url) as s:
        assert s.scalar(select(Review.reason).where(Review.item_id == item_id)) == REASON
    expect(page.locator("#reason")).to_have_value("")
    assert page.evaluate("key => localStorage.getItem(key)", f"modq.reason.{item_id}") is None
    assert [e for e in errors if e != ENDED_409] == [], errors
