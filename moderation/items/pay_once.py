"""Pay once: decide from what is already known before calling a provider.

Two sources, looked up in one read transaction before the call:

* a **hash bank** entry for the content (``banks``): a standing verdict,
  known-bad (rejected) or known-good (approved); it wins over everything;
* an earlier **analysis of the same content** by the same provider and model
  version, asked for with a ``min_confidence`` no higher than today's (so it
  holds every label a new call would return): reused, labels re-judged by the
  active policy.

The content key is the sha256 of the bytes, or for an S3 object the provider
reads in place, its bucket, key and version id (or ETag when unversioned):
see ``service._load_image``.

Across tenants: an item is matched against its own tenant's bank entries and
the global ones only (``banks.match``); an analysis is reused whoever's item
it was made for (the same bytes give the same labels), but the reason names
the item it came from only when that item is the same tenant's: nothing one
tenant sees names another tenant's item.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from moderation.items.banks import services as banks
from moderation.domain.labels import Analysis, ModerationLabel
from moderation.items import models as m
from moderation.infra.db import transaction


@dataclass(frozen=True)
class Reusable:
    analysis_id: int
    analysis: Analysis  # labels at or above today's min_confidence only
    first_item_id: str | None  # the same tenant's first item decided from it, for the audit trail (None: none)


def _reuse_statement(model_version):
    a = m.Analysis.__table__
    return (select(a.c.id, a.c.provider, a.c.model_version, a.c.labels, a.c.content_types)
            .where(a.c.content_key == bindparam("content_key"), a.c.provider == bindparam("provider"),
                   a.c.model_version == model_version, a.c.min_confidence <= bindparam("min_confidence"))
            .order_by(a.c.id.desc()).limit(1))


# Built once (this runs before every provider call when MODQ_DEDUPE is on). The model version a call would
# use now: the provider's own when it knows it (the offline model), else (Rekognition says it only in a
# response) the one its latest stored answer reported, as a subquery: no extra round trip on the hot path.
_REUSE_KNOWN_VERSION = _reuse_statement(bindparam("model_version"))
_REUSE_LATEST_VERSION = _reuse_statement(
    select(m.Analysis.__table__.c.model_version).where(m.Analysis.__table__.c.provider == bindparam("provider"))
    .order_by(m.Analysis.__table__.c.id.desc()).limit(1).scalar_subquery())


def _model_version(provider) -> str | None:
    """The model version a call would use, when the provider knows it before any call (the offline model);
    None for Rekognition, which says it only in a response."""
    known = getattr(provider, "model_version", None)
    return known if isinstance(known, str) else None


_FIRST_ITEM = (select(m.Decision.item_id).join(m.Item, m.Item.id == m.Decision.item_id)
               .where(m.Decision.analysis_id == bindparam("analysis_id"), m.Item.tenant_id == bindparam("tenant_id"))
               .order_by(m.Decision.id).limit(1))


def reusable(s: Session, content_key: str, provider, min_confidence: float, *, tenant_id: int) -> Reusable | None:
    """The newest analysis of ``content_key`` a new call would reproduce, if any, with the first of
    ``tenant_id``'s items decided from it (never another tenant's)."""
    params = {"content_key": content_key, "provider": provider.name, "min_confidence": min_confidence}
    known = _model_version(provider)
    if known is not None:
        row = s.execute(_REUSE_KNOWN_VERSION, {**params, "model_version": known}).first()
    else:
        row = s.execute(_REUSE_LATEST_VERSION, params).first()
    if row is None:
        return None
    # Labels between the old and today's min_confidence were not asked for now: drop them,
    # so the decision is the one a fresh call would give.
    labels = [lab for lab in map(ModerationLabel.from_dict, row.labels or ()) if lab.confidence >= min_confidence]
    first = s.scalar(_FIRST_ITEM, {"analysis_id": row.id, "tenant_id": tenant_id})
    analysis = Analysis(row.provider, row.model_version, labels, row.content_types or [], {"ReusedAnalysis": row.id})
    return Reusable(row.id, analysis, first)


@dataclass(frozen=True)
class Known:
    bank: banks.Match | None = None
    reuse: Reusable | None = None


def lookup(database_url: str, content_key: str, provider, min_confidence: float, dedupe: bool = True,
           pdq: str | None = None, pdq_distance: int = 0, bank: bool = True, *, tenant_id: int) -> Known:
    """What is known about this content for an item of ``tenant_id``: a bank match first (its own and
    global entries; ``bank``: unless the bank had no active entry, ``banks.in_use``), else (``dedupe``) a
    reusable analysis."""
    with transaction(database_url) as s:
        match = banks.match(s, content_key, pdq, pdq_distance, tenant_id=tenant_id) if bank else None
        if match is not None:
            return Known(bank=match)
        return Known(reuse=reusable(s, content_key, provider, min_confidence, tenant_id=tenant_id)
                     if dedupe else None)
