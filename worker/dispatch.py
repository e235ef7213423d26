"""The Celery implementation of ``moderation.bootstrap.Dispatcher``.

Tasks are sent by name through the app: a producer (the API, the CLI) needs none of the task
code, and ``worker.app`` routes each name to its queue (``ROUTES``, the one place queues are named).
"""

from __future__ import annotations

from celery import Celery


class CeleryDispatcher:
    def __init__(self, app: Celery):
        self.app = app

    def moderate(self, item_id: str, media_type: str) -> None:
        self.app.send_task("modq.start_video" if media_type == "video" else "modq.moderate_image", (item_id,))

    def poll_video(self, item_id: str, countdown: float = 0) -> None:
        self.app.send_task("modq.poll_video", (item_id,), countdown=countdown or None)

    def publish_alerts(self, alert_ids: list[int]) -> None:
        for alert_id in alert_ids:
            self.app.send_task("modq.publish_alert", (alert_id,))

    def reevaluate_policy(self, job_id: str) -> None:
        self.app.send_task("modq.reevaluate_policy", (job_id,))
