"""GET /v1/review/queue by priority, then age, paged with `after`/`next` past row 200 (issue 17.1)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, update

from moderation.domain import policy
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m


def test_self_harm_comes_before_an_older_alcohol_flag(client, auth, rt, flagged, monkeypatch):
    monkeypatch.setattr(rt, "policy", policy.parse("min_confidence: 50\ndefault: {flag: 60, reject: null}\n"))
    alcohol, self_harm = flagged("Drinking", 90), flagged("Self-Harm", 90)
    with transaction(rt.settings.database_url) as s:
        s.execute(update(m.Item).where(m.Item.id == alcohol).values(created_at=utcnow() - timedelta(hours=2)))
    page = client.get("/v1/review/queue", headers=auth["reviewer"]).json()
    assert [r["id"] for r in page["items"]] == [self_harm, alcohol] and page["next"] is None
    claimed = client.post("/v1/review/claim", json={}, headers=auth["reviewer"]).json()
    assert claimed["item"]["id"] == self_harm


def test_after_pages_past_row_200(client, auth, rt):
    now = utcnow()
    with transaction(rt.settings.database_url) as s:
        s.execute(insert(m.Item), [{"id": f"item-{k:04d}", "media_uri": "x.jpg", "media_type": "image",
                                    "status": m.FLAGGED, "verdict": m.FLAGGED, "review_priority": (k % 4) or None,
                                    "created_at": now - timedelta(seconds=k % 7), "updated_at": now}
                                   for k in range(450)])
    seen, query = [], "limit=200"
    while True:
        page = client.get(f"/v1/review/queue?{query}", headers=auth["reviewer"]).json()
        seen += [r["id"] for r in page["items"]]
        if page["next"] is None:
            break
        assert page["next_offset"] is None or query == "limit=200"  # offsets mean nothing after a cursor
        query = f"limit=200&after={page['next']}"
    assert len(seen) == 450 == len(set(seen))
    with transaction(rt.settings.database_url) as s:
        ranks = dict(s.execute(m.Item.__table__.select().with_only_columns(m.Item.id, m.Item.review_priority)).all())
    order = [ranks[i] if ranks[i] is not None else 99 for i in seen]
    assert order == sorted(order)  # most urgent first, unranked last
    # offset still works (deprecated)
    assert client.get("/v1/review/queue?limit=5&offset=5", headers=auth["reviewer"]).json()["items"][0]["id"] == seen[5]
