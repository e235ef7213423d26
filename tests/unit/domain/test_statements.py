"""Statements of reasons (issue 18.1): the ``transparency:`` section, the mapping of each taxonomy category, the
automation and source of a decision, ``decision_facts``, and every statement built passing the Transparency
Database's validation."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from moderation.domain import dsa_schema as tdb, policy, statements, taxonomy, transparency_config as tc
from moderation.domain.errors import InvalidPolicy
from moderation.domain.statements import Detection, StatementFacts, build_statement
from tests.conftest import REPO
from tests.fakes.transparency_rules import is_url, validate_statement

BASE = "min_confidence: 50\ndefault: {flag: 60, reject: 90}\n"
TC = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"


def facts(**changes) -> StatementFacts:
    base = dict(tenant="acme", item_id="3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a6b", media_type="image",
                content_date=date(2026, 11, 29), application_date=date(2026, 11, 30),
                detections=(Detection("Graphic Violence", 97.3),), policy_version="560b6f44da96")
    return StatementFacts(**{**base, **changes})


def valid(body: dict) -> dict:
    """``body``, once the fake database's rules (tests/fakes/transparency_rules) accept it, alone and in a batch."""
    assert validate_statement(body) == {}, body
    assert validate_statement(body, multi=True) == {}, body
    return body


# --- the mapping of each taxonomy category ----------------------------------


@pytest.mark.parametrize("label, category, keywords", [
    ("Explicit", TC, ["KEYWORD_ADULT_SEXUAL_MATERIAL"]),
    ("Non-Explicit Nudity of Intimate parts and Kissing", TC, ["KEYWORD_NUDITY"]),
    ("Swimwear or Underwear", TC, []),
    ("Violence", "STATEMENT_CATEGORY_VIOLENCE", []),
    ("Visually Disturbing", TC, []),
    ("Drugs & Tobacco", "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", ["KEYWORD_PROHIBITED_PRODUCTS"]),
    ("Alcohol", TC, ["KEYWORD_AGE_SPECIFIC_RESTRICTIONS"]),
    ("Rude Gestures", TC, []),
    ("Gambling", TC, ["KEYWORD_AGE_SPECIFIC_RESTRICTIONS"]),
    ("Hate Symbols", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", ["KEYWORD_HATE_SPEECH"]),
    # below the top level: the most specific mapped ancestor applies
    ("Exposed Female Nipple", TC, ["KEYWORD_ADULT_SEXUAL_MATERIAL"]),
    ("Blood & Gore", "STATEMENT_CATEGORY_VIOLENCE", []),
    ("Self-Harm", "STATEMENT_CATEGORY_SELF_HARM", ["KEYWORD_SELF_MUTILATION"]),
    ("Nazi Party", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", ["KEYWORD_HATE_SPEECH"]),
    ("Graphic Violence Or Gore", "STATEMENT_CATEGORY_VIOLENCE", []),  # a v6.1 name, read as v7
    ("a label of a newer model", TC, []),
])
def test_each_category_has_a_dsa_category_and_keywords(label, category, keywords):
    body = valid(build_statement(facts(detections=(Detection(label, 91.0),)), tc.DEFAULT))
    assert (body["category"], body["category_specification"]) == (category, keywords)


def test_every_top_level_category_has_a_built_in_mapping_and_its_keywords_are_of_its_group():
    assert set(taxonomy.TREE) <= set(tc.BUILT_IN)
    for name, mapping in tc.BUILT_IN.items():
        assert set(mapping.keywords) <= set(tdb.KEYWORD_GROUPS[mapping.category]), name


def test_several_categories_give_the_first_as_category_and_the_others_as_additions():
    body = valid(build_statement(facts(detections=(Detection("Hate Symbols", 99.0), Detection("Blood & Gore", 80.0),
                                                   Detection("Nazi Party", 70.0))), tc.DEFAULT))
    assert body["category"] == "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
    assert body["category_addition"] == ["STATEMENT_CATEGORY_VIOLENCE"]
    assert body["category_specification"] == ["KEYWORD_HATE_SPEECH"]


# --- automation and source --------------------------------------------------


@pytest.mark.parametrize("machine, person, notice, expected", [
    (True, False, False, ("Yes", "AUTOMATED_DECISION_FULLY")),  # a provider or bank rejected it, nobody looked
    (True, False, True, ("Yes", "AUTOMATED_DECISION_FULLY")),
    (True, True, False, ("Yes", "AUTOMATED_DECISION_PARTIALLY")),  # a reviewer confirmed a machine's flag
    (True, True, True, ("Yes", "AUTOMATED_DECISION_PARTIALLY")),  # ... that a notice also pointed at
    (False, True, True, ("No", "AUTOMATED_DECISION_NOT_AUTOMATED")),  # a reviewer on a notice, no model involved
    (False, True, False, ("No", "AUTOMATED_DECISION_NOT_AUTOMATED")),  # a reviewer's (or admin's) own initiative
])
def test_automation_is_derived_from_who_decided(machine, person, notice, expected):
    assert statements.automation(machine, person, notice) == expected
    source = "notice" if notice else "voluntary"
    body = valid(build_statement(facts(decided_by_provider_or_bank=machine, reviewed_by_person=person,
                                       source=source), tc.DEFAULT))
    assert (body["automated_detection"], body["automated_decision"]) == expected
    assert expected[0] in tdb.AUTOMATED_DETECTIONS and expected[1] in tdb.AUTOMATED_DECISIONS


@pytest.mark.parametrize("notice", [False, True])
def test_a_decision_by_nobody_is_refused(notice):
    with pytest.raises(ValueError, match="neither"):
        statements.automation(False, False, notice)


@pytest.mark.parametrize("source, source_type, sentence", [
    ("voluntary", "SOURCE_VOLUNTARY", None),
    ("notice", "SOURCE_ARTICLE_16", "notice under Article 16"),
    ("article_16", "SOURCE_ARTICLE_16", "notice under Article 16"),
    ("trusted_flagger", "SOURCE_TRUSTED_FLAGGER", "trusted flagger"),
    ("other_notification", "SOURCE_TYPE_OTHER_NOTIFICATION", "other than an Article 16 notice"),
])
def test_each_source_type(source, source_type, sentence):
    body = valid(build_statement(facts(source=source, reviewed_by_person=True), tc.DEFAULT))
    assert body["source_type"] == source_type
    assert "source_identity" not in body  # the notifier's identity is personal data: never sent
    assert sentence is None or sentence in body["decision_facts"]


def test_an_unknown_source_is_refused():
    with pytest.raises(ValueError, match="source"):
        build_statement(facts(source="email"), tc.DEFAULT)


# --- the transparency: section ----------------------------------------------


SECTION = """transparency:
  categories:
    Explicit Nudity: {category: STATEMENT_CATEGORY_OTHER_VIOLATION_TC, keywords: [KEYWORD_NUDITY],
                      clause: "Community Guidelines 3.1", url: "https://example.com/rules#nudity"}
    weapons: STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY
  restriction: [disabled, age_restricted]
  ground:
    incompatible_content: {clause: "Terms of Service 4", url: "https://example.com/terms", illegal: false}
  territorial_scope: [NO, DE, AT]
"""


def test_the_section_is_read_onto_the_policy_and_its_profiles():
    parsed = policy.parse(BASE + SECTION + "providers:\n  local: {min_confidence: 20}\n")
    mapping = parsed.transparency
    assert parsed.for_provider("local").transparency == mapping
    assert mapping.mapping_for("Exposed Male Genitalia").keywords == ("KEYWORD_NUDITY",)
    assert mapping.mapping_for("Sex Toys").keywords == ("KEYWORD_ADULT_SEXUAL_MATERIAL",)  # built-in Explicit
    assert mapping.mapping_for("Weapons").category == "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
    body = valid(build_statement(facts(detections=(Detection("Exposed Male Genitalia", 99.0),)), mapping))
    assert body["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED",
                                           "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"]
    assert body["incompatible_content_ground"] == "Community Guidelines 3.1"  # the category's clause wins
    assert body["decision_ground_reference_url"] == "https://example.com/rules#nudity"
    assert body["incompatible_content_illegal"] == "No"
    assert body["territorial_scope"] == ["AT", "DE", "NO"]
    other = valid(build_statement(facts(detections=(Detection("Weapons", 99.0),)), mapping))
    assert other["incompatible_content_ground"] == "Terms of Service 4"
    assert other["decision_ground_reference_url"] == "https://example.com/terms"


def test_no_section_keeps_the_version_and_means_the_defaults():
    assert policy.load(REPO / "config" / "thresholds.yaml").version == "560b6f44da96"
    parsed = policy.parse(BASE)
    assert parsed.transparency is tc.DEFAULT and "transparency" not in policy.to_dict(parsed)
    body = valid(build_statement(facts(), parsed.transparency))
    assert body["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert body["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert body["incompatible_content_ground"] == "Terms and conditions"
    assert "decision_ground_reference_url" not in body
    assert body["territorial_scope"] == list(tdb.EEA_COUNTRY_CODES) and len(body["territorial_scope"]) == 30


def test_an_empty_section_is_no_section():
    assert policy.parse(BASE + "transparency: {}\n").version == policy.parse(BASE).version


def test_the_section_is_part_of_the_version_and_of_the_written_policy():
    with_section = policy.parse(BASE + SECTION)
    assert with_section.version != policy.parse(BASE).version
    assert policy.to_dict(with_section)["transparency"]["restriction"] == [
        "DECISION_VISIBILITY_CONTENT_DISABLED", "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"]
    layout = SECTION.replace("[disabled, age_restricted]", "\n    - disabled\n    - age_restricted")
    assert policy.parse(BASE + "# a comment\n" + layout).version == with_section.version


def test_a_change_of_the_section_is_described_line_by_line():
    lines = tc.diff(policy.parse(BASE).transparency, policy.parse(BASE + SECTION).transparency)
    assert [line.split(":")[0] for line in lines] == [
        "transparency.categories.Explicit Nudity", "transparency.categories.Weapons", "transparency.ground",
        "transparency.restriction", "transparency.territorial_scope"]
    assert tc.diff(tc.DEFAULT, policy.parse(BASE + "transparency: {restriction: removed}").transparency) == []


def test_an_illegal_content_ground_fills_its_conditional_fields():
    mapping = policy.parse(BASE + """transparency:
  ground:
    illegal_content: {legal_ground: "StGB 86a", explanation: "Use of symbols of unconstitutional organisations.",
                      url: "https://www.gesetze-im-internet.de/stgb/__86a.html"}
""").transparency
    body = valid(build_statement(facts(detections=(Detection("Nazi Party", 98.0),)), mapping))
    assert body["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert body["illegal_content_legal_ground"] == "StGB 86a"
    assert body["illegal_content_explanation"].startswith("Use of symbols")
    assert not any(k.startswith("incompatible_content") for k in body)


@pytest.mark.parametrize("section, message", [
    ("transparency: [x]", "t.yaml: transparency: expected a mapping"),
    ("transparency: {mapping: {}}", "t.yaml: transparency: unknown key 'mapping'"),
    ("transparency: {categories: []}", "t.yaml: transparency.categories: expected a mapping of taxonomy label"),
    ("transparency: {categories: {Violense: STATEMENT_CATEGORY_VIOLENCE}}",
     "t.yaml: transparency.categories.Violense: unknown moderation label 'Violense'"),
    ("transparency: {categories: {Explicit: STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT}}",
     "t.yaml: transparency.categories.Explicit.category: 'STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT' "
     "is not a DSA category"),
    ("transparency: {categories: {Violence: {category: STATEMENT_CATEGORY_VIOLENSE}}}",
     "did you mean STATEMENT_CATEGORY_VIOLENCE?"),
    ("transparency: {categories: {Violence: {keywords: [KEYWORD_OTHER]}}}",
     "t.yaml: transparency.categories.Violence.category: None is not a DSA category"),
    ("transparency: {categories: {Violence: {category: STATEMENT_CATEGORY_VIOLENCE, keywords: KEYWORD_OTHER}}}",
     "t.yaml: transparency.categories.Violence.keywords: expected a list"),
    ("transparency: {categories: {Violence: {category: STATEMENT_CATEGORY_VIOLENCE, keywords: [KEYWORD_GORE]}}}",
     "t.yaml: transparency.categories.Violence.keywords: 'KEYWORD_GORE' is not a DSA keyword"),
    ("transparency: {categories: {Violence: {category: STATEMENT_CATEGORY_VIOLENCE, severity: 3}}}",
     "t.yaml: transparency.categories.Violence: unknown key 'severity'"),
    ("transparency: {categories: {Violence: {category: STATEMENT_CATEGORY_VIOLENCE, url: 'ftp://x/terms'}}}",
     "t.yaml: transparency.categories.Violence.url: 'ftp://x/terms' is not an http(s) URL"),
    ("transparency: {categories: {Violence: STATEMENT_CATEGORY_VIOLENCE, violence: STATEMENT_CATEGORY_VIOLENCE}}",
     "t.yaml: transparency.categories.violence: 'Violence' is mapped twice"),
    ("transparency: {restriction: deleted}", "t.yaml: transparency.restriction: 'deleted' is not a restriction"),
    ("transparency: {restriction: other}", "t.yaml: transparency.restriction: 'other' is not a restriction"),
    ("transparency: {restriction: []}", "t.yaml: transparency.restriction: expected one of removed"),
    ("transparency: {ground: terms}", "t.yaml: transparency.ground: expected exactly one of incompatible_content"),
    ("transparency: {ground: {incompatible_content: {clause: x}, illegal_content: {}}}",
     "t.yaml: transparency.ground: expected exactly one of"),
    ("transparency: {ground: {incompatible_content: {clause: ''}}}",
     "t.yaml: transparency.ground.incompatible_content.clause: expected non-empty text"),
    (f"transparency: {{ground: {{incompatible_content: {{clause: {'x' * 501}}}}}}}",
     "t.yaml: transparency.ground.incompatible_content.clause: 501 characters, at most 500"),
    ("transparency: {ground: {incompatible_content: {illegal: maybe}}}",
     "t.yaml: transparency.ground.incompatible_content.illegal: 'maybe' is not true or false"),
    ("transparency: {ground: {incompatible_content: {legal_ground: x}}}",
     "t.yaml: transparency.ground.incompatible_content: unknown key 'legal_ground'"),
    ("transparency: {ground: {illegal_content: {legal_ground: StGB 86a}}}",
     "t.yaml: transparency.ground.illegal_content.explanation: required for illegal content"),
    ("transparency: {ground: {illegal_content: {explanation: why}}}",
     "t.yaml: transparency.ground.illegal_content.legal_ground: required for illegal content"),
    ("transparency: {territorial_scope: []}", "t.yaml: transparency.territorial_scope: expected EEA or a non-empty"),
    ("transparency: {territorial_scope: [DE, EL]}",
     "t.yaml: transparency.territorial_scope: 'EL' is not an EEA country code (ISO 3166, Greece is GR)"),
    ("transparency: {territorial_scope: [DE, CH]}", "t.yaml: transparency.territorial_scope: 'CH' is not an EEA"),
])
def test_each_bad_section_is_refused_at_load_naming_its_key(section, message):
    with pytest.raises(InvalidPolicy) as raised:
        policy.parse(BASE + section + "\n", source="t.yaml")
    assert any(message in problem for problem in raised.value.problems), raised.value.problems


@pytest.mark.parametrize("url, accepted", [
    ("https://example.com/terms", True), ("http://example.com:8080/t?v=2&lang=de#s-4.1", True),
    ("https://eur-lex.europa.eu/eli/reg/2022/2065", True), ("https://example.com/a%20b", True),
    ("ftp://example.com/terms", False), ("https://example.com/a b", False), ("https://example.com/a|b", False),
    ("https://example.com/%zz", False), ("example.com/terms", False), ("https://", False),
    ("https://example.com/" + "x" * 481, False),  # 501 characters
])
def test_a_reference_url_is_one_the_database_accepts(url, accepted):
    section = f"transparency: {{ground: {{incompatible_content: {{url: '{url}'}}}}}}\n"
    if accepted:
        assert policy.parse(BASE + section).transparency.ground.url == url and is_url(url)
    else:
        with pytest.raises(InvalidPolicy, match="transparency.ground.incompatible_content.url"):
            policy.parse(BASE + section)


def test_eea_is_every_eea_country_and_a_v61_name_is_read_as_v7():
    mapping = policy.parse(BASE + "transparency: {territorial_scope: EEA, categories: {Nudity: "
                                  "STATEMENT_CATEGORY_PROTECTION_OF_MINORS}}\n").transparency
    assert mapping.territorial_scope == tdb.EEA_COUNTRY_CODES
    assert mapping.mapping_for("Explicit Nudity").category == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"


# --- decision_facts -----------------------------------------------------------


def test_decision_facts_say_what_was_found_where_and_under_which_policy():
    text = build_statement(facts(media_type="video", reviewed_by_person=True, reason_code="gore",
                                 reviewer_reason="Graphic injury shown in close-up.",
                                 detections=(Detection("Graphic Violence", 97.34, frame=12, timestamp_ms=4200),
                                             Detection("Weapons", 88.0, timestamp_ms=3_725_000))),
                           tc.DEFAULT)["decision_facts"]
    assert text == ("Detected automatically: Graphic Violence 97.3% (frame 12 at 0:04); Weapons 88.0% (at 1:02:05). "
                    "A moderator reviewed the automated finding and confirmed the restriction. "
                    "Policy version 560b6f44da96. "
                    "Reviewer's reason (reason code: gore): Graphic injury shown in close-up.")


def test_a_reviewer_decision_on_a_notice_names_what_the_reviewer_found():
    text = build_statement(facts(decided_by_provider_or_bank=False, reviewed_by_person=True, source="trusted_flagger",
                                 detections=(Detection("Hate Symbols"),)), tc.DEFAULT)["decision_facts"]
    assert "Detected automatically" not in text
    assert "A trusted flagger reported the content. A moderator reviewed the content" in text
    assert "The moderator found: Hate Symbols." in text


@pytest.mark.parametrize("reason", [
    "x" * 6000,
    "word " * 1500,
    "a\u00e9\u4e2d\U0001f600 " * 2000,
])
def test_decision_facts_stay_within_5000_characters_ending_in_an_ellipsis(reason):
    body = valid(build_statement(facts(reviewed_by_person=True, reviewer_reason=reason), tc.DEFAULT))
    text = body["decision_facts"]
    assert len(text) <= tdb.DECISION_FACTS_MAX and text.endswith(statements.ELLIPSIS)
    assert "Policy version 560b6f44da96." in text  # what matters comes before the free text


def test_many_detections_still_fit():
    many = tuple(Detection(name, 99.0, frame=i, timestamp_ms=i * 1000) for i, name in enumerate(taxonomy.LABELS))
    body = valid(build_statement(facts(media_type="video", detections=many * 3 + (Detection("y" * 9000, 51.0),),
                                       reviewed_by_person=True, reviewer_reason="Confirmed."), tc.DEFAULT))
    text = body["decision_facts"]
    assert len(text) < 2000 and f"; and {len(many) * 3 + 1 - statements.LISTED_MAX} more." in text
    assert text.endswith("Policy version 560b6f44da96. Reviewer's reason: Confirmed.")


@pytest.mark.parametrize("leak", [
    "s3://acme-uploads/tenant-2/item.jpg", "https://cdn.example.com/u/1.png?sig=abc", "file:///var/lib/modq/1.mp4",
    "/var/lib/modq/media/1.mp4", "./media/1.mp4", "C:\\uploads\\1.png", "www.example.com/x", "jane.doe@example.com",
    "gs://bucket/object", "data:image/png;base64,iVBORw0KGgo=",
])
def test_decision_facts_hold_no_uri_path_or_email(leak):
    body = valid(build_statement(facts(reviewed_by_person=True, reviewer_reason=f"Same as {leak} earlier.",
                                       detections=(Detection(f"label {leak}", 90.0),)), tc.DEFAULT))
    for text in (body["decision_facts"], body["incompatible_content_explanation"]):
        assert leak not in text and "://" not in text and statements.REMOVED in text
    assert "Same as [removed]" in body["decision_facts"]


def test_ordinary_text_is_not_scrubbed():
    text = "Nudity and/or gore at 0:04, 50/50 call; see rule 3.1 (v2)."
    assert statements.scrub(text) == text


# --- the other fields -----------------------------------------------------------


@pytest.mark.parametrize("media_type, content_type", [
    ("image", ["CONTENT_TYPE_IMAGE"]), ("video", ["CONTENT_TYPE_VIDEO"]), ("image/jpeg", ["CONTENT_TYPE_IMAGE"]),
    ("video/mp4", ["CONTENT_TYPE_VIDEO"]), ("audio/ogg", ["CONTENT_TYPE_AUDIO"]),
    ("model/gltf", ["CONTENT_TYPE_OTHER"]),
])
def test_content_type_follows_the_media_type(media_type, content_type):
    body = valid(build_statement(facts(media_type=media_type), tc.DEFAULT))
    assert body["content_type"] == content_type
    assert ("content_type_other" in body) == (content_type == ["CONTENT_TYPE_OTHER"])


@pytest.mark.parametrize("tenant, item_id, ref", [
    ("acme", "3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a6b", "1"),
    ("a_b-c", "post/17?x=1", "r42"),  # not a modq id: hashed
    ("t" * 63, "y" * 1000, "z" * 64),
])
def test_the_puid_is_within_the_allowed_characters_and_length(tenant, item_id, ref):
    body = valid(build_statement(facts(tenant=tenant, item_id=item_id, decision_ref=ref), tc.DEFAULT))
    assert re.fullmatch(r"[a-zA-Z0-9\-_]{1,500}", body["puid"]) and body["puid"].startswith(tenant + "_")


def test_puids_differ_per_tenant_item_and_decision():
    seen = {statements.puid(t, i, r) for t in ("a", "a_b") for i in ("b", "x") for r in ("1", "2")}
    assert len(seen) == 8
    with pytest.raises(ValueError, match="decision_ref"):
        statements.puid("acme", "x", "a_b")


def test_dates_are_days_in_utc_within_the_allowed_range():
    late = datetime(2026, 11, 30, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    body = valid(build_statement(facts(content_date=late, application_date=late), tc.DEFAULT))
    assert body["content_date"] == body["application_date"] == "2026-12-01"
    with pytest.raises(ValueError, match="application_date"):
        build_statement(facts(application_date=date(2019, 12, 31)), tc.DEFAULT)


@pytest.mark.parametrize("change, field", [
    ({"puid": "acme/1"}, "puid"), ({"decision_facts": "x" * 5001}, "decision_facts"),
    ({"category": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"}, "category"),
    ({"incompatible_content_ground": None}, "incompatible_content_ground"), ({"territorial_scope": ["EL"]},
                                                                             "territorial_scope"),
])
def test_the_databases_validation_is_no_formality(change, field):
    body = {**build_statement(facts(), tc.DEFAULT), **change}
    assert field in validate_statement(body)


@pytest.mark.parametrize("machine, person, source, detections, bank", [
    (True, False, "voluntary", (Detection("Explicit", 99.9),), False),
    (True, False, "voluntary", (), True),  # a hash bank match with no label
    (True, True, "notice", (Detection("Self-Harm", 80.0, frame=3, timestamp_ms=1500),), False),
    (False, True, "trusted_flagger", (), False),
    (False, True, "notice", (Detection("Gambling"),), False),
    (True, True, "other_notification", tuple(Detection(n, 75.0) for n in taxonomy.TREE), False),
])
def test_every_statement_built_passes_the_databases_validation(machine, person, source, detections, bank):
    for section in ("", SECTION):
        mapping = policy.parse(BASE + section).transparency
        valid(build_statement(facts(decided_by_provider_or_bank=machine, reviewed_by_person=person, source=source,
                                    detections=detections, bank_match=bank), mapping))
