"""Legal holds (issue 19.3): an item, or every item of a subject of a tenant, kept whatever retention or an
erasure request says. Retention and erasure ask ``holding`` before they touch an item, and report what they
skipped and why.

An admin adds, lists and releases holds (``modq holds``, ``/v1/holds``); each add and release is an audit entry
(``hold``, ``release_hold``). A subject id is personal data: it stays in ``legal_holds.subject_id`` only (whose
row an admin releases, and an erasure after the release removes), never in an audit entry, which outlives it:
a subject hold's entry names its tenant and "hold <id> on a subject", and the admin's reason with any copy of
the subject id in it replaced by ``[subject]``. Callers check the role (admin); a hold or an item of a tenant
outside the caller's scope is NotFound, as a missing one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from moderation.domain.errors import BadInput
from moderation.domain.tenancy import Scope
from moderation.infra.clock import aware, utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.items.queries import lock_item
from moderation.privacy.models import LegalHold
from moderation.review.services import Conflict, NotFound
from moderation.tenants import services as tenants

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime

REASON_MAX = 1000
SUBJECT_MAX = 255  # legal_holds.subject_id, as items.subject_id
SUBJECT_SHOWN = "[subject]"  # what replaces the subject id in an audit entry's copy of the reason


def holding(s: Session, tenant_id: int, item_id: str, subject_id: str | None) -> LegalHold | None:
    """The active hold on the item (its own, or its subject's in its tenant), if any."""
    on = [LegalHold.item_id == item_id]
    if subject_id:
        on.append(and_(LegalHold.tenant_id == tenant_id, LegalHold.subject_id == subject_id))
    return s.scalar(select(LegalHold).where(LegalHold.released_at.is_(None), or_(*on))
                    .order_by(LegalHold.id).limit(1))


def add(rt: Runtime, tenant_id: int, *, item_id: str | None = None, subject_id: str | None = None, reason: str,
        actor: str) -> dict[str, Any]:
    """Hold item ``item_id`` of tenant ``tenant_id``, or every item of its subject ``subject_id`` (exactly one);
    the new hold as ``list_`` shows it. NotFound: no such item in that tenant (another tenant's is the same)."""
    reason = _text(reason, "reason", REASON_MAX)
    if (item_id is None) == (subject_id is None):
        raise BadInput("give exactly one of an item id and a subject id to hold")
    if subject_id is not None:
        subject_id = _text(subject_id, "subject", SUBJECT_MAX)
    with transaction(rt.settings.database_url) as s:
        if item_id is not None:
            _holdable(s, item_id, tenant_id)
        hold = LegalHold(tenant_id=tenant_id, item_id=item_id, subject_id=subject_id, reason=reason,
                         created_by=actor, created_at=utcnow())
        s.add(hold)
        s.flush()
        _audit(s, hold, m.AuditAction.HOLD, actor, reason)
        return view(hold, tenants.names_of_all(s))


def list_(rt: Runtime, scope: Scope, include_released: bool = False) -> list[dict[str, Any]]:
    """The holds of ``scope``'s tenants, oldest first; active ones only unless ``include_released``."""
    query = select(LegalHold).order_by(LegalHold.id)
    if not scope.all:
        query = query.where(LegalHold.tenant_id.in_(sorted(scope.tenant_ids)))
    if not include_released:
        query = query.where(LegalHold.released_at.is_(None))
    with transaction(rt.settings.database_url) as s:
        names = tenants.names_of_all(s)
        return [view(hold, names) for hold in s.scalars(query)]


def release(rt: Runtime, hold_id: int, scope: Scope, actor: str, reason: str | None = None) -> dict[str, Any]:
    """Release hold ``hold_id`` (its row stays, with who released it and when); the hold as ``list_`` shows
    it. NotFound: no such hold in ``scope``; Conflict: released already."""
    reason = None if reason is None or not reason.strip() else _text(reason, "reason", REASON_MAX)
    with transaction(rt.settings.database_url) as s:
        hold = s.get(LegalHold, hold_id)
        if hold is None or not scope.covers(hold.tenant_id):
            raise NotFound(f"no legal hold {hold_id}")
        # Conditional: of two releases at once the second matches no row (PostgreSQL re-reads it once the first
        # commits), so only one is released and audited.
        done = s.execute(update(LegalHold).where(LegalHold.id == hold_id, LegalHold.released_at.is_(None))
                         .values(released_by=actor, released_at=utcnow()).execution_options(synchronize_session=False))
        if done.rowcount != 1:
            s.refresh(hold)
            raise Conflict(f"legal hold {hold_id} was released already, by {hold.released_by} at "
                           f"{aware(hold.released_at).isoformat() if hold.released_at else '?'}")
        s.refresh(hold)
        _audit(s, hold, m.AuditAction.RELEASE_HOLD, actor, reason)
        return view(hold, tenants.names_of_all(s))


def held_items(database_url: str, item_ids: list[str]) -> dict[str, int]:
    """Of ``item_ids``, those under an active hold (their own or their subject's), each with a hold's id: what
    the console marks. One query."""
    if not item_ids:
        return {}
    i, h = m.Item, LegalHold
    covers = or_(h.item_id == i.id, and_(h.subject_id.is_not(None), h.tenant_id == i.tenant_id,
                                        h.subject_id == i.subject_id))
    query = (select(i.id, h.id).join(h, covers).where(i.id.in_(item_ids), h.released_at.is_(None))
             .order_by(h.id.desc()))
    with transaction(database_url) as s:
        return {item_id: hold_id for item_id, hold_id in s.execute(query)}  # the oldest hold wins


def view(hold: LegalHold, names: dict[int, str]) -> dict[str, Any]:
    """A hold as the CLI and API show it (to admins: the subject id included)."""
    return {"id": hold.id, "tenant": names.get(hold.tenant_id, str(hold.tenant_id)), "item_id": hold.item_id,
            "subject_id": hold.subject_id, "reason": hold.reason, "created_by": hold.created_by,
            "created_at": aware(hold.created_at).isoformat(), "released_by": hold.released_by,
            "released_at": aware(hold.released_at).isoformat() if hold.released_at else None}


def _text(value: Any, name: str, most: int) -> str:
    """``value`` stripped: 1-``most`` printable characters, else BadInput naming ``name``."""
    text = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= most or not text.isprintable():
        raise BadInput(f"{name}: 1-{most} printable characters are required (no control characters)")
    return text


def _holdable(s: Session, item_id: str, tenant_id: int) -> None:
    item = lock_item(s, item_id)  # locked: an erasure or a purge of it waits for the hold, or comes first
    if item is None or item.tenant_id != tenant_id:
        raise NotFound(f"no item {item_id!r}")
    if item.purged_at is not None:  # nothing personal is left to keep
        raise Conflict(f"item {item_id}'s personal data was already removed ({item.purge_cause}) at "
                       f"{aware(item.purged_at).isoformat()}: there is nothing left to hold")


def _audit(s: Session, hold: LegalHold, action: m.AuditAction, actor: str, reason: str | None) -> None:
    """The entry of an add or a release: on the item (item_id), or on the tenant for a subject hold (no
    subject id in it)."""
    what = f"hold {hold.id}" + ("" if hold.item_id else " on a subject")
    if reason and hold.subject_id:
        reason = reason.replace(hold.subject_id, SUBJECT_SHOWN)
    text = f"{what}: {reason}" if reason else what
    s.add(m.AuditEvent(item_id=hold.item_id, tenant_id=None if hold.item_id else hold.tenant_id, actor=actor,
                       action=action, reason=text))
