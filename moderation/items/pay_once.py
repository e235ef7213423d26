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
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.banks import services as banks
from moderation.domain.labels import Analysis, ModerationLabel
from moderation.items import models as m
from moderation.infra.db import transaction


@dataclass(frozen=True)
class Reusable:
    analysis_id: int
    analysis: Analysis  # labels at or above today's min_confidence only
    first_item_id: str | None  # the item whose call produced it, for the audit trail


def _model_version(provider):
    """The model version a call would use now: the provider's own when it knows it (the offline model),
    else (Rekognition says it only in a response) the one its latest stored answer reported, as a
    subquery of the lookup itself: no extra round trip on the hot path."""
    known = getattr(provider, "model_version", None)
    if isinstance(known, str):
        return known
    return (select(m.Analysis.model_version).where(m.Analysis.provider == provider.name)
            .order_by(m.Analysis.id.desc()).limit(1).scalar_subquery())


def reusable(s: Session, content_key: str, provider, min_confidence: float) -> Reusable | None:
    """The newest analysis of ``content_key`` a new call would reproduce, if any (one statement)."""
    a = m.Analysis
    row = s.execute(select(a.id, a.provider, a.model_version, a.labels, a.content_types)
                    .where(a.content_key == content_key, a.provider == provider.name,
                           a.model_version == _model_version(provider), a.min_confidence <= min_confidence)
                    .order_by(a.id.desc()).limit(1)).first()
    if row is None:
        return None
    # Labels between the old and today's min_confidence were not asked for now: drop them,
    # so the decision is the one a fresh call would give.
    labels = [lab for lab in map(ModerationLabel.from_dict, row.labels or ()) if lab.confidence >= min_confidence]
    first = s.scalar(select(m.Decision.item_id).where(m.Decision.analysis_id == row.id)
                     .order_by(m.Decision.id).limit(1))
    analysis = Analysis(row.provider, row.model_version, labels, row.content_types or [], {"ReusedAnalysis": row.id})
    return Reusable(row.id, analysis, first)


@dataclass(frozen=True)
class Known:
    bank: banks.Match | None = None
    reuse: Reusable | None = None


def lookup(database_url: str, content_key: str, provider, min_confidence: float, dedupe: bool = True,
           pdq: str | None = None, pdq_distance: int = 0) -> Known:
    """What is known about this content: a bank match first, else (``dedupe``) a reusable analysis."""
    with transaction(database_url) as s:
        match = banks.match(s, content_key, pdq, pdq_distance)
        if match is not None:
            return Known(bank=match)
        return Known(reuse=reusable(s, content_key, provider, min_confidence) if dedupe else None)
