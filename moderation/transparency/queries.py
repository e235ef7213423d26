"""Reads of the statements of reasons, for the API (``GET /v1/items/{id}/statement``) and the CLI
(``modq transparency export``): scoped to the caller's tenants, and streamed for an export of any size."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from moderation.domain.tenancy import Scope
from moderation.infra.clock import aware
from moderation.infra.db import transaction
from moderation.transparency.models import WITHDRAWN, Statement

PAGE = 1000  # rows an export reads per transaction (keyset pages: no long transaction, no OFFSET)


def _scoped(query, scope: Scope):
    return query if scope.all else query.where(Statement.tenant_id.in_(sorted(scope.tenant_ids)))


def latest_for_item(database_url: str, item_id: str, scope: Scope) -> dict[str, Any] | None:
    """The item's latest statement that was not withdrawn, if ``scope`` covers its tenant; None for an item
    of another tenant, a missing one, or one with no restrictive decision (the same answer for each)."""
    with transaction(database_url) as s:
        row = s.scalars(_scoped(select(Statement).where(Statement.item_id == item_id, Statement.state != WITHDRAWN),
                                scope).order_by(Statement.created_at.desc(), Statement.id.desc()).limit(1)).first()
        return None if row is None else view(row)


def view(row: Statement) -> dict[str, Any]:
    return {"puid": row.puid, "decision": row.decision, "state": row.state, "created_at": _iso(row.created_at),
            "sent_at": _iso(row.sent_at), "errors": row.errors, "statement": row.body}


def _since(since: datetime, scope: Scope):
    return _scoped(select(Statement).where(Statement.created_at >= since, Statement.state != WITHDRAWN), scope)


def export_count(database_url: str, since: datetime, scope: Scope) -> int:
    """How many statements ``export_rows`` yields (for a progress bar; rows added meanwhile may add to it)."""
    with transaction(database_url) as s:
        return s.scalar(select(func.count()).select_from(_since(since, scope).subquery())) or 0


def export_rows(database_url: str, since: datetime, scope: Scope, page: int = PAGE) -> Iterator[dict[str, Any]]:
    """The statements created since ``since`` in ``scope``'s tenants (withdrawn ones are no statements), oldest
    first, as ``view`` gives them plus ``tenant_id``: read in keyset pages over (created_at, id), one short
    transaction each, so memory and locks stay flat whatever the volume."""
    after: tuple[datetime, int] | None = None
    while True:
        with transaction(database_url) as s:
            rows = _page(s, since, scope, after, page)
        yield from (found for found, _ in rows)
        if len(rows) < page:
            return
        after = rows[-1][1]


def _page(s: Session, since: datetime, scope: Scope, after: tuple[datetime, int] | None,
          page: int) -> list[tuple[dict[str, Any], tuple[datetime, int]]]:
    query = _since(since, scope)
    if after is not None:
        at, last = after
        query = query.where(or_(Statement.created_at > at, and_(Statement.created_at == at, Statement.id > last)))
    rows = s.scalars(query.order_by(Statement.created_at, Statement.id).limit(page))
    return [({**view(r), "tenant_id": r.tenant_id}, (r.created_at, r.id)) for r in rows]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else aware(value).isoformat()
