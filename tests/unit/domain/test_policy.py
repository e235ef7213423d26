"""decide() tables and thresholds-file validation."""

from __future__ import annotations

import pytest

from moderation.domain import policy
from moderation.domain.errors import ConfigError
from moderation.domain.labels import ModerationLabel
from tests.fakes.providers import labels_for

POLICY_YAML = """
min_confidence: 50
default: {flag: 80, reject: null}
labels:
  Explicit: {flag: 60, reject: 90}
  Exposed Male Nipple: {flag: null, reject: null}
  Violence: {flag: 70, reject: 95}
  Weapons: {flag: null, reject: 99}
  Graphic Violence: {flag: 50, reject: 50}
  Hate Symbols: {flag: 40, reject: null}
"""


@pytest.fixture(scope="module")
def pol() -> policy.ThresholdPolicy:
    return policy.parse(POLICY_YAML)


@pytest.mark.parametrize(
    "detections, verdict, fired_rule",
    [
        ([], "approved", None),
        ([("Exposed Female Genitalia", 59.9)], "approved", None),  # below the L1 rule it inherits
        ([("Exposed Female Genitalia", 60.0)], "flagged", "Explicit"),  # tie fires
        ([("Exposed Female Genitalia", 90.0)], "rejected", "Explicit"),
        ([("Explicit Nudity", 75.0)], "flagged", "Explicit"),  # L2 inherits from L1
        ([("Exposed Male Nipple", 99.0)], "approved", None),  # flag: null at L3 beats its ancestors
        ([("Weapons", 98.0)], "approved", None),  # flag null, reject not reached
        ([("Weapons", 99.0)], "rejected", "Weapons"),
        ([("Physical Violence", 50.0)], "rejected", "Graphic Violence"),  # flag == reject -> reject
        ([("Alcoholic Beverages", 79.0)], "approved", None),  # default rule
        ([("Alcoholic Beverages", 80.0)], "flagged", "default"),
        ([("Brand New Label", 85.0)], "flagged", "default"),  # unknown label -> default
        ([("Nazi Party", 45.0)], "approved", None),  # under min_confidence 50: ignored
        ([("Nazi Party", 55.0), ("Exposed Female Nipple", 95.0)], "rejected", "Explicit"),  # most severe wins
        ([("Nazi Party", 55.0), ("Exposed Female Nipple", 65.0)], "flagged", None),
    ],
)
def test_decide_table(pol, detections, verdict, fired_rule):
    labels = [lab for name, conf in detections for lab in labels_for(name, conf)]
    decision = policy.decide(labels, pol)
    assert decision.verdict == verdict
    assert decision.reasons, "every outcome has a reason"
    assert decision.policy_version == pol.version
    if fired_rule:
        assert decision.reasons[0].rule == fired_rule
    if verdict == "approved":
        assert all(r.action == "none" for r in decision.reasons)


def test_reasons_name_label_confidence_threshold_and_rule(pol):
    decision = policy.decide(labels_for("Exposed Female Nipple", 93.25), pol)
    assert decision.reason_texts() == ["Exposed Female Nipple 93.2% >= reject 90 (rule: Explicit)"]


def test_rolled_up_parent_is_judged_when_more_confident_than_children(pol):
    labels = [ModerationLabel("Exposed Male Nipple", "Non-Explicit Nudity", 3, 55.0),
              ModerationLabel("Non-Explicit Nudity", "Non-Explicit Nudity of Intimate parts and Kissing", 2, 85.0)]
    decision = policy.decide(labels, pol)
    assert decision.verdict == "flagged"
    assert decision.reasons[0].label == "Non-Explicit Nudity"


def test_approval_reason_mentions_highest_label(pol):
    decision = policy.decide(labels_for("Alcoholic Beverages", 70.0), pol)
    assert "Alcoholic Beverages 70.0%" in decision.reasons[0].label


def test_one_reason_per_rule_that_fired_sorted_rejects_first(pol):
    labels = labels_for("Nazi Party", 60.0) + labels_for("Exposed Female Genitalia", 95.0)
    decision = policy.decide(labels, pol)
    assert [r.action for r in decision.reasons] == ["reject", "flag"]
    assert {r.label for r in decision.reasons} == {"Exposed Female Genitalia", "Nazi Party"}


def test_provider_profile_overrides_only_what_it_sets():
    pol = policy.parse(POLICY_YAML + """
providers:
  local:
    min_confidence: 20
    labels:
      Explicit: {flag: 30, reject: 70}
""")
    local = pol.for_provider("local")
    assert local.min_confidence == 20
    assert local.rules["Explicit"] == policy.Rule(30, 70)
    assert local.rules["Hate Symbols"] == policy.Rule(40, None)  # inherited
    assert local.version == pol.version
    assert pol.for_provider("rekognition") is pol
    assert policy.decide(labels_for("Exposed Female Genitalia", 35), local).verdict == "flagged"


def test_version_ignores_comments_and_layout_but_not_values():
    a = policy.parse("min_confidence: 50\nlabels: {Explicit: {flag: 60, reject: 90}}")
    b = policy.parse("# comment\nlabels:\n  explicit: {reject: 90, flag: 60}\nmin_confidence: 50.0\n")
    c = policy.parse("min_confidence: 50\nlabels: {Explicit: {flag: 61, reject: 90}}")
    assert a.version == b.version
    assert a.version != c.version


@pytest.mark.parametrize(
    "name, canonical",
    [("explicit", "Explicit"), ("HATE SYMBOLS", "Hate Symbols"),
     ("Drug & Tobacco Paraphernalia & Use", "Drugs & Tobacco Paraphernalia & Use"),
     ("kissing on the lips", "Kissing on the Lips")],
)
def test_label_names_are_case_and_spelling_tolerant(name, canonical):
    pol = policy.parse(f"labels: {{'{name}': {{flag: 10}}}}")
    assert canonical in pol.rules
    assert not pol.warnings


def test_v61_names_are_aliases_with_a_warning():
    pol = policy.parse("labels: {Suggestive: {flag: 70}, Graphic Male Nudity: {reject: 80}}")
    assert pol.rules["Non-Explicit Nudity of Intimate parts and Kissing"] == policy.Rule(70, None)
    assert pol.rules["Exposed Male Genitalia"] == policy.Rule(None, 80)
    assert len(pol.warnings) == 2 and "v6.1" in pol.warnings[0]


@pytest.mark.parametrize(
    "text, message",
    [
        ("labels: {Explicitt: {flag: 50}}", "labels.Explicitt: unknown moderation label"),
        ("labels: {Explicit: {flag: 150}}", "labels.Explicit.flag: 150 is outside 0-100"),
        ("labels: {Explicit: {flag: -1}}", "labels.Explicit.flag: -1 is outside 0-100"),
        ("labels: {Explicit: {flag: 90, reject: 80}}", "labels.Explicit: reject (80) is lower than flag (90)"),
        ("labels: {Explicit: {flag: high}}", "labels.Explicit.flag: 'high' is not a number"),
        ("labels: {Explicit: {flagg: 50}}", "labels.Explicit: unknown key 'flagg'"),
        ("labels: {Explicit: 50}", "labels.Explicit: expected a mapping"),
        ("min_confidence: 101", "min_confidence: 101 is outside 0-100"),
        ("min_confidence: null", "min_confidence must be a number"),
        ("default: {flag: true}", "default.flag: True is not a number"),
        ("thresholds: {}", "unknown key 'thresholds'"),
        ("providers: {azure: {}}", "providers.azure: unknown provider"),
        ("providers: {local: {labels: {Nope: {flag: 1}}}}", "providers.local: labels.Nope: unknown moderation label"),
        ("labels: [", "not valid YAML"),
        ("- just a list", "expected a mapping"),
    ],
)
def test_invalid_thresholds_fail_naming_the_key(text, message):
    with pytest.raises(ConfigError) as info:
        policy.parse(text, source="t.yaml")
    assert message in str(info.value)
    assert str(info.value).startswith("t.yaml")


def test_every_problem_is_reported_not_only_the_first():
    text = """
thresholds: 1
min_confidence: 101
labels: {Explicitt: {flag: 50}, Explicit: {flag: 150, reject: x, flagg: 1}, Violence: 4, Hate Symbols: {flag: 60}}
providers: {azure: {}, local: {labels: {Nope: {flag: 1}}, min_confidence: null}}
"""
    with pytest.raises(policy.InvalidPolicy) as info:
        policy.parse(text, source="t.yaml")
    assert info.value.problems == [
        "t.yaml: unknown key 'thresholds' (allowed: default, labels, min_confidence, priority, providers, reasons, retention, subjects, "
        "transparency)",
        "t.yaml: min_confidence: 101 is outside 0-100",
        "t.yaml: labels.Explicitt: unknown moderation label 'Explicitt' (not in the Rekognition v7 taxonomy)",
        "t.yaml: labels.Explicit: unknown key 'flagg' (allowed: flag, reject)",
        "t.yaml: labels.Explicit.flag: 150 is outside 0-100",
        "t.yaml: labels.Explicit.reject: 'x' is not a number (use 0-100, or null)",
        "t.yaml: labels.Violence: expected a mapping like {flag: 80, reject: 95}",
        "t.yaml: providers.azure: unknown provider (use 'local' or 'rekognition')",
        "t.yaml: providers.local: min_confidence must be a number between 0 and 100",
        "t.yaml: providers.local: labels.Nope: unknown moderation label 'Nope' (not in the Rekognition v7 taxonomy)",
    ]
    assert str(info.value) == "; ".join(info.value.problems)  # one error for callers that stop at the first


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        policy.load(tmp_path / "nope.yaml")


def test_bundled_template_is_valid_and_has_a_local_profile():
    from config.settings import DEFAULT_THRESHOLDS

    pol = policy.load(DEFAULT_THRESHOLDS)
    assert not pol.warnings
    local = pol.for_provider("local")
    assert local is not pol and local.min_confidence < pol.min_confidence
