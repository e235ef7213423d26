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


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, args, **options):
        self.calls.append((args, options))


def test_dispatcher_sends_videos_to_the_video_task(monkeypatch):
    sent = {name: Recorder() for name in ("moderate_image", "start_video", "poll_video")}
    for name, recorder in sent.items():
        monkeypatch.setattr(getattr(tasks, name), "apply_async", recorder)
    d = dispatch.CeleryDispatcher()
    d.moderate("vid-1", "video")
    d.moderate("img-1", "image")
    d.poll_video("vid-1", 12.5)
    d.poll_video("vid-1", 0)
    assert sent["start_video"].calls == [(("vid-1",), {"queue": "videos"})]
    assert sent["moderate_image"].calls == [(("img-1",), {"queue": "images"})]
    assert sent["poll_video"].calls == [(("vid-1",), {"queue": "videos", "countdown": 12.5}),
                                        (("vid-1",), {"queue": "videos", "countdown": None})]


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
