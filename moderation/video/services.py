"""Video use cases: start a job (or analyse offline), advance it, record the outcome. No Celery here.

Rekognition: ``start`` takes a job slot (``limits.LeaseSemaphore``, shared by
all workers), starts the job (idempotent by ClientRequestToken) and leaves the
item ``submitted``; ``advance`` polls it and asks the dispatcher to run it
again after a growing countdown (a worker never sleeps on a job) until the job
ends or the deadline passes. A completion notification only brings the next
poll forward (``video_completions``). Offline: ``start`` decodes, samples and
judges at once. Every end goes through ``outcomes.record`` or ``fail``: one
decision, one alert, and the slot given back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from moderation.items import attempts, outcomes, pay_once, services as service
from moderation.infra import lease, metrics
from moderation.infra.media import uris as media
from moderation.video import staging
from moderation.domain import timeline
from moderation.providers import usage
from moderation.video import jobs
from moderation.domain.errors import BadInput, DeploymentFault
from moderation.domain.policy import Decision, decide
from moderation.providers import local_video
from moderation.domain.labels import Analysis
from moderation.providers.rekognition_video import JobLimitExceeded
from moderation.items import models as m
from moderation.items.queries import tenant_of
from moderation.infra.schema import new_id
from moderation.providers.models import BANKED

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.video")


def start(item_id: str, rt: Runtime, owner: str | None = None) -> str:
    """Begin moderating a video item; return its status afterwards.

    ``owner`` names this delivery (the task id) in the item's lease on the
    offline path, where one delivery decodes the whole video: a duplicate
    arriving meanwhile gets ``LeaseBusy`` and looks again later (the
    Rekognition path is idempotent through its ClientRequestToken instead).
    """

    def work() -> str:
        with usage.recording(rt.settings.database_url, item_id, "video"):  # every provider call is accounted
            if rt.settings.provider == "rekognition":
                return _start_job(rt, item_id)
            # Held until the decision: longer than the reaper waits before re-sending a silent item, so its
            # re-send waits too; a redelivery of this same task (same owner) takes it over at once.
            seconds = rt.settings.reaper_stuck_after_seconds + rt.settings.processing_lease_seconds
            with lease.held(rt.leases, item_id, owner or new_id(), seconds):
                return _process_offline(rt, item_id)

    # The attempt budget is enforced from items.attempts, as for images (``attempts``).
    return attempts.settle(rt, item_id, work, fail)


def _start_job(rt: Runtime, item_id: str) -> str:
    status = outcomes.status(rt, item_id)
    if status == m.SUBMITTED:  # a duplicate or re-sent start: make sure the job is being polled
        return _poll(rt, item_id)
    if status in (*m.TERMINAL, "missing"):
        return status
    try:
        banked = _from_bank(rt, item_id, "rekognition", "StartContentModeration", _content_key(rt, item_id))
    except BadInput as exc:
        return fail(item_id, str(exc), rt=rt)
    if banked is not None:
        return banked
    if not jobs.acquire(rt, item_id):
        raise jobs.waiting(rt, item_id, f"all {rt.video_slots.limit} are taken")
    try:
        if service.begin(rt, item_id, "rekognition") is None:
            jobs.finish(rt, item_id)
            return outcomes.status(rt, item_id)
        token, generation, uri = jobs.prepare_job(rt, item_id)
        source = jobs.s3_source(rt, item_id, uri, generation)
        policy = _policy(rt, item_id, "rekognition")
        job_id = rt.video.start(source, policy.min_confidence, token, item_id, jobs.channel(rt))
    except JobLimitExceeded as exc:  # other jobs in the account (or leaked ones): not a failure
        jobs.release(rt, item_id)
        raise jobs.waiting(rt, item_id, str(exc)) from None
    except BadInput as exc:
        return fail(item_id, str(exc), rt=rt)
    except DeploymentFault as exc:
        return fail(item_id, str(exc), rt=rt, alert=True)
    # A TransientFault propagates with the slot still held: the retry renews it
    # (same holder), and if the task gives up ``fail`` releases it.
    if jobs.mark_submitted(rt, item_id, job_id, source):
        rt.dispatcher.poll_video(item_id, rt.settings.video_poll_initial_seconds)
    return m.SUBMITTED


def advance(item_id: str, rt: Runtime) -> str:
    """Poll a running Rekognition job once and act on what it says; return the item's status."""
    with usage.recording(rt.settings.database_url, item_id, "video"):
        return _poll(rt, item_id)


def _poll(rt: Runtime, item_id: str) -> str:
    """``_advance`` with its attempt settled. A poll is charged an attempt when it claims the job
    (``jobs.claim_poll``) and gives it back when it ends without an error: only polls that fail or die
    count toward MODQ_MAX_ATTEMPTS, however long the job runs."""
    return attempts.settle(rt, item_id, lambda: _advance(rt, item_id), fail, refund_when_done=True)


def _advance(rt: Runtime, item_id: str) -> str:
    status, job = jobs.claim_poll(rt, item_id)
    if status in m.TERMINAL:
        jobs.release(rt, item_id)  # harmless if already given back
    if job is None:
        return status  # finished, not started yet (the start task owns it), or another poll is due anyway
    if job.polled_at >= job.deadline_at:
        limit = rt.settings.video_poll_deadline_seconds
        return fail(item_id, f"Rekognition job {job.job_id} was still IN_PROGRESS after {limit:,.0f} s "
                             f"(MODQ_VIDEO_POLL_DEADLINE_SECONDS)", rt=rt)
    try:
        result = rt.video.results(job.job_id)
    except BadInput as exc:
        return fail(item_id, str(exc), rt=rt)
    except DeploymentFault as exc:
        return fail(item_id, str(exc), rt=rt, alert=True)
    if result.status == "IN_PROGRESS":
        jobs.still_running(rt, item_id)
        elapsed = (job.polled_at - job.started_at).total_seconds()
        remaining = (job.deadline_at - job.polled_at).total_seconds()
        rt.dispatcher.poll_video(item_id, next_poll_in(rt.settings, elapsed, remaining))
        return m.SUBMITTED
    if result.status == "FAILED":
        message = result.status_message or "no StatusMessage given"
        return fail(item_id, f"Rekognition job {job.job_id} FAILED: {message}", rt=rt)
    raw = {"JobId": job.job_id, "VideoMetadata": result.video_metadata, "ModerationModelVersion": result.model_version,
           "Pages": result.pages, "Detections": len(result.detections)}
    return _decide(rt, item_id, "rekognition", timeline.from_rekognition(result.detections), result.model_version,
                   raw, jobs.content_key_of(job.source_uri), result.video_metadata)


def next_poll_in(settings, elapsed: float, remaining: float) -> float:
    """The growing poll interval (``video_jobs.poll_interval``), never past the deadline.

    No state is kept: a duplicate or re-sent poll computes the same.
    """
    return max(0.0, min(jobs.poll_interval(settings, elapsed), remaining))


def _process_offline(rt: Runtime, item_id: str) -> str:
    provider = rt.provider
    uri = service.begin(rt, item_id, provider.name)
    if uri is None:
        return outcomes.status(rt, item_id)
    s = rt.settings
    try:
        ref = media.reparse(uri, s)
        with staging.local_copy(rt.s3() if ref.scheme == "s3" else None, ref, s.video_max_bytes) as path:
            key = jobs.sha256(path) if ref.scheme == "file" else jobs.content_key_of(ref.uri)
            banked = _from_bank(rt, item_id, provider.name, "AnalyzeVideo", key, started=True)
            if banked is not None:
                return banked
            policy = _policy(rt, item_id, provider.name)
            result = local_video.analyze(path, provider, policy.min_confidence, s.video_sample_fps,
                                         s.video_max_seconds, s.video_sampling, s.local_threads,
                                         s.max_decode_bytes)
    except BadInput as exc:
        return fail(item_id, str(exc), rt=rt)
    except DeploymentFault as exc:
        return fail(item_id, str(exc), rt=rt, alert=True)
    raw = {"VideoMetadata": result.metadata, "ModerationModelVersion": result.model_version,
           "Detections": len(result.detections)}
    return _decide(rt, item_id, provider.name, result.detections, result.model_version, raw, key, result.metadata)


def _policy(rt: Runtime, item_id: str, provider: str):
    """The policy (``provider``'s profile) deciding the item: its tenant's (``Runtime.active_policy``), its
    tenant read once per call (a video is not the hot path; images have it from their locking read)."""
    return rt.active_policy(tenant_of(rt.settings.database_url, item_id)).for_provider(provider)


def _content_key(rt: Runtime, item_id: str) -> str:
    """What identifies a video's content before any job: its S3 identity, or a local file's sha256."""
    ref = media.reparse(jobs.uri(rt, item_id), rt.settings)
    return jobs.content_key_of(ref.uri) if ref.scheme == "s3" else jobs.sha256(ref.path)


def _from_bank(rt: Runtime, item_id: str, provider: str, operation: str, content_key: str,
               started: bool = False) -> str | None:
    """A banked video is decided from its bank entry before any job or decoding (``pay_once``); None if not banked."""
    policy = _policy(rt, item_id, provider)
    match = pay_once.lookup(rt.settings.database_url, content_key, None, policy.min_confidence, dedupe=False,
                            tenant_id=tenant_of(rt.settings.database_url, item_id)).bank
    if match is None:
        return None
    if not started and service.begin(rt, item_id, provider) is None:
        return outcomes.status(rt, item_id)
    usage.note_call(provider, operation, BANKED)
    return outcomes.record(rt, item_id, None, Decision(match.verdict, [], policy.version), content_key,
                           policy.min_confidence, reasons=[match.reason()])


def _decide(rt: Runtime, item_id: str, provider: str, detections: list[timeline.Detection], model_version: str,
            raw: dict, content_key: str, metadata: dict) -> str:
    """Judge the per-label maxima; store timeline, summary, decision and alert in one transaction."""
    policy = _policy(rt, item_id, provider)
    summaries = timeline.summarize(detections)
    labels = timeline.maxima(summaries)
    decision = decide(labels, policy)
    analysis = Analysis(provider=provider, model_version=model_version, labels=labels, raw=raw)

    # Billed by the minute analysed (Rekognition), whatever the number of calls; written with the decision.
    seconds = float(metadata.get("DurationMillis") or 0) / 1000
    usage.note_video_seconds(provider, "StartContentModeration" if provider == "rekognition" else "AnalyzeVideo",
                             seconds)
    written = []

    def write_timeline(s, item, row) -> None:  # runs only if this delivery records the decision
        jobs.write_timeline(s, item.id, row.id, provider, detections, summaries, metadata)
        written.append(True)

    status = outcomes.record(rt, item_id, analysis, decision, content_key, policy.min_confidence,
                             reasons=timeline.reasons(decision, detections), extra=write_timeline)
    if written and provider == "rekognition":  # stored video is billed by the minute, not per call
        minutes = float(metadata.get("DurationMillis") or 0) / 60_000
        metrics.record_cost("rekognition", "StartContentModeration", minutes * rt.settings.price_per_video_minute)
    jobs.finish(rt, item_id)
    return status


def fail(item_id: str, reason: str, rt: Runtime, alert: bool = False,
         alert_kind: str = "deployment") -> str:
    """``outcomes.fail_item`` for a video: also ends its job record and gives back its slot."""
    status = outcomes.fail_item(item_id, reason, rt=rt, alert=alert, alert_kind=alert_kind)
    jobs.end_failed(rt, item_id, reason)
    jobs.finish(rt, item_id)
    return status
