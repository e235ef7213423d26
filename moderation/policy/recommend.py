"""Recommend per-category ``flag`` thresholds from reviewer verdicts: pure, no I/O.

For each top-level category (L1), among reviewed items of that category (an
item's category is its most confident label's L1, as in ``replay``; truth =
reviewer rejected), find the flag threshold t that reaches the target
precision with the highest recall (tie: the highest t, fewest flags).

The recommendation sets the L1 rule only. More specific (L2/L3) rules keep
winning for their labels, so the search counts what they fire as positive
whatever t is (the evidence lists them as "overrides still in force"); so are
items another category's label flags under its current rule, as ``simulate``
counts them. (Several categories changed at once interact a little through
such items: ``simulate`` the candidate for the combined effect.) t is
searched over the observed confidences (truncated to 0.01), never below
min_confidence: labels under it were never returned. A category keeps its
rule when: fewer than ``min_support`` reviewed items; no t reaches the
target; the best t is above the rule's ``reject`` (items from ``reject`` up
are rejected, i.e. positive, whatever t says: the measured precision would be
false, so we leave it to a person rather than silently raising ``reject``);
or the rule is ``flag: null`` (never flag is a policy decision, not a
miscalibrated number).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from moderation.domain import policy, taxonomy
from moderation.policy import replay
from moderation.policy.replay import Confusion, Row

CHANGED, SAME, LOW_SUPPORT, UNREACHABLE, CONFLICT, OFF = (
    "changed", "unchanged", "low_support", "unreachable", "reject_conflict", "never_flag")


@dataclass
class Evidence:
    category: str
    status: str
    previous: policy.Rule  # the rule that governed the category (its own or ``default``)
    previous_source: str  # "labels" or "default"
    support: int  # reviewed items of this category
    threshold: float | None = None  # recommended (CHANGED/SAME) or best found (CONFLICT, UNREACHABLE)
    quality: Confusion = field(default_factory=Confusion)  # at ``threshold``
    overrides: list[tuple[str, policy.Rule]] = field(default_factory=list)

    @property
    def rule(self) -> policy.Rule:
        """The rule to write: the new flag when changed, the old rule otherwise."""
        if self.status == CHANGED:
            return policy.Rule(self.threshold, self.previous.reject)
        return self.previous

    def to_dict(self) -> dict:
        return {"category": self.category, "status": self.status, "threshold": self.threshold,
                "previous": vars(self.previous), "previous_source": self.previous_source,
                "support": self.support, **self.quality.to_dict(),
                "overrides": {name: vars(r) for name, r in self.overrides}}


@dataclass
class Recommendation:
    provider: str
    target: float
    reviewed: int
    categories: list[Evidence]


def recommend(rows: Iterable[Row], current: policy.ThresholdPolicy, target: float, provider: str,
              min_support: int = 20) -> Recommendation:
    if not 0 < target <= 1:
        raise ValueError(f"target precision must be in (0, 1], got {target:g}")
    p = current.for_provider(provider)
    reviewed, floor, by_cat = by_category(rows, p, provider)
    out = [_evaluate(cat, items, p, target, floor, min_support) for cat, items in sorted(by_cat.items())]
    return Recommendation(provider, target, reviewed, out)


def by_category(rows: Iterable[Row], p: policy.ThresholdPolicy, provider: str) -> tuple[int, float, dict]:
    """(reviewed items, threshold floor, {category: [(score, flagged anyway, truth), ...]}) for ``provider``'s
    reviewed rows judged by its profile ``p``: what the search here, and ``curves``, sweep a threshold over."""
    floor = p.min_confidence
    by_cat: dict[str, list[tuple[float | None, bool, bool]]] = {}
    reviewed = 0
    for row in rows:
        if row.truth is None or row.provider != provider:
            continue
        reviewed += 1
        floor = max(floor, row.min_confidence)
        cat = replay.category(row.labels)
        if cat in taxonomy.TREE:  # unknown (newer model) labels are the default rule's business
            by_cat.setdefault(cat, []).append((*_score(row, cat, p), row.truth == "rejected"))
    return reviewed, floor, by_cat


def _score(row: Row, cat: str, p: policy.ThresholdPolicy) -> tuple[float | None, bool]:
    """(highest confidence of the labels the category's L1 rule would judge, is the item flagged anyway).

    "Anyway": a more specific rule in the category, or another category's
    label (the item's verdict is the most severe one, as ``simulate`` counts it).
    """
    considered = [lab for lab in row.labels if lab.confidence >= p.min_confidence]
    score, anyway = None, False
    for lab in policy.most_specific(considered):  # exactly the labels decide() judges
        name, rule = p.rule_for(lab.name)
        if taxonomy.top_level(lab.name) == cat and name in (cat, "default"):
            score = lab.confidence if score is None else max(score, lab.confidence)
        else:
            lowest = min((t for t in (rule.flag, rule.reject) if t is not None), default=math.inf)
            anyway = anyway or lab.confidence >= lowest
    return score, anyway


def _evaluate(cat: str, items, p: policy.ThresholdPolicy, target: float, floor: float,
              min_support: int) -> Evidence:
    own = p.rules.get(cat)
    ev = Evidence(cat, SAME, own or p.default, "labels" if own else "default", len(items))
    ev.overrides = [(name, rule) for name, rule in p.rules.items()
                    if name != cat and taxonomy.top_level(name) == cat]
    if ev.previous.flag is None:
        ev.status = OFF
        return ev
    if ev.support < min_support:
        ev.status = LOW_SUPPORT
        return ev
    best, fallback = None, None  # (t, Confusion): highest recall reaching target; best precision otherwise
    for t, q in sweep(items, observed(items, floor)):
        if q.precision is None or q.recall is None:
            continue
        if q.precision >= target - 1e-12 and (best is None or q.recall > best[1].recall):
            best = (t, q)
        if fallback is None or q.precision > fallback[1].precision:
            fallback = (t, q)
    chosen = best or fallback
    if chosen:
        ev.threshold, ev.quality = chosen
    if best is None:
        ev.status = UNREACHABLE
    elif ev.previous.reject is not None and ev.threshold > ev.previous.reject:
        ev.status = CONFLICT
    elif ev.threshold != ev.previous.flag:
        ev.status = CHANGED
    return ev


def observed(items, floor: float) -> list[float]:
    """The thresholds worth trying: each judged confidence truncated to 0.01, never below ``floor``; highest first."""
    return sorted({max(floor, math.floor(s * 100) / 100) for s, override, _ in items
                   if s is not None and not override}, reverse=True)


def sweep(items, thresholds: Iterable[float]):
    """(t, Confusion at t) for each t of ``thresholds``, which go from highest to lowest (so recall only grows)."""
    q0 = Confusion()
    scored = []
    for score, override, actual in items:
        if override or score is None:
            q0.add(override, actual)
        else:
            scored.append((score, actual))
    scored.sort(key=lambda x: -x[0])
    tp, fp, i = q0.tp, q0.fp, 0
    positives = q0.tp + q0.fn + sum(a for _, a in scored)
    for t in thresholds:
        while i < len(scored) and scored[i][0] >= t:
            tp, fp, i = tp + scored[i][1], fp + (not scored[i][1]), i + 1
        negatives = len(items) - positives
        yield t, Confusion(tp, fp, positives - tp, negatives - fp)
