"""The reaper: the database is the source of truth, the broker's queue is not.

An item's task can vanish: Redis flushed or restarted without persistence, a
publish that failed after the row was committed, a worker killed with acks
off. The item then sits in ``queued``, ``processing`` or ``submitted`` and
nothing else would ever look at it. Run periodically (beat, every
MODQ_REAPER_INTERVAL_SECONDS), the reaper re-sends the task of every such item
whose row has not changed for MODQ_REAPER_STUCK_AFTER_SECONDS.

Re-sending is safe because processing is idempotent per item (row lock,
terminal check, one decision per item, a lease against duplicate provider
calls). The row's ``updated_at`` is bumped with an audit event, so an item is
re-sent at most once per deadline however often the reaper runs, and two
reapers running at once pick different rows (SKIP LOCKED on PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select

from moderation.items import models as m
from moderation.infra.clock import aware, utcnow
from moderation.infra.db import is_postgres, transaction
from moderation.items.queries import audit
from moderation.policy import reevaluations

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.reaper")


@dataclass(frozen=True)
class Resent:
    item_id: str
    status: str
    idle_seconds: float
    dispatched: bool


def sweep(rt: Runtime) -> int:
    """What beat's reaper task does: re-send stuck items, then lost re-evaluation jobs; how many were re-sent."""
    return len(reap(rt)) + len(reevaluations.resend_stale(rt))


def reap(rt: Runtime, now: datetime | None = None, limit: int = 500) -> list[Resent]:
    """Re-send the tasks of items stuck past the deadline; return what was re-sent."""
    now = now or utcnow()
    deadline = timedelta(seconds=rt.settings.reaper_stuck_after_seconds)
    with transaction(rt.settings.database_url) as s:
        query = (select(m.Item).where(m.Item.status.in_(m.IN_FLIGHT), m.Item.updated_at < now - deadline)
                 .order_by(m.Item.updated_at).limit(limit))
        if is_postgres(s):
            query = query.with_for_update(skip_locked=True)
        picked = []
        for item in s.scalars(query):
            idle = (now - aware(item.updated_at)).total_seconds()
            audit(s, item, m.AuditAction.RESEND, item.status, item.status, actor="reaper",
                  reason=f"no progress for {idle:.0f}s in {item.status}; task re-sent")
            item.updated_at = now
            picked.append((item.id, item.status, item.media_type, idle))
    resent = []
    for item_id, status, media_type, idle in picked:
        resent.append(Resent(item_id, status, idle, _send(rt, item_id, media_type)))
    if resent:
        log.warning("reaped", count=len(resent), item_ids=[r.item_id for r in resent][:50])
    return resent


def _send(rt: Runtime, item_id: str, media_type: str) -> bool:
    try:
        rt.dispatcher.moderate(item_id, media_type)  # the dispatcher routes by media type (image, video)
        return True
    except Exception as exc:  # still stuck: the next run after the deadline tries again
        log.error("resend_failed", item_id=item_id, error=str(exc))
        return False
