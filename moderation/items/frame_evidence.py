"""What a multi-frame item's decision says about its frames (pure): reasons that name the frame that
fired, and the stored evidence of every frame analysed.

A reason's text ends like a video's, with where to look: ``... in frame 1 at
0:00.050`` (frames count from 0, the time is when the frame first appears) or
``... on page 2`` for a TIFF. The stored reason also carries ``frame_index``
and ``offset_ms`` of that first frame and ``frames``, every analysed frame
where the rule's label reached its threshold; the review console shows
``frame_index`` (``/media/{id}?frame=N``).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Protocol

from moderation.domain import taxonomy
from moderation.domain.policy import Decision
from moderation.domain.labels import ModerationLabel
from moderation.domain.timeline import fmt_ms

MAX_APPEARANCES = 100  # appearances of one picture kept in the evidence (a 2-frame loop may repeat 500 times)


class Picture(Protocol):
    index: int
    offset_ms: int | None
    shown: int
    digest: str
    indexes: tuple[int, ...]


class Result(Protocol):  # animation.FrameResult
    picture: Picture
    labels: list
    source: str
    analysis_id: int | None
    bank: Any
    key: str


def where(picture: Picture, pages: bool) -> str:
    if pages:
        return f"on page {picture.index}"
    return f"in frame {picture.index} at {fmt_ms(picture.offset_ms or 0)}"


def frame_reasons(decision: Decision, results: list[Result], pages: bool) -> list[dict[str, Any]]:
    """The decision's reasons as stored, each naming the first frame where its rule fired; then frames
    banked as rejected."""
    out = []
    for r in decision.reasons:
        row = dict(vars(r), text=r.text())
        if r.action in ("flag", "reject") and r.threshold is not None:
            key = taxonomy.normalise(r.label)
            fired = [res.picture for res in results if any(
                taxonomy.normalise(lab.name) == key and lab.confidence >= r.threshold for lab in res.labels)]
            if fired:
                row.update(_located(fired, row["text"], pages))
        out.append(row)
    for res in results:
        if res.bank is not None and res.bank.verdict == "rejected":
            reason = res.bank.reason()
            out.append({**reason, **_located([res.picture], reason["text"], pages)})
    return out


def _located(fired: list[Picture], text: str, pages: bool) -> dict[str, Any]:
    first = min(fired, key=lambda p: p.index)
    more = len(fired) - 1
    return {"frame_index": first.index, "offset_ms": first.offset_ms, "frames": sorted(p.index for p in fired),
            "text": f"{text} {where(first, pages)}" + (f" (+{more} more)" if more else "")}


def reasons_from_evidence(decision: Decision, raw: dict[str, Any]) -> list[dict[str, Any]] | None:
    """``frame_reasons`` for a decision taken again from stored evidence (re-evaluation under a new policy);
    None when ``raw`` is not a multi-frame item's."""
    if not isinstance(raw, dict) or "Frames" not in raw:
        return None
    results = [SimpleNamespace(picture=SimpleNamespace(index=f["Index"], offset_ms=f["OffsetMillis"]), bank=None,
                               labels=[ModerationLabel.from_dict(d) for d in f.get("ModerationLabels") or ()])
               for f in raw["Frames"]]
    return frame_reasons(decision, results, bool(raw.get("Pages")))


def fired_frame(reasons: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The frame a reviewer should see first: the first reason that names one (reasons are most severe
    first), as ``{"index", "offset_ms", "where", "reason"}``; None when no reason names a frame."""
    for reason in reasons:
        index = reason.get("frame_index")
        if index is not None:
            offset = reason.get("offset_ms")
            where = f"page {index}" if offset is None else f"frame {index} at {fmt_ms(offset)}"
            return {"index": index, "offset_ms": offset, "where": where, "reason": reason["text"]}
    return None


def evidence(results: list[Result], scanned: list, seq) -> dict[str, Any]:
    """The item's stored evidence (``Analysis.raw``): the file, then each analysed frame and its labels."""
    return {
        "Format": seq.format, "FrameCount": seq.frame_count, "Pages": seq.pages,
        "DistinctFrames": len({f.digest for f in scanned}), "LastFrameStays": seq.last_stays,
        "DurationMillis": None if seq.pages else sum(f.shown for f in scanned),
        "Frames": [_frame(res, seq.pages) for res in results],
    }


def _frame(res: Result, pages: bool) -> dict[str, Any]:
    p = res.picture
    return {"Index": p.index, "OffsetMillis": p.offset_ms, "ShownMillis": None if pages else p.shown,
            "Appearances": list(p.indexes[:MAX_APPEARANCES]), "ContentKey": res.key, "Source": res.source,
            "AnalysisId": res.analysis_id, "BankEntry": res.bank.entry_id if res.bank is not None else None,
            "ModerationLabels": [lab.to_dict() for lab in res.labels]}
