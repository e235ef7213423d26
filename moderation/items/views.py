"""What a reviewer sees: queue rows and the item detail (labels, rules that
fired, lease, review, video markers, the frame of an animation that fired).
Plain dicts, shared by API, console, CLI."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.items.frame_evidence import fired_frame
from moderation.review.services import aware
from moderation.items import models as m
from moderation.items.queries import decision_for, iso, item_view
from moderation.review.models import Review

MAX_MARKERS = 300

try:  # the video tables arrive with the video pipeline (migration 0002_video)
    from moderation.video.models import VideoDetection
except ImportError:  # pragma: no cover - image-only installs
    VideoDetection = None


def summary(item: m.Item) -> dict[str, Any]:
    return {"id": item.id, "external_id": item.external_id, "media_type": item.media_type, "status": item.status,
            "verdict": item.verdict, "failure_reason": item.failure_reason, "policy_version": item.policy_version,
            "created_at": iso(item.created_at), "decided_at": iso(item.decided_at)}


def lease(item: m.Item) -> dict[str, Any] | None:
    if not item.lease_owner or aware(item.lease_expires_at) <= m.utcnow():
        return None
    return {"owner": item.lease_owner, "expires_at": iso(item.lease_expires_at)}


def queue_rows(s: Session, items: list[m.Item]) -> list[dict[str, Any]]:
    ids = [i.analysis_id for i in items if i.analysis_id]
    query = select(m.Analysis.id, m.Analysis.labels).where(m.Analysis.id.in_(ids))
    labels = {row[0]: row[1] for row in s.execute(query)} if ids else {}
    rows = []
    for item in items:
        top = sorted(labels.get(item.analysis_id, []), key=lambda lab: -lab["Confidence"])[:3]
        rows.append({**summary(item), "lease": lease(item),
                     "top_labels": [{"name": lab["Name"], "confidence": lab["Confidence"]} for lab in top]})
    return rows


def review_of(s: Session, item_id: str, with_reviewer: bool = True) -> dict[str, Any] | None:
    row = s.scalar(select(Review).where(Review.item_id == item_id))
    if row is None:
        return None
    view = {"verdict": row.verdict, "reason": row.reason, "previous_status": row.previous_status,
            "reviewed_at": iso(row.reviewed_at)}
    return {**view, "reviewer": row.reviewer} if with_reviewer else view


def detail(s: Session, item: m.Item, with_reviewer: bool = True) -> dict[str, Any]:
    """Everything about an item, for the API and the reviewer."""
    view = item_view(s, item)
    decision = decision_for(s, item.id)
    rules = [r for r in (decision.reasons if decision else []) if r.get("action") in ("flag", "reject")]
    fired = {r["label"] for r in rules}
    view.update(
        created_at=iso(item.created_at), decided_at=iso(item.decided_at),
        labels=sorted(({**lab, "fired": lab["Name"] in fired} for lab in view["labels"]),
                      key=lambda lab: -lab["Confidence"]),
        rules=rules, lease=lease(item), review=review_of(s, item.id, with_reviewer),
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
