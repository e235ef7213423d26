"""Video tasks: queues, retry and deferral policy, dispatch by media type, the periodic drain."""

from __future__ import annotations

from moderation.domain.errors import Deferred, TransientFault
from moderation.bootstrap import set_runtime
from tests.video_fixtures import clock, expect_start, item, slots, stub, submit_s3, vrt  # noqa: F401 (fixtures)
from worker import dispatch, tasks
from worker.app import app


def test_video_tasks_are_routed_to_the_videos_queue():
    routes = app.conf.task_routes
    assert routes["modq.start_video"]["queue"] == routes["modq.poll_video"]["queue"] == "videos"
    assert routes["modq.drain_video_completions"]["queue"] == "maintenance"


def test_video_tasks_retry_transient_faults_and_defer_waiting():
    for task in (tasks.start_video, tasks.poll_video):
        assert task.acks_late and TransientFault in task.autoretry_for
        assert Deferred in task.defer_on and Deferred in task.dont_autoretry_for  # waiting costs no attempt


def test_drain_is_scheduled_only_when_a_queue_is_configured():
    assert "drain-video-completions" not in app.conf.beat_schedule  # the test environment sets none


class RecordingApp:
    """Stands in for the Celery app: what the dispatcher sends, by task name."""

    def __init__(self):
        self.sent = []

    def send_task(self, name, args, **options):
        self.sent.append((name, args, options))


def test_dispatcher_sends_videos_to_the_video_task():
    recording = RecordingApp()
    d = dispatch.CeleryDispatcher(recording)
    d.moderate("vid-1", "video")
    d.moderate("img-1", "image")
    d.poll_video("vid-1", 12.5)
    d.poll_video("vid-1", 0)
    shown = {"kwargsrepr": "{}"}  # args as Flower and the log show them, written by the dispatcher
    assert recording.sent == [("modq.start_video", ("vid-1",), {"argsrepr": "('vid-1',)", **shown}),
                              ("modq.moderate_image", ("img-1",), {"argsrepr": "('img-1',)", **shown}),
                              ("modq.poll_video", ("vid-1",), {"countdown": 12.5}),
                              ("modq.poll_video", ("vid-1",), {"countdown": None})]
    # Sent by name, they reach the queue the app routes each name to.
    queues = [app.amqp.router.route({}, name)["queue"].name for name, _, _ in recording.sent]
    assert queues == ["videos", "images", "videos", "videos"]


def test_giving_up_on_a_video_fails_it_and_frees_its_slot(vrt, stub):
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    tasks.video.start(item_id, rt=vrt)
    set_runtime(vrt)
    try:
        tasks.poll_video.on_failure(TransientFault("Rekognition still failing"), "task-1", (item_id,), {}, None)
    finally:
        set_runtime(None)
    row = item(vrt, item_id)
    assert row.status == "failed" and row.failure_reason.startswith("gave up after 1 attempts: Rekognition still")
    assert vrt.video_slots.holders() == []
