"""The ``reasons:`` section of a thresholds file (issue 17.6): parsed into the policy, offered per fired category,
part of the version, and every bad section refused at load naming its key."""

from __future__ import annotations

import pytest

from moderation.domain import policy, reasons
from moderation.domain.errors import InvalidPolicy
from moderation.policy import versions
from tests.conftest import REPO

BASE = "min_confidence: 50\ndefault: {flag: 60, reject: null}\n"
SECTION = "reasons: {Explicit: [adult-nudity, sexual-activity], Graphic Violence: [gore], Alcohol: [promo]}\n"


def test_the_section_is_on_the_policy_and_its_profiles():
    parsed = policy.parse(BASE + SECTION + "providers:\n  local: {min_confidence: 20}\n")
    assert parsed.reasons.to_dict() == {"Explicit": ["adult-nudity", "sexual-activity"],
                                        "Graphic Violence": ["gore"], "Alcohol": ["promo"]}
    assert parsed.for_provider("local").reasons == parsed.reasons
    assert parsed.reasons.all() == ("adult-nudity", "sexual-activity", "gore", "promo")
    assert parsed.reasons.known("gore") and not parsed.reasons.known("Gore")


@pytest.mark.parametrize("fired, offered", [
    (["Exposed Female Nipple"], {"Explicit": ("adult-nudity", "sexual-activity")}),  # an L3 under Explicit
    (["Blood & Gore", "Explicit"], {"Graphic Violence": ("gore",), "Explicit": ("adult-nudity", "sexual-activity")}),
    (["Weapons"], {}),  # Violence has no codes; Graphic Violence is not its ancestor
    (["Drinking", "Alcohol Use"], {"Alcohol": ("promo",)}),  # one category, once
    (["a label of a newer model"], {}),
])
def test_the_codes_offered_are_those_of_the_categories_that_fired(fired, offered):
    assert policy.parse(BASE + SECTION).reasons.for_labels(fired) == offered


def test_keys_are_read_as_the_taxonomy_spells_them_case_insensitively():
    parsed = policy.parse(BASE + "reasons: {graphic violence: [gore], 'Drug & Tobacco': [drug-sale]}\n")
    assert parsed.reasons.to_dict() == {"Graphic Violence": ["gore"], "Drugs & Tobacco": ["drug-sale"]}


def test_no_section_no_codes_and_the_version_unchanged():
    plain = policy.parse(BASE)
    assert not plain.reasons and plain.reasons.all() == () and "reasons" not in policy.to_dict(plain)
    written = [policy.parse(BASE + extra).version for extra in ("", SECTION, SECTION.replace("promo", "ad"))]
    assert len(set(written)) == 3


def test_the_diff_names_the_categories_that_changed():
    old, new = policy.parse(BASE + SECTION), policy.parse(BASE + SECTION.replace("[gore]", "[gore, blood]"))
    assert versions.diff(old, new) == ["reasons.Graphic Violence: gore -> gore, blood"]
    assert reasons.diff(reasons.NONE, old.reasons)[0] == "reasons.Alcohol: - -> promo"


def test_the_shipped_file_has_codes_for_every_top_level_category():
    shipped = policy.load(REPO / "config" / "thresholds.yaml").reasons
    assert {"Explicit", "Violence", "Self-Harm", "Hate Symbols"} <= set(shipped.codes)
    assert all(reasons.is_slug(code) for code in shipped.all())


LONG = "a" * 65


@pytest.mark.parametrize("section, key, message", [
    ("3", "reasons", "expected a mapping of category"),
    ("{}", "reasons", "expected a mapping of category"),
    ("[adult-nudity]", "reasons", "expected a mapping of category"),
    ("{Explicitt: [adult-nudity]}", "reasons.Explicitt", "unknown category"),
    ("{Nudity: [adult-nudity]}", "reasons.Nudity", "unknown category"),  # a v6.1 name: exact v7 names only
    ("{default: [other]}", "reasons.default", "unknown category"),
    ("{1: [other]}", "reasons.1", "unknown category"),
    ("{Explicit: adult-nudity}", "reasons.Explicit", "expected a non-empty list"),
    ("{Explicit: []}", "reasons.Explicit", "expected a non-empty list"),
    ("{Explicit: null}", "reasons.Explicit", "expected a non-empty list"),
    ("{Explicit: [Adult-Nudity]}", "reasons.Explicit", "'Adult-Nudity' is not a reason code"),
    ("{Explicit: [adult nudity]}", "reasons.Explicit", "'adult nudity' is not a reason code"),
    ("{Explicit: [adult_nudity]}", "reasons.Explicit", "is not a reason code"),
    ("{Explicit: [-nudity]}", "reasons.Explicit", "is not a reason code"),
    ("{Explicit: [nudity-]}", "reasons.Explicit", "is not a reason code"),
    ("{Explicit: [adult--nudity]}", "reasons.Explicit", "is not a reason code"),
    ("{Explicit: ['']}", "reasons.Explicit", "is not a reason code"),
    ("{Explicit: [12]}", "reasons.Explicit", "12 is not a reason code"),
    ("{Explicit: [null]}", "reasons.Explicit", "None is not a reason code"),
    ("{Explicit: [[a]]}", "reasons.Explicit", "is not a reason code"),
    ("{Explicit: [nudité]}", "reasons.Explicit", "is not a reason code"),
    (f"{{Explicit: [{LONG}]}}", "reasons.Explicit", "1-64 characters"),
    ("{Explicit: [gore, gore]}", "reasons.Explicit", "'gore' is listed twice"),
    ("{Explicit: [a], explicit: [b]}", "reasons.explicit", "'Explicit' is listed twice"),
    ("{Explicit: [" + ", ".join(f"c{i}" for i in range(51)) + "]}", "reasons.Explicit", "at most 50"),
])
def test_bad_sections_name_the_key(section, key, message):
    with pytest.raises(InvalidPolicy) as info:
        policy.parse(BASE + f"reasons: {section}\n", source="t.yaml")
    assert f"t.yaml: {key}" in str(info.value) and message in str(info.value)


def test_a_code_of_64_characters_is_accepted():
    assert policy.parse(BASE + f"reasons: {{Explicit: [{'a' * 64}]}}\n").reasons.known("a" * 64)


def test_a_bad_section_is_reported_with_the_other_problems():
    with pytest.raises(InvalidPolicy) as info:
        policy.parse(BASE + "labels: {Alcohool: {flag: 50}}\nreasons: {Explicit: [Bad]}\n", source="t.yaml")
    assert len(info.value.problems) == 2
