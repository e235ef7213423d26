"""Timelines: Rekognition detections -> per-label summary -> decide() -> reasons with timestamps."""

from __future__ import annotations

import pytest

from moderation.domain import policy, timeline
from moderation.domain.errors import TransientFault
from moderation.domain.labels import ModerationLabel
from moderation.domain.timeline import Detection


def det(ts: int, name: str, confidence: float, parent: str = "", level: int = 1, **segment) -> dict:
    return {"Timestamp": ts, "ModerationLabel": {"Name": name, "ParentName": parent, "TaxonomyLevel": level,
                                                 "Confidence": confidence}, **segment}


def lab(name: str, confidence: float, parent: str = "", level: int = 1) -> ModerationLabel:
    return ModerationLabel(name, parent, level, confidence)


POLICY = policy.parse("""
min_confidence: 50
default: {flag: 80, reject: null}
labels:
  Explicit: {flag: 50, reject: 80}
  Violence: {flag: 70, reject: null}
""")


def test_from_rekognition_keeps_every_field_and_sorts_by_time():
    items = [det(4000, "Weapons", 71.5, "Violence", 2),
             det(1000, "Explicit", 60.0, StartTimestampMillis=900, EndTimestampMillis=1500, DurationMillis=600)]
    out = timeline.from_rekognition(items)
    assert out == [Detection(1000, lab("Explicit", 60.0), 900, 1500),
                   Detection(4000, lab("Weapons", 71.5, "Violence", 2))]


def test_out_of_range_confidence_is_not_trusted():
    with pytest.raises(TransientFault, match="confidence 150"):
        timeline.from_rekognition([det(0, "Explicit", 150.0)])


def test_summary_is_max_first_last_and_count_per_label():
    detections = timeline.from_rekognition([
        det(0, "Weapons", 60.0, "Violence", 2), det(2000, "Weapons", 90.0, "Violence", 2),
        det(5000, "Weapons", 70.0, "Violence", 2), det(3000, "Explicit", 55.0),
        det(9000, "Explicit", 54.0, StartTimestampMillis=8500, EndTimestampMillis=9900),
    ])
    weapons, explicit = timeline.summarize(detections)
    assert weapons == timeline.LabelSummary("Weapons", "Violence", 2, 90.0, 0, 5000, 3)
    assert explicit == timeline.LabelSummary("Explicit", "", 1, 55.0, 3000, 9900, 2)  # segment bounds count
    assert timeline.maxima([weapons, explicit]) == [lab("Weapons", 90.0, "Violence", 2), lab("Explicit", 55.0)]


def test_labels_are_grouped_case_insensitively_like_the_taxonomy():
    detections = [Detection(0, lab("Drug & Tobacco", 60)), Detection(1000, lab("Drugs & Tobacco", 70))]
    (only,) = timeline.summarize(detections)
    assert (only.max_confidence, only.detections, only.first_ms, only.last_ms) == (70, 2, 0, 1000)


def test_reasons_say_when_each_rule_fired():
    detections = timeline.from_rekognition([
        det(1000, "Explicit", 55.0), det(3000, "Explicit", 85.0), det(4000, "Explicit", 81.0),
        det(65_250, "Weapons", 75.0, "Violence", 2), det(2000, "Weapons", 40.0, "Violence", 2),
    ])
    decision = policy.decide(timeline.maxima(timeline.summarize(detections)), POLICY)
    assert decision.verdict == "rejected"
    explicit, weapons = timeline.reasons(decision, detections)
    # reject fired at 80: only the detections at or above 80 count
    assert explicit["timestamps_ms"] == [3000, 4000] and explicit["first_ms"] == 3000
    assert explicit["text"] == "Explicit 85.0% >= reject 80 (rule: Explicit) at 0:03.000, 0:04.000"
    assert weapons["first_ms"] == 65_250 and weapons["text"].endswith("at 1:05.250")
    assert explicit["action"] == "reject" and explicit["threshold"] == 80


def test_long_lists_of_timestamps_are_cut_in_the_text_but_kept_in_full():
    detections = [Detection(i * 1000, lab("Explicit", 90.0)) for i in range(8)]
    decision = policy.decide(timeline.maxima(timeline.summarize(detections)), POLICY)
    (reason,) = timeline.reasons(decision, detections)
    assert len(reason["timestamps_ms"]) == 8
    assert reason["text"].endswith("at 0:00.000, 0:01.000, 0:02.000, 0:03.000, 0:04.000 (+3 more)")


def test_approval_reason_has_no_timestamps():
    (reason,) = timeline.reasons(policy.decide([], POLICY), [])
    assert reason["action"] == "none" and "timestamps_ms" not in reason


@pytest.mark.parametrize("ms, text", [(0, "0:00.000"), (3250, "0:03.250"), (65_000, "1:05.000"),
                                      (3_723_004, "1:02:03.004")])
def test_fmt_ms(ms, text):
    assert timeline.fmt_ms(ms) == text
