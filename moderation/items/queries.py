"""Queries and small writes shared by the use cases, the CLI and the API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, Select, bindparam, insert, select, update
from sqlalchemy.orm import Session

from moderation.domain.errors import AMBIGUOUS_SHOWN, AmbiguousRef
from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.infra.clock import aware, utcnow
from moderation.infra.db import transaction
from moderation.items import models as m

MIN_PREFIX = 4  # characters of an item id that may name it


def lock_item(s: Session, item_id: str) -> m.Item | None:
    """The item row, locked until the transaction ends (no-op lock on SQLite)."""
    return s.get(m.Item, item_id, with_for_update=True)


# The per-item path's statements, built once: building a statement costs more CPU than running it.
_items, _audit = m.Item.__table__, m.AuditEvent.__table__
_STATE = (_items.c.id, _items.c.status, _items.c.attempts, _items.c.media_uri, _items.c.policy_version)
_SET_ITEM = update(_items).where(_items.c.id == bindparam("item_key"))
_ADD_AUDIT = insert(_audit)


def lock_statement(*columns) -> Select:
    """A statement for ``lock_state``: the item's status, attempts, media URI and policy version, and
    ``columns``, its row locked until the transaction ends. Build it once (module level) and reuse it."""
    return select(*_STATE, *columns).where(_items.c.id == bindparam("item_key")).with_for_update()


def lock_state(s: Session, statement: Select, item_id: str) -> Row | None:
    """The locked item's columns (``lock_statement``): no ORM object, for the per-item path
    (``lock_item`` loads the entity)."""
    return s.execute(statement, {"item_key": item_id}).first()


def set_item(s: Session, item_id: str, **values) -> None:
    """Update the item row's ``values`` (and ``updated_at``) with one statement."""
    s.execute(_SET_ITEM, {"item_key": item_id, "updated_at": utcnow(), **values})


def add_audit(s: Session, item_id: str, action: m.AuditAction, from_status: str | None, to_status: str | None,
              actor: str = "system", verdict: str | None = None, reason: str | None = None,
              policy_version: str | None = None) -> None:
    """``audit`` as one INSERT, for callers holding the item's columns rather than its entity."""
    s.execute(_ADD_AUDIT, {"item_id": item_id, "at": utcnow(), "actor": actor, "action": m.AuditAction(action).value,
                           "from_status": from_status, "to_status": to_status, "verdict": verdict,
                           "reason": reason, "policy_version": policy_version})


def audit(s: Session, item: m.Item, action: m.AuditAction, from_status: str | None, to_status: str | None,
          actor: str = "system", verdict: str | None = None, reason: str | None = None,
          policy_version: str | None = None) -> None:
    s.add(m.AuditEvent(item_id=item.id, actor=actor, action=action, from_status=from_status,
                       to_status=to_status, verdict=verdict, reason=reason,
                       policy_version=policy_version or item.policy_version))


def scoped(query: Select, scope: Scope) -> Select:
    """``query`` (over items) narrowed to the tenants ``scope`` covers."""
    return query if scope.all else query.where(m.Item.tenant_id.in_(sorted(scope.tenant_ids)))


def get_item(s: Session, item_id: str, scope: Scope) -> m.Item | None:
    """The item with this id if ``scope`` covers its tenant: one outside it is "not found", as a missing one."""
    item = s.get(m.Item, item_id)
    return item if item is not None and scope.covers(item.tenant_id) else None


def stored_item(database_url: str, item_id: str, *, scope: Scope) -> m.Item | None:
    """The item row by id (None if missing or outside ``scope``), detached: its columns stay readable after
    the transaction."""
    with transaction(database_url) as s:
        return get_item(s, item_id, scope)


def by_external_id(s: Session, external_id: str, scope: Scope) -> m.Item | None:
    """The item with this external id among ``scope``'s tenants (each has its own); ``AmbiguousRef`` when
    several of them have one (a token for several tenants: name the tenant)."""
    found = list(s.scalars(scoped(select(m.Item).where(m.Item.external_id == external_id), scope)
                           .order_by(m.Item.id).limit(AMBIGUOUS_SHOWN + 1)))
    if len(found) > 1:
        raise AmbiguousRef(external_id, [i.id for i in found], what="external_id",
                           hint="name the tenant it belongs to (API: ?tenant=NAME)")
    return found[0] if found else None


def tenant_of(database_url: str, item_id: str) -> int | None:
    """The item's tenant (None if there is no such item)."""
    with transaction(database_url) as s:
        return s.scalar(select(m.Item.tenant_id).where(m.Item.id == item_id))


def statuses(database_url: str, ids: list[str]) -> dict[str, str]:
    """Item id -> status, for those of ``ids`` that exist."""
    with transaction(database_url) as s:
        return dict(s.execute(select(m.Item.id, m.Item.status).where(m.Item.id.in_(ids))).all())


def find_item(s: Session, ref: str, scope: Scope = EVERY_TENANT) -> m.Item | None:
    """By id, external id, or an id prefix of ``MIN_PREFIX``+ characters, among ``scope``'s tenants
    (``AmbiguousRef`` if it names several items, listing some)."""
    item = get_item(s, ref, scope) or by_external_id(s, ref, scope)
    if item is None and len(ref) >= MIN_PREFIX:
        query = scoped(select(m.Item).where(m.Item.id.startswith(ref.lower(), autoescape=True)), scope)
        query = query.order_by(m.Item.id)
        matches = s.scalars(query.limit(AMBIGUOUS_SHOWN + 1)).all()
        if len(matches) > 1:
            raise AmbiguousRef(ref, [i.id for i in matches])
        item = matches[0] if matches else None
    return item


def item_id_for(database_url: str, ref: str, scope: Scope = EVERY_TENANT) -> str | None:
    """The id of the item ``ref`` names in ``scope`` (``find_item``: an ambiguous prefix raises), or None."""
    with transaction(database_url) as s:
        item = find_item(s, ref, scope)
        return item.id if item else None


def list_items(s: Session, status: str | None = None, verdict: str | None = None,
               limit: int = 50, offset: int = 0, external_id: str | None = None, *,
               scope: Scope) -> list[m.Item]:
    """Items of ``scope``'s tenants, newest first."""
    query = scoped(select(m.Item), scope).order_by(m.Item.created_at.desc(), m.Item.id)
    if external_id:
        query = query.where(m.Item.external_id == external_id)
    if status:
        query = query.where(m.Item.status == status)
    if verdict:
        query = query.where(m.Item.verdict == verdict)
    return list(s.scalars(query.limit(limit).offset(offset)))


def decision_for(s: Session, item_id: str) -> m.Decision | None:
    return s.scalar(select(m.Decision).where(m.Decision.item_id == item_id))


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC; SQLite hands datetimes back without their zone."""
    return None if value is None else aware(value).isoformat()
