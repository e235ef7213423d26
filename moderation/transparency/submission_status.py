"""Where the statements of reasons are on their way to the Transparency Database (``modq transparency status``):
counts by state, the pending ones split by why they are not sent yet, the oldest pending one's age, and the
rejected ones with the database's field errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select

from moderation.domain.tenancy import Scope
from moderation.infra.clock import aware, utcnow
from moderation.infra.db import transaction
from moderation.infra.schema import Tenant
from moderation.transparency.models import PENDING, REJECTED, STATES, Statement

REJECTED_SHOWN = 100  # rejected statements listed, newest first (the count says how many there are)
HELD, WAITING, DUE = "held", "waiting", "due"


def _scoped(query, scope: Scope):
    return query if scope.all else query.where(Statement.tenant_id.in_(sorted(scope.tenant_ids)))


def _why_pending(now: datetime):
    """held: in its review's undo window; waiting: for a retry (or claimed by a run now); due: to be sent."""
    return case((Statement.hold_until > now, HELD), (Statement.next_attempt_at > now, WAITING), else_=DUE)


def status(database_url: str, scope: Scope, now: datetime | None = None, shown: int = REJECTED_SHOWN) -> dict[str, Any]:
    now = now or utcnow()
    with transaction(database_url) as s:
        by_state = dict(s.execute(_scoped(select(Statement.state, func.count()), scope).group_by(Statement.state)).all())
        pending = dict(s.execute(_scoped(select(_why_pending(now), func.count()), scope)
                                 .where(Statement.state == PENDING).group_by(_why_pending(now))).all())
        oldest = s.scalar(_scoped(select(func.min(Statement.created_at)), scope).where(Statement.state == PENDING))
        rejected = s.execute(_scoped(select(Statement.puid, Statement.item_id, Tenant.name, Statement.errors,
                                            Statement.last_attempt_at), scope)
                             .join(Tenant, Tenant.id == Statement.tenant_id).where(Statement.state == REJECTED)
                             .order_by(Statement.last_attempt_at.desc(), Statement.id.desc()).limit(shown)).all()
    return {"counts": {state: by_state.get(state, 0) for state in STATES},
            "pending": {why: pending.get(why, 0) for why in (DUE, HELD, WAITING)},
            "oldest_pending_seconds": round((now - aware(oldest)).total_seconds(), 1) if oldest else None,
            "rejected": [{"puid": puid, "item_id": item_id, "tenant": tenant, "errors": _fields(errors),
                          "at": aware(at).isoformat() if at else None}
                         for puid, item_id, tenant, errors, at in rejected]}


def _fields(errors: Any) -> dict[str, list[str]]:
    """The field errors of a rejection: ``{field: [messages]}``."""
    fields = errors.get("fields") if isinstance(errors, dict) else None
    if not isinstance(fields, dict):
        return {}
    return {str(name): [str(m) for m in (value if isinstance(value, list) else [value])]
            for name, value in fields.items()}
