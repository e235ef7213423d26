"""What a statement says of the media (transparency/facts.py): the rules that fired, most severe first, with
the moment a video or the frame a multi-frame image showed it."""

from __future__ import annotations

from moderation.domain.statements import Detection
from moderation.transparency.facts import measured_detections


def test_fired_rules_become_detections_with_where_in_the_media():
    reasons = [
        {"label": "Graphic Violence", "confidence": 97.5, "action": "reject", "threshold": 90, "rule": "Graphic "
         "Violence", "text": "...", "timestamps_ms": [3250, 8000], "first_ms": 3250},  # a video's
        {"label": "Explicit", "confidence": 81.0, "action": "flag", "threshold": 50, "rule": "Explicit",
         "text": "...", "frame_index": 4, "offset_ms": 400, "frames": [4, 6]},  # an animated image's
        {"label": "Alcohol", "confidence": 60.0, "action": "none", "threshold": None, "rule": ""},  # did not fire
        {"kind": "bank", "bank_entry": 3, "verdict": "rejected", "distance": 0, "text": "hash bank entry #3"},
    ]
    assert measured_detections(reasons) == (Detection("Graphic Violence", 97.5, None, 3250),
                                            Detection("Explicit", 81.0, 4, 400))


def test_an_approval_or_odd_stored_values_give_no_detection_and_no_error():
    assert measured_detections([{"label": "no moderation labels detected", "confidence": 0.0, "action": "none"}]) == ()
    odd = [{"label": "Explicit", "confidence": 90, "action": "reject", "first_ms": "soon", "frame_index": True}]
    assert measured_detections(odd) == (Detection("Explicit", 90.0, None, None),)
