"""The Celery implementation of ``moderation.bootstrap.Dispatcher``."""

from __future__ import annotations


class CeleryDispatcher:
    def moderate(self, item_id: str, media_type: str) -> None:
        from worker.tasks import moderate_image, start_video

        if media_type == "video":
            start_video.apply_async((item_id,), queue="videos")
        else:
            moderate_image.apply_async((item_id,), queue="images")

    def poll_video(self, item_id: str, countdown: float = 0) -> None:
        from worker.tasks import poll_video

        poll_video.apply_async((item_id,), queue="videos", countdown=countdown or None)

    def publish_alerts(self, alert_ids: list[int]) -> None:
        from worker.tasks import publish_alert

        for alert_id in alert_ids:
            publish_alert.apply_async((alert_id,), queue="alerts")
