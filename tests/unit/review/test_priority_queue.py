"""The review queue by priority, then age (issue 17.1): order, claims, keyset pages, counts per category."""

from __future__ import annotations

import base64
import json
import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, update

from moderation.domain import policy, priority
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review import backlog, keyset
from moderation.review import services as review
from moderation.review.queries import QueueFilter
from tests.review_items import decided_item

THRESHOLDS = "min_confidence: 50\ndefault: {flag: 60, reject: null}\n"


@pytest.fixture
def flagged(rt, media_root, fake_provider, monkeypatch):
    monkeypatch.setattr(rt, "policy", policy.parse(THRESHOLDS))  # every label flags at 60: Alcohol too

    def make(label: str, confidence: float = 70, age: int = 0) -> str:
        item_id = decided_item(rt, media_root, fake_provider, label, confidence)
        with transaction(rt.settings.database_url) as s:
            s.execute(update(m.Item).where(m.Item.id == item_id)
                      .values(created_at=utcnow() - timedelta(seconds=age)))
        return item_id

    return make


def ids(rt, **kw) -> list[str]:
    return [i.id for i in review.queue(rt, QueueFilter(**kw), limit=500)]


def test_a_self_harm_flag_waits_before_an_older_alcohol_flag(rt, flagged):
    alcohol = flagged("Drinking", age=3600)
    self_harm = flagged("Self-Harm", age=60)
    violence = flagged("Weapon Violence", age=600)
    gambling = flagged("Gambling", age=7200)
    with transaction(rt.settings.database_url) as s:
        ranks = {i: s.get(m.Item, i).review_priority for i in (alcohol, self_harm, violence, gambling)}
    assert ranks == {alcohol: None, self_harm: 1, violence: 2, gambling: None}
    assert ids(rt) == [self_harm, violence, gambling, alcohol]  # then unranked, oldest first
    assert review.claim(rt, "alice").item_id == self_harm  # a claim takes the first of that order
    assert review.claim(rt, "bob").item_id == violence


def test_an_approved_item_has_no_priority(rt, flagged):
    approved = decided_item(rt, rt.settings.media_root, rt._provider, label=None)
    with transaction(rt.settings.database_url) as s:
        assert s.get(m.Item, approved).review_priority is None


def test_counts_and_oldest_wait_per_category(rt, flagged):
    flagged("Self-Harm", age=60)
    flagged("Weapon Violence", age=600)
    flagged("Nazi Party", age=1200)
    flagged("Drinking", age=3600)
    flagged("Gambling", age=7200)
    rows = backlog.by_category(rt.settings.database_url, priority.DEFAULT, scope=EVERY_TENANT)
    assert [(r["category"], r["rank"], r["count"]) for r in rows] == [
        ("Self-Harm", 1, 1), ("Hate Symbols / Violence", 2, 2), ("other", None, 2)]
    waits = {r["category"]: r["oldest_seconds"] for r in rows}
    assert 60 <= waits["Self-Harm"] < 600 and 1200 <= waits["Hate Symbols / Violence"] < 3600
    assert waits["other"] >= 7200
    assert backlog.by_category(rt.settings.database_url, priority.DEFAULT, scope=EVERY_TENANT, verdict="rejected") == []


def _insert(rt, n: int, start: int = 0) -> list[str]:
    """``n`` flagged rows straight in the table: ranks 1-3 and unranked, created_at with many ties."""
    now, rows = utcnow(), []
    rng = random.Random(start)
    for k in range(start, start + n):
        rows.append({"id": f"item-{k:05d}", "media_uri": "x.jpg", "media_type": "image", "status": m.FLAGGED,
                     "verdict": m.FLAGGED, "review_priority": rng.choice([1, 2, 3, None]),
                     "created_at": now - timedelta(seconds=rng.randrange(40)), "updated_at": now})
    with transaction(rt.settings.database_url) as s:
        s.execute(insert(m.Item), rows)
    return [r["id"] for r in rows]


def _order(rt) -> list[str]:
    return [i.id for i in review.queue(rt, QueueFilter(), limit=10_000)]


def test_keyset_pages_walk_past_row_200_without_duplicates_or_gaps(rt):
    inserted = _insert(rt, 260)
    seen, cursor, pages = [], None, 0
    while True:
        rows, cursor = backlog.page(rt, QueueFilter(), 50, after=keyset.decode(cursor) if cursor else None)
        seen += [r["id"] for r in rows]
        pages += 1
        if cursor is None:
            break
    assert pages == 6 and seen == _order(rt) and sorted(seen) == sorted(inserted)


def test_keyset_pages_stay_exact_while_items_arrive(rt):
    first = set(_insert(rt, 250))
    seen, cursor = [], None
    for round_ in range(100):
        rows, cursor = backlog.page(rt, QueueFilter(), 40, after=keyset.decode(cursor) if cursor else None)
        seen += [r["id"] for r in rows]
        if cursor is None:
            break
        _insert(rt, 5, start=1000 + 5 * round_)  # new flags land before and after the cursor
    assert len(seen) == len(set(seen))  # no row twice
    assert first <= set(seen)  # none of those waiting from the start is missed


@pytest.mark.parametrize("cursor", ["", "garbage", "!!!", "x" * 201, keyset.encode(keyset.Key(-1, utcnow(), "a")),
                                    keyset.encode(keyset.Key(1, utcnow(), "a'; drop")),
                                    "WzEsIjIwMjYtMTEtMzAiLCJhIl0"])  # a date without its zone
def test_cursors_modq_did_not_write_are_refused_naming_after(cursor):
    with pytest.raises(BadInput, match="^after: "):
        keyset.decode(cursor)


def test_a_cursor_in_another_zone_is_read_in_utc():
    raw = base64.urlsafe_b64encode(json.dumps([1, "2026-11-30T10:00:00+01:00", "a"]).encode()).decode()
    assert keyset.decode(raw).created_at == datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def test_a_cursor_round_trips():
    key = keyset.Key(None, utcnow(), "0b0e7c1e-5a8e-4a4e-9d55-3e3f0c1d2b3a")
    assert keyset.decode(keyset.encode(key)) == key
