"""Erasure on request (issue 19.2): a subject's personal data in one tenant, or one item's, removed at once.

``erase_subject`` walks the subject's items in bounded batches of ids and erases each in its own short
transaction, the item row locked (a subject with 100,000 items never holds one huge transaction or lock):

* an item under legal hold (``holds.holding``: its own hold or its subject's) is left as it is and reported,
  with the hold's reason (admin text, answered to an admin);
* an item still being moderated (queued, processing, submitted) is marked ``erase_requested_at`` and reported
  pending: its media URI is still needed to moderate it, so retention's sweep (``retention.purge``) erases it
  once it ends. Its subject id goes now, though: nothing on the decision path needs it, and without it the
  decision cannot write a new subject flag or a subject alert naming the subject;
* any other item is tombstoned everywhere (``scrub.scrub_item``) and gets an ``erase`` audit entry.

Then, in one transaction: the subject's ``subject_flags`` rows are deleted and its subject alerts (which carry
the subject id in their message and subject line, and its hash in their ``dedup_id``) are scrubbed, their
``dedup_id`` renamed so the subject's next crossing (counted from 1 again) is not dropped as a duplicate, and
those not sent yet withdrawn (``alerts.holds.withdraw``: never published, their pending webhook deliveries
cancelled). A subject under a hold of its own keeps these. Last, one audit entry for the
request (no item, the tenant) counts what happened. No audit entry names the subject, a URI or any erased value.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from moderation.alerts.holds import withdraw
from moderation.alerts.models import Alert
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import Scope
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.items.queries import lock_item
from moderation.items.subjects import KIND as SUBJECT_KIND
from moderation.privacy.holds import holding
from moderation.privacy.scrub import ALERT_KEPT, ERASURE, scrub_item
from moderation.review.services import NotFound

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

SUBJECT_MAX = 255  # items.subject_id
BATCH = 200  # item ids read per query; each item is then erased in a transaction of its own
ERASED_REASON = "erasure request: personal data removed"
PENDING_REASON = "erasure request: personal data removed when its moderation ends"


@dataclass
class Report:
    """What an erasure did: items erased, held (and why) and left until their moderation ends."""

    erased: list[str] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"erased": list(self.erased), "held": [dict(h) for h in self.held], "pending": list(self.pending)}


def erase_subject(rt: Runtime, tenant_id: int, subject_id: str, actor: str, now: datetime | None = None) -> Report:
    """Erase everything that identifies ``subject_id`` in tenant ``tenant_id`` (see the module docstring).
    NotFound: the subject has no item (nor flag) there, as if it never uploaded anything."""
    _check_subject(subject_id)
    url, now, report = rt.settings.database_url, now or utcnow(), Report()
    with transaction(url) as s:
        if not _known(s, tenant_id, subject_id):
            raise NotFound(f"no items with subject_id {subject_id!r}")
    after = ""
    while ids := _batch(url, tenant_id, subject_id, after):
        for item_id in ids:
            with transaction(url) as s:
                item = lock_item(s, item_id)
                if item is not None and item.tenant_id == tenant_id and item.subject_id == subject_id:
                    _erase(s, item, actor, now, report)
        after = ids[-1]
    with transaction(url) as s:
        if holding(s, tenant_id, "", subject_id) is None:  # "": no item; a hold on the subject itself
            _forget_subject(s, tenant_id, subject_id, now)
        s.add(m.AuditEvent(item_id=None, tenant_id=tenant_id, actor=actor, action=m.AuditAction.ERASE,
                           reason=f"erasure of a subject: {len(report.erased)} items erased, {len(report.held)} "
                                  f"held, {len(report.pending)} pending"))
    return report


def erase_item(rt: Runtime, item_id: str, scope: Scope, actor: str, now: datetime | None = None) -> Report:
    """Erase one item's personal data (held: reported, in flight: pending). NotFound: no such item in
    ``scope`` (another tenant's is missing too)."""
    report = Report()
    with transaction(rt.settings.database_url) as s:
        item = lock_item(s, item_id)
        if item is None or not scope.covers(item.tenant_id):
            raise NotFound(f"no item {item_id!r}")
        _erase(s, item, actor, now or utcnow(), report)
    return report


def _check_subject(subject_id: str) -> None:
    """As items store it (``subject_id``, at most 255 printable characters): anything else names no subject."""
    if not subject_id or len(subject_id) > SUBJECT_MAX or not subject_id.isprintable():
        raise BadInput(f"subject_id: 1 to {SUBJECT_MAX} printable characters (no control characters)")


def _known(s: Session, tenant_id: int, subject_id: str) -> bool:
    of = (m.Item.tenant_id == tenant_id, m.Item.subject_id == subject_id)
    flags = (m.SubjectFlag.tenant_id == tenant_id, m.SubjectFlag.subject_id == subject_id)
    return (s.scalar(select(m.Item.id).where(*of).limit(1)) is not None
            or s.scalar(select(func.count()).select_from(m.SubjectFlag).where(*flags)) > 0)


def _batch(url: str, tenant_id: int, subject_id: str, after: str) -> list[str]:
    """The next ids of the subject's items, by id: erased ones lose the subject, held ones are passed by."""
    with transaction(url) as s:
        return list(s.scalars(select(m.Item.id).where(m.Item.tenant_id == tenant_id, m.Item.subject_id == subject_id,
                                                      m.Item.id > after).order_by(m.Item.id).limit(BATCH)))


def _erase(s: Session, item: m.Item, actor: str, now: datetime, report: Report) -> None:
    """Erase the locked ``item``, or report why not yet."""
    hold = holding(s, item.tenant_id, item.id, item.subject_id)
    if hold is not None:
        report.held.append({"item_id": item.id, "reason": hold.reason})
        return
    if item.status in m.IN_FLIGHT:
        item.erase_requested_at, item.subject_id = now, None
        s.add(m.AuditEvent(item_id=item.id, actor=actor, action=m.AuditAction.ERASE, from_status=item.status,
                           to_status=item.status, reason=PENDING_REASON))
        report.pending.append(item.id)
        return
    scrub_item(s, item, ERASURE, now)
    # after the scrub, which replaces every earlier reason of the item with the tombstone
    s.add(m.AuditEvent(item_id=item.id, actor=actor, action=m.AuditAction.ERASE, from_status=item.status,
                       to_status=item.status, verdict=item.verdict, reason=ERASED_REASON,
                       policy_version=item.policy_version))
    report.erased.append(item.id)


def _forget_subject(s: Session, tenant_id: int, subject_id: str, now: datetime) -> None:
    """Delete the subject's flags; scrub, rename and (if unsent) cancel its subject alerts."""
    s.execute(delete(m.SubjectFlag).where(m.SubjectFlag.tenant_id == tenant_id,
                                          m.SubjectFlag.subject_id == subject_id))
    key = hashlib.sha256(subject_id.encode("utf-8")).hexdigest()[:32]  # as items.subjects.subject_alert names it
    prefix = f"{SUBJECT_KIND}:{tenant_id}:{key}:"
    alerts = list(s.scalars(select(Alert).where(Alert.dedup_id.startswith(prefix, autoescape=True))))
    for alert in alerts:
        alert.message = {k: v for k, v in (alert.message or {}).items() if k in ALERT_KEPT}
        alert.subject = f"modq {SUBJECT_KIND} [erased]"
        alert.dedup_id = f"{SUBJECT_KIND}:{tenant_id}:erased:{alert.id}"
    withdraw(s, [a.id for a in alerts], now)  # what has not gone out yet never will (its pending deliveries too)
