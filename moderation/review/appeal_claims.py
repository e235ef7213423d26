"""The appeals queue: pending appeals of the caller's tenants, oldest first, and claims with a lease.

An appeal's lease is two columns of its row, as an item's is of ``items``; a claim serialises one reviewer's
claims (``claims.lock_claims_of``, shared with item claims) and hands out rows with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so reviewers never wait on (or get) each other's appeals. A reviewer is never
handed the appeal of a decision they made: they could not decide it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import ColumnElement, Select, or_, select, true
from sqlalchemy.orm import Session

from moderation.domain.tenancy import Scope
from moderation.infra.clock import aware, utcnow
from moderation.infra.db import is_postgres, transaction
from moderation.items.queries import iso
from moderation.review import claims
from moderation.review.models import Appeal
from moderation.review.services import lease_length

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime

CANDIDATES = 20  # pending appeals looked at per claim, past those the reviewer may not decide


@dataclass(frozen=True)
class AppealLease:
    appeal_id: str
    owner: str
    expires_at: datetime


def in_scope(scope: Scope) -> ColumnElement[bool]:
    return true() if scope.all else Appeal.tenant_id.in_(sorted(scope.tenant_ids))


def pending(scope: Scope) -> Select:
    """Pending appeals of ``scope``'s tenants, oldest first (ties by id)."""
    return (select(Appeal).where(Appeal.state == "pending", in_scope(scope))
            .order_by(Appeal.filed_at, Appeal.id))


def locked(s: Session, appeal_id: str, scope: Scope) -> Appeal | None:
    """The appeal, locked, if ``scope`` covers its tenant; else None, as for a missing one."""
    row = s.get(Appeal, appeal_id, with_for_update=True)
    return row if row is not None and scope.covers(row.tenant_id) else None


def leased(row: Appeal, now: datetime) -> bool:
    return bool(row.lease_owner) and row.lease_expires_at is not None and aware(row.lease_expires_at) > now


def leased_to_other(row: Appeal, reviewer: str, now: datetime) -> bool:
    return leased(row, now) and row.lease_owner != reviewer


def lease_of(row: Appeal) -> dict[str, Any] | None:
    if not leased(row, utcnow()):
        return None
    return {"owner": row.lease_owner, "expires_at": iso(row.lease_expires_at)}


def claim(rt: Runtime, reviewer: str, *, scope: Scope, lease_seconds: int | None = None,
          may_decide: Callable[[str, Appeal], bool]) -> AppealLease | None:
    """Lease the oldest pending appeal of ``scope``'s tenants that ``reviewer`` ``may_decide`` to them; a
    live lease of theirs is returned (renewed) instead. None if there is none free."""
    length = timedelta(seconds=lease_length(rt.settings, lease_seconds))
    with transaction(rt.settings.database_url) as s:
        claims.lock_claims_of(s, reviewer)
        now = utcnow()
        until = now + length
        held = s.scalar(pending(scope).where(Appeal.lease_owner == reviewer, Appeal.lease_expires_at > now)
                        .limit(1))
        if held is None:
            query = pending(scope).where(or_(Appeal.lease_expires_at.is_(None), Appeal.lease_expires_at <= now))
            if is_postgres(s):
                query = query.with_for_update(skip_locked=True)
            held = next((row for row in s.scalars(query.limit(CANDIDATES)) if may_decide(reviewer, row)), None)
        if held is None:
            return None
        held.lease_owner, held.lease_expires_at = reviewer, until
        return AppealLease(held.id, reviewer, until)


def release(rt: Runtime, appeal_id: str, reviewer: str, *, scope: Scope) -> None:
    """Give back ``reviewer``'s lease on the appeal (none held: nothing to do)."""
    with transaction(rt.settings.database_url) as s:
        row = locked(s, appeal_id, scope)
        if row is not None and row.lease_owner == reviewer:
            row.lease_owner = row.lease_expires_at = None
