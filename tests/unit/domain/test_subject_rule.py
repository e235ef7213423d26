"""The ``subjects:`` rule of a thresholds file: parsed into the policy, its errors naming the key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from moderation.domain import policy, subject_rule
from moderation.domain.errors import ConfigError

BASE = "min_confidence: 50\ndefault: {flag: 80, reject: null}\n"


def test_a_subjects_rule_is_parsed_into_the_policy_and_its_profiles():
    parsed = policy.parse(BASE + "subjects: {alert_after: {rejected: 3, within: 7d}}\n"
                          "providers:\n  local: {min_confidence: 20}\n")
    assert parsed.subjects == subject_rule.SubjectRule(3, "7d")
    assert parsed.subjects.window == timedelta(days=7) and parsed.subjects.text() == "rejected>=3 within 7d"
    assert parsed.for_provider("local").subjects == parsed.subjects
    assert policy.to_dict(parsed)["subjects"] == {"alert_after": {"rejected": 3, "within": "7d"}}


def test_without_a_subjects_section_there_is_no_rule_and_the_version_is_unchanged():
    assert policy.parse(BASE).subjects is None
    assert "subjects" not in policy.to_dict(policy.parse(BASE))
    # The rule is part of what the policy means: its version changes with it.
    versions = {policy.parse(BASE + extra).version for extra in (
        "", "subjects: {alert_after: {rejected: 3, within: 7d}}\n", "subjects: {alert_after: {rejected: 3, within: 8d}}\n")}
    assert len(versions) == 3


@pytest.mark.parametrize("within, span", [("7d", timedelta(days=7)), ("24h", timedelta(hours=24)),
                                          ("90m", timedelta(minutes=90))])
def test_durations(within, span):
    assert subject_rule.parse({"alert_after": {"rejected": 1, "within": within}}, "x").window == span


@pytest.mark.parametrize("body, key, message", [
    ("subjects: 3", "subjects", "expected a mapping"),
    ("subjects: {alert: {rejected: 3, within: 7d}}", "subjects", "unknown key 'alert'"),
    ("subjects: {alert_after: 3}", "subjects.alert_after", "expected a mapping"),
    ("subjects: {alert_after: {rejected: 3}}", "subjects.alert_after.within", "is required"),
    ("subjects: {alert_after: {within: 7d}}", "subjects.alert_after.rejected", "is required"),
    ("subjects: {alert_after: {rejected: 3, within: 7d, flagged: 2}}", "subjects.alert_after", "unknown key 'flagged'"),
    ("subjects: {alert_after: {rejected: 0, within: 7d}}", "subjects.alert_after.rejected", "from 1 to"),
    ("subjects: {alert_after: {rejected: 2.5, within: 7d}}", "subjects.alert_after.rejected", "whole number"),
    ("subjects: {alert_after: {rejected: true, within: 7d}}", "subjects.alert_after.rejected", "whole number"),
    ("subjects: {alert_after: {rejected: 3, within: 7}}", "subjects.alert_after.within", "not a duration"),
    ("subjects: {alert_after: {rejected: 3, within: 7w}}", "subjects.alert_after.within", "not a duration"),
    ("subjects: {alert_after: {rejected: 3, within: 0d}}", "subjects.alert_after.within", "not a duration"),
    ("subjects: {alert_after: {rejected: 3, within: 99999d}}", "subjects.alert_after.within", "longer than"),
])
def test_a_bad_rule_is_refused_naming_the_key(body, key, message):
    with pytest.raises(ConfigError) as info:
        policy.parse(BASE + body + "\n", source="t.yaml")
    assert f"t.yaml: {key}" in str(info.value) and message in str(info.value)


def test_subjects_is_not_a_provider_profile_key():
    with pytest.raises(ConfigError, match=r"providers.local: unknown key 'subjects'"):
        policy.parse(BASE + "providers:\n  local: {subjects: {alert_after: {rejected: 3, within: 7d}}}\n")
