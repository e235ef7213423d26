"""One base class for every modq task: log context and the final failure."""

from __future__ import annotations

import random

import structlog
from celery import Task
from celery.exceptions import Reject, Retry

from moderation.items import attempts, outcomes
from moderation.infra import logs
from moderation.video import services as video
from moderation.domain.errors import ModqError
from config.settings import get_settings
from worker.app import runtime

log = structlog.get_logger("modq.worker")


# Tasks that own an item, by media type: a video's failure also gives back
# its job slot and staged copy (``video.fail``).
ITEM_TASKS = {"modq.moderate_image": "image", "modq.start_video": "video", "modq.poll_video": "video"}


class ModqTask(Task):
    """Binds item_id/task_id to the log context; fails the item on the last attempt.

    Retryable errors are declared on each task (``autoretry_for``); when Celery
    gives up it calls ``on_failure``, and the item must not stay in
    ``processing`` forever, so it is failed here with the last reason. The
    attempt budget itself is enforced by ``moderation.items.attempts`` from the
    database (a killed worker's redelivery has the same ``retries``), so
    this is mostly the path of unexpected errors.
    """

    abstract = True
    #: Errors that re-send the task later without charging an attempt (``defer``).
    #: List them in ``dont_autoretry_for`` too when they subclass an ``autoretry_for`` error.
    defer_on: tuple[type[BaseException], ...] = ()

    def __call__(self, *args, **kwargs):
        if self.request.called_directly:  # a plain function call (tests, scripts): Celery's own behaviour
            return super().__call__(*args, **kwargs)
        # In a worker Celery calls this in place of run(), with the request already pushed.
        try:
            return self.run(*args, **kwargs)
        except self.defer_on as exc:
            if self.request.is_eager:  # apply(): no broker to come back through
                raise
            raise self.defer(exc) from None

    def defer(self, exc: BaseException) -> Retry:
        """Send this task again after a pause, keeping its retry count; return the ``Retry`` to raise.

        Throttling, an open circuit, a busy lease or a database outage is not
        the item's fault, so it must not use up MODQ_MAX_ATTEMPTS: the new
        message carries the same ``retries`` and counts deferrals in a header,
        and the use case has already given back the item's attempt
        (``moderation.items.attempts.settle``).
        """
        headers = dict(self.request.headers or {})
        deferrals = int(headers.get("modq_deferrals", 0)) + 1
        delay = defer_delay(getattr(exc, "retry_after", None), deferrals, get_settings().retry_backoff_max)
        sig = self.signature_from_request(countdown=delay, retries=self.request.retries,
                                          headers={**headers, "modq_deferrals": deferrals})
        try:
            sig.apply_async()
        except Exception as send_error:  # broker unreachable: put this message back (Celery's retry does the same)
            raise Reject(send_error, requeue=True) from None
        log.info("deferred", reason=str(exc), countdown=round(delay, 2), deferrals=deferrals)
        return Retry(f"deferred: {exc}", exc=exc, when=delay, sig=sig)

    def before_start(self, task_id, args, kwargs):
        logs.clear()
        subject = {"modq.publish_alert": "alert_id", "modq.reevaluate_policy": "job_id"}.get(self.name, "item_id")
        logs.bind(task_id=task_id, task=self.name, provider=get_settings().provider, **{subject: args[0] if args else None})

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if self.name in ITEM_TASKS and args:
            # The database's count, not Celery's retries: it also counts deliveries whose worker died
            # (moderation/items/attempts.py), and it is what `modq items show` says.
            rt = runtime()
            used = attempts.used(rt, args[0])
            reason = str(exc) if isinstance(exc, ModqError) else f"{type(exc).__name__}: {exc}"
            fail = video.fail if ITEM_TASKS[self.name] == "video" else outcomes.fail_item
            fail(args[0], attempts.gave_up(used, reason), rt=rt)

    def after_return(self, *args, **kwargs):
        logs.clear()


def defer_delay(retry_after: float | None, deferrals: int, cap: float) -> float:
    """The error's own estimate (a limiter wait, a cool-down, a lease) or exponential backoff; jittered, capped."""
    base = retry_after if retry_after else 2.0 ** min(deferrals, 16)
    return max(0.1, min(cap, base * random.uniform(1.0, 1.5)))  # jitter: a throttled fleet must not return in step
