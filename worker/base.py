"""One base class for every modq task: log context and the final failure."""

from __future__ import annotations

from celery import Task

from moderation import logs, service
from moderation.errors import ModqError
from worker.app import settings


class ModqTask(Task):
    """Binds item_id/task_id to the log context; fails the item on the last attempt.

    Retryable errors are declared on each task (``autoretry_for``); when Celery
    gives up it calls ``on_failure``, and the item must not stay in
    ``processing`` forever, so it is failed here with the last reason.
    """

    abstract = True

    def before_start(self, task_id, args, kwargs):
        logs.clear()
        subject = "alert_id" if self.name == "modq.publish_alert" else "item_id"
        logs.bind(task_id=task_id, task=self.name, provider=settings.provider, **{subject: args[0] if args else None})

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if self.name == "modq.moderate_image" and args:
            attempts = self.request.retries + 1
            reason = str(exc) if isinstance(exc, ModqError) else f"{type(exc).__name__}: {exc}"
            service.fail_item(args[0], f"gave up after {attempts} attempts: {reason}")

    def after_return(self, *args, **kwargs):
        logs.clear()
