"""Video tables: the job behind an item, its timeline and per-label summary.

A reviewer needs to know *where* in a video each label was seen, so every
detection is kept (``video_detections``), plus one row per label
(``video_label_summaries``) that the decision was made from. Both are written
in the decision's transaction, tied to the same ``analyses`` row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from moderation.infra.clock import utcnow
from moderation.infra.schema import Base

# VideoJob.state: ours, not Rekognition's JobStatus (which has no "not started yet").
STARTING, RUNNING, SUCCEEDED, FAILED = "starting", "running", "succeeded", "failed"


class VideoJob(Base):
    """The provider job for one video item (at most one row per item)."""

    __tablename__ = "video_jobs"

    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=STARTING)
    generation: Mapped[int] = mapped_column(Integer, default=1)  # bumped when a failed item is re-driven
    client_token: Mapped[str | None] = mapped_column(String(64))
    job_id: Mapped[str | None] = mapped_column(String(64), index=True)
    source_uri: Mapped[str | None] = mapped_column(Text)  # what the provider read (maybe a staged copy)
    staged_key: Mapped[str | None] = mapped_column(Text)  # our upload to the staging bucket, deleted after
    status_message: Mapped[str | None] = mapped_column(Text)
    video_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    polls: Mapped[int] = mapped_column(Integer, default=0)
    last_polled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # dedupes poll chains
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class VideoDetection(Base):
    """One label at one moment, as the provider reported it."""

    __tablename__ = "video_detections"
    __table_args__ = (Index("ix_video_detections_item_ts", "item_id", "timestamp_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"))
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"), index=True)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str] = mapped_column(String(128))
    parent: Mapped[str] = mapped_column(String(128), default="")
    level: Mapped[int] = mapped_column(Integer, default=0)
    confidence: Mapped[float] = mapped_column()
    start_ms: Mapped[int | None] = mapped_column(BigInteger)  # segment bounds, when the provider gives them
    end_ms: Mapped[int | None] = mapped_column(BigInteger)


class VideoLabelSummary(Base):
    """Per label over the whole video: what ``decide()`` judged, and where to look."""

    __tablename__ = "video_label_summaries"
    __table_args__ = (UniqueConstraint("analysis_id", "label", name="uq_video_label_summaries_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"))
    label: Mapped[str] = mapped_column(String(128))
    parent: Mapped[str] = mapped_column(String(128), default="")
    level: Mapped[int] = mapped_column(Integer, default=0)
    max_confidence: Mapped[float] = mapped_column()
    first_ms: Mapped[int] = mapped_column(BigInteger)
    last_ms: Mapped[int] = mapped_column(BigInteger)
    detections: Mapped[int] = mapped_column(Integer)
