"""Subjects: the uploaders (accounts on a platform) items carry in ``subject_id``. Their history, and the
rule that flags one (a thresholds file's ``subjects: {alert_after: {rejected: N, within: 7d}}``).

A subject belongs to its tenant: the same id on two platforms is two subjects, so everything here takes a
tenant id (the caller resolves names and checks the caller may see that tenant).

The rule runs in the transaction that decides an item (``outcomes.record``, ``review.services.review``),
only when the item has a subject, its tenant's policy has a rule and the verdict is, or was, ``rejected``:
one query counts the subject's rejected items submitted within the window and finds its open flag. Reaching
the rule with no open flag writes a ``SubjectFlag`` and one outbox alert (kind ``subject``; the webhook
event ``subject.flagged``); falling back under it (old rejections left the window, a review overturned one)
clears the flag, so the next crossing alerts again. Concurrent decisions of one subject's items cannot both
alert: the alert's ``dedup_id`` names the crossing, and the second insert of it is dropped.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from moderation.alerts.models import Alert
from moderation.alerts.queries import add_alert
from moderation.alerts.services import subject_line
from moderation.domain.policy import ThresholdPolicy
from moderation.domain.subject_rule import SubjectRule
from moderation.domain.tenancy import Scope
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.items.queries import iso

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

KIND = "subject"  # the alert kind (SNS attribute kind=subject; the webhook event subject.flagged)
LATEST = 10  # decided items a history lists
PENDING = "pending"  # counted for items not decided yet (queued, processing, submitted)
_I, _F = m.Item, m.SubjectFlag
_OF = (bindparam("tenant_id"), bindparam("subject_id"))


def _standing():
    """Built once: the subject's rejected items in the window, its open flag, and its flags so far."""
    tenant, subject = _OF
    rejected = (select(func.count()).select_from(_I).where(
        _I.tenant_id == tenant, _I.subject_id == subject, _I.verdict == m.REJECTED,
        _I.created_at >= bindparam("since")).scalar_subquery())
    flags = select(_F.id).where(_F.tenant_id == tenant, _F.subject_id == subject)
    open_flag = flags.where(_F.cleared_at.is_(None)).order_by(_F.id.desc()).limit(1).scalar_subquery()
    crossings = select(func.count()).select_from(flags.subquery()).scalar_subquery()
    return select(rejected.label("rejected"), open_flag.label("open_flag"), crossings.label("crossings"))


_STANDING = _standing()
_ADD_FLAG = insert(_F.__table__)
_CLEAR = update(_F.__table__).where(_F.__table__.c.id == bindparam("flag_id"))


def after_verdict(s: Session, rt: Runtime, item: Any, verdict: str, previous: str | None = None,
                  now: datetime | None = None, policy: ThresholdPolicy | None = None) -> list[Alert]:
    """Apply the item's tenant's subject rule after ``item`` got ``verdict`` (``previous``: its verdict before,
    for a review), in the deciding transaction, the item row already updated; the alerts written (0 or 1).
    ``item``: the item row or entity (``id``, ``tenant_id``, ``subject_id``, ``external_id``, ``media_type``).
    ``policy``: the policy that decided, when it is not (yet) the active one a worker reads (a re-evaluation)."""
    if item.subject_id is None or m.REJECTED not in (verdict, previous):
        return []
    rule = (policy or rt.active_policy(item.tenant_id)).subjects
    if rule is None:
        return []
    now = now or utcnow()
    standing = s.execute(_STANDING, {"tenant_id": item.tenant_id, "subject_id": item.subject_id,
                                     "since": now - rule.window}).one()
    if standing.rejected < rule.rejected:
        if standing.open_flag is not None:  # back under the rule: the next crossing alerts again
            s.execute(_CLEAR, {"flag_id": standing.open_flag, "cleared_at": now})
        return []
    if standing.open_flag is not None or verdict != m.REJECTED:
        return []
    alert = subject_alert(item, rule, standing.rejected, standing.crossings + 1, now)
    try:
        with s.begin_nested():  # a concurrent decision of the same subject wrote this crossing's alert first
            alert.id = add_alert(s, alert)
            s.execute(_ADD_FLAG, {"tenant_id": item.tenant_id, "subject_id": item.subject_id, "rule": rule.text(),
                                  "count": standing.rejected, "crossed_at": now, "cleared_at": None})
    except IntegrityError:
        return []
    return [alert]


def subject_alert(item: Any, rule: SubjectRule, count: int, crossing: int, now: datetime) -> Alert:
    """The outbox row for a subject crossing its tenant's rule, naming the item that made it cross."""
    key = hashlib.sha256(item.subject_id.encode("utf-8")).hexdigest()[:32]
    message = {"kind": KIND, "subject_id": item.subject_id, "rule": rule.text(), "rejected": count,
               "within": rule.within, "item_id": item.id, "external_id": item.external_id,
               "media_type": item.media_type, "flagged_at": now.isoformat()}
    subject = subject_line(f"modq subject flagged: {count} rejected within {rule.within} [{item.subject_id}]")
    return Alert(item_id=item.id, tenant_id=item.tenant_id, kind=KIND,
                 dedup_id=f"{KIND}:{item.tenant_id}:{key}:{crossing}", subject=subject, message=message,
                 attributes={"kind": KIND})


# --- the read model ----------------------------------------------------------


def history(database_url: str, subject_id: str, *, tenant_id: int, latest: int = LATEST) -> dict[str, Any] | None:
    """What a subject has uploaded to the tenant: counts by verdict (``pending``: not decided yet), the first
    and last submission, the latest decided items and the open flag; None if it has no item there."""
    with transaction(database_url) as s:
        return _history(s, tenant_id, subject_id, latest)


def of_item(database_url: str, item_id: str, *, scope: Scope, rejected: int = 5) -> dict[str, Any] | None:
    """The history of an item's subject (the console's item page), with its last ``rejected`` rejected items
    but this one; None if the item has no subject or ``scope`` does not cover it."""
    with transaction(database_url) as s:
        row = s.execute(select(_I.tenant_id, _I.subject_id).where(_I.id == item_id)).first()
        if row is None or row.subject_id is None or not scope.covers(row.tenant_id):
            return None
        view = _history(s, row.tenant_id, row.subject_id, 0)
        query = _decided(row.tenant_id, row.subject_id).where(_I.verdict == m.REJECTED, _I.id != item_id)
        return {**view, "rejected_items": _rows(s, query.limit(rejected))} if view else None


def _history(s: Session, tenant_id: int, subject_id: str, latest: int) -> dict[str, Any] | None:
    of = (_I.tenant_id == tenant_id, _I.subject_id == subject_id)
    groups = s.execute(select(_I.status, func.count(), func.min(_I.created_at), func.max(_I.created_at))
                       .where(*of).group_by(_I.status)).all()
    if not groups:
        return None
    counts = dict.fromkeys((*m.DECIDED, m.FAILED, PENDING), 0)
    for status, n, _first, _last in groups:
        counts[PENDING if status in m.IN_FLIGHT else status] += n
    flag = s.execute(select(_F.rule, _F.count, _F.crossed_at).where(
        _F.tenant_id == tenant_id, _F.subject_id == subject_id, _F.cleared_at.is_(None))
        .order_by(_F.id.desc()).limit(1)).first()
    return {"subject_id": subject_id, "items": sum(counts.values()), "counts": counts,
            "first_submitted_at": iso(min(g[2] for g in groups)), "last_submitted_at": iso(max(g[3] for g in groups)),
            "latest": _rows(s, _decided(tenant_id, subject_id).limit(latest)) if latest else [],
            "flag": {"rule": flag.rule, "count": flag.count, "crossed_at": iso(flag.crossed_at)} if flag else None}


def _decided(tenant_id: int, subject_id: str):
    return (select(_I.id, _I.verdict, _I.decided_at, _I.external_id, _I.media_type)
            .where(_I.tenant_id == tenant_id, _I.subject_id == subject_id, _I.verdict.is_not(None))
            .order_by(_I.decided_at.desc(), _I.id))


def _rows(s: Session, query) -> list[dict[str, Any]]:
    return [{"id": r.id, "verdict": r.verdict, "decided_at": iso(r.decided_at), "external_id": r.external_id,
             "media_type": r.media_type} for r in s.execute(query)]
