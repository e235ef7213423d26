"""The statements table as an outbox to the Transparency Database (issue 18.3): which statements are due, a
claim on them committed before any is sent, and what each answer does to the rows.

A claim is committed, not held: a batch can take minutes to send (rate limit, timeouts) and no transaction
should stay open over the network. It counts the attempt and moves ``next_attempt_at`` past the time one run
could take, so another run (beat's next, a second worker) leaves the rows alone; a run that dies leaves them
due again once the claim runs out. Whether an attempt may have stored a statement is read from ``errors``: an
answer that surely stored nothing writes ``{"stored": false, ...}``; a claim clears it, so a claim whose
answer never came (the process died, the connection dropped, a 5xx from a proxy) reads as "maybe stored",
and the next run asks existing-puid before sending it again.

The claim's time (``last_attempt_at``) is its token: a run renews its claim before a request once half of it
has passed (``renew``), and a row whose claim ran out and another run took is dropped from the first run's
batch; a release only gives back rows still under the run's own claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from moderation.infra.db import is_postgres, transaction
from moderation.transparency.models import PENDING, REJECTED, SENT, Statement


@dataclass(frozen=True)
class Claimed:
    id: int
    puid: str
    body: dict[str, Any]
    attempts: int  # this attempt included
    uncertain: bool  # an earlier attempt's answer was lost: it may be in the database already
    claimed_at: datetime  # the claim's token (last_attempt_at)


# A review's statement is sent this long after its undo window closes: the API host that takes an undo and the
# worker that sends may read clocks a little apart, and a statement must not leave while its review is undone.
HOLD_MARGIN = timedelta(seconds=30)


def due(now: datetime) -> ColumnElement[bool]:
    """Pending, past its review's undo window (``hold_until``) and past any wait for a retry."""
    return and_(Statement.state == PENDING,
                or_(Statement.hold_until.is_(None), Statement.hold_until <= now - HOLD_MARGIN),
                or_(Statement.next_attempt_at.is_(None), Statement.next_attempt_at <= now))


def surely_unsent(errors: Any) -> bool:
    return isinstance(errors, dict) and errors.get("stored") is False


def claim(database_url: str, now: datetime, limit: int, claim_seconds: float) -> list[Claimed]:
    """Up to ``limit`` due statements, oldest first, claimed for ``claim_seconds`` and committed. On PostgreSQL
    rows another run is claiming are skipped (``SKIP LOCKED``). Each row is claimed by an UPDATE conditional on
    the attempts read: SQLite's read takes no lock, so a run that read a row another claimed since gets none."""
    claimed = []
    with transaction(database_url) as s:
        query = (select(Statement.id, Statement.puid, Statement.body, Statement.attempts, Statement.errors)
                 .where(due(now)).order_by(Statement.id).limit(limit))
        if is_postgres(s):
            query = query.with_for_update(skip_locked=True)
        for row in s.execute(query).all():
            took = s.execute(update(Statement).where(Statement.id == row.id, Statement.attempts == row.attempts,
                                                     Statement.state == PENDING)
                             .values(attempts=row.attempts + 1, last_attempt_at=now, errors=None,
                                     next_attempt_at=now + timedelta(seconds=claim_seconds))
                             .execution_options(synchronize_session=False)).rowcount
            if took:
                claimed.append(Claimed(row.id, row.puid, row.body, row.attempts + 1,
                                       row.attempts > 0 and not surely_unsent(row.errors), now))
    return claimed


def renew(database_url: str, ids: list[int], claimed_at: datetime, until: datetime) -> set[int]:
    """Extend the claim made at ``claimed_at`` on ``ids`` to ``until``; the ids still under it (the others'
    claim ran out and another run took them, or they were withdrawn)."""
    with transaction(database_url) as s:
        ours = s.execute(update(Statement).where(Statement.id.in_(ids), Statement.last_attempt_at == claimed_at,
                                                 Statement.state == PENDING)
                         .values(next_attempt_at=until).returning(Statement.id)
                         .execution_options(synchronize_session=False))
        return set(ours.scalars())


def mark_sent(database_url: str, uuids: dict[int, str | None], now: datetime, note: str | None = None) -> None:
    """In the database: by id, its uuid there (None when an earlier attempt stored it and the answer was lost)."""
    if not uuids:
        return
    errors = {"note": note} if note else None
    with transaction(database_url) as s:
        s.execute(update(Statement), [{"id": row_id, "state": SENT, "sent_at": now, "tdb_uuid": uuid,
                                       "next_attempt_at": None, "errors": errors} for row_id, uuid in uuids.items()])


def mark_rejected(database_url: str, errors: dict[int, dict[str, Any]]) -> None:
    """Refused by the database's validation: never sent again; the field errors are kept for the operator."""
    if not errors:
        return
    with transaction(database_url) as s:
        for row_id, fields in errors.items():
            s.execute(update(Statement).where(Statement.id == row_id, Statement.state == PENDING)
                      .values(state=REJECTED, next_attempt_at=None, errors={"fields": fields}))


def release(database_url: str, until: dict[int, datetime], error: str, status: int | None,
            stored: bool | None, claimed_at: datetime) -> None:
    """Give statements claimed at ``claimed_at`` back, due again at ``until`` (by id); a row another run has
    claimed since is its. ``stored`` False: the answer says nothing was stored, so the next attempt sends
    without asking; None: it may have been."""
    if not until:
        return
    record: dict[str, Any] = {"error": error, "status": status}
    if stored is False:
        record["stored"] = False
    with transaction(database_url) as s:
        for row_id, at in until.items():
            s.execute(update(Statement).where(Statement.id == row_id, Statement.state == PENDING,
                                              Statement.last_attempt_at == claimed_at)
                      .values(next_attempt_at=at, errors=record))
