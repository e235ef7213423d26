"""The console's queue page by priority, then age: counts per category, a "next page" link (issue 17.1)."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from sqlalchemy import insert

from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m


def _rows(rt, n: int) -> None:
    now = utcnow()
    with transaction(rt.settings.database_url) as s:
        s.execute(insert(m.Item), [{"id": f"item-{k:04d}", "media_uri": "x.jpg", "media_type": "image",
                                    "status": m.FLAGGED, "verdict": m.FLAGGED, "review_priority": 1 if k < 3 else None,
                                    "created_at": now - timedelta(seconds=k), "updated_at": now} for k in range(n)])


def test_the_queue_page_counts_per_category_and_pages_on(client, sign_in, rt):
    _rows(rt, 230)
    sign_in()
    first = client.get("/")
    assert first.status_code == 200
    counts = dict(re.findall(r'data-category="([^"]+)">\s*<td>[^<]*</td>\s*<td class="backlog-count">(\d+)', first.text))
    assert counts == {"Self-Harm": "3", "other": "227"}
    assert first.text.index("item-000") < first.text.index("item-022")  # rank 1 first
    link = unescape(re.search(r'<a href="([^"]+)" id="next-page"', first.text).group(1))
    second = client.get(link)
    ids = set(re.findall(r"/items/(item-\d{4})", first.text)) | set(re.findall(r"/items/(item-\d{4})", second.text))
    assert len(ids) == 230 and 'id="next-page"' not in second.text
    assert client.get("/?after=garbage").status_code == 422
