"""Replay arithmetic (moderation.policy.replay) on a small hand-computed data set."""

from __future__ import annotations

import pytest

from moderation.domain import policy
from moderation.policy import replay
from tests.fakes.providers import labels_for

CANDIDATE = policy.parse("""
min_confidence: 50
default: {flag: 80, reject: null}
labels:
  Violence: {flag: 60, reject: 90}
  Drugs & Tobacco: {flag: null, reject: null}
""")


def row(label, conf, current, truth=None, min_conf=50.0):
    return replay.Row("local", labels_for(label, conf) if label else [], min_conf, current, truth)


# n, labels, recorded verdict -> candidate verdict, reviewer verdict
ROWS = [
    row("Violence", 70, "approved", "rejected"),   # 1 -> flagged  (TP for candidate, FN for current)
    row("Violence", 95, "flagged", "rejected"),    # 2 -> rejected (TP for both)
    row("Violence", 55, "approved", "approved"),   # 3 -> approved (TN for both)
    row("Drugs & Tobacco", 99, "flagged", "approved"),  # 4 -> approved (FP current, TN candidate)
    row(None, 0, "approved"),                      # 5 -> approved (not reviewed)
    row("Violence", 65, "flagged", "approved"),    # 6 -> flagged  (FP for both)
]


@pytest.fixture(scope="module")
def report():
    return replay.simulate(ROWS, CANDIDATE)


@pytest.mark.parametrize("current, candidate, count", [
    ("approved", "approved", 2), ("approved", "flagged", 1), ("approved", "rejected", 0),
    ("flagged", "approved", 1), ("flagged", "flagged", 1), ("flagged", "rejected", 1),
    ("rejected", "approved", 0), ("rejected", "flagged", 0), ("rejected", "rejected", 0),
])
def test_matrix(report, current, candidate, count):
    assert report.matrix.get((current, candidate), 0) == count


def test_totals_rates_and_drivers(report):
    assert (report.total, report.changed, report.reviewed) == (6, 3, 5)
    assert report.rate("current", "flagged") == pytest.approx(3 / 6)
    assert report.rate("current", "rejected") == 0
    assert report.rate("candidate", "flagged") == pytest.approx(2 / 6)
    assert report.rate("candidate", "rejected") == pytest.approx(1 / 6)
    assert dict(report.drivers) == {"Violence": 2, replay.APPROVED_KEY: 1}
    assert report.warnings == []


@pytest.mark.parametrize("which, category, tp, fp, fn, precision, recall, f1", [
    ("current", "all", 1, 2, 1, 1 / 3, 1 / 2, 0.4),
    ("candidate", "all", 2, 1, 0, 2 / 3, 1.0, 0.8),
    ("current", "Violence", 1, 1, 1, 1 / 2, 1 / 2, 0.5),
    ("candidate", "Violence", 2, 1, 0, 2 / 3, 1.0, 0.8),
    ("current", "Drugs & Tobacco", 0, 1, 0, 0.0, None, None),
    ("candidate", "Drugs & Tobacco", 0, 0, 0, None, None, None),
])
def test_precision_recall_f1(report, which, category, tp, fp, fn, precision, recall, f1):
    q = report.confusion(which, category)
    assert (q.tp, q.fp, q.fn) == (tp, fp, fn)
    for got, want in ((q.precision, precision), (q.recall, recall), (q.f1, f1)):
        assert got == (None if want is None else pytest.approx(want))


def test_json_shape(report):
    doc = report.to_dict()
    assert doc["matrix"]["flagged"] == {"approved": 1, "flagged": 1, "rejected": 1}
    assert doc["quality"]["all"]["candidate"]["f1"] == pytest.approx(0.8)


def test_warns_when_a_threshold_is_below_the_analyses_min_confidence():
    lenient = policy.parse("min_confidence: 30\ndefault: {flag: 80, reject: null}\n"
                           "labels:\n  Violence: {flag: 40, reject: 45}\n")
    report = replay.simulate([row("Violence", 70, "flagged", min_conf=50.0)], lenient)
    assert len(report.warnings) == 2
    assert "Violence flag 40 is below the min_confidence 50" in report.warnings[0]
    assert "Violence reject 45" in report.warnings[1]


def test_uses_the_provider_profile():
    profiled = policy.parse("min_confidence: 50\ndefault: {flag: 80, reject: null}\nlabels:\n"
                            "  Violence: {flag: 60, reject: null}\n"
                            "providers:\n  rekognition:\n    labels:\n      Violence: {flag: null, reject: 60}\n")
    rows = [replay.Row("rekognition", labels_for("Violence", 70), 50, "flagged"), row("Violence", 70, "flagged")]
    report = replay.simulate(rows, profiled)
    assert report.matrix == {("flagged", "rejected"): 1, ("flagged", "flagged"): 1}


def test_progress_goes_from_zero_to_the_rows_replayed():
    calls = []
    assert replay.simulate(ROWS, CANDIDATE, lambda *a: calls.append(a), total=6, every=4).total == 6
    assert calls == [(0, 6), (4, 6), (6, 6)]
    calls.clear()  # more rows than the caller counted (decided since): the total grows, the last call is done
    replay.simulate(ROWS, CANDIDATE, lambda *a: calls.append(a), total=3, every=2)
    assert calls == [(0, 3), (2, 3), (4, 4), (6, 6)]
    calls.clear()  # fewer (some deleted since the count): the last call says how many there were
    replay.simulate(ROWS[:5], CANDIDATE, lambda *a: calls.append(a), total=6, every=4)
    assert calls == [(0, 6), (4, 6), (5, 5)]
