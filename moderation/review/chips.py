"""The label chips of a queue row: what a reviewer scanning the queue should see first.

Labels whose rules fired come first, in the decision's order, then the others by
confidence. Rekognition lists a label's ancestors too, usually at the label's own
confidence ("Explicit Nudity 97", "Explicit 97"): an ancestor shown at the same
rounded confidence as a descendant says nothing new, so it is left out, and the
descendant takes its place among the fired ones if the ancestor's rule fired.
"""

from __future__ import annotations

from typing import Any

from moderation.domain import taxonomy


def chips(labels: list[dict[str, Any]], fired: list[str], limit: int = 3) -> list[dict[str, Any]]:
    """``labels``: an analysis' labels (``Name``, ``Confidence``); ``fired``: the labels whose rules fired
    (flag or reject), in the decision's order. Up to ``limit`` chips ``{name, confidence, fired}``."""
    best: dict[str, float] = {}
    for lab in labels:
        best[lab["Name"]] = max(best.get(lab["Name"], 0.0), float(lab["Confidence"]))
    fired_rank = {name: i for i, name in reversed(list(enumerate(fired)))}
    kept = []
    for name, confidence in best.items():
        if _covered(name, confidence, best):
            continue
        # this label, and each ancestor it stands for (same rounded confidence), may have fired
        stands_for = [a for a in taxonomy.ancestors(name) if a == name or _same(best.get(a), confidence)]
        rank = min((fired_rank[a] for a in stands_for if a in fired_rank), default=None)
        kept.append({"name": name, "confidence": confidence, "fired": rank is not None,
                     "order": (0 if rank is not None else 1, rank or 0, -confidence)})
    kept.sort(key=lambda chip: chip["order"])
    return [{k: v for k, v in chip.items() if k != "order"} for chip in kept[:limit]]


def _same(a: float | None, b: float) -> bool:
    return a is not None and round(a) == round(b)


def _covered(name: str, confidence: float, best: dict[str, float]) -> bool:
    """A descendant of ``name`` is listed at the same rounded confidence: it is shown instead."""
    return any(other != name and name in taxonomy.ancestors(other)[1:] and _same(c, confidence)
               for other, c in best.items())
