"""The ``transparency.trusted_flaggers`` list (issue 18.4): read at load, matched by name, part of the policy
version only when present. The rest of the section is tested with the statements (test_statements.py)."""

from __future__ import annotations

import pytest

from moderation.domain import policy, transparency_config as tc
from moderation.domain.errors import InvalidPolicy
from tests.conftest import REPO

BASE = "min_confidence: 50\ndefault: {flag: 60, reject: 90}\n"
FLAGGERS = """transparency:
  trusted_flaggers:
    - Internet Watch Foundation
    - {name: "Jugendschutz.net", designated_by: "Bundesnetzagentur"}
"""


def test_names_and_entries_are_read_and_matched_ignoring_case_and_spacing():
    mapping = policy.parse(BASE + FLAGGERS).transparency
    assert mapping.trusted_flaggers == ("Internet Watch Foundation", "Jugendschutz.net")
    assert mapping.trusted_flagger("  internet   watch FOUNDATION ") == "Internet Watch Foundation"
    assert mapping.trusted_flagger("jugendschutz.net") == "Jugendschutz.net"
    assert mapping.trusted_flagger("Internet Watch") is None
    assert mapping.trusted_flagger(None) is None and mapping.trusted_flagger("") is None


def test_no_list_means_no_trusted_flagger_and_keeps_the_version():
    assert policy.load(REPO / "config" / "thresholds.yaml").version == "560b6f44da96"
    assert policy.parse(BASE).transparency.trusted_flaggers == ()
    assert policy.parse(BASE).transparency.trusted_flagger("Internet Watch Foundation") is None
    assert policy.parse(BASE + "transparency: {trusted_flaggers: []}\n").version == policy.parse(BASE).version


def test_the_list_is_part_of_the_version_and_the_written_policy_whatever_its_spelling():
    with_list = policy.parse(BASE + FLAGGERS)
    assert with_list.version != policy.parse(BASE).version
    assert policy.to_dict(with_list)["transparency"]["trusted_flaggers"] == [
        {"name": "Internet Watch Foundation"}, {"name": "Jugendschutz.net", "designated_by": "Bundesnetzagentur"}]
    as_entries = FLAGGERS.replace("- Internet Watch Foundation", "- {name: Internet Watch Foundation}")
    assert policy.parse(BASE + as_entries).version == with_list.version
    other = FLAGGERS.replace("Internet Watch Foundation", "INHOPE")
    assert policy.parse(BASE + other).version != with_list.version


def test_a_change_of_the_list_is_described():
    before, after = policy.parse(BASE).transparency, policy.parse(BASE + FLAGGERS).transparency
    assert tc.diff(before, after) == [
        "transparency.trusted_flaggers: [] -> ['Internet Watch Foundation', 'Jugendschutz.net']"]


@pytest.mark.parametrize("section, message", [
    ("transparency: {trusted_flaggers: Internet Watch Foundation}",
     "t.yaml: transparency.trusted_flaggers: expected a list of names"),
    ("transparency: {trusted_flaggers: [42]}", "t.yaml: transparency.trusted_flaggers[0]: expected a name"),
    ("transparency: {trusted_flaggers: ['']}", "t.yaml: transparency.trusted_flaggers[0].name: expected non-empty"),
    ("transparency: {trusted_flaggers: [{designated_by: BNetzA}]}",
     "t.yaml: transparency.trusted_flaggers[0].name: expected non-empty text"),
    ("transparency: {trusted_flaggers: [{name: IWF, email: a@b.org}]}",
     "t.yaml: transparency.trusted_flaggers[0]: unknown key 'email'"),
    ("transparency: {trusted_flaggers: [IWF, ' iwf ']}", "t.yaml: transparency.trusted_flaggers[1].name: 'iwf' is "
                                                         "listed twice"),
    (f"transparency: {{trusted_flaggers: [{'x' * 256}]}}",
     "t.yaml: transparency.trusted_flaggers[0].name: 256 characters, at most 255"),
    ("transparency: {trusted_flagger: [IWF]}", "t.yaml: transparency: unknown key 'trusted_flagger'"),
])
def test_a_bad_list_is_refused_at_load_naming_its_key(section, message):
    with pytest.raises(InvalidPolicy) as raised:
        policy.parse(BASE + section + "\n", source="t.yaml")
    assert any(message in problem for problem in raised.value.problems), raised.value.problems
