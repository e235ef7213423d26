"""Submitting items: the rows, and many at once (``submit_many``); what is accepted is ``admission``'s.

``services.submit`` takes one item; ``submit_many`` takes a batch with the
same rules and messages per item, in one transaction and one broker round
trip. Either way the row is committed before its task is sent: a broker
that is down leaves the rows ``queued`` and the reaper re-sends them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Sequence

import structlog
from sqlalchemy import Connection, bindparam, insert, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from moderation.domain.errors import RefusedSubmission
from moderation.domain.tenancy import DEFAULT_TENANT_ID
from moderation.infra.clock import utcnow
from moderation.infra.db import core_transaction
from moderation.infra.schema import new_id
from moderation.items import models as m
from moderation.items.admission import accept, check_external_id, check_metadata, check_subject_id

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.service")
LOOKUP_CHUNK = 500  # external ids per IN (...): under SQLite's bound on query parameters
INSERT_ATTEMPTS = 3  # a concurrent submit of one of the batch's external ids makes the insert start over


@dataclass(frozen=True)
class Submitted:
    item_id: str
    status: str
    created: bool  # False: the external_id was known; nothing was sent
    dispatched: bool


@dataclass(frozen=True)
class Origin:
    """Who submits: the tenant the items belong to, and the actor the audit trail names (a token's
    ``Principal.actor``, ``cli:<user>``, ``s3-events``)."""

    tenant_id: int = DEFAULT_TENANT_ID
    actor: str = "api"


DEFAULT_ORIGIN = Origin()


@dataclass(frozen=True)
class Entry:
    """One item of a batch: what ``services.submit`` takes."""

    media_uri: str
    external_id: str | None = None
    metadata: dict[str, Any] | None = None
    media_type: str | None = None
    subject_id: str | None = None  # the uploader's account on the platform


def known_item(s: Session | Connection, external_id: str | None,
               tenant_id: int = DEFAULT_TENANT_ID) -> Submitted | None:
    """The tenant's stored item of this external id, as a repeat submit answers it (``created`` False)."""
    if external_id is None:
        return None
    row = s.execute(select(m.Item.id, m.Item.status).where(m.Item.tenant_id == tenant_id,
                                                            m.Item.external_id == external_id)).first()
    return Submitted(row.id, row.status, False, False) if row else None


def new_row(uri: str, kind: str, external_id: str | None, metadata: dict[str, Any] | None,
            now: datetime | None = None, *, tenant_id: int = DEFAULT_TENANT_ID,
            subject_id: str | None = None) -> dict[str, Any]:
    """An accepted item's row, ``queued``, for ``insert_rows`` (keyed by column, not by ORM attribute)."""
    now = now or utcnow()
    return {"id": new_id(), "tenant_id": tenant_id, "external_id": external_id, "subject_id": subject_id,
            "media_uri": uri, "media_type": kind, "metadata": metadata or {}, "status": m.QUEUED, "attempts": 0,
            "created_at": now, "updated_at": now}


def insert_rows(s: Session | Connection, rows: list[dict[str, Any]], actor: str = DEFAULT_ORIGIN.actor) -> None:
    """New item rows and their submit audit events: multi-row INSERTs, no ORM objects to build and flush."""
    if not rows:
        return
    s.execute(insert(m.Item.__table__), rows)
    s.execute(insert(m.AuditEvent.__table__), [
        {"item_id": row["id"], "at": row["created_at"], "actor": actor, "action": m.AuditAction.SUBMIT.value,
         "from_status": None, "to_status": m.QUEUED, "verdict": None, "reason": None, "policy_version": None}
        for row in rows])


def _insert_new_statement():
    """INSERT the item unless its tenant's external_id is taken, and its audit event only if it was inserted:
    built once, executed with a row's values and the actor (PostgreSQL)."""
    items, events = m.Item.__table__, m.AuditEvent.__table__
    values = {name: bindparam(name, type_=items.c[name].type) for name in ROW_COLUMNS}
    new = (pg_insert(items).values(values)
           .on_conflict_do_nothing(index_elements=[items.c.tenant_id, items.c.external_id])
           .returning(items.c.id, items.c.created_at).cte("new_item"))
    return insert(events).from_select(
        ["item_id", "at", "actor", "action", "to_status"],
        select(new.c.id, new.c.created_at, bindparam("actor", type_=events.c.actor.type),
               literal(m.AuditAction.SUBMIT.value), literal(m.QUEUED)),
    ).returning(events.c.item_id)


ROW_COLUMNS = ("id", "tenant_id", "external_id", "subject_id", "media_uri", "media_type", "metadata", "status",
               "attempts", "created_at", "updated_at")  # new_row's keys
INSERT_NEW = _insert_new_statement()


def insert_new(s: Connection, row: dict[str, Any], actor: str = DEFAULT_ORIGIN.actor) -> Submitted | None:
    """Insert an item row and its audit event, unless its external_id is known: then that item, nothing written.
    On PostgreSQL one statement, one round trip (INSERT ... ON CONFLICT DO NOTHING feeding the audit INSERT, so
    a concurrent submit of the same external_id is skipped, not an error); elsewhere a lookup and two INSERTs."""
    if s.dialect.name != "postgresql":
        existing = known_item(s, row["external_id"], row["tenant_id"])
        if existing is None:
            insert_rows(s, [row], actor)
        return existing
    if s.execute(INSERT_NEW, {**row, "actor": actor}).first() is not None:
        return None
    return known_item(s, row["external_id"], row["tenant_id"])


def submit_many(entries: Sequence[Entry], *, rt: Runtime,
                origin: Origin = DEFAULT_ORIGIN) -> list[Submitted | RefusedSubmission]:
    """One result per entry, in order: its ``Submitted`` (created, or the item its external_id already names),
    or the ``RefusedSubmission`` that ``services.submit`` would raise for it (nothing stored for that entry;
    the others are not affected).

    Idempotent per external_id, within the batch too: a repeat gets the item of the first occurrence that
    was accepted, ``created`` False. The new rows and their audit events are one transaction; their tasks
    then go out in one broker round trip (``Dispatcher.moderate_many``). If that fails the rows stay
    ``queued`` (``dispatched`` False) and the reaper re-sends them.
    """
    results: list[Submitted | RefusedSubmission | None] = [None] * len(entries)
    for i, entry in enumerate(entries):
        try:
            check_external_id(entry.external_id)
            check_metadata(entry.metadata)
            check_subject_id(entry.subject_id)
        except RefusedSubmission as exc:
            results[i] = exc
    known = known_items(rt, [e.external_id for e, r in zip(entries, results) if r is None and e.external_id],
                        origin.tenant_id)
    rows: dict[int, dict[str, Any]] = {}  # entry index -> its new item row
    for _ in range(INSERT_ATTEMPTS):
        rows = _new_rows(entries, results, known, rt, origin.tenant_id)
        try:
            _insert(rt, list(rows.values()), origin.actor)
            break
        except IntegrityError:  # a concurrent submit took one of these external ids: those are known now
            known.update(known_items(rt, [r["external_id"] for r in rows.values() if r["external_id"]],
                                     origin.tenant_id))
    else:
        raise RuntimeError(f"the batch's external ids kept colliding with concurrent submits "
                           f"({INSERT_ATTEMPTS} attempts)")
    dispatched = _dispatch(rt, [(row["id"], row["media_type"]) for row in rows.values()])
    first: dict[str, Submitted] = {}  # external id -> the item this batch created for it
    for i, row in rows.items():
        results[i] = Submitted(row["id"], m.QUEUED, True, dispatched)
        if row["external_id"]:
            first[row["external_id"]] = Submitted(row["id"], m.QUEUED, False, False)
    for i, entry in enumerate(entries):
        if results[i] is None:  # known before, or a repeat of an earlier entry of this batch
            results[i] = known.get(entry.external_id) or first[entry.external_id]
    return results  # type: ignore[return-value]  # every slot is filled above


def known_items(rt: Runtime, external_ids: list[str], tenant_id: int = DEFAULT_TENANT_ID) -> dict[str, Submitted]:
    """The tenant's stored items of these external ids, as a repeat submit answers them (``created`` False)."""
    found: dict[str, Submitted] = {}
    wanted = list(dict.fromkeys(external_ids))
    if not wanted:
        return found
    with core_transaction(rt.settings.database_url) as s:
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            query = select(m.Item.external_id, m.Item.id, m.Item.status).where(
                m.Item.tenant_id == tenant_id, m.Item.external_id.in_(wanted[start:start + LOOKUP_CHUNK]))
            for external_id, item_id, status in s.execute(query):
                found[external_id] = Submitted(item_id, status, False, False)
    return found


def _new_rows(entries: Sequence[Entry], results: list, known: dict[str, Submitted],
              rt: Runtime, tenant_id: int) -> dict[int, dict[str, Any]]:
    """The rows to insert, by entry index; a refused entry's result is set to its ``RefusedSubmission``."""
    rows: dict[int, dict[str, Any]] = {}
    taken: set[str] = set(known)  # external ids that already have (or are about to have) an item
    now = utcnow()
    for i, entry in enumerate(entries):
        if isinstance(results[i], RefusedSubmission) or entry.external_id in taken:
            continue
        try:
            uri, kind = accept(entry.media_uri, entry.media_type, rt)
        except RefusedSubmission as exc:
            results[i] = exc
            continue
        except (ValueError, OSError) as exc:  # media.parse maps OS errors itself; this is the net under it
            results[i] = RefusedSubmission(f"media_uri cannot be used: {exc}")
            continue
        if entry.external_id:
            taken.add(entry.external_id)
        rows[i] = new_row(uri, kind, entry.external_id, entry.metadata, now, tenant_id=tenant_id,
                          subject_id=entry.subject_id)
    return rows


def _insert(rt: Runtime, rows: list[dict[str, Any]], actor: str) -> None:
    if rows:
        with core_transaction(rt.settings.database_url) as s:
            insert_rows(s, rows, actor)


def _dispatch(rt: Runtime, tasks: list[tuple[str, str]]) -> bool:
    if not tasks:
        return False
    try:
        rt.dispatcher.moderate_many(tasks)
        return True
    except Exception as exc:  # the rows are committed; the reaper re-sends queued items
        log.error("dispatch_failed", items=len(tasks), item_ids=[t[0] for t in tasks][:20], error=str(exc))
        return False
