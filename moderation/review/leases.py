"""Keeping a claim while the reviewer works on it (issue 17.3): renewing the lease, and reading it.

A claim leases an item for a while (``services.claim``); a reviewer still at work on it renews the lease
instead of losing the item when it runs out. Only the live holder renews: a lease that has ended is gone
(someone else may hold the item now, or may claim it any moment), and getting it back is a new claim.

Renewals are not audited. The console renews about every few minutes while the reviewer is active, so an
entry each time would bury the trail's real events under noise; and a renewal changes nothing the trail
answers for: who held the item from when (the ``claim`` entry), and how that ended (``release``, or the
``review``). A claim by the holder, which renews too, is not audited for the same reason. Renewals are
logged (``lease_renewed``) for whoever needs to follow one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.infra.clock import aware, utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.items.queries import lock_item
from moderation.review import claims
from moderation.review.models import Review
from moderation.review.queries import REVIEWABLE, held_by
from moderation.review.services import Conflict, Lease, NotFound, lease_length

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.review")


def renew(rt: Runtime, item_id: str, reviewer: str, lease_seconds: int | None = None, *,
          scope: Scope = EVERY_TENANT) -> Lease:
    """Extend ``reviewer``'s live lease on ``item_id`` to ``lease_seconds`` from now (the bounds and default of a
    claim: ``lease_length``). A renewal never shortens a lease: a longer one already held is kept as it is.

    NotFound: no such item, or one outside ``scope`` (the same answer). Conflict: the item is not awaiting
    review, or ``reviewer`` holds no live lease on it (never had one, it is someone else's, or it ended).
    """
    length = timedelta(seconds=lease_length(rt.settings, lease_seconds))
    with transaction(rt.settings.database_url) as s:
        item = _held(s, item_id, reviewer, scope, now := utcnow())
        until = max(aware(item.lease_expires_at), now + length)
        # Conditional, so a lease that ended (and was claimed by someone else) since the read is never revived;
        # the row lock of _held makes that moot on PostgreSQL, SQLite writes one at a time.
        if not claims.set_lease(s, item_id, held_by(reviewer, now), reviewer, until):
            raise Conflict(f"your lease on item {item_id} has ended: claim it again")
    log.info("lease_renewed", item_id=item_id, reviewer=reviewer, until=until.isoformat())
    return Lease(item_id, reviewer, until)


def current(rt: Runtime, item_id: str, reviewer: str, *, scope: Scope = EVERY_TENANT) -> Lease:
    """``reviewer``'s live lease on ``item_id``, unchanged; the same refusals as ``renew``."""
    with transaction(rt.settings.database_url) as s:
        item = _held(s, item_id, reviewer, scope, utcnow(), lock=False)
        return Lease(item_id, reviewer, aware(item.lease_expires_at))


def seconds_left(lease: Lease, now: datetime | None = None) -> int:
    """Whole seconds until ``lease`` ends (0 once it has)."""
    return max(0, int((lease.expires_at - (now or utcnow())).total_seconds()))


def _held(s: Session, item_id: str, reviewer: str, scope: Scope, now: datetime, lock: bool = True) -> m.Item:
    """The item, if ``reviewer`` holds a live lease on it; else NotFound or Conflict saying why not."""
    item = lock_item(s, item_id) if lock else s.get(m.Item, item_id)
    if item is None or not scope.covers(item.tenant_id):
        raise NotFound(f"no item {item_id!r}")
    if item.status not in REVIEWABLE or s.scalar(select(Review.id).where(Review.item_id == item_id)):
        raise Conflict(f"item {item_id} is not awaiting review (status {item.status})")
    if item.leased(now) and item.lease_owner == reviewer:
        return item
    if item.leased(now):
        raise Conflict(f"item {item_id} is leased to {item.lease_owner}, not to you")
    if item.lease_owner == reviewer:
        ended = aware(item.lease_expires_at).strftime("%H:%M:%S")
        raise Conflict(f"your lease on item {item_id} ended at {ended} UTC: claim it again")
    raise Conflict(f"you hold no lease on item {item_id}: claim it first")
