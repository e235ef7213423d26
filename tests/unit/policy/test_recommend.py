"""Threshold recommendation (moderation.policy.recommend) on synthetic reviewed data with a known best threshold,
the candidate file it writes, and ``modq policy recommend``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from moderation.domain import policy
from moderation.policy import recommend, replay
from moderation.cli.main import app
from moderation.cli.policy_tune import candidate_yaml
from moderation.items import models as m
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.review.models import Review
from tests.fakes.providers import labels_for

runner = CliRunner()
CURRENT = policy.parse("""
min_confidence: 50
default: {flag: 80, reject: null}
labels:
  Violence: {flag: 70, reject: null}
  Graphic Violence: {flag: 50, reject: 90}
  Alcohol: {flag: null, reject: null}
  Hate Symbols: {flag: 50, reject: null}
providers:
  local:
    min_confidence: 20
    labels:
      Explicit: {flag: 35, reject: 60}
""")


def row(label: str, conf: float, truth: str | None, provider: str = "rekognition", min_conf: float = 50.0):
    return replay.Row(provider, labels_for(label, conf), min_conf, "flagged", truth)


# By construction: violations (reviewer rejected) at every integer 60..99, benign (approved) at 50..74;
# "Weapons" has no rule of its own, so Violence's L1 rule judges it. For t in 60..75 flags are
# tp = 100 - t, fp = 75 - t, so precision (100-t)/(175-2t) first reaches 0.9 at t = 72 (28/31).
SYNTHETIC = ([row("Weapons", c, "rejected") for c in range(60, 100)]
             + [row("Weapons", c, "approved") for c in range(50, 75)])


def violence(rows, target=0.9, current=CURRENT, **kw) -> recommend.Evidence:
    rec = recommend.recommend(rows, current, target, "rekognition", **kw)
    return next(e for e in rec.categories if e.category == "Violence")


@pytest.mark.parametrize("target, threshold, tp, fp, fn", [
    (0.5, 60, 40, 15, 0),  # recall 1 from t=50 to 60: the tie goes to the highest t (fewest flags)
    (0.8, 67, 33, 8, 7),
    (0.9, 72, 28, 3, 12),
    (1.0, 75, 25, 0, 15),
])
def test_known_best_threshold(target, threshold, tp, fp, fn):
    ev = violence(SYNTHETIC, target)
    assert (ev.status, ev.threshold, ev.support) == (recommend.CHANGED, threshold, 65)
    assert (ev.quality.tp, ev.quality.fp, ev.quality.fn) == (tp, fp, fn)
    assert ev.rule == policy.Rule(threshold, None)


def test_unreviewed_and_other_providers_rows_are_ignored():
    noise = [row("Weapons", 99, None), row("Weapons", 99, "approved", provider="local")] * 30
    assert violence(SYNTHETIC + noise).threshold == 72


FLAGGED_ANYWAY = [
    # judged by Graphic Violence's own rule (flag 50), not Violence's
    [row("Blood & Gore", 55, "rejected")] * 10,
    # a Violence item (its most confident label) that Hate Symbols' flag 50 flags
    [replay.Row("rekognition", labels_for("Weapons", 55) + labels_for("Nazi Party", 52), 50, "flagged",
                "rejected")] * 10,
]


@pytest.mark.parametrize("extra", FLAGGED_ANYWAY)
def test_items_flagged_whatever_t_count_as_positive(extra):
    # 10 more rejected items flagged whatever t is: tp = 110 - t, fp = 75 - t reaches 0.9 at t = 71 (39/43)
    rows = SYNTHETIC + extra
    ev = violence(rows)
    assert (ev.threshold, ev.quality.tp, ev.quality.fp, ev.quality.fn) == (71, 39, 4, 11)
    q = replay.simulate(rows, policy.parse(candidate_yaml(CURRENT, recommend.recommend(rows, CURRENT, 0.9,
                                                                                      "rekognition"), [], 20)))
    assert (q.confusion("candidate", "Violence").tp, q.confusion("candidate", "Violence").fp) == (39, 4)


def test_overrides_are_listed():
    rows = SYNTHETIC + FLAGGED_ANYWAY[0]
    ev = violence(rows)
    assert ev.overrides == [("Graphic Violence", policy.Rule(50, 90))]
    text = candidate_yaml(CURRENT, recommend.recommend(rows, CURRENT, 0.9, "rekognition"), [], 20)
    assert "overrides still in force (more specific rules win): Graphic Violence {flag: 50, reject: 90}" in text


@pytest.mark.parametrize("rows, current, kw, status, kept", [
    # precision is 50% at every threshold
    ([row("Weapons", c, t) for c in range(60, 90) for t in ("rejected", "approved")], CURRENT, {},
     recommend.UNREACHABLE, policy.Rule(70, None)),
    (SYNTHETIC[30:45], CURRENT, {}, recommend.LOW_SUPPORT, policy.Rule(70, None)),  # 15 < 20
    # 72 is needed, but Violence rejects from 71: kept, and said so (reject is not raised silently)
    (SYNTHETIC, policy.parse("labels:\n  Violence: {flag: 70, reject: 71}\n"), {}, recommend.CONFLICT,
     policy.Rule(70, 71)),
    (SYNTHETIC, policy.parse("labels:\n  Violence: {flag: 72, reject: null}\n"), {}, recommend.SAME,
     policy.Rule(72, None)),
])
def test_cases_that_keep_the_current_rule(rows, current, kw, status, kept):
    ev = violence(rows, current=current, **kw)
    assert ev.status == status and ev.rule == kept
    text = candidate_yaml(current, recommend.recommend(rows, current, 0.9, "rekognition"), [], 20)
    assert policy.parse(text).rules["Violence"] == kept
    assert "# Violence: " in text


def test_a_category_whose_labels_all_have_their_own_rules():
    rows = [row("Blood & Gore", c, "rejected") for c in range(60, 90)]  # all judged by Graphic Violence
    rec = recommend.recommend(rows, CURRENT, 0.9, "rekognition")
    (ev,) = rec.categories
    assert (ev.status, ev.threshold, ev.rule) == (recommend.UNREACHABLE, None, policy.Rule(70, None))
    text = candidate_yaml(CURRENT, rec, [], 20)
    assert "no threshold reaches precision 90.0% (more specific rules judge all of its reviewed items' labels)" in text
    assert "overrides still in force (more specific rules win): Graphic Violence" in text


def test_low_support_is_configurable():
    ev = violence(SYNTHETIC[30:45], min_support=15)  # violations at 90..99, benign at 50..54
    assert (ev.status, ev.threshold, ev.quality.tp, ev.quality.fp) == (recommend.CHANGED, 90, 10, 0)


def test_never_flag_categories_are_left_alone():
    rows = [row("Drinking", c, "rejected") for c in range(60, 100)]
    rec = recommend.recommend(rows, CURRENT, 0.9, "rekognition")
    assert [(e.category, e.status) for e in rec.categories] == [("Alcohol", recommend.OFF)]


def test_threshold_is_never_below_the_analyses_min_confidence():
    rows = [row("Weapons", 55.009, "rejected", min_conf=55.005)] * 20
    assert violence(rows).threshold == 55.005
    assert violence([row("Weapons", 72.456, "rejected")] * 20).threshold == 72.45  # truncated, still flags it


@pytest.mark.parametrize("target", [0, -0.1, 1.01])
def test_target_must_be_a_precision(target):
    with pytest.raises(ValueError, match=r"target precision must be in \(0, 1\]"):
        recommend.recommend(SYNTHETIC, CURRENT, target, "rekognition")


def test_candidate_file_parses_and_claims_what_simulate_measures():
    rec = recommend.recommend(SYNTHETIC, CURRENT, 0.9, "rekognition")
    text = candidate_yaml(CURRENT, rec, ["header line"], 20)
    cand = policy.parse(text)
    assert text.startswith("# header line\n")
    assert "# Violence: flag 70 -> 72: precision 90.3% (28/31), recall 70.0% (28 of 40), 65 reviewed items" in text
    assert cand.rules == {**CURRENT.rules, "Violence": policy.Rule(72, None)}
    assert (cand.min_confidence, cand.default) == (CURRENT.min_confidence, CURRENT.default)
    # the local profile inherited Violence from the base: it keeps the old value, pinned
    assert cand.profiles["local"].rules == {**CURRENT.profiles["local"].rules}
    assert cand.profiles["local"].min_confidence == 20
    q = replay.simulate(SYNTHETIC, cand).confusion("candidate", "Violence")
    assert (q.tp, q.fp, q.fn) == (28, 3, 12)


def test_a_provider_with_a_profile_gets_the_rule_in_its_profile():
    rows = [row("Weapons", r.labels[0].confidence, r.truth, provider="local") for r in SYNTHETIC]
    cand = policy.parse(candidate_yaml(CURRENT, recommend.recommend(rows, CURRENT, 0.9, "local"), [], 20))
    assert cand.rules == CURRENT.rules
    assert cand.profiles["local"].rules["Violence"] == policy.Rule(72, None)
    assert cand.profiles["local"].rules["Explicit"] == policy.Rule(35, 60)


def seed(url: str, rows: list[replay.Row]) -> None:
    now = utcnow()
    with transaction(url) as s:
        for r in rows:
            a = m.Analysis(provider=r.provider, model_version="7.0", min_confidence=r.min_confidence,
                           labels=[lab.to_dict() for lab in r.labels])
            item = m.Item(media_uri="s3://b/k.jpg", media_type="image", status=r.truth or r.current,
                          verdict=r.truth or r.current, provider=r.provider, decided_at=now)
            s.add_all([a, item])
            s.flush()
            s.add(m.Decision(item_id=item.id, analysis_id=a.id, verdict=r.current, reasons=[], policy_version="v0"))
            if r.truth:
                s.add(Review(item_id=item.id, reviewer="ann", verdict=r.truth, reason="seed",
                             previous_status=r.current))


def test_cli_writes_a_candidate_that_simulate_validate_and_apply_accept(cli_env, tmp_path):
    seed(cli_env.settings.database_url, SYNTHETIC)
    out = tmp_path / "candidate.yaml"
    result = runner.invoke(app, ["policy", "recommend", "--target-precision", "0.9", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["provider"], doc["reviewed"]) == ("rekognition", 65)
    (vio,) = [c for c in doc["categories"] if c["category"] == "Violence"]
    assert (vio["status"], vio["threshold"], vio["tp"], vio["fp"]) == ("changed", 72, 28, 3)
    assert policy.load(out).rules["Violence"] == policy.Rule(72, None)
    assert policy.load(out).version == doc["candidate_version"]
    sim = runner.invoke(app, ["policy", "simulate", str(out), "--json"])
    assert sim.exit_code == 0, sim.output
    assert json.loads(sim.stdout)["quality"]["Violence"]["candidate"]["tp"] == 28
    assert runner.invoke(app, ["policy", "validate", str(out)]).exit_code == 0
    applied = runner.invoke(app, ["policy", "apply", str(out)])
    assert applied.exit_code == 0 and f"version {doc['candidate_version']} is now active" in applied.stdout
    text = runner.invoke(app, ["policy", "recommend", "--target-precision", "0.9", "--out", str(out), "--force"])
    assert text.exit_code == 0 and "Violence: flag 72 already the best" in text.stdout, text.output


@pytest.mark.parametrize("value", ["0", "1.5", "-1"])
def test_cli_rejects_a_bad_target(cli_env, tmp_path, value):
    result = runner.invoke(app, ["policy", "recommend", "--target-precision", value, "--out", str(tmp_path / "c")])
    assert result.exit_code == 2 and "must be above 0 and at most 1" in result.stderr
    assert not (tmp_path / "c").exists()
