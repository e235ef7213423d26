"""The Celery dispatcher sends a review's held alerts with the undo window as countdown (issue 17.2), others at
once (countdown None: Celery sends it now)."""

from __future__ import annotations

from tests.unit.worker.test_video_tasks import RecordingApp
from worker import dispatch


def test_held_alerts_are_sent_with_a_countdown_and_others_at_once():
    recording = RecordingApp()
    d = dispatch.CeleryDispatcher(recording)
    d.publish_alerts([1, 2])
    d.publish_alerts([3], countdown=11)
    assert recording.sent == [("modq.publish_alert", (1,), {"countdown": None}),
                              ("modq.publish_alert", (2,), {"countdown": None}),
                              ("modq.publish_alert", (3,), {"countdown": 11})]
