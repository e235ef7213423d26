"""Filing a notice (``POST /v1/notices``): checked, stored on its item and routed, in one transaction on the
locked item row.

Where the item is decides what the notice does (``notices.route``, ``notices.settle``):
- approved automatically (no person has seen it): back to the review queue, flagged;
- flagged or rejected and not yet reviewed: it stays in the queue, ranked first for a trusted flagger;
- still queued, processing or with its provider (or failed, until re-driven): the notice waits, and the
  automatic decision routes it (``notices.answer``);
- decided by a person already (a review, perhaps overridden or appealed): answered at once with the item's
  verdict, ``automated`` as for a person's decision; inside the review's undo window the answer waits with the
  review's alerts, and an undo opens the notice again.
A notice naming media (``media_uri``) first submits it as a new item (``items.services.submit``, the checks of
``POST /v1/items``; a known ``external_id`` is that item), in submit's own transaction: the notice is then
filed on it like any other, whatever its moderation reached meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from moderation.infra.clock import aware, utcnow
from moderation.infra.db import transaction
from moderation.items import models as m, services as items
from moderation.items.queries import lock_item
from moderation.review.models import Review
from moderation.review.outbox import hold_for_undo, publish
from moderation.review.services import NotFound
from moderation.transparency import notices
from moderation.transparency.models import Notice
from moderation.transparency.notice_input import NoticeIn, checked

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime

OPEN, ANSWERED = "open", "answered"


@dataclass(frozen=True)
class Filed:
    notice_id: str
    item_id: str
    state: str  # OPEN, or ANSWERED (the item was decided by a person already)
    grouped_with: int  # the item's open notices, this one included (0 when answered at once)
    item_status: str


def file(rt: Runtime, notice: NoticeIn, *, tenant_id: int, actor: str) -> Filed:
    """Store ``notice`` for ``tenant_id``'s item. ``BadInput`` (nothing stored) for a notice Art. 16 would not
    accept; ``NotFound`` for an ``external_id`` the tenant has no item of (another tenant's: the same)."""
    notice = checked(notice, rt.active_policy(tenant_id).transparency)
    items.check_external_id(notice.external_id)
    item_id = None
    if notice.media_uri is not None:
        item_id = items.submit(notice.media_uri, external_id=notice.external_id, media_type=notice.media_type,
                               rt=rt, origin=items.Origin(tenant_id, actor=actor)).item_id
    hold = 0.0
    with transaction(rt.settings.database_url) as s:
        item = _locked(s, tenant_id, item_id, notice.external_id)
        row = Notice(tenant_id=tenant_id, item_id=item.id, explanation=notice.explanation,
                     notifier_name=notice.notifier_name, notifier_email=notice.notifier_email, good_faith=True,
                     trusted_flagger=notice.trusted_flagger, csam=notice.csam, filed_by=actor, received_at=utcnow())
        s.add(row)
        s.flush()
        notices.sync_open(s, item.id)
        review = s.scalar(select(Review).where(Review.item_id == item.id))
        if review is None:
            notices.route(s, rt, notices.item_row(s, item.id), actor=actor)
            alert_ids, grouped = [], len(notices.open_notices(s, item.id))
        else:
            alert_ids, hold = _answer_now(s, rt, item, review), _left(rt, review)
            grouped = 0
        filed = Filed(row.id, item.id, ANSWERED if review else OPEN, grouped, notices.item_row(s, item.id).status)
    if alert_ids:
        publish(rt, alert_ids, hold=hold)
    return filed


def _locked(s, tenant_id: int, item_id: str | None, external_id: str | None) -> m.Item:
    if item_id is None:
        item_id = s.scalar(select(m.Item.id).where(m.Item.tenant_id == tenant_id, m.Item.external_id == external_id))
    item = lock_item(s, item_id) if item_id else None
    if item is None or item.tenant_id != tenant_id:
        raise NotFound(f"no item with external_id {external_id!r}")
    return item


def _answer_now(s, rt: Runtime, item: m.Item, review: Review) -> list[int]:
    """Answer the notice with the person's decision the item has (its ``verdict`` now: an override's or an
    appeal's if one followed the review). Within the review's undo window the answer is one of the review's
    alerts: held with them, and cancelled (the notice opened again, ``notices.reopen``) by its undo."""
    ref = f"r{review.id}"
    ids = notices.settle(s, notices.item_row(s, item.id), item.verdict or item.status,
                         notices.model_involved(s, item.id), ref, utcnow())
    if _left(rt, review) > 0:
        hold_for_undo(s, ids, aware(review.reviewed_at), rt.settings.review_undo_seconds)
        review.alert_ids = [*(review.alert_ids or []), *ids]
    return ids


def _left(rt: Runtime, review: Review) -> float:
    """Seconds left of the review's undo window (0: closed)."""
    ends = aware(review.reviewed_at) + timedelta(seconds=rt.settings.review_undo_seconds)
    return max(0.0, (ends - utcnow()).total_seconds())

