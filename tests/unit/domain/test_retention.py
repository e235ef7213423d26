"""The ``retention:`` section of a thresholds file (issue 19.1): defaults, which rule an item falls under,
the policy version, and every bad value refused naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from config.settings import DEFAULT_THRESHOLDS
from moderation.domain import policy, retention
from moderation.domain.errors import ConfigError

BASE = Path(DEFAULT_THRESHOLDS).read_text()


def test_without_the_section_the_defaults_and_the_same_version():
    plain = policy.parse(BASE)
    assert plain.retention == retention.DEFAULT and not plain.retention.written
    assert plain.version == "560b6f44da96"  # the shipped file's version from before the section existed
    assert retention.canonical(plain.retention) == {}


def test_written_it_is_read_and_changes_the_version():
    read = policy.parse(BASE + "\nretention:\n  approved_days: 7\n  pay_once: drop\n")
    assert (read.retention.approved_days, read.retention.reviewed_days, read.retention.pay_once) == (7, 180, "drop")
    assert read.version != policy.parse(BASE).version
    assert retention.diff(retention.DEFAULT, read.retention) == ["retention.approved_days: 30 -> 7",
                                                                 "retention.pay_once: keep -> drop"]


@pytest.mark.parametrize("status, reviewed, days", [
    ("approved", False, 30), ("flagged", False, 180), ("rejected", False, 180), ("failed", False, 180),
    ("approved", True, 90), ("rejected", True, 90)])
def test_which_rule_an_item_falls_under(status, reviewed, days):
    assert retention.Retention(reviewed_days=90).days_for(status, reviewed) == days


@pytest.mark.parametrize("section, key", [
    ("[30]", "retention"),
    ("{approved: 30}", "retention.approved"),
    ("{approved_days: 0}", "retention.approved_days"),
    ("{failed_days: 3661}", "retention.failed_days"),
    ("{reviewed_days: true}", "retention.reviewed_days"),
    ("{flagged_rejected_days: '30'}", "retention.flagged_rejected_days"),
    ("{pay_once: forget}", "retention.pay_once"),
])
def test_a_bad_section_is_refused_naming_the_key(section, key):
    with pytest.raises(ConfigError) as refused:
        retention.parse(yaml.safe_load(section), "retention")
    assert str(refused.value).startswith(key)
