"""The queue page in headless Chromium orders by priority, then age, and counts what waits per category
(issue 17.1): a Self-Harm flag above an older Alcohol flag. The screenshot goes to test-artifacts/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from moderation.domain import policy
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from tests.e2e.conftest import screenshot
from tests.review_items import decided_item

pytestmark = pytest.mark.e2e


def test_self_harm_waits_above_an_older_alcohol_flag(rt, media_root, fake_provider, console, monkeypatch):
    base_url, _, page, errors, _ = console
    monkeypatch.setattr(rt, "policy", policy.parse("min_confidence: 50\ndefault: {flag: 60, reject: null}\n"))
    alcohol = decided_item(rt, media_root, fake_provider, "Drinking", 90, external_id="beer-party")
    self_harm = decided_item(rt, media_root, fake_provider, "Self-Harm", 90, external_id="cry-for-help")
    violence = decided_item(rt, media_root, fake_provider, "Weapon Violence", 90, external_id="fight")
    with transaction(rt.settings.database_url) as s:
        for item_id, minutes in ((alcohol, 90), (violence, 20)):
            s.execute(update(m.Item).where(m.Item.id == item_id)
                      .values(created_at=utcnow() - timedelta(minutes=minutes)))
    page.goto(base_url + "/")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 3
    order = [rows.nth(i).locator("td").nth(3).inner_text() for i in range(3)]  # after the bulk checkbox
    assert order == ["cry-for-help", "fight", "beer-party"]  # the oldest, Alcohol, comes last
    backlog = page.locator("table.backlog tbody tr")
    counts = {backlog.nth(i).locator("td").nth(0).inner_text(): backlog.nth(i).locator("td").nth(1).inner_text()
              for i in range(backlog.count())}
    assert counts == {"Self-Harm": "1", "Hate Symbols / Violence": "1", "other": "1"}
    assert page.locator('table.backlog tr[data-category="other"] td.backlog-oldest').inner_text() == "1h 30m"
    assert page.locator("#next-page").count() == 0  # one page
    screenshot(page, "console-queue-priority", full_page=True)
    # "Start reviewing" claims the first of that order.
    page.click("#next-form button[type=submit]")
    page.wait_for_url(f"**/items/{self_harm}**")
    assert errors == []
