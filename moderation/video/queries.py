"""What a reviewer sees of a video: its job, per-label summary and timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.video import models as vm
from moderation.domain.timeline import fmt_ms

TIMELINE_LIMIT = 500  # detections shown inline; a long video can have tens of thousands


def video_view(s: Session, item_id: str, limit: int = TIMELINE_LIMIT) -> dict[str, Any] | None:
    """Job, labels (most confident first, with where they were seen) and the first ``limit`` detections."""
    job = s.get(vm.VideoJob, item_id)
    if job is None:
        return None
    summaries = s.scalars(select(vm.VideoLabelSummary).where(vm.VideoLabelSummary.item_id == item_id)
                          .order_by(vm.VideoLabelSummary.max_confidence.desc(), vm.VideoLabelSummary.first_ms,
                                    vm.VideoLabelSummary.level.desc(), vm.VideoLabelSummary.label))
    detections = s.scalars(select(vm.VideoDetection).where(vm.VideoDetection.item_id == item_id)
                           .order_by(vm.VideoDetection.timestamp_ms, vm.VideoDetection.id).limit(limit))
    total = s.scalar(select(func.count()).select_from(vm.VideoDetection).where(vm.VideoDetection.item_id == item_id))
    return {
        "provider": job.provider,
        "job_id": job.job_id,
        "job_state": job.state,
        "status_message": job.status_message,
        "metadata": job.video_metadata,
        "labels": [{"name": r.label, "parent": r.parent, "level": r.level, "max_confidence": r.max_confidence,
                    "first_ms": r.first_ms, "last_ms": r.last_ms, "first_seen": fmt_ms(r.first_ms),
                    "last_seen": fmt_ms(r.last_ms), "detections": r.detections} for r in summaries],
        "timeline": [{"timestamp_ms": d.timestamp_ms, "at": fmt_ms(d.timestamp_ms), "label": d.label,
                      "parent": d.parent, "level": d.level, "confidence": d.confidence,
                      **({"start_ms": d.start_ms, "end_ms": d.end_ms} if d.start_ms is not None else {})}
                     for d in detections],
        "timeline_total": total,
    }
