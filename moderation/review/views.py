"""The one read model of an item: what a person sees of it, as plain dicts.

``outcome`` is the decision (status, verdict, labels, reasons, the video
timeline), as ``modq items list|show`` print it; ``detail`` adds what a reviewer
needs (fired labels marked, the rules that fired, lease, review, video markers,
the frame of an animation that fired), as ``GET /v1/items/{id}``, the console
and ``modq review next`` show it; ``summary`` and ``queue_rows`` are the list
rows. It lives in review, not items, because it reads reviews and video
detections (items < video < review). The functions taking a database URL own
their transaction: the API and the CLI call those, never a session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.infra.clock import utcnow
from moderation.items.frame_evidence import fired_frame
from moderation.domain.tenancy import Scope
from moderation.items.queries import by_external_id, decision_for, find_item, get_item, iso, list_items
from moderation.review import appeals, escalations, services as review
from moderation.review.chips import chips
from moderation.review.models import Review
from moderation.review.queries import QueueFilter
from moderation.video.queries import video_view

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime

MAX_MARKERS = 300

try:  # the video tables arrive with the video pipeline (migration 0002_video)
    from moderation.video.models import VideoDetection
except ImportError:  # pragma: no cover - image-only installs
    VideoDetection = None


def item_detail(database_url: str, item_id: str, with_reviewer: bool = True,
                or_external_id: bool = False, *, scope: Scope) -> dict[str, Any] | None:
    """``detail`` of the item with this id (``or_external_id``: else of the one with this external id, so an
    id always wins over an external id equal to it); None if there is none in ``scope`` (an item of a tenant
    outside it is not found, as a missing one). An external id that several of ``scope``'s tenants use
    raises ``AmbiguousRef``."""
    with transaction(database_url) as s:
        item = get_item(s, item_id, scope)
        if item is None and or_external_id:
            item = by_external_id(s, item_id, scope)
        return detail(s, item, with_reviewer) if item is not None else None


def item_outcome(database_url: str, ref: str, *, scope: Scope) -> dict[str, Any] | None:
    """``outcome`` of the item ``ref`` names (id, external id or a unique id prefix) in ``scope``; None if
    none."""
    with transaction(database_url) as s:
        item = find_item(s, ref, scope)
        return outcome(s, item) if item is not None else None


def item_outcomes(database_url: str, *, status: str | None = None, verdict: str | None = None,
                  limit: int = 50, scope: Scope) -> list[dict[str, Any]]:
    """``outcome`` of ``scope``'s items, newest first."""
    with transaction(database_url) as s:
        return [outcome(s, i) for i in list_items(s, status=status, verdict=verdict, limit=limit, scope=scope)]


def item_summaries(database_url: str, *, status: str | None = None, verdict: str | None = None,
                   external_id: str | None = None, limit: int = 50, offset: int = 0,
                   scope: Scope) -> list[dict[str, Any]]:
    """``summary`` of ``scope``'s items, newest first."""
    with transaction(database_url) as s:
        return [summary(i) for i in list_items(s, status=status, verdict=verdict, external_id=external_id,
                                                limit=limit, offset=offset, scope=scope)]


def review_queue(rt: Runtime, f: QueueFilter, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """The queue's ``queue_rows``, oldest first."""
    items = review.queue(rt, f, limit=limit, offset=offset)
    with transaction(rt.settings.database_url) as s:
        return queue_rows(s, items)


def summary(item: m.Item) -> dict[str, Any]:
    return {"id": item.id, "external_id": item.external_id, "media_type": item.media_type, "status": item.status,
            "verdict": item.verdict, "failure_reason": item.failure_reason, "policy_version": item.policy_version,
            "created_at": iso(item.created_at), "decided_at": iso(item.decided_at)}


def lease(item: m.Item) -> dict[str, Any] | None:
    if not item.leased(utcnow()):
        return None
    return {"owner": item.lease_owner, "expires_at": iso(item.lease_expires_at)}


def queue_rows(s: Session, items: list[m.Item]) -> list[dict[str, Any]]:
    ids = [i.analysis_id for i in items if i.analysis_id]
    query = select(m.Analysis.id, m.Analysis.labels).where(m.Analysis.id.in_(ids))
    labels = {row[0]: row[1] for row in s.execute(query)} if ids else {}
    fired = fired_labels(s, [i.id for i in items])
    return [{**summary(item), "lease": lease(item),
             "top_labels": chips(labels.get(item.analysis_id, []), fired.get(item.id, []))} for item in items]


def fired_labels(s: Session, item_ids: list[str]) -> dict[str, list[str]]:
    """Per item, the labels whose rules fired (flag or reject), in its decision's order: one query."""
    if not item_ids:
        return {}
    query = select(m.Decision.item_id, m.Decision.reasons).where(m.Decision.item_id.in_(item_ids))
    return {item_id: list(dict.fromkeys(r["label"] for r in reasons or () if r.get("action") in ("flag", "reject")))
            for item_id, reasons in s.execute(query)}


def outcome(s: Session, item: m.Item) -> dict[str, Any]:
    """Everything a person needs to understand an item's outcome."""
    analysis = s.get(m.Analysis, item.analysis_id) if item.analysis_id else None
    decision = decision_for(s, item.id)
    return {
        "id": item.id,
        "external_id": item.external_id,
        "subject_id": item.subject_id,
        "media_uri": item.media_uri,
        "media_type": item.media_type,
        "status": item.status,
        "verdict": item.verdict,
        "failure_reason": item.failure_reason,
        "metadata": item.item_metadata,
        "provider": item.provider,
        "policy_version": item.policy_version,
        "attempts": item.attempts,
        "created_at": item.created_at.isoformat() if item.created_at else None,
        "decided_at": item.decided_at.isoformat() if item.decided_at else None,
        "model_version": analysis.model_version if analysis else None,
        "labels": analysis.labels if analysis else [],
        "content_types": analysis.content_types if analysis else [],
        "reasons": [r["text"] for r in decision.reasons] if decision else [],
        "video": video_view(s, item.id) if item.media_type == "video" else None,
    }


def review_of(s: Session, item_id: str, with_reviewer: bool = True) -> dict[str, Any] | None:
    row = s.scalar(select(Review).where(Review.item_id == item_id))
    if row is None:
        return None
    view = {"verdict": row.verdict, "reason": row.reason, "reason_code": row.reason_code,
            "previous_status": row.previous_status, "reviewed_at": iso(row.reviewed_at),
            "overridden_from": row.overridden_from, "overridden_at": iso(row.overridden_at)}
    # An overridden review's verdict and reason are the admin's: name who set them, beside the first reviewer.
    return {**view, "reviewer": row.reviewer, "overridden_by": row.overridden_by} if with_reviewer else view


def detail(s: Session, item: m.Item, with_reviewer: bool = True) -> dict[str, Any]:
    """Everything about an item, for the API and the reviewer: ``outcome`` and the review's parts."""
    view = outcome(s, item)
    decision = decision_for(s, item.id)
    rules = [r for r in (decision.reasons if decision else []) if r.get("action") in ("flag", "reject")]
    fired = {r["label"] for r in rules}
    view.update(
        created_at=iso(item.created_at), decided_at=iso(item.decided_at),
        labels=sorted(({**lab, "fired": lab["Name"] in fired} for lab in view["labels"]),
                      key=lambda lab: -lab["Confidence"]),
        rules=rules, lease=lease(item), review=review_of(s, item.id, with_reviewer),
        appeals=appeals.of_item(s, item.id, with_reviewer),
        escalation=escalations.of_item(s, item.id, with_reviewer),
        markers=markers(s, item, fired) if item.media_type == "video" else [],
        fired_frame=fired_frame(decision.reasons) if decision and item.media_type == "image" else None,
    )
    return view


def markers(s: Session, item: m.Item, fired: set[str]) -> list[dict[str, Any]]:
    """Where in a video the labels that fired were seen (seconds), earliest first."""
    if VideoDetection is None or not item.analysis_id:
        return []
    query = (select(VideoDetection).where(VideoDetection.analysis_id == item.analysis_id)
             .order_by(VideoDetection.timestamp_ms, VideoDetection.id))
    every = list(s.scalars(query))
    rows = [d for d in every if d.label in fired] or every
    return [{"t": d.timestamp_ms / 1000, "label": d.label, "confidence": round(d.confidence, 1)}
            for d in rows[:MAX_MARKERS]]
