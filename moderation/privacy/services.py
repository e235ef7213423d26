"""What a decision sets off for privacy, in its transaction (``Runtime.decided``): an erasure asked while the
item was being moderated (``erasure``: ``items.erase_requested_at``) is done as its decision is recorded, so the
item's personal data does not outlive its moderation (issue 19.2). A held item keeps it (the retention sweep
reports the hold); an item that fails is erased by the sweep (``retention``), as a failure is no decision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.domain.decisions import Decided
from moderation.items import models as m
from moderation.privacy.holds import holding
from moderation.privacy.scrub import ERASURE, scrub_item

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime

ACTOR = "system"
REASON = "erasure requested while it was being moderated"


def on_decision(s: Session, rt: Runtime, event: Decided) -> None:
    waiting = s.scalar(select(m.Item.erase_requested_at).where(m.Item.id == event.item_id))  # one column, most
    if waiting is None:  # often none: the entity is loaded only for an erasure
        return
    item = s.get(m.Item, event.item_id)
    if item.purged_at is not None:
        return
    if holding(s, item.tenant_id, item.id, item.subject_id) is not None:
        return
    scrub_item(s, item, ERASURE, event.at)
    s.add(m.AuditEvent(item_id=item.id, tenant_id=item.tenant_id, actor=ACTOR, action=m.AuditAction.ERASE,
                       from_status=item.status, to_status=item.status, verdict=item.verdict,
                       policy_version=item.policy_version, reason=REASON))
