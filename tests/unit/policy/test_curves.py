"""Precision/recall curves per category (moderation.policy.curves) on a labelled set small enough to count by
hand, and their CSV."""

from __future__ import annotations

import csv
import io

import pytest

from moderation.domain import policy
from moderation.policy import curves, recommend, replay
from tests.fakes.providers import labels_for

CURRENT_YAML = """
min_confidence: 50
default: {flag: 80, reject: null}
labels:
  Violence: {flag: 70, reject: 90}
  Hate Symbols: {flag: 50, reject: null}
"""
CANDIDATE_YAML = """
min_confidence: 50
default: {flag: 80, reject: null}
labels:
  Violence: {flag: 60, reject: 90}
  Hate Symbols: {flag: 50, reject: null}
"""
CURRENT, CANDIDATE = policy.parse(CURRENT_YAML), policy.parse(CANDIDATE_YAML)


def row(label: str, conf: float, truth: str | None, provider: str = "rekognition") -> replay.Row:
    return replay.Row(provider, labels_for(label, conf), 50.0, "flagged", truth)


# Violence (Weapons has no rule: Violence's judges it): violations at 95, 85, 65; benign at 75, 55.
LABELLED = [row("Weapons", 95, "rejected"), row("Weapons", 85, "rejected"), row("Weapons", 75, "approved"),
            row("Weapons", 65, "rejected"), row("Weapons", 55, "approved")]
# Flagged at t: the items whose confidence is >= t (>= reject 90 above it). 3 violations, 2 benign.
# threshold: (tp, fp, fn, tn, precision, recall, current, candidate)
EXPECTED = {
    55: (3, 2, 0, 0, 3 / 5, 1.0, False, False),
    60: (3, 1, 0, 1, 3 / 4, 1.0, False, True),  # the candidate's flag: a point though no item sits there
    65: (3, 1, 0, 1, 3 / 4, 1.0, False, False),
    70: (2, 1, 1, 1, 2 / 3, 2 / 3, True, False),  # the current flag
    75: (2, 1, 1, 1, 2 / 3, 2 / 3, False, False),
    85: (2, 0, 1, 2, 1.0, 2 / 3, False, False),
    95: (1, 0, 2, 2, 1.0, 1 / 3, False, False),  # above reject 90: measured at 90, where only 95 is positive
}


def violence(rows=LABELLED, candidate=CANDIDATE) -> curves.Curve:
    found = curves.curves(rows, CURRENT, "rekognition", candidate=candidate)
    return next(c for c in found if c.category == "Violence")


def test_points_counted_by_hand():
    c = violence()
    assert (c.provider, c.support, c.current, c.candidate, c.reject) == ("rekognition", 5, 70, 60, 90)
    got = {p.threshold: (p.quality.tp, p.quality.fp, p.quality.fn, p.quality.tn, p.quality.precision,
                         p.quality.recall, p.current, p.candidate) for p in c.points}
    assert got == EXPECTED  # the same divisions: exact
    assert [p.threshold for p in c.points] == sorted(EXPECTED)  # lowest first, for plotting


def test_the_curve_agrees_with_what_recommend_finds():
    """recommend's choice at a target precision is a point of the curve, with the same counts."""
    rec = recommend.recommend(LABELLED, CURRENT, 0.75, "rekognition", min_support=1)
    (ev,) = rec.categories
    point = next(p for p in violence().points if p.threshold == ev.threshold)
    assert (ev.threshold, ev.quality) == (65, point.quality)


def test_with_recommendation_marks_the_flag_recommend_proposes():
    rec = recommend.recommend(LABELLED, CURRENT, 0.75, "rekognition", min_support=1)
    candidate = curves.with_recommendation(CURRENT, rec)
    assert candidate.rules["Violence"] == policy.Rule(65, 90) and candidate.rules["Hate Symbols"] == policy.Rule(50)
    c = violence(candidate=candidate)
    assert (c.current, c.candidate) == (70, 65)
    assert [p.threshold for p in c.points if p.candidate] == [65]


def test_items_another_rule_flags_are_positive_at_every_threshold():
    anyway = replay.Row("rekognition", labels_for("Weapons", 60) + labels_for("Nazi Party", 55), 50, "flagged",
                        "approved")  # a Violence item Hate Symbols' flag 50 flags whatever Violence's is
    c = violence(LABELLED + [anyway])
    assert all(p.quality.fp == EXPECTED[p.threshold][1] + 1 for p in c.points)


def test_only_reviewed_rows_of_the_provider_count():
    noise = [row("Weapons", 99, None), row("Weapons", 99, "approved", provider="local")]
    assert violence(LABELLED + noise).points == violence().points


def test_default_rule_and_no_candidate():
    """A category without a rule of its own is judged (and marked) by the default's flag."""
    found = curves.curves([row("Pills", 85, "rejected"), row("Pills", 82, "approved")], CURRENT, "rekognition")
    (drugs,) = found
    assert (drugs.category, drugs.current, drugs.candidate) == ("Drugs & Tobacco", 80, None)
    assert [(p.threshold, p.quality.precision, p.current) for p in drugs.points] == [
        (80, 0.5, True), (82, 0.5, False), (85, 1.0, False)]


def test_busiest_provider():
    rows = [row("Weapons", 60, "rejected", "local")] * 2 + [row("Weapons", 60, "rejected")]
    assert curves.busiest_provider(rows + [row("Weapons", 60, None)] * 5) == "local"
    assert curves.busiest_provider([]) == "rekognition"


def test_csv_holds_one_row_per_point():
    text = curves.csv_text([violence()])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == curves.CSV_COLUMNS
    assert [float(r["threshold"]) for r in rows] == sorted(EXPECTED)
    for r in rows:
        tp, fp, fn, tn, precision, recall, current, candidate = EXPECTED[float(r["threshold"])]
        assert (r["provider"], r["category"], r["support"]) == ("rekognition", "Violence", "5")
        assert (int(r["tp"]), int(r["fp"]), int(r["fn"]), int(r["tn"])) == (tp, fp, fn, tn)
        assert float(r["precision"]) == pytest.approx(precision, abs=1e-6)
        assert float(r["recall"]) == pytest.approx(recall, abs=1e-6)
        assert (r["current"], r["candidate"]) == (str(int(current)), str(int(candidate)))


def test_csv_leaves_an_undefined_precision_empty():
    never = curves.curves([row("Weapons", 95, "approved")], CURRENT, "rekognition")
    text = curves.csv_text(never)
    (r,) = [r for r in csv.DictReader(io.StringIO(text)) if r["threshold"] == "95"]
    assert (r["precision"], r["recall"], r["fp"]) == ("0", "", "1")  # flagged one, no violation to recall
    assert curves.csv_text([]) == ",".join(curves.CSV_COLUMNS) + "\n"
