"""The review queue by priority on PostgreSQL (issue 17.1): NULLS LAST order, keyset pages past row 200 while
items arrive, counts per category, a claim taking the most urgent item. A database of its own."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import insert

from config.settings import Settings
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.domain import policy, priority
from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review import backlog, keyset
from moderation.review import services as review
from moderation.review.queries import QueueFilter
from tests.fakes.providers import RecordingPublisher
from tests.integration.fresh_pg import fresh_database

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg_rt(tmp_path_factory):
    with fresh_database("modq_priority") as url:
        settings = Settings(database_url=url, media_root=tmp_path_factory.mktemp("media"))
        yield Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())


def _insert(rt, n: int, start: int) -> set[str]:
    now, rng = utcnow(), random.Random(start)
    rows = [{"id": f"it-{k:05d}", "media_uri": "x.jpg", "media_type": "image", "status": m.FLAGGED,
             "verdict": m.FLAGGED, "review_priority": rng.choice([1, 2, 3, None]),
             "created_at": now - timedelta(seconds=rng.randrange(30)), "updated_at": now}
            for k in range(start, start + n)]
    with transaction(rt.settings.database_url) as s:
        s.execute(insert(m.Item), rows)
    return {r["id"] for r in rows}


def test_order_pages_counts_and_claims(pg_rt):
    first = _insert(pg_rt, 260, 0)
    everything = [i for i in review.queue(pg_rt, QueueFilter(), limit=1000)]
    ranks = [i.review_priority if i.review_priority is not None else 100 for i in everything]
    assert ranks == sorted(ranks) and ranks[-1] == 100  # unranked last (PostgreSQL's NULLS LAST)
    seen, cursor, round_ = [], None, 0
    while True:
        rows, cursor = backlog.page(pg_rt, QueueFilter(), 50, after=keyset.decode(cursor) if cursor else None)
        seen += [r["id"] for r in rows]
        if cursor is None:
            break
        _insert(pg_rt, 3, 1000 + 3 * round_)
        round_ += 1
    assert len(seen) == len(set(seen)) and first <= set(seen)
    counts = {r["category"]: r["count"] for r in backlog.by_category(pg_rt.settings.database_url, priority.DEFAULT,
                                                                        scope=EVERY_TENANT)}
    assert sum(counts.values()) == 260 + 3 * round_ and set(counts) <= {"Self-Harm", "Hate Symbols / Violence",
                                                                          "Explicit / Non-Explicit Nudity of Intimate "
                                                                          "parts and Kissing", "other"}
    top = review.queue(pg_rt, QueueFilter(), limit=1)[0]
    assert top.review_priority == 1 and review.claim(pg_rt, "alice").item_id == top.id  # a claim takes the first
