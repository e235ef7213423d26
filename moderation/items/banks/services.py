"""Hash banks: content with a standing verdict, decided without any provider call.

An entry is ``rejected`` (known-bad) or ``approved`` (known-good), keyed by
the item's content key (sha256 of the bytes, or an S3 object's identity when
Rekognition read it in place) and, optionally, a PDQ perceptual hash for
near-duplicates (``MODQ_BANK_PDQ_DISTANCE``). One active entry per content
key and tenant; removing one keeps the row (``removed_at``) so old decisions
that cite it stay traceable.

An entry belongs to one tenant (it decides that tenant's items only) or to
none (``tenant_id`` NULL: a global entry, for every tenant's items). A
tenant's items are matched against its own entries and the global ones,
never another tenant's; when both match, a rejection wins, then the tenant's
own entry. So a match's reason (entry number, note) is always one the item's
tenant may see.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from moderation.domain.errors import BadInput, ModqError
from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.infra.db import transaction
from moderation.items.banks.models import BankEntry
from moderation.infra.clock import utcnow

VERDICTS = ("rejected", "approved")
PDQ_MIN_QUALITY = 50  # PDQ's own advice: hashes of flat, featureless images below this are noise


@dataclass(frozen=True)
class Match:
    entry_id: int
    verdict: str
    note: str
    distance: int  # 0: the same content key; else PDQ Hamming distance

    def reason(self) -> dict:
        how = "same content" if self.distance == 0 else f"PDQ distance {self.distance}"
        text = f"hash bank entry #{self.entry_id} ({self.verdict}, {how})" + (f": {self.note}" if self.note else "")
        return {"kind": "bank", "bank_entry": self.entry_id, "verdict": self.verdict, "distance": self.distance,
                "text": text}


class GlobalEntry(ModqError):
    """A global entry (for every tenant) is added or removed only by a caller for every tenant."""


def add(s: Session, content_key: str, verdict: str, *, note: str = "", source: str, added_by: str,
        pdq: str | None = None, tenant_id: int | None = None) -> tuple[BankEntry, bool]:
    """Bank ``content_key`` for ``tenant_id``'s items (None: a global entry, for every tenant's); (entry,
    False) if it is already banked there with this verdict."""
    if verdict not in VERDICTS:
        raise BadInput(f"bank verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    if not content_key or len(content_key) > 255:
        raise BadInput("a bank entry needs a content key of 1-255 characters")
    current = active(s, content_key, tenant_id)
    if current is not None:
        if current.verdict == verdict:
            return current, False
        raise BadInput(f"{content_key} is already banked as {current.verdict} (entry #{current.id}); "
                       f"remove that entry first")
    entry = BankEntry(content_key=content_key, verdict=verdict, note=note, source=source[:64],
                      added_by=added_by[:128], pdq=pdq, added_at=utcnow(), tenant_id=tenant_id)
    s.add(entry)
    s.flush()
    return entry, True


def bank_review_rejection(s: Session, key: str | None, item_id: str, reviewer: str, reason: str, *,
                          tenant_id: int) -> None:
    """MODQ_BANK_REVIEWER_REJECTIONS: a reviewer rejected item ``item_id`` of tenant ``tenant_id`` (content
    ``key``), so the same content is rejected next time with no provider call, for that tenant only (the
    entry names the item and the reviewer). Content already banked for it (or globally) keeps its entry (a
    known-good one is a deliberate choice, to revisit by hand)."""
    if not key or s.execute(_deciding(key, tenant_id, BankEntry.id)).first() is not None:
        return
    add(s, key, "rejected", note=f"rejected in review by {reviewer}: {reason}", source=f"review:{item_id}",
        added_by=reviewer, tenant_id=tenant_id)


def remove(s: Session, entry_id: int, removed_by: str, scope: Scope = EVERY_TENANT) -> BankEntry:
    """Mark an active entry ``scope`` may see removed (a global one: only for an every-tenant ``scope``)."""
    entry = s.get(BankEntry, entry_id)
    if entry is None or entry.removed_at is not None or not _sees(scope, entry.tenant_id):
        raise BadInput(f"no active bank entry #{entry_id}")
    if entry.tenant_id is None and not scope.all:
        raise GlobalEntry(f"bank entry #{entry_id} is global (for every tenant): only a token for every tenant "
                          "('*') removes it")
    entry.removed_at, entry.removed_by = utcnow(), removed_by[:128]
    return entry


def _sees(scope: Scope, tenant_id: int | None) -> bool:
    return tenant_id is None or scope.covers(tenant_id)


def _same_tenant(tenant_id: int | None):
    return BankEntry.tenant_id.is_(None) if tenant_id is None else BankEntry.tenant_id == tenant_id


def _current(content_key: str, tenant_id: int | None, *columns):
    """The query for a key's active entry of exactly this tenant (None: global), the newest should two ever
    be active."""
    return (select(*columns).where(BankEntry.content_key == content_key, BankEntry.removed_at.is_(None),
                                   _same_tenant(tenant_id))
            .order_by(BankEntry.id.desc()).limit(1))


def _for_tenant(tenant_id: int):
    """Entries that decide this tenant's items: its own and the global ones."""
    return or_(BankEntry.tenant_id.is_(None), BankEntry.tenant_id == tenant_id)


def _deciding(content_key: str, tenant_id: int, *columns):
    """The query for the active entry that decides a key for this tenant: a rejection first, then the tenant's
    own entry before a global one, then the newest."""
    return (select(*columns).where(BankEntry.content_key == content_key, BankEntry.removed_at.is_(None),
                                   _for_tenant(tenant_id))
            .order_by(BankEntry.verdict != "rejected", BankEntry.tenant_id.is_(None), BankEntry.id.desc())
            .limit(1))


def in_use():
    """A SQL expression, true while the bank has an active entry: with none, nothing can match and the
    lookup before a provider call is skipped (``items.services``, read in the item's own start statement)."""
    return exists(select(BankEntry.id).where(BankEntry.removed_at.is_(None)))


def active(s: Session, content_key: str, tenant_id: int | None = None) -> BankEntry | None:
    """The key's active entry of exactly this tenant (None: the global one)."""
    return s.scalars(_current(content_key, tenant_id, BankEntry)).first()


def describe(e: BankEntry) -> dict:
    """An entry as `modq bank list --json` and `GET /v1/bank` show it (``tenant_id`` None: global)."""
    return {"id": e.id, "content_key": e.content_key, "verdict": e.verdict, "note": e.note, "pdq": bool(e.pdq),
            "source": e.source, "added_by": e.added_by, "added_at": e.added_at, "removed_at": e.removed_at,
            "removed_by": e.removed_by, "tenant_id": e.tenant_id}


def entries(s: Session, include_removed: bool = False, limit: int = 1000, offset: int = 0,
            scope: Scope = EVERY_TENANT) -> list[BankEntry]:
    """The entries ``scope`` may see (its tenants' and the global ones), newest first."""
    query = select(BankEntry).order_by(BankEntry.id.desc()).limit(limit).offset(offset)
    if not scope.all:
        query = query.where(or_(BankEntry.tenant_id.is_(None), BankEntry.tenant_id.in_(sorted(scope.tenant_ids))))
    if not include_removed:
        query = query.where(BankEntry.removed_at.is_(None))
    return list(s.scalars(query))


def listing(database_url: str, include_removed: bool = False, limit: int = 1000, offset: int = 0,
            scope: Scope = EVERY_TENANT) -> list[dict]:
    """``describe`` of the entries ``scope`` may see, newest first (from the ``offset``-th)."""
    with transaction(database_url) as s:
        return [describe(e) for e in entries(s, include_removed, limit, offset, scope)]


def bank(database_url: str, content_key: str, verdict: str, *, note: str = "", source: str, added_by: str,
         pdq: str | None = None, tenant_id: int | None = None) -> tuple[dict, bool]:
    """``add`` in a transaction of its own: (``describe`` of the entry, created)."""
    with transaction(database_url) as s:
        entry, created = add(s, content_key, verdict, note=note, source=source, added_by=added_by, pdq=pdq,
                             tenant_id=tenant_id)
        return describe(entry), created


def unbank(database_url: str, entry_id: int, removed_by: str, scope: Scope = EVERY_TENANT) -> dict:
    """``remove`` in a transaction of its own: ``describe`` of the removed entry."""
    with transaction(database_url) as s:
        return describe(remove(s, entry_id, removed_by, scope))


def match(s: Session, content_key: str, pdq: str | None = None, max_distance: int = 0, *,
          tenant_id: int) -> Match | None:
    """The active entry that decides this content for ``tenant_id``'s items (its own entries and the global
    ones): the same key, else (``pdq``, ``max_distance`` > 0) the nearest PDQ hash within ``max_distance``
    bits; on a tie, a rejection wins."""
    b = BankEntry  # columns, not an entity: this runs before every item's provider call
    exact = s.execute(_deciding(content_key, tenant_id, b.id, b.verdict, b.note)).first()
    if exact is not None:
        return Match(exact.id, exact.verdict, exact.note, 0)
    if not pdq or max_distance <= 0:
        return None
    wanted = int(pdq, 16)
    best: Match | None = None
    for entry_id, verdict, note, other in s.execute(
            select(BankEntry.id, BankEntry.verdict, BankEntry.note, BankEntry.pdq)
            .where(BankEntry.removed_at.is_(None), BankEntry.pdq.is_not(None), _for_tenant(tenant_id))):
        distance = (wanted ^ int(other, 16)).bit_count()
        if distance <= max_distance and (best is None or (distance, verdict != "rejected")
                                         < (best.distance, best.verdict != "rejected")):
            best = Match(entry_id, verdict, note, distance)
    return best


def pdq_hex(image) -> str | None:
    """PDQ hash of a PIL image as 64 hex digits, or None when PDQ rates it too featureless to match
    (or the optional pdqhash package is not installed: exact matches still work)."""
    try:
        import pdqhash  # heavy optional dependency (the pdq extra)
    except ImportError:
        return None

    bits, quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    if quality < PDQ_MIN_QUALITY:
        return None
    return f"{int(''.join('1' if b else '0' for b in bits), 2):064x}"
