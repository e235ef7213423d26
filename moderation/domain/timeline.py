"""Video timelines (pure): detections -> per-label summary -> the labels ``decide()`` judges.

Both video paths produce the same shape: Rekognition's GetContentModeration
pages and the offline sampler's per-frame labels become ``Detection``s. A video
is judged like an image made of each label's highest confidence anywhere in
it; the timeline is what tells a reviewer *where* to look.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from moderation.domain import taxonomy
from moderation.domain.errors import TransientFault
from moderation.domain.policy import Decision
from moderation.domain.labels import ModerationLabel

MAX_TIMESTAMPS_IN_TEXT = 5


@dataclass(frozen=True)
class Detection:
    timestamp_ms: int
    label: ModerationLabel
    start_ms: int | None = None  # segment bounds (AggregateBy=SEGMENTS), when present
    end_ms: int | None = None


@dataclass(frozen=True)
class LabelSummary:
    name: str
    parent: str
    level: int
    max_confidence: float
    first_ms: int
    last_ms: int
    detections: int


def from_rekognition(items: Iterable[dict[str, Any]]) -> list[Detection]:
    """GetContentModeration ``ModerationLabels`` entries (all pages) as detections."""
    out = []
    for d in items:
        lab = d.get("ModerationLabel") or {}
        confidence = float(lab.get("Confidence", 0.0))
        if not 0 <= confidence <= 100:  # botocore does not check ranges in responses
            raise TransientFault(f"Rekognition returned confidence {confidence} for {lab.get('Name')!r}")
        label = ModerationLabel(lab["Name"], lab.get("ParentName", ""), int(lab.get("TaxonomyLevel", 0)), confidence)
        out.append(Detection(int(d["Timestamp"]), label, _opt_int(d.get("StartTimestampMillis")),
                             _opt_int(d.get("EndTimestampMillis"))))
    return sorted(out, key=lambda det: det.timestamp_ms)


def summarize(detections: Iterable[Detection]) -> list[LabelSummary]:
    """One row per label, most confident first; ties: first seen, then the most specific."""
    acc: dict[str, dict[str, Any]] = {}
    for det in detections:
        key = taxonomy.normalise(det.label.name)
        row = acc.get(key)
        end = det.end_ms if det.end_ms is not None else det.timestamp_ms
        start = det.start_ms if det.start_ms is not None else det.timestamp_ms
        if row is None:
            acc[key] = {"label": det.label, "max": det.label.confidence, "first": start, "last": end, "n": 1}
            continue
        row["n"] += 1
        row["first"], row["last"] = min(row["first"], start), max(row["last"], end)
        if det.label.confidence > row["max"]:
            row["max"], row["label"] = det.label.confidence, det.label
    rows = [LabelSummary(r["label"].name, r["label"].parent_name, r["label"].taxonomy_level, r["max"],
                         r["first"], r["last"], r["n"]) for r in acc.values()]
    return sorted(rows, key=lambda r: (-r.max_confidence, r.first_ms, -r.level, r.name))


def maxima(summaries: Iterable[LabelSummary]) -> list[ModerationLabel]:
    """Each label at its highest confidence: what ``decide()`` judges for a video."""
    return [ModerationLabel(s.name, s.parent, s.level, s.max_confidence) for s in summaries]


def reasons(decision: Decision, detections: list[Detection]) -> list[dict[str, Any]]:
    """The decision's reasons as stored, each saying *when* its rule fired.

    ``timestamps_ms``: every detection of the label at or above the threshold
    that fired; ``first_ms`` the earliest. The text names the first few.
    """
    out = []
    for r in decision.reasons:
        row = dict(vars(r), text=r.text())
        if r.action in ("flag", "reject") and r.threshold is not None:
            key = taxonomy.normalise(r.label)
            times = sorted({d.timestamp_ms for d in detections
                            if taxonomy.normalise(d.label.name) == key and d.label.confidence >= r.threshold})
            if times:
                row.update(timestamps_ms=times, first_ms=times[0], text=f"{row['text']} at {_times_text(times)}")
        out.append(row)
    return out


def fmt_ms(ms: int) -> str:
    """0:03.250, or 1:02:03.250 past an hour: what a video player shows."""
    seconds, millis = divmod(int(ms), 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"
    return f"{minutes}:{seconds:02d}.{millis:03d}"


def _times_text(times: list[int]) -> str:
    shown = ", ".join(fmt_ms(t) for t in times[:MAX_TIMESTAMPS_IN_TEXT])
    more = len(times) - MAX_TIMESTAMPS_IN_TEXT
    return shown + (f" (+{more} more)" if more > 0 else "")


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)
