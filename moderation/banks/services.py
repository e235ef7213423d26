"""Hash banks: content with a standing verdict, decided without any provider call.

An entry is ``rejected`` (known-bad) or ``approved`` (known-good), keyed by
the item's content key (sha256 of the bytes, or an S3 object's identity when
Rekognition read it in place) and, optionally, a PDQ perceptual hash for
near-duplicates (``MODQ_BANK_PDQ_DISTANCE``). One active entry per content
key; removing one keeps the row (``removed_at``) so old decisions that cite
it stay traceable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from moderation.domain.errors import BadInput
from moderation.infra.db import transaction
from moderation.banks.models import BankEntry
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


def add(s: Session, content_key: str, verdict: str, *, note: str = "", source: str, added_by: str,
        pdq: str | None = None) -> tuple[BankEntry, bool]:
    """Bank ``content_key``; (entry, False) if it is already banked with this verdict."""
    if verdict not in VERDICTS:
        raise BadInput(f"bank verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    if not content_key or len(content_key) > 255:
        raise BadInput("a bank entry needs a content key of 1-255 characters")
    current = active(s, content_key)
    if current is not None:
        if current.verdict == verdict:
            return current, False
        raise BadInput(f"{content_key} is already banked as {current.verdict} (entry #{current.id}); "
                       f"remove that entry first")
    entry = BankEntry(content_key=content_key, verdict=verdict, note=note, source=source[:64],
                      added_by=added_by[:128], pdq=pdq, added_at=utcnow())
    s.add(entry)
    s.flush()
    return entry, True


def bank_review_rejection(s: Session, key: str | None, item_id: str, reviewer: str, reason: str) -> None:
    """MODQ_BANK_REVIEWER_REJECTIONS: a reviewer rejected item ``item_id`` (content ``key``), so the same
    content is rejected next time with no provider call. Content already banked keeps its entry (a known-good
    one is a deliberate choice, to revisit by hand)."""
    if not key or active(s, key) is not None:
        return
    add(s, key, "rejected", note=f"rejected in review by {reviewer}: {reason}", source=f"review:{item_id}",
        added_by=reviewer)


def remove(s: Session, entry_id: int, removed_by: str) -> BankEntry:
    entry = s.get(BankEntry, entry_id)
    if entry is None or entry.removed_at is not None:
        raise BadInput(f"no active bank entry #{entry_id}")
    entry.removed_at, entry.removed_by = utcnow(), removed_by[:128]
    return entry


def _current(content_key: str, *columns):
    """The query for a key's active entry (the newest, should two ever be active)."""
    return (select(*columns).where(BankEntry.content_key == content_key, BankEntry.removed_at.is_(None))
            .order_by(BankEntry.id.desc()).limit(1))


def in_use():
    """A SQL expression, true while the bank has an active entry: with none, nothing can match and the
    lookup before a provider call is skipped (``items.services``, read in the item's own start statement)."""
    return exists(select(BankEntry.id).where(BankEntry.removed_at.is_(None)))


def active(s: Session, content_key: str) -> BankEntry | None:
    return s.scalars(_current(content_key, BankEntry)).first()


def describe(e: BankEntry) -> dict:
    """An entry as `modq bank list --json` and `GET /v1/bank` show it."""
    return {"id": e.id, "content_key": e.content_key, "verdict": e.verdict, "note": e.note, "pdq": bool(e.pdq),
            "source": e.source, "added_by": e.added_by, "added_at": e.added_at, "removed_at": e.removed_at,
            "removed_by": e.removed_by}


def entries(s: Session, include_removed: bool = False, limit: int = 1000, offset: int = 0) -> list[BankEntry]:
    query = select(BankEntry).order_by(BankEntry.id.desc()).limit(limit).offset(offset)
    if not include_removed:
        query = query.where(BankEntry.removed_at.is_(None))
    return list(s.scalars(query))


def listing(database_url: str, include_removed: bool = False, limit: int = 1000, offset: int = 0) -> list[dict]:
    """``describe`` of the entries, newest first (from the ``offset``-th)."""
    with transaction(database_url) as s:
        return [describe(e) for e in entries(s, include_removed, limit, offset)]


def bank(database_url: str, content_key: str, verdict: str, *, note: str = "", source: str, added_by: str,
         pdq: str | None = None) -> tuple[dict, bool]:
    """``add`` in a transaction of its own: (``describe`` of the entry, created)."""
    with transaction(database_url) as s:
        entry, created = add(s, content_key, verdict, note=note, source=source, added_by=added_by, pdq=pdq)
        return describe(entry), created


def unbank(database_url: str, entry_id: int, removed_by: str) -> dict:
    """``remove`` in a transaction of its own: ``describe`` of the removed entry."""
    with transaction(database_url) as s:
        return describe(remove(s, entry_id, removed_by))


def match(s: Session, content_key: str, pdq: str | None = None, max_distance: int = 0) -> Match | None:
    """The active entry for this content: the same key, else (``pdq``, ``max_distance`` > 0) the nearest PDQ
    hash within ``max_distance`` bits; on a tie, a rejection wins."""
    b = BankEntry  # columns, not an entity: this runs before every item's provider call
    exact = s.execute(_current(content_key, b.id, b.verdict, b.note)).first()
    if exact is not None:
        return Match(exact.id, exact.verdict, exact.note, 0)
    if not pdq or max_distance <= 0:
        return None
    wanted = int(pdq, 16)
    best: Match | None = None
    for entry_id, verdict, note, other in s.execute(
            select(BankEntry.id, BankEntry.verdict, BankEntry.note, BankEntry.pdq)
            .where(BankEntry.removed_at.is_(None), BankEntry.pdq.is_not(None))):
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
