"""The Celery implementation of ``moderation.bootstrap.Dispatcher``.

Tasks are sent by name through the app: a producer (the API, the CLI) needs none of the task
code, and ``worker.app`` routes each name to its queue (``ROUTES``, the one place queues are named).
"""

from __future__ import annotations

from celery import Celery

# What a task's args look like in Flower and the worker's log, written here rather than by Celery's
# saferepr (about a fifth of the CPU of sending a task: bench/RESULTS.md, bulk submit).
NO_KWARGS = "{}"


def moderate_task(media_type: str) -> str:
    return "modq.start_video" if media_type == "video" else "modq.moderate_image"


class CeleryDispatcher:
    def __init__(self, app: Celery):
        self.app = app

    def moderate(self, item_id: str, media_type: str) -> None:
        self.app.send_task(moderate_task(media_type), (item_id,), argsrepr=repr((item_id,)), kwargsrepr=NO_KWARGS)

    def moderate_many(self, items: list[tuple[str, str]]) -> None:
        """One producer and connection for the batch; kombu's publish batch buffers the messages and
        writes them in one pipelined Redis round trip when the block ends (``BatchPublishError`` if that
        fails: delivery uncertain, so the caller leaves the items to the reaper)."""
        if not items:
            return
        declared: set[str] = set()  # each queue is declared once per batch, not once per message
        # retry=False: within the batch a publish only buffers, and the flush is not retried either (kombu).
        with self.app.producer_or_acquire() as producer, producer.batch(max_size=2 * len(items) + 8):
            for item_id, media_type in items:
                name = moderate_task(media_type)
                options = {"retry": False} if name not in declared else {"retry": False, "declare": []}
                declared.add(name)
                self.app.send_task(name, (item_id,), producer=producer, argsrepr=repr((item_id,)),
                                   kwargsrepr=NO_KWARGS, **options)

    def poll_video(self, item_id: str, countdown: float = 0) -> None:
        self.app.send_task("modq.poll_video", (item_id,), countdown=countdown or None)

    def publish_alerts(self, alert_ids: list[int], countdown: float = 0) -> None:
        """``countdown``: a review's alerts are sent when its undo window closes (the task finds a row still
        held or cancelled and sends nothing; beat's flush covers a task lost meanwhile)."""
        for alert_id in alert_ids:
            self.app.send_task("modq.publish_alert", (alert_id,), countdown=countdown or None)

    def deliver_webhooks(self, delivery_ids: list[int]) -> None:
        for delivery_id in delivery_ids:
            self.app.send_task("modq.deliver_webhook", (delivery_id,))

    def reevaluate_policy(self, job_id: str) -> None:
        self.app.send_task("modq.reevaluate_policy", (job_id,))
