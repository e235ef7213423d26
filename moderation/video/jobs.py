"""Bookkeeping for video jobs: the ``video_jobs`` row, job slots, staging, the timeline rows.

Helpers of ``moderation.video`` (the use cases), kept apart so each module
reads in one sitting.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import redis
import structlog
from sqlalchemy import insert

from moderation.items import attempts
from moderation.infra.media import uris as media
from moderation.video import staging
from moderation.domain.errors import Deferred, TransientFault
from moderation.infra.media.imaging import S3Object
from moderation.infra.semaphore import SemaphoreBusy
from moderation.items import models as m
from moderation.infra.clock import aware, utcnow
from moderation.video import models as vm
from moderation.infra.db import transaction
from moderation.items.queries import audit, lock_item

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.video")


def prepare_job(rt: Runtime, item_id: str) -> tuple[str, int, str]:
    """The item's job row, a new generation if the item was re-driven: (token, generation, media URI)."""
    with transaction(rt.settings.database_url) as s:
        item = lock_item(s, item_id)
        job = s.get(vm.VideoJob, item_id, with_for_update=True)
        if job is None:
            job = vm.VideoJob(item_id=item_id, provider="rekognition", state=vm.STARTING, generation=1)
            s.add(job)
        elif job.state in (vm.SUCCEEDED, vm.FAILED):  # the same token would return the old job
            job.generation += 1
            job.state, job.job_id, job.staged_key = vm.STARTING, None, None
            job.status_message = job.completed_at = job.started_at = job.deadline_at = job.last_polled_at = None
            job.notified_at = None
        # ClientRequestToken: 1-64 of [a-zA-Z0-9-_]; a UUID plus a generation fits.
        job.client_token = item_id if job.generation == 1 else f"{item_id}-{job.generation}"
        return job.client_token, job.generation, item.media_uri


def s3_source(rt: Runtime, item_id: str, uri: str, generation: int) -> S3Object:
    ref = media.reparse(uri, rt.settings)
    if ref.scheme == "s3":
        return S3Object(ref.bucket, ref.key, ref.version)
    cfg = rt.settings
    obj = staging.stage(rt.s3(), ref, cfg.video_staging_bucket, item_id, generation, cfg.video_max_bytes)
    with transaction(cfg.database_url) as s:  # recorded before Start, so a failure can clean it up
        s.get(vm.VideoJob, item_id).staged_key = obj.key
    return obj


def mark_submitted(rt: Runtime, item_id: str, job_id: str, source: S3Object) -> bool:
    """``submitted`` with the job id; False if a duplicate delivery got there first."""
    with transaction(rt.settings.database_url) as s:
        item = lock_item(s, item_id)
        job = s.get(vm.VideoJob, item_id, with_for_update=True)
        if item.status in m.TERMINAL or (item.status == m.SUBMITTED and item.job_id == job_id):
            return False
        at = now()
        audit(s, item, m.AuditAction.SUBMITTED, item.status, m.SUBMITTED, reason=f"Rekognition job {job_id}")
        item.status, item.job_id = m.SUBMITTED, job_id
        job.job_id, job.state, job.started_at = job_id, vm.RUNNING, at
        job.deadline_at = at + timedelta(seconds=rt.settings.video_poll_deadline_seconds)
        job.source_uri = f"s3://{source.bucket}/{source.key}"
        if source.version:
            job.source_uri += f"?versionId={source.version}"
    log.info("video_job_started", item_id=item_id, job_id=job_id)
    return True


@dataclass(frozen=True)
class RunningJob:
    job_id: str
    source_uri: str
    started_at: datetime
    deadline_at: datetime
    polled_at: datetime


def claim_poll(rt: Runtime, item_id: str) -> tuple[str, RunningJob | None]:
    """The item's status, and its running job if this delivery should poll it now.

    Poll chains must not multiply: a duplicate delivery, or a start re-sent for
    an item already ``submitted``, would otherwise each keep a chain of polls
    going for the job's whole life. A poll less than half an interval after the
    previous one (or the start) is dropped, unless a completion notice came
    since; the claim is made under the row lock, so two deliveries cannot both
    pass.
    """
    with transaction(rt.settings.database_url) as s:
        item = lock_item(s, item_id)
        if item is None:
            return "missing", None
        job = s.get(vm.VideoJob, item_id, with_for_update=True)
        if item.status != m.SUBMITTED or job is None or not job.job_id:
            return item.status, None
        at, started = now(), aware(job.started_at)
        last = aware(job.last_polled_at) or started
        notified = job.notified_at is not None and aware(job.notified_at) >= last
        interval = poll_interval(rt.settings, (at - started).total_seconds())
        if not notified and (at - last).total_seconds() < interval / 2:
            log.info("video_poll_redundant", item_id=item_id)
            return item.status, None
        attempts.charge(item, rt.settings.max_attempts)  # given back if the poll ends cleanly (video.advance)
        job.last_polled_at, job.polls = at, job.polls + 1
        item.updated_at = utcnow()  # progress: the reaper leaves a watched job alone
        return item.status, RunningJob(job.job_id, job.source_uri, started, aware(job.deadline_at), at)


def poll_interval(settings, elapsed: float) -> float:
    """Half the time the job has run so far, within [initial, max]: a short job is seen soon
    after it ends, a long one costs a few calls an hour."""
    return min(settings.video_poll_max_interval_seconds, max(settings.video_poll_initial_seconds, elapsed / 2))


def still_running(rt: Runtime, item_id: str) -> None:
    try:
        if not rt.video_slots.renew(item_id):  # lease lapsed (workers were down): the job still runs
            log.warning("video_slot_lapsed", item_id=item_id)
            acquire(rt, item_id)
    except redis.RedisError as exc:
        log.warning("video_slot_renew_failed", item_id=item_id, error=str(exc))


def write_timeline(s, item_id, analysis_id, provider, detections, summaries, metadata) -> None:
    if detections:
        s.execute(insert(vm.VideoDetection), [
            {"item_id": item_id, "analysis_id": analysis_id, "timestamp_ms": d.timestamp_ms, "label": d.label.name,
             "parent": d.label.parent_name, "level": d.label.taxonomy_level, "confidence": d.label.confidence,
             "start_ms": d.start_ms, "end_ms": d.end_ms} for d in detections])
    if summaries:
        s.execute(insert(vm.VideoLabelSummary), [
            {"item_id": item_id, "analysis_id": analysis_id, "label": r.name, "parent": r.parent, "level": r.level,
             "max_confidence": r.max_confidence, "first_ms": r.first_ms, "last_ms": r.last_ms,
             "detections": r.detections} for r in summaries])
    job = s.get(vm.VideoJob, item_id)
    if job is None:  # the offline path has no provider job; the row still carries the metadata
        job = vm.VideoJob(item_id=item_id, provider=provider, generation=1)
        s.add(job)
    job.state, job.completed_at, job.video_metadata = vm.SUCCEEDED, now(), metadata


# --- slots, staging, small helpers -----------------------------------------


def acquire(rt: Runtime, item_id: str) -> bool:
    try:
        return rt.video_slots.acquire(item_id)
    except SemaphoreBusy:
        return False
    except redis.RedisError as exc:
        raise TransientFault(f"Redis (video job slots) unavailable: {exc}") from None


def waiting(rt: Runtime, item_id: str, why: str) -> Deferred:
    """The deferral to raise when no job may start now: the task tries again later, no attempt spent.

    The item's row is touched so the reaper sees an item that is waiting its
    turn, not one whose task was lost.
    """
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        if item is not None:
            item.updated_at = utcnow()
    # Jitter spreads a backlog's retries so they do not all come back at once.
    after = rt.settings.video_start_retry_seconds * random.uniform(0.5, 1.5)
    return Deferred(f"waiting for a video job slot: {why}", retry_after=after)


def release(rt: Runtime, item_id: str) -> None:
    if rt.settings.provider != "rekognition":
        return
    try:
        rt.video_slots.release(item_id)
    except redis.RedisError as exc:  # the lease lapses by itself
        log.warning("video_slot_release_failed", item_id=item_id, error=str(exc))


def finish(rt: Runtime, item_id: str) -> None:
    """After a job's end: give back its slot, delete our staged copy."""
    release(rt, item_id)
    with transaction(rt.settings.database_url) as s:
        job = s.get(vm.VideoJob, item_id)
        staged = job.staged_key if job is not None else None
    if staged and rt.settings.video_staging_bucket:
        staging.unstage(rt.s3(), rt.settings.video_staging_bucket, staged)


def channel(rt: Runtime) -> tuple[str, str] | None:
    s = rt.settings
    return (s.video_sns_topic_arn, s.video_role_arn) if s.video_sns_topic_arn and s.video_role_arn else None


def uri(rt: Runtime, item_id: str) -> str:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id).media_uri


def content_key_of(s3_uri: str) -> str:
    """Same form as an S3 image's key (``imaging.from_s3``)."""
    ref = media.parse(s3_uri, Path("/"))  # an s3:// URI needs no media root
    return f"s3:{ref.bucket}/{ref.key}@{ref.version}"


def sha256(path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def now() -> datetime:
    """The video use cases' clock, a name of its own so tests can move it (polls depend on time)."""
    return utcnow()


def end_failed(rt: Runtime, item_id: str, reason: str) -> None:
    """The job record of a failed item: ended, with the reason."""
    with transaction(rt.settings.database_url) as s:
        job = s.get(vm.VideoJob, item_id, with_for_update=True)
        if job is not None and job.state in (vm.STARTING, vm.RUNNING):
            job.state, job.status_message, job.completed_at = vm.FAILED, reason, now()
