"""The Celery application, configured from modq's settings.

Reliability settings (see README "What modq guarantees"): tasks are acked
only after they finish (``acks_late``) and go back to the queue if the worker
process dies (``reject_on_worker_lost``); one message prefetched per process
so a slow item never holds others hostage.
"""

from __future__ import annotations

from celery import Celery, signals
from kombu import Queue

from config.settings import get_settings
from moderation import aws, logs
from moderation.store.db import dispose_all

QUEUES = ("images", "videos", "alerts", "maintenance")

settings = get_settings()
app = Celery("modq", include=["worker.tasks"])
app.conf.update(
    broker_url=settings.broker_url,
    broker_connection_retry_on_startup=True,
    # Pool sized to concurrency: kombu's default of 10 loses acks under load
    # (../shared/CELERY.md). The visibility timeout bounds redelivery after a crash.
    broker_transport_options={"visibility_timeout": 3600, "max_connections": max(20, settings.worker_concurrency * 2)},
    task_queues=[Queue(name) for name in QUEUES],
    task_default_queue="images",
    task_routes={"modq.moderate_image": {"queue": "images"}, "modq.publish_alert": {"queue": "alerts"},
                 "modq.flush_outbox": {"queue": "alerts"}},
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    worker_prefetch_multiplier=1,
    worker_send_task_events=True,  # Flower works unchanged
    task_send_sent_event=True,
    worker_hijack_root_logger=False,
    beat_schedule={
        "flush-outbox": {"task": "modq.flush_outbox", "schedule": settings.outbox_interval_seconds,
                         "options": {"queue": "alerts", "expires": settings.outbox_interval_seconds}},
    },
)


@signals.setup_logging.connect
def _setup_logging(**_kwargs):
    logs.configure(settings.log_format, settings.log_level)


@signals.worker_process_init.connect
def _after_fork(**_kwargs):
    # Connections and clients must not be shared across a fork.
    dispose_all()
    aws.reset_clients()


@signals.worker_init.connect
def _validate_policy(**_kwargs):
    """Load the thresholds before taking work: a bad file stops the worker, naming the key."""
    from moderation.errors import ConfigError
    from moderation.runtime import get_runtime

    try:
        get_runtime()
    except ConfigError as exc:
        logs.configure(settings.log_format, settings.log_level)
        import structlog

        structlog.get_logger("modq.worker").error("invalid_configuration", error=str(exc))
        raise SystemExit(f"modq worker: {exc}") from None
