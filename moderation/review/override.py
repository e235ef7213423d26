"""Override (issue 17.2): an admin replaces the verdict of a recorded review, with a reason.

A review is final for reviewers (a second review is refused); an admin who finds it wrong overrides it. In one
transaction: the item's status and verdict change, the review row records the override (``overridden_from``,
``_by``, ``_at``; its verdict and reason become the admin's), the audit trail gets an ``override`` entry (the
review's own entry stays), the subject rule and a reviewer-rejection bank entry follow the new verdict, and an
outbox alert of kind ``override`` (webhook event ``review.overridden``, with the previous and the new verdict
and the reason) is sent at once. The review's alerts not sent yet (its undo window still open) are cancelled:
they announce a verdict that no longer holds, and would otherwise go out after the override.

Callers check the role (admin: the API's and console's ``Admin`` dependency, the CLI's operator); an item of a
tenant outside ``scope`` is NotFound, as a missing one. Overriding with the verdict the item already has is a
Conflict (nothing would change; the message says so).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.alerts import holds
from moderation.alerts.models import Alert
from moderation.alerts.services import decision_alert
from moderation.domain.decisions import OVERRIDE, Decided
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import Scope
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m, subjects
from moderation.items.queries import audit, decision_for, lock_item
from moderation.review.models import Review
from moderation.review.services import REASON_MAX, VERDICTS, Conflict, NotFound, publish
from moderation.review.rebank import rebank

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.review")
KIND = "override"  # the alert kind (webhook event review.overridden)


def override(rt: Runtime, item_id: str, admin_actor: str, verdict: str, reason: str, *, scope: Scope) -> dict:
    """Replace the verdict of item ``item_id``'s recorded review with ``verdict``; what changed:
    ``{item_id, previous_verdict, verdict, reason, reviewer, overridden_by, overridden_at}``."""
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if verdict not in VERDICTS:
        raise BadInput(f"verdict: must be one of {', '.join(VERDICTS)}")
    if not 1 <= len(reason) <= REASON_MAX:
        raise BadInput(f"reason: a reason of 1-{REASON_MAX} characters is required")
    with transaction(rt.settings.database_url) as s:
        now = utcnow()
        item = lock_item(s, item_id)
        if item is None or not scope.covers(item.tenant_id):
            raise NotFound(f"no item {item_id!r}")
        row = s.scalar(select(Review).where(Review.item_id == item.id))
        if row is None:
            raise Conflict(f"item {item_id} has no recorded review to override (status {item.status})")
        previous = item.status
        if verdict == previous:
            raise Conflict(f"verdict: item {item_id} is already {previous}; an override must change the verdict")
        holds.withdraw(s, list(row.alert_ids or []), now)  # unsent: they announce the verdict replaced
        audit(s, item, m.AuditAction.OVERRIDE, previous, verdict, actor=admin_actor, verdict=verdict,
              reason=f"override of the {row.verdict} review by {row.reviewer}: {reason}")
        row.overridden_from, row.overridden_by, row.overridden_at = previous, admin_actor, now
        row.verdict, row.reason = verdict, reason
        item.status = item.verdict = verdict
        item.lease_owner = item.lease_expires_at = None
        rebank(s, rt, item, previous, verdict, admin_actor, reason, scope)
        alert = _alert(s, item, row, previous, now)
        flagged = [a.id for a in subjects.after_verdict(s, rt, item, verdict, previous, now=now)]
        ref = f"o{row.id}-{int(now.timestamp() * 1000)}"  # overrides of one review, told apart by their time
        flagged += rt.decided(s, Decided(item.id, verdict, previous, OVERRIDE, ref, now, admin_actor, reason))
        result = {"item_id": item.id, "previous_verdict": previous, "verdict": verdict, "reason": reason,
                  "reviewer": row.reviewer, "overridden_by": admin_actor, "overridden_at": now.isoformat()}
    log.info("review_overridden", item_id=item_id, previous=previous, verdict=verdict, admin=admin_actor)
    publish(rt, [alert.id, *flagged])
    return result


def _alert(s: Session, item: m.Item, row: Review, previous: str, now: datetime) -> Alert:
    """The outbox row: the item's decision message, with the new verdict, the previous one and the reason (no
    reviewer or admin names: those stay in the audit trail)."""
    decision = decision_for(s, item.id)
    analysis = s.get(m.Analysis, item.analysis_id) if item.analysis_id else None
    alert = decision_alert(item, row.verdict, decision.reasons if decision else [], analysis.labels if analysis else [],
                           item.policy_version or "", now, kind=KIND)
    alert.message = {**alert.message, "reasons": [row.reason], "previous_verdict": previous,
                     "overridden_at": now.isoformat()}
    alert.attributes = {**alert.attributes, "kind": KIND}
    earlier = s.scalar(select(func.count()).select_from(Alert).where(Alert.dedup_id.startswith(alert.dedup_id)))
    if earlier:  # overridden back and forth: each override is its own event
        alert.dedup_id = f"{alert.dedup_id}:{earlier + 1}"
    s.add(alert)
    s.flush()
    return alert
