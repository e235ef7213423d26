"""Thin tasks: an id in, one service call; retry policy declared here."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from moderation import alerts, service
from moderation.errors import TransientFault
from moderation.runtime import get_runtime
from worker.app import app, settings
from worker.base import ModqTask

RETRY = dict(
    retry_backoff=2,  # 2, 4, 8, ... seconds
    retry_backoff_max=settings.retry_backoff_max,
    retry_jitter=True,  # spread retries so a throttled fleet doesn't retry in lockstep
)


@app.task(base=ModqTask, name="modq.moderate_image", acks_late=True,
          autoretry_for=(TransientFault, OperationalError), max_retries=settings.max_attempts - 1, **RETRY)
def moderate_image(item_id: str) -> str:
    return service.process_image(item_id)


@app.task(base=ModqTask, name="modq.publish_alert", acks_late=True,
          autoretry_for=(alerts.PublishError, OperationalError), max_retries=settings.max_attempts - 1, **RETRY)
def publish_alert(alert_id: int) -> bool:
    rt = get_runtime()
    return alerts.deliver(alert_id, rt.settings.database_url, rt.publisher)


@app.task(base=ModqTask, name="modq.flush_outbox", acks_late=True)
def flush_outbox() -> int:
    rt = get_runtime()
    return alerts.flush_outbox(rt.settings.database_url, rt.publisher)
