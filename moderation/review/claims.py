"""How a claim takes an item in the database, for ``review.services.claim``.

One reviewer's claims are serialised (``lock_claims_of``), so a burst of claims by one
reviewer renews one lease. PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED``, so concurrent
reviewers never wait on (or get) each other's rows. SQLite: one writer at a time, a claim's
check and UPDATE under one write lock (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import zlib
from datetime import datetime

from sqlalchemy import and_, select, text, update
from sqlalchemy.orm import Session

from moderation.infra.clock import utcnow
from moderation.infra.db import is_postgres
from moderation.items import models as m
from moderation.review.queries import awaiting_review, held_by, lease_free


def lock_claims_of(s: Session, reviewer: str) -> None:
    """Serialise ``reviewer``'s claims until this transaction ends, in the database
    (claims come from several API workers, the console and the CLI: no process
    lock would see them all). Without it, simultaneous claims by one reviewer all
    find no lease held and each takes an item.

    PostgreSQL: a transaction-scoped advisory lock keyed by the reviewer, so other
    reviewers' claims do not wait (a hash collision only makes two reviewers take
    turns); it is released at commit, after the lease is written, so the next claim
    of the same reviewer sees it (READ COMMITTED: each statement reads what has
    committed). No table or migration is needed, and a crashed client's lock
    goes with its connection.
    SQLite: writers are serialised database-wide anyway, but pysqlite begins the
    transaction only at the first write, so the "lease held?" read would run
    before any lock. BEGIN IMMEDIATE takes the write lock first, making the check
    and the claim one critical section (other writers wait up to busy_timeout).
    """
    if is_postgres(s):
        s.execute(text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:key AS integer))"),
                  {"space": _CLAIM_LOCK_SPACE, "key": _int32(reviewer)})
    elif s.get_bind().dialect.name == "sqlite":
        s.connection().exec_driver_sql("BEGIN IMMEDIATE")


def _int32(name: str) -> int:
    """A stable signed 32-bit key for ``name`` (Python's hash() differs per process)."""
    value = zlib.crc32(name.encode("utf-8"))
    return value - 2**32 if value >= 2**31 else value


_CLAIM_LOCK_SPACE = _int32("modq.review.claim")  # keeps these keys apart from any other advisory lock


def held(s: Session, reviewer: str, now: datetime) -> str | None:
    """The item ``reviewer`` holds a live lease on (the oldest, should there be several)."""
    query = (select(m.Item.id).where(held_by(reviewer, now), awaiting_review())
             .order_by(m.Item.created_at, m.Item.id).limit(1))
    return s.scalar(query)


def take(s: Session, query, reviewer: str, until: datetime) -> m.Item | None:
    if is_postgres(s):
        return s.scalar(query.limit(1).with_for_update(skip_locked=True, of=m.Item))
    # SQLite: this transaction holds the database's write lock since BEGIN
    # IMMEDIATE (lock_claims_of), so nobody can lease the row between the read
    # and the conditional UPDATE; the condition stays as a guard all the same.
    item_id = s.scalar(query.with_only_columns(m.Item.id).limit(1))
    if item_id is None or not set_lease(s, item_id, and_(lease_free(utcnow()), awaiting_review()), reviewer, until):
        return None
    return s.get(m.Item, item_id, populate_existing=True)


def set_lease(s: Session, item_id: str, condition, reviewer: str, until: datetime) -> bool:
    """Conditional UPDATE; False if ``condition`` no longer holds for the row."""
    statement = (update(m.Item).where(m.Item.id == item_id, condition)
                 .values(lease_owner=reviewer, lease_expires_at=until)
                 .execution_options(synchronize_session=False))
    return s.execute(statement).rowcount == 1
