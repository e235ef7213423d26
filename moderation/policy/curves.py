"""Precision and recall against each category's flag threshold, on reviewed items: pure, no I/O.

One curve per top-level category, swept as ``recommend`` searches it: the category's L1 flag
threshold t varies while everything else in the judging policy stays (more specific rules and
other categories' labels flag what they flag whatever t is); positive = flagged or rejected,
truth = reviewer rejected; an item's category is its most confident label's. Points sit at
each observed confidence (truncated to 0.01, never below min_confidence) and at the current
and candidate thresholds, which are marked. Past the rule's ``reject`` a flag changes nothing
(those items are rejected), so a point above it is measured at ``reject``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from moderation.domain import policy
from moderation.policy import recommend
from moderation.policy.replay import Confusion, Row

CSV_COLUMNS = ("provider", "category", "threshold", "precision", "recall", "f1", "tp", "fp", "fn", "tn",
               "support", "current", "candidate")


@dataclass(frozen=True)
class Point:
    threshold: float
    quality: Confusion
    current: bool = False  # the current policy's flag threshold for the category
    candidate: bool = False  # the candidate's

    def to_dict(self) -> dict:
        q = self.quality
        return {"threshold": self.threshold, "precision": q.precision, "recall": q.recall, "f1": q.f1,
                "tp": q.tp, "fp": q.fp, "fn": q.fn, "tn": q.tn}


@dataclass(frozen=True)
class Curve:
    provider: str
    category: str
    support: int  # reviewed items of the category
    current: float | None  # flag threshold (None: never flags)
    candidate: float | None
    points: list[Point]  # lowest threshold first
    reject: float | None = None  # the judging rule's: past it, the curve is flat (those items are rejected)

    def to_dict(self) -> dict:
        return {"provider": self.provider, "category": self.category, "support": self.support,
                "current": self.current, "candidate": self.candidate, "reject": self.reject,
                "points": [p.to_dict() for p in self.points]}


def flag(p: policy.ThresholdPolicy | None, provider: str, category: str) -> float | None:
    """The flag threshold ``p`` puts on a top-level category for ``provider`` (its rule, or the default)."""
    return None if p is None else p.for_provider(provider).rule_for(category)[1].flag


def busiest_provider(rows: Iterable[Row], fallback: str = "rekognition") -> str:
    """The provider with the most reviewed items: whose curves to draw when nobody said."""
    counts = Counter(r.provider for r in rows if r.truth)
    return counts.most_common(1)[0][0] if counts else fallback


def with_recommendation(current: policy.ThresholdPolicy, rec: recommend.Recommendation) -> policy.ThresholdPolicy:
    """The policy ``rec.provider``'s items are judged by under ``current``, with the L1 rules ``rec`` changes: the
    candidate ``recommend`` would write, as far as that provider is concerned."""
    p = current.for_provider(rec.provider)
    changed = {ev.category: ev.rule for ev in rec.categories if ev.status == recommend.CHANGED}
    return dataclasses.replace(p, rules={**p.rules, **changed}, profiles={})


def curves(rows: Iterable[Row], judge: policy.ThresholdPolicy, provider: str,
           current: policy.ThresholdPolicy | None = None,
           candidate: policy.ThresholdPolicy | None = None) -> list[Curve]:
    """A curve per category of ``provider``'s reviewed rows, judged by ``judge`` (whose other rules stay), marking
    the flag thresholds of ``current`` (default: ``judge``) and ``candidate``."""
    p = judge.for_provider(provider)
    _, floor, by_cat = recommend.by_category(rows, p, provider)
    out = []
    for cat, items in sorted(by_cat.items()):
        marks = (flag(current or judge, provider, cat), flag(candidate, provider, cat))
        rule = p.rule_for(cat)[1]
        out.append(Curve(provider, cat, len(items), *marks, _points(items, rule, floor, marks), rule.reject))
    return out


def _points(items, rule: policy.Rule, floor: float, marks: tuple[float | None, float | None]) -> list[Point]:
    thresholds = sorted({*recommend.observed(items, floor), *(t for t in marks if t is not None)}, reverse=True)
    effective = thresholds if rule.reject is None else [min(t, rule.reject) for t in thresholds]
    measured = [q for _, q in recommend.sweep(items, effective)]
    return [Point(t, q, t == marks[0], t == marks[1]) for t, q in reversed(list(zip(thresholds, measured)))]


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def csv_text(found: Iterable[Curve]) -> str:
    """The curves as CSV, one row per point (CSV_COLUMNS; an empty precision: nothing flagged there)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in found:
        for p in c.points:
            q = p.quality
            writer.writerow([c.provider, c.category, _cell(p.threshold), _cell(q.precision), _cell(q.recall),
                             _cell(q.f1), q.tp, q.fp, q.fn, q.tn, c.support, int(p.current), int(p.candidate)])
    return buffer.getvalue()
