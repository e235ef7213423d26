"""The Celery application, configured from modq's settings.

Reliability settings (see README "What modq guarantees"): tasks are acked
only after they finish (``acks_late``) and go back to the queue if the worker
process dies (``reject_on_worker_lost``); one message prefetched per process
so a slow item never holds others hostage.
"""

from __future__ import annotations

import structlog
from celery import Celery, signals
from kombu import Queue

from config.settings import get_settings
from moderation.bootstrap import Runtime, after_fork, get_runtime
from moderation.domain.errors import ConfigError
# Imported here, before any pool process forks: it chooses the metrics multiprocess
# directory that every process of this worker shares (moderation/infra/metrics.py).
from moderation.infra import metrics
from moderation.infra import logs
from moderation.ops.collectors import StateCollector
from worker.dispatch import CeleryDispatcher

# The queue of every task: the one place queue names are written. Producers send tasks by name
# (worker/dispatch.py) and beat by its schedule; both are routed here.
ROUTES = {"modq.moderate_image": "images", "modq.start_video": "videos", "modq.poll_video": "videos",
          "modq.publish_alert": "alerts", "modq.flush_outbox": "alerts", "modq.drain_video_completions": "maintenance",
          "modq.reap_stuck": "maintenance", "modq.ingest_s3_events": "maintenance",
          "modq.reevaluate_policy": "maintenance", "modq.deliver_webhook": "webhooks",
          "modq.sweep_webhooks": "webhooks", "modq.submit_statements": "maintenance",
          "modq.purge_expired": "maintenance"}
QUEUES = tuple(dict.fromkeys(ROUTES.values()))  # images, videos, alerts, maintenance, webhooks


def transport_options(s) -> dict:
    """Redis transport. Pool sized to concurrency: kombu's default of 10 loses acks under
    load (../shared/CELERY.md). The visibility timeout bounds redelivery of a task whose
    worker vanished without giving it back; workers sweep for such tasks every tenth of
    it (at most every 10 s; kombu's own default is every 100 s)."""
    timeout = s.broker_visibility_timeout
    options = {"visibility_timeout": timeout, "max_connections": max(20, s.worker_concurrency * 2),
               "unacked_restore_interval": max(1, min(10, timeout // 10)), "unacked_restore_throttle": 1}
    if s.broker_key_prefix:  # several deployments on one Redis
        options["global_keyprefix"] = s.broker_key_prefix
    return options


def configuration() -> dict:
    """Celery's configuration from modq's settings, read when the app is first configured (a task sent, a
    worker started), not when this module is imported: ``modq`` imports it with every command and validates
    the settings first, so a bad variable is one line, not a traceback."""
    s = get_settings()
    conf = dict(
        broker_url=s.broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport_options(s),
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue=QUEUES[0],
        task_routes={task: {"queue": queue} for task, queue in ROUTES.items()},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_send_task_events=True,  # Flower works unchanged
        # No "task-sent" event from producers: Flower does not need it, and it costs every
        # submit and every alert ~0.45 ms CPU, 40% of a publish (bench/RESULTS.md, benchmark 1).
        task_send_sent_event=False,
        worker_hijack_root_logger=False,
        beat_schedule=beat_schedule(s),
    )
    if s.worker_max_memory_per_child_mb:
        # A prefork pool process still above this after a task (a large image's buffers not given back to the
        # OS) is replaced by a fresh one once the task is done. Celery counts KiB. `modq worker` runs this app.
        conf["worker_max_memory_per_child"] = s.worker_max_memory_per_child_mb * 1024
    return conf


def beat_schedule(s) -> dict:
    def every(task: str, seconds: float) -> dict:
        return {"task": task, "schedule": seconds, "options": {"expires": seconds}}

    schedule = {
        "flush-outbox": every("modq.flush_outbox", s.outbox_interval_seconds),
        # The database is the source of truth: re-send items whose task was lost (moderation/ops/reaper.py).
        "reap-stuck-items": every("modq.reap_stuck", s.reaper_interval_seconds),
        # Webhooks: fan out alerts no deciding process did, queue the deliveries due (moderation/alerts).
        "sweep-webhooks": every("modq.sweep_webhooks", s.webhook_sweep_seconds),
        # Personal data past each tenant's retention: tombstones, in short batches (moderation/privacy).
        "purge-expired": every("modq.purge_expired", s.retention_interval_seconds),
    }
    if s.video_completion_queue_url:  # Rekognition completion notifications, via SQS
        schedule["drain-video-completions"] = every("modq.drain_video_completions",
                                                    s.video_completion_interval_seconds)
    if s.s3_events_queue_url:  # S3 upload events, via SQS (moderation/items/ingest/services.py)
        schedule["ingest-s3-events"] = every("modq.ingest_s3_events", s.s3_events_interval_seconds)
    if s.dsa_tdb_url:  # statements of reasons to the EU DSA Transparency Database (moderation/transparency)
        schedule["submit-statements"] = every("modq.submit_statements", s.dsa_tdb_interval_seconds)
    return schedule


app = Celery("modq", include=["worker.tasks"])
app.add_defaults(configuration)  # a promise: Celery calls it when the configuration is first needed


def dispatcher() -> CeleryDispatcher:
    """What every entry point (worker, API, CLI) hands to its runtime: tasks sent through this app."""
    return CeleryDispatcher(app)


def runtime() -> Runtime:
    """This process's runtime: the work a task hands on (polls, re-sends) goes out through Celery; the alerts
    a task writes it publishes itself after its commit (publish_alert tasks only when that fails)."""
    return get_runtime(dispatcher, inline_alerts=True)


@signals.setup_logging.connect
def _setup_logging(**_kwargs):
    settings = get_settings()
    logs.configure(settings.log_format, settings.log_level)


@signals.worker_process_init.connect
def _after_fork(**_kwargs):
    after_fork()


@signals.worker_init.connect
def _validate_policy(**_kwargs):
    """Load the thresholds before taking work: a bad file stops the worker, naming the key."""
    try:
        runtime()
    except ConfigError as exc:
        settings = get_settings()
        logs.configure(settings.log_format, settings.log_level)
        structlog.get_logger("modq.worker").error("invalid_configuration", error=str(exc))
        raise SystemExit(f"modq worker: {exc}") from None


@signals.worker_ready.connect
def _serve_metrics(**_kwargs):
    """Prometheus exporter on MODQ_METRICS_PORT, in the main process: prefork pool processes write to shared files."""
    settings = get_settings()
    if settings.metrics_port is not None:
        metrics.serve(settings, collectors=[StateCollector.of(settings, QUEUES)])


@signals.worker_process_shutdown.connect
def _pool_process_exit(pid=None, **_kwargs):
    if get_settings().metrics_port is not None and pid:
        metrics.process_exited(pid)
