"""Replay stored analyses under a candidate policy: pure computation, no I/O.

``simulate(rows, candidate)`` re-decides each stored analysis with
``policy.decide`` (the only per-item work) and tallies: the current ->
candidate verdict matrix, flag/reject rates before and after, the labels that
drive the changes, and, on reviewed items, precision/recall/F1 of the
automatic verdict (positive = flagged or rejected; truth = reviewer rejected),
overall and per top-level category. Loading rows is ``replay_db``'s job.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from moderation.domain import policy, taxonomy
from moderation.domain.labels import ModerationLabel

APPROVED_KEY = "(approved)"  # driver key when the candidate approves an item it used to flag/reject
NO_LABEL = "(none)"
OnProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class Row:
    provider: str
    labels: list[ModerationLabel]
    min_confidence: float  # what the provider was asked for; lower labels were never returned
    current: str  # the recorded automatic verdict
    truth: str | None = None  # the reviewer's verdict, if reviewed


@dataclass
class Confusion:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        if predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif actual:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None
        return 2 * p * r / (p + r)

    def to_dict(self) -> dict:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
                "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass
class Report:
    candidate_version: str
    total: int = 0
    matrix: Counter = field(default_factory=Counter)  # (current, candidate) -> count
    drivers: Counter = field(default_factory=Counter)  # label of the candidate's top reason, changed items
    quality: dict = field(default_factory=dict)  # (policy "current"/"candidate", category) -> Confusion
    reviewed: int = 0
    analysis_min_confidence: dict = field(default_factory=dict)  # provider -> highest min_confidence seen
    warnings: list[str] = field(default_factory=list)

    def rate(self, which: str, verdict: str) -> float:
        idx = 0 if which == "current" else 1
        n = sum(c for k, c in self.matrix.items() if k[idx] == verdict)
        return n / self.total if self.total else 0.0

    @property
    def changed(self) -> int:
        return sum(c for (a, b), c in self.matrix.items() if a != b)

    def confusion(self, which: str, category: str = "all") -> Confusion:
        return self.quality.setdefault((which, category), Confusion())

    def to_dict(self) -> dict:
        cats = sorted({c for _, c in self.quality})
        return {
            "candidate_version": self.candidate_version,
            "items": self.total,
            "changed": self.changed,
            "matrix": {a: {b: self.matrix.get((a, b), 0) for b in policy.VERDICTS} for a in policy.VERDICTS},
            "rates": {w: {"flagged": self.rate(w, "flagged"), "rejected": self.rate(w, "rejected")}
                      for w in ("current", "candidate")},
            "drivers": dict(self.drivers.most_common()),
            "reviewed": self.reviewed,
            "quality": {c: {w: self.confusion(w, c).to_dict() for w in ("current", "candidate")} for c in cats},
            "warnings": self.warnings,
        }


def is_positive(verdict: str | None) -> bool:
    return verdict in ("flagged", "rejected")


def category(labels: list[ModerationLabel]) -> str:
    """An item's category: the top-level category of its most confident label."""
    if not labels:
        return NO_LABEL
    return taxonomy.top_level(max(labels, key=lambda lab: lab.confidence).name)


def simulate(rows: Iterable[Row], candidate: policy.ThresholdPolicy, on_progress: OnProgress | None = None,
             total: int = 0, every: int = 1000) -> Report:
    """Replay ``rows`` under ``candidate``. ``on_progress(done, total)``: before the first row, every ``every``
    rows and after the last (then ``done == total``); ``total`` is the caller's count of the rows (``replay_db.count``), a bound
    that grows should the stream hold more (items decided since the count)."""
    report = Report(candidate.version)
    if on_progress is not None:
        on_progress(0, total)
    profiles: dict[str, policy.ThresholdPolicy] = {}
    for row in rows:
        p = profiles.get(row.provider)
        if p is None:
            p = profiles[row.provider] = candidate.for_provider(row.provider)
        decision = policy.decide(row.labels, p)
        new = decision.verdict
        report.total += 1
        if on_progress is not None and report.total % every == 0:
            on_progress(report.total, max(total, report.total))
        report.matrix[(row.current, new)] += 1
        if new != row.current:
            report.drivers[decision.reasons[0].label if new != "approved" else APPROVED_KEY] += 1
        seen = report.analysis_min_confidence.get(row.provider, 0.0)
        if row.min_confidence > seen:
            report.analysis_min_confidence[row.provider] = row.min_confidence
        if row.truth is not None:
            report.reviewed += 1
            actual = row.truth == "rejected"
            cat = category(row.labels)
            for which, verdict in (("current", row.current), ("candidate", new)):
                report.confusion(which).add(is_positive(verdict), actual)
                report.confusion(which, cat).add(is_positive(verdict), actual)
    if on_progress is not None and (report.total % every or total > report.total):  # else just said
        on_progress(report.total, report.total)
    report.warnings = unexplorable(candidate, report.analysis_min_confidence)
    return report


def unexplorable(candidate: policy.ThresholdPolicy, min_conf: dict[str, float]) -> list[str]:
    """Candidate thresholds below the min_confidence the analyses were made with."""
    out = []
    for provider, floor in sorted(min_conf.items()):
        p = candidate.for_provider(provider)
        for name, rule in [("default", p.default), *sorted(p.rules.items())]:
            for action, value in (("flag", rule.flag), ("reject", rule.reject)):
                if value is not None and value < floor:
                    out.append(f"{provider}: {name} {action} {value:g} is below the min_confidence {floor:g} the "
                               f"analyses were made with; labels under {floor:g}% were never returned, so replay "
                               f"cannot show its effect")
    return out
