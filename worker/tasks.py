"""Thin tasks: an id in, one service call; retry policy declared here."""

from __future__ import annotations

from moderation.alerts import delivery as webhook_delivery, fanout as webhook_fanout, services as alerts
from moderation.items.ingest import services as ingest_s3
from moderation.items import attempts, services as service
from moderation.ops import reaper
from moderation.policy import reevaluations
from moderation.privacy import retention
from moderation.transparency import submission as statements_submission
from moderation.video import services as video, completions as video_completions
from moderation.domain.errors import Deferred, TransientFault
from config.settings import get_settings
from worker.app import app, runtime
from worker.base import ModqTask

settings = get_settings()  # the worker validated them at start; the retry policy is fixed per process
RETRY = dict(
    retry_backoff=2,  # 2, 4, 8, ... seconds
    retry_backoff_max=settings.retry_backoff_max,
    retry_jitter=True,  # spread retries so a throttled fleet doesn't retry in lockstep
)


# Not the item's fault (throttling, an open circuit, another delivery holding
# the item, the database down): the task re-sends itself later without using
# up an attempt (ModqTask.defer), so such errors never fail an item.
DEFER = dict(defer_on=attempts.DEFERRALS, dont_autoretry_for=(Deferred,))


@app.task(base=ModqTask, bind=True, name="modq.moderate_image", acks_late=True,
          autoretry_for=(TransientFault,), max_retries=settings.max_attempts - 1, **RETRY, **DEFER)
def moderate_image(self, item_id: str) -> str:
    # The task id names the lease: a redelivery after a crash, or a retry, takes it over at once.
    return service.process_image(item_id, runtime(), owner=self.request.id)


@app.task(base=ModqTask, name="modq.publish_alert", acks_late=True,
          autoretry_for=alerts.RETRYABLE, max_retries=settings.max_attempts - 1, **RETRY)
def publish_alert(alert_id: int) -> bool:
    rt = runtime()
    webhook_fanout.released(rt.settings.database_url, rt.dispatcher, alert_id)  # webhooks first: SNS may retry
    return alerts.deliver(alert_id, rt.settings.database_url, rt.publisher)


@app.task(base=ModqTask, name="modq.flush_outbox", acks_late=True)
def flush_outbox() -> int:
    rt = runtime()
    return alerts.flush_outbox(rt.settings.database_url, rt.publisher)


# Webhooks (README "Webhooks"): a send per delivery; retries are rows due later (next_attempt_at), queued by
# beat's sweep, not Celery countdowns (hours of backoff would outlive the broker's visibility timeout).
@app.task(base=ModqTask, name="modq.deliver_webhook", acks_late=True)
def deliver_webhook(delivery_id: int) -> str:
    rt = runtime()
    return webhook_delivery.send(rt.settings.database_url, delivery_id, webhook_delivery.Policy.of(rt.settings))


@app.task(base=ModqTask, name="modq.sweep_webhooks", acks_late=True)
def sweep_webhooks() -> int:
    due = webhook_fanout.sweep(runtime().settings.database_url)
    runtime().dispatcher.deliver_webhooks(due)
    return len(due)


@app.task(base=ModqTask, name="modq.reap_stuck", acks_late=True)
def reap_stuck() -> int:
    """Re-send items and re-evaluation jobs with no progress past MODQ_REAPER_STUCK_AFTER_SECONDS (the database
    is the source of truth)."""
    return reaper.sweep(runtime())


@app.task(base=ModqTask, name="modq.reevaluate_policy", acks_late=True)
def reevaluate_policy(job_id: str) -> dict | None:
    """A re-evaluation job (PUT /v1/policy?reevaluate=true); delivered again after a worker restart, it continues."""
    summary = reevaluations.run(runtime(), job_id)
    return summary.to_dict() if summary else None


# Video: start_video begins a job (or analyses offline); poll_video checks a
# running job once and, via the dispatcher, schedules its own next run with a
# growing countdown, so no worker ever sleeps on a job. Waiting for a job slot
# (ours or Rekognition's LimitExceededException) is a deferral: no attempt spent.
@app.task(base=ModqTask, bind=True, name="modq.start_video", acks_late=True,
          autoretry_for=(TransientFault,), max_retries=settings.max_attempts - 1, **RETRY, **DEFER)
def start_video(self, item_id: str) -> str:
    return video.start(item_id, runtime(), owner=self.request.id)


@app.task(base=ModqTask, name="modq.poll_video", acks_late=True,
          autoretry_for=(TransientFault,), max_retries=settings.max_attempts - 1, **RETRY, **DEFER)
def poll_video(item_id: str) -> str:
    return video.advance(item_id, runtime())


@app.task(base=ModqTask, name="modq.drain_video_completions", acks_late=True)
def drain_video_completions() -> int:
    return video_completions.drain(runtime())


# S3 upload events (README "Ingest from S3 uploads"): beat drains the queue the buckets notify.
@app.task(base=ModqTask, name="modq.ingest_s3_events", acks_late=True)
def ingest_s3_events() -> dict:
    return ingest_s3.drain(runtime()).as_dict()


# EU DSA (README "Transparency (EU DSA)"): beat sends the statements of reasons that are due to the Transparency
# Database. Waits (Retry-After, an outage's backoff) are rows due later (next_attempt_at), not Celery retries.
@app.task(base=ModqTask, name="modq.submit_statements", acks_late=True)
def submit_statements() -> dict:
    return statements_submission.send_due(runtime()).as_dict()


# Retention (README "Retention and erasure"): beat purges personal data past each tenant's retention, in short
# batches; a run cut short (a restart) is simply taken up by the next, which finds what is still due.
@app.task(base=ModqTask, name="modq.purge_expired", acks_late=True)
def purge_expired() -> dict:
    rt = runtime()
    report = retention.purge(rt, batch=rt.settings.retention_batch_size)
    return {"purged": report.total, "skipped": len(report.skipped), "batches": report.batches}
