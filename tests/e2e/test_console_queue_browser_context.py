"""Context in the console's queue, in headless Chromium (issue 17.5, 17.9): blurred thumbnails, chips (the
labels whose rules fired first, no ancestor repeated) and the label filter as a taxonomy dropdown."""

from __future__ import annotations

from datetime import timedelta

import pytest

from moderation.infra.clock import utcnow
from tests.e2e.conftest import screenshot
from tests.e2e.test_console_context_browser import set_item
from tests.review_items import decided_item

pytestmark = pytest.mark.e2e


def test_queue_thumbnails_chips_and_the_label_dropdown(rt, media_root, fake_provider, console):
    base_url, _, page, errors, _ = console
    hateful = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70, external_id="post-1")
    violent = decided_item(rt, media_root, fake_provider, "Graphic Violence", 60, external_id="post-2")
    set_item(rt, hateful, created_at=utcnow() - timedelta(minutes=30))
    page.goto(base_url + "/")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2
    page.wait_for_function("() => [...document.querySelectorAll('table.queue .thumb img')]"
                           ".every((i) => i.complete && i.naturalWidth > 0)")  # served after the auth check
    thumbs = page.locator("table.queue .thumb.blurred img")
    assert thumbs.count() == 2
    assert "blur" in thumbs.first.evaluate("(img) => getComputedStyle(img).filter")
    chips = [c.strip() for c in page.locator(f"tr:has(a[href='/items/{violent}']) .chip").all_inner_texts()]
    assert chips == ["Graphic Violence 60%"]  # its rule fired; "Violence 60%" is not repeated
    assert "chip-fired" in page.locator(f"tr:has(a[href='/items/{violent}']) .chip").first.get_attribute("class")
    screenshot(page, "console-queue-context", full_page=True)

    dropdown = page.locator("#label-filter")
    assert dropdown.evaluate("(s) => s.tagName") == "SELECT" and dropdown.locator("option").count() == 53
    dropdown.select_option("Violence")  # an L1: everything under it
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url("**label=Violence**")
    assert rows.count() == 1 and page.locator(f"a[href='/items/{violent}']").count() == 1
    assert page.locator("#label-filter").input_value() == "Violence"
    assert errors == [], errors
