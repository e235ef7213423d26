"""Re-drive failed items (`modq items retry`): back to ``queued``, then send the task again.

Only ``failed`` items are re-driven; a decided item is final here (a reviewer
changes it through review instead). The failure reason and the attempts it
used move into the audit event so the history keeps them; the item starts
again with all of MODQ_MAX_ATTEMPTS. The row is committed as ``queued`` before
the task is sent, like a submission: if the broker refuses, the reaper sends
it later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select

from moderation.domain.errors import AmbiguousRef
from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.items import models as m
from moderation.infra.db import transaction
from moderation.items.queries import audit, find_item, lock_item, scoped

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.redrive")


@dataclass
class Redriven:
    queued: list[str] = field(default_factory=list)  # re-queued and sent
    unsent: list[str] = field(default_factory=list)  # re-queued; the broker refused, the reaper will send
    skipped: dict[str, str] = field(default_factory=dict)  # reference -> why not


def failed_ids(rt: Runtime, since: datetime | None = None, limit: int = 10_000, *,
               scope: Scope = EVERY_TENANT) -> list[str]:
    """Failed items of ``scope``'s tenants, oldest first; ``since``: only those that failed at or after it."""
    with transaction(rt.settings.database_url) as s:
        query = scoped(select(m.Item.id).where(m.Item.status == m.FAILED), scope).order_by(m.Item.decided_at,
                                                                                           m.Item.id)
        if since is not None:
            query = query.where(m.Item.decided_at >= since)
        return list(s.scalars(query.limit(limit)))


def redrive(refs: list[str], rt: Runtime, actor: str = "cli", *, scope: Scope = EVERY_TENANT) -> Redriven:
    """Re-drive each failed item of ``scope``'s tenants named by id, unique id prefix or external id (another
    tenant's item is "no such item")."""
    result = Redriven()
    to_send = []
    for ref in refs:
        with transaction(rt.settings.database_url) as s:
            try:
                found = find_item(s, ref, scope)
            except AmbiguousRef as exc:  # the others still go
                result.skipped[ref] = str(exc)
                continue
            item = lock_item(s, found.id) if found else None
            if item is None:
                result.skipped[ref] = "no such item"
                continue
            if item.status != m.FAILED:
                result.skipped[ref] = f"status is {item.status}; only failed items can be retried"
                continue
            audit(s, item, m.AuditAction.RETRY, m.FAILED, m.QUEUED, actor=actor,
                  reason=f"re-driven after {item.attempts} attempts; had failed: {item.failure_reason}")
            item.status, item.failure_reason, item.decided_at, item.verdict = m.QUEUED, None, None, None
            item.attempts = 0  # a fresh MODQ_MAX_ATTEMPTS: the count shown is the one that applies now
            to_send.append((item.id, item.media_type))
    for item_id, media_type in to_send:
        try:
            rt.dispatcher.moderate(item_id, media_type)
            result.queued.append(item_id)
        except Exception as exc:  # committed as queued: the reaper re-sends it after its deadline
            log.error("redrive_dispatch_failed", item_id=item_id, error=str(exc))
            result.unsent.append(item_id)
    log.info("redriven", queued=len(result.queued), unsent=len(result.unsent), skipped=len(result.skipped))
    return result
