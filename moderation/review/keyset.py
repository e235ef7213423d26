"""Keyset pagination of the review queue: a page starts after the last row of the one before it.

The queue's order is (``review_priority`` NULLS LAST, ``created_at``, ``id``): unique, so a cursor naming the
last row seen (``encode``) picks up exactly after it however many rows came and went meanwhile, and the
database walks ``ix_items_review_queue`` instead of skipping OFFSET rows. The cursor is opaque to clients:
URL-safe base64 of ``[priority, created_at, id]``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import ColumnElement, and_, or_

from moderation.domain.errors import BadInput
from moderation.domain.priority import MAX_RANK
from moderation.infra.clock import aware
from moderation.items import models as m

MAX_CURSOR = 200  # characters: a cursor modq wrote is about 110
_ID = re.compile(r"[0-9A-Za-z_-]{1,36}")  # an item id (no byte PostgreSQL would refuse in a literal)

# The queue's order: most urgent first (unranked last), then oldest, then id.
ORDER = (m.Item.review_priority.asc().nulls_last(), m.Item.created_at, m.Item.id)
# The escalated queue's (issue 17.6): the same, by the time of escalation instead of submission.
ESCALATED_ORDER = (m.Item.review_priority.asc().nulls_last(), m.Item.escalated_at, m.Item.id)


def order(escalated: bool = False) -> tuple:
    return ESCALATED_ORDER if escalated else ORDER


def time_of(escalated: bool = False):
    """The time column a queue is ordered by: ``created_at``, or ``escalated_at`` for the escalated queue."""
    return m.Item.escalated_at if escalated else m.Item.created_at


@dataclass(frozen=True)
class Key:
    priority: int | None
    created_at: datetime
    id: str


def of(item: m.Item, escalated: bool = False) -> Key:
    """The key of ``item`` in its queue (``created_at`` is the escalated queue's ``escalated_at``)."""
    return Key(item.review_priority, aware(item.escalated_at if escalated else item.created_at), item.id)


def encode(key: Key) -> str:
    raw = json.dumps([key.priority, key.created_at.isoformat(), key.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str) -> Key:
    """The key ``cursor`` names; ``BadInput`` naming ``after`` for anything ``encode`` did not write."""
    problem = BadInput("after: not a cursor of the review queue (pass the `next` of the page before, unchanged)")
    if not isinstance(cursor, str) or not 0 < len(cursor) <= MAX_CURSOR:
        raise problem
    try:
        priority, created_at, item_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when = datetime.fromisoformat(created_at)
        when = when.astimezone(timezone.utc) if when.tzinfo is not None else when  # as stored: UTC
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise problem from None
    ranked = priority is None or (type(priority) is int and 0 <= priority <= MAX_RANK)  # 0: a trusted flagger's notice
    if not ranked or not isinstance(item_id, str) or not _ID.fullmatch(item_id) or when.tzinfo is None:
        raise problem
    return Key(priority, when, item_id)


def after(key: Key, time=m.Item.created_at) -> ColumnElement[bool]:
    """Rows that come after ``key`` in ``ORDER`` (``time``: ``escalated_at`` in ``ESCALATED_ORDER``)."""
    rank, created, ident = m.Item.review_priority, time, m.Item.id
    later = or_(created > key.created_at, and_(created == key.created_at, ident > key.id))
    if key.priority is None:
        return and_(rank.is_(None), later)
    return or_(rank > key.priority, rank.is_(None), and_(rank == key.priority, later))
