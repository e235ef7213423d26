"""What the person deciding an item sees of its notices (Art. 16 DSA): what was reported and whether a trusted
flagger sent it, never who (the notifier's name and e-mail stay out of every reviewer-facing view).

Review cannot read this table (transparency sits above it, .importlinter), so the API and the CLI add
``notices_of`` to the item detail that ``review.views`` builds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from moderation.domain.tenancy import Scope
from moderation.infra.clock import aware
from moderation.infra.db import transaction
from moderation.transparency.models import Notice

OPEN, ANSWERED = "open", "answered"  # as notice_filing answers POST /v1/notices


def notices_of(database_url: str, item_id: str, *, scope: Scope) -> list[dict[str, Any]]:
    """The item's notices, oldest first: open ones and those a decision answered. Empty for an item with none
    and for one outside ``scope`` (a caller that checked the item's tenant already gets the same answer)."""
    query = select(Notice).where(Notice.item_id == item_id)
    if not scope.all:
        query = query.where(Notice.tenant_id.in_(sorted(scope.tenant_ids)))
    with transaction(database_url) as s:
        return [view(n) for n in s.scalars(query.order_by(Notice.received_at, Notice.id))]


def view(row: Notice) -> dict[str, Any]:
    """A notice without its notifier: ``notifier_name``, ``notifier_email`` and ``filed_by`` are left out."""
    return {"id": row.id, "explanation": row.explanation, "trusted_flagger": bool(row.trusted_flagger),
            "csam": bool(row.csam), "received_at": aware(row.received_at).isoformat(),
            "state": OPEN if row.decided_at is None else ANSWERED, "outcome": row.outcome}
