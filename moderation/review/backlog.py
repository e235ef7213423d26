"""What waits for a person: a page of the queue (keyset-paginated), and per category how many items and how
long the oldest has waited.

Per category: one grouped query over the items awaiting review (by status and ``review_priority``, on
``ix_items_review_queue``); each rank is named by the thresholds file's ``priority`` section
(``domain.priority.category``: ``Self-Harm``, ``Hate Symbols / Violence``, ``other`` for unranked items).
The console's queue page, ``GET /v1/review/queue`` and ``modq_review_oldest_waiting_seconds{category}`` read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy import Select, func, select

from moderation.domain import priority
from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.infra.clock import aware, utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review import escalations, keyset, views
from moderation.review import services as review
from moderation.review.queries import QueueFilter, awaiting_review, in_scope

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime


@dataclass(frozen=True)
class Waiting:
    category: str
    rank: int | None  # None: unranked, after every rank
    verdict: str
    count: int
    oldest_seconds: float  # since the oldest of them was submitted


def page(rt: Runtime, f: QueueFilter, limit: int, offset: int = 0,
         after: keyset.Key | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """``limit`` queue rows after ``after`` (or from ``offset``, deprecated) and the cursor of the next page
    (None: this is the last)."""
    items = review.queue(rt, f, limit=limit + 1, offset=offset, after=after)
    with transaction(rt.settings.database_url) as s:
        rows = views.queue_rows(s, items[:limit])
        if f.escalated:  # the senior queue shows why each item is there
            notes = escalations.open_of(s, [row["id"] for row in rows])
            rows = [{**row, "escalation": notes.get(row["id"])} for row in rows]
    return rows, keyset.encode(keyset.of(items[limit - 1], f.escalated)) if len(items) > limit else None


def query(scope: Scope = EVERY_TENANT, escalated: bool | None = None) -> Select:
    """(status, review_priority, count, oldest created_at) of the items awaiting review in ``scope``;
    ``escalated``: only those in the escalated queue (True) or in the reviewers' queue (False); None: all."""
    rank = m.Item.review_priority
    waiting = [] if escalated is None else [m.Item.escalated_at.is_not(None) if escalated
                                            else m.Item.escalated_at.is_(None)]
    return (select(m.Item.status, rank, func.count(), func.min(m.Item.created_at))
            .where(awaiting_review(), in_scope(scope), *waiting).group_by(m.Item.status, rank))


def fold(rows: Iterable, priorities: priority.Priorities, now: datetime) -> list[Waiting]:
    """``query``'s rows by verdict and category, most urgent first (ranks sharing a name are added up)."""
    found: dict[tuple[str, str], Waiting] = {}
    for status, rank, count, oldest in rows:
        name = priority.category(rank, priorities)
        age = max(0.0, (now - aware(oldest)).total_seconds()) if oldest is not None else 0.0
        had = found.get((status, name))
        if had is not None:
            count, age, rank = had.count + count, max(had.oldest_seconds, age), _min_rank(had.rank, rank)
        found[(status, name)] = Waiting(name, rank, status, int(count), age)
    return sorted(found.values(), key=lambda w: (w.rank is None, w.rank or 0, w.category, w.verdict))


def by_category(database_url: str, priorities: priority.Priorities, *, scope: Scope,
                verdict: str | None = None, escalated: bool = False) -> list[dict[str, Any]]:
    """Per category (of ``verdict``'s items, or all awaiting review): count and the oldest wait in seconds;
    of the reviewers' queue, or (``escalated``) of the escalated queue (the oldest: since submission)."""
    now = utcnow()
    with transaction(database_url) as s:
        rows = s.execute(query(scope, escalated)).all()
    totals: dict[str, dict[str, Any]] = {}
    for w in fold(rows, priorities, now):
        if verdict is not None and w.verdict != verdict:
            continue
        row = totals.setdefault(w.category, {"category": w.category, "rank": w.rank, "count": 0,
                                             "oldest_seconds": 0.0})
        row["count"] += w.count
        row["oldest_seconds"] = round(max(row["oldest_seconds"], w.oldest_seconds), 1)
    return list(totals.values())


def _min_rank(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)
