"""What a reviewer sees: fired labels marked, rules, and video markers."""

from __future__ import annotations

import pytest

from moderation.review import views
from moderation.items import models as m
from moderation.infra.db import transaction

VideoDetection = pytest.importorskip("moderation.video.models").VideoDetection  # the video pipeline's table


def video_item(s) -> m.Item:
    analysis = m.Analysis(provider="rekognition", model_version="7.0", labels=[
        {"Name": "Graphic Violence", "ParentName": "Violence", "TaxonomyLevel": 2, "Confidence": 91.0},
        {"Name": "Violence", "ParentName": "", "TaxonomyLevel": 1, "Confidence": 91.0},
        {"Name": "Smoking", "ParentName": "Drugs & Tobacco", "TaxonomyLevel": 2, "Confidence": 55.0}])
    s.add(analysis)
    s.flush()
    item = m.Item(media_uri="s3://b/v.mp4", media_type="video", status="flagged", verdict="flagged",
                  analysis_id=analysis.id, policy_version="p1")
    s.add(item)
    s.flush()
    s.add(m.Decision(item_id=item.id, analysis_id=analysis.id, verdict="flagged", policy_version="p1", reasons=[
        {"label": "Graphic Violence", "confidence": 91.0, "action": "flag", "threshold": 50, "rule": "Graphic Violence",
         "text": "Graphic Violence 91.0% >= flag 50 (rule: Graphic Violence)"}]))
    for ms, label in ((12500, "Graphic Violence"), (3000, "Smoking"), (4000, "Graphic Violence")):
        s.add(VideoDetection(item_id=item.id, analysis_id=analysis.id, timestamp_ms=ms, label=label, confidence=91.04))
    s.flush()
    return item


def test_detail_marks_fired_labels_and_lists_markers_of_fired_labels(sqlite_url):
    with transaction(sqlite_url) as s:
        view = views.detail(s, video_item(s))
    assert [lab["Name"] for lab in view["labels"] if lab["fired"]] == ["Graphic Violence"]
    assert view["rules"][0]["rule"] == "Graphic Violence"
    assert view["markers"] == [{"t": 4.0, "label": "Graphic Violence", "confidence": 91.0},
                               {"t": 12.5, "label": "Graphic Violence", "confidence": 91.0}]


def test_images_have_no_markers(sqlite_url):
    with transaction(sqlite_url) as s:
        item = video_item(s)
        item.media_type = "image"
        assert views.detail(s, item)["markers"] == []
