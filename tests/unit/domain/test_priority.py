"""The ``priority:`` ranking of a thresholds file: parsed into the policy, ranking a decision, errors naming the key."""

from __future__ import annotations

import pytest

from moderation.domain import policy, priority
from moderation.domain.errors import InvalidPolicy
from moderation.domain.labels import ModerationLabel

BASE = "min_confidence: 50\ndefault: {flag: 60, reject: null}\n"


def _labels(*names: str) -> list[ModerationLabel]:
    return [ModerationLabel(name, "", 1, 90.0) for name in names]


@pytest.mark.parametrize("labels, rank", [
    (["Self-Harm"], 1),  # an L3 ranked itself, above its L1 (Violence: 2)
    (["Weapon Violence"], 2),  # under Violence
    (["Nazi Party"], 2),  # under Hate Symbols
    (["Exposed Female Nipple"], 3),  # under Explicit
    (["Kissing on the Lips"], 3),  # under Non-Explicit Nudity...
    (["Drinking"], None),  # the rest: last
    (["Gambling"], None),
    (["a label of a newer model"], None),
    (["Drinking", "Self-Harm", "Kissing on the Lips"], 1),  # the most urgent of those that fired
    ([], None),
])
def test_default_ranking(labels, rank):
    assert priority.DEFAULT.rank(labels) == rank
    decision = policy.decide(_labels(*labels), policy.parse(BASE))
    assert decision.priority == (rank if labels else None)


@pytest.mark.parametrize("section, labels, rank", [
    ("{Alcohol: 1}", ["Drinking"], 1),
    ("{Alcohol: 1}", ["Self-Harm"], None),  # a section replaces the defaults as a whole
    ("{Alcohol: 1, default: 5}", ["Self-Harm"], 5),
    ("{Violence: 3, Self-Harm: 1}", ["Physical Violence", "Self-Harm"], 1),
    ("{Self Injury: 7}", ["Self-Harm"], 7),  # a v6.1 name, read as its v7 label
    ("{self-harm: 2}", ["Self-Harm"], 2),  # case-insensitive, as labels are
])
def test_a_written_ranking(section, labels, rank):
    parsed = policy.parse(BASE + f"priority: {section}\n")
    assert parsed.priorities.rank(labels) == rank
    assert parsed.for_provider("local").priorities == parsed.priorities


def test_only_labels_whose_rules_fired_rank_the_item():
    parsed = policy.parse(BASE + "labels: {Self-Harm: {flag: null, reject: null}}\n")
    decision = policy.decide(_labels("Self-Harm", "Drinking"), parsed)
    assert decision.verdict == "flagged" and decision.priority is None  # Self-Harm never flags here


def test_profiles_carry_the_ranking():
    parsed = policy.parse(BASE + "priority: {Alcohol: 1}\nproviders:\n  local: {min_confidence: 20}\n")
    assert parsed.for_provider("local").priorities.rank(["Drinking"]) == 1
    assert parsed.for_provider("local").version == parsed.version


def test_the_version_changes_only_with_a_written_section():
    versions = [policy.parse(BASE + extra).version for extra in ("", "priority: {Alcohol: 1}\n",
                                                                  "priority: {Alcohol: 2}\n")]
    assert len(set(versions)) == 3
    assert "priority" not in policy.to_dict(policy.parse(BASE))
    assert policy.to_dict(policy.parse(BASE + "priority: {Alcohol: 1, default: 9}\n"))["priority"] == {
        "Alcohol": 1, "default": 9}


@pytest.mark.parametrize("section, key, message", [
    ("3", "priority", "expected a mapping"),
    ("{}", "priority", "expected a mapping"),
    ("{Alcohol: 0}", "priority.Alcohol", "not a whole number from 1"),
    ("{Alcohol: 100}", "priority.Alcohol", "not a whole number from 1"),
    ("{Alcohol: 1.5}", "priority.Alcohol", "not a whole number"),
    ("{Alcohol: true}", "priority.Alcohol", "not a whole number"),
    ("{Alcohol: high}", "priority.Alcohol", "not a whole number"),
    ("{default: -1}", "priority.default", "not a whole number"),
    ("{Alcohool: 1}", "priority.Alcohool", "unknown moderation label"),
    ("{Alcohol: 1, alcohol: 2}", "priority.alcohol", "ranked twice"),
])
def test_bad_sections_name_the_key(section, key, message):
    with pytest.raises(InvalidPolicy) as info:
        policy.parse(BASE + f"priority: {section}\n", source="t.yaml")
    assert f"t.yaml: {key}" in str(info.value) and message in str(info.value)


@pytest.mark.parametrize("rank, name", [
    (1, "Self-Harm"), (2, "Hate Symbols / Violence"), (None, "other"), (42, "rank 42"),
])
def test_category_names(rank, name):
    assert priority.category(rank, priority.DEFAULT) == name
