"""The reviewer's view of a video: labels with where they were seen, and the timeline."""

from __future__ import annotations

from moderation.items import services as service
from moderation.video import services as video
from moderation.infra.db import transaction
from moderation.domain.tenancy import EVERY_TENANT
from moderation.review.views import item_outcome
from moderation.video.queries import video_view
from tests.media_factory import RED, segments, video_bytes
from tests.video_fixtures import ort  # noqa: F401 (fixture)


def test_video_view_after_an_offline_decision(ort, media_root):  # noqa: F811
    (media_root / "clip.mp4").write_bytes(video_bytes(seconds=6, scene=segments((2, 4, RED))))
    item_id = service.submit("clip.mp4", rt=ort).item_id
    video.start(item_id, rt=ort)
    with transaction(ort.settings.database_url) as s:
        view = video_view(s, item_id, limit=4)
        assert video_view(s, "not-a-video") is None
    assert view["provider"] == "local" and view["job_state"] == "succeeded" and view["job_id"] is None
    assert view["metadata"]["FramesAnalysed"] == 6
    top = view["labels"][0]
    assert (top["name"], top["first_seen"], top["last_seen"], top["detections"]) == ("Exposed Female Genitalia",
                                                                                      "0:02.000", "0:03.000", 2)
    assert view["timeline_total"] == 6 and len(view["timeline"]) == 4  # 3 labels (leaf + ancestors) x 2 frames
    assert view["timeline"][0]["at"] == "0:02.000"


def test_item_outcome_carries_the_timeline_for_videos_only(ort, media_root):  # noqa: F811
    (media_root / "clip.mp4").write_bytes(video_bytes(seconds=4, scene=segments((1, 2, RED))))
    item_id = service.submit("clip.mp4", rt=ort).item_id
    video.start(item_id, rt=ort)
    view = item_outcome(ort.settings.database_url, item_id, scope=EVERY_TENANT)
    assert view["video"]["labels"][0]["first_seen"] == "0:01.000"
    assert view["video"]["timeline_total"] > 0
