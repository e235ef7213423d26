"""A reported item in headless Chromium (issue 18.4 review finding): a user and a trusted flagger file notices
on an item approved automatically; the reviewer alice claims it and sees, next to the rules and labels, why it
was reported: each explanation as text (one full of markup runs nothing), the trusted flagger's badge, when it
came in; never who sent it."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderation.domain import policy
from moderation.domain.tenancy import DEFAULT_TENANT_ID
from moderation.transparency import notice_filing
from moderation.transparency.notice_input import NoticeIn
from tests.e2e.conftest import screenshot
from tests.review_items import decided_item

pytestmark = pytest.mark.e2e
IWF = "Internet Watch Foundation"
HOSTILE = 'Hate flag in the banner <script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
TRUSTED = "Terrorist propaganda: the flag of a proscribed organisation, shown to recruit."


def file(rt, explanation: str, **fields) -> None:
    notice_filing.file(rt, NoticeIn(external_id="post-18", explanation=explanation, good_faith=True, **fields),
                       tenant_id=DEFAULT_TENANT_ID, actor="forum-backend")


def test_the_reviewer_sees_why_the_item_was_reported_and_not_by_whom(console, rt, media_root, fake_provider):
    base_url, _, page, errors, _ = console
    rt.policy = policy.parse(Path(rt.settings.thresholds).read_text()
                             + f"\ntransparency:\n  trusted_flaggers: [\"{IWF}\"]\n")
    item_id = decided_item(rt, media_root, fake_provider, None, 70, external_id="post-18")  # approved
    file(rt, HOSTILE, notifier_name="Alexandra Notifier", notifier_email="alexandra@example.org")
    file(rt, TRUSTED, notifier_name=IWF, notifier_email="reports@iwf.example", trusted_flagger=True)

    page.goto(base_url + "/")
    page.click("#next-form button[type=submit]")
    page.wait_for_url(f"**/items/{item_id}")
    panel = page.locator("#notices")
    assert panel.is_visible()
    assert page.locator("#notices-title").text_content() == "Reported by 2 notices"  # CSS upper-cases h2
    notices = panel.locator("li.reported")
    assert notices.locator(".notice-explanation").all_inner_texts() == [HOSTILE, TRUSTED]
    assert notices.nth(0).locator(".badge-trusted").count() == 0
    assert notices.nth(1).locator(".badge-trusted").inner_text() == "trusted flagger"
    assert notices.nth(1).locator(".badge-trusted").evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
    assert all(text.startswith("received ") and text.endswith(" ago")
               for text in notices.locator("[title]").all_inner_texts())
    assert page.evaluate("window.pwned") is None and panel.locator("script, img").count() == 0
    # the panel sits with the item's context, above the rules that fired
    assert panel.evaluate("e => e.compareDocumentPosition(document.querySelector('.rules, .panel h2 + p')) & 4") == 4
    body = page.locator("body").inner_text()
    for who in ("Alexandra Notifier", "alexandra@example.org", IWF, "reports@iwf.example"):
        assert who not in body
    screenshot(page, "console-notice", full_page=True)
    assert errors == []  # no script error, no CSP violation
