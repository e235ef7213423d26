"""The fake DSA Transparency Database (issue 18): its rules (tests/fakes/transparency_rules.py, copied from the real
StatementStoreRequest) and its HTTP behaviour (tests/fakes/transparency_db.py), so modq's client is tested against
what the Commission's server really answers."""

from __future__ import annotations

import copy

import httpx
import pytest

from tests.fakes import transparency_rules as rules
from tests.fakes.transparency_db import (
    PUID_NOT_UNIQUE_MULTIPLE,
    PUID_NOT_UNIQUE_SINGLE,
    RATE_LIMIT_BODY,
    FakeTransparencyDatabase,
)
from tests.fakes.transparency_rules import summarize, validate_statement, validate_statement_full

TOKEN = "secret-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}

INCOMPATIBLE = {
    "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
    "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "incompatible_content_ground": "Terms of service, section 4.2 (adult content)",
    "incompatible_content_explanation": "The image shows explicit nudity.",
    "content_type": ["CONTENT_TYPE_IMAGE"],
    "category": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "content_date": "2026-11-01",
    "application_date": "2026-11-02",
    "decision_facts": "Automated classifier score 0.98 for explicit nudity; removed.",
    "source_type": "SOURCE_VOLUNTARY",
    "automated_detection": "Yes",
    "automated_decision": "AUTOMATED_DECISION_FULLY",
    "puid": "modq-item-0001",
}
ILLEGAL = {
    **{k: v for k, v in INCOMPATIBLE.items() if not k.startswith("incompatible_")},
    "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
    "illegal_content_legal_ground": "Directive 2011/93/EU",
    "illegal_content_explanation": "Depicts a minor.",
}
# The example of the real API documentation (resources/markdown/api-documentation.md).
DOC_EXAMPLE = {
    "decision_visibility": ["DECISION_VISIBILITY_CONTENT_DISABLED"],
    "decision_monetary": "DECISION_MONETARY_TERMINATION",
    "end_date_monetary_restriction": "2023-08-08",
    "decision_provision": "DECISION_PROVISION_TOTAL_SUSPENSION",
    "decision_account": "DECISION_ACCOUNT_SUSPENDED",
    "account_type": "ACCOUNT_TYPE_BUSINESS",
    "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "decision_ground_reference_url": "https://www.anurl.com",
    "content_type": ["CONTENT_TYPE_VIDEO", "CONTENT_TYPE_AUDIO", "CONTENT_TYPE_SYNTHETIC_MEDIA"],
    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "illegal_content_legal_ground": "illegal content legal grounds",
    "illegal_content_explanation": "illegal content explanation",
    "incompatible_content_ground": "incompatible content grounds",
    "incompatible_content_explanation": "incompatible content explanation",
    "incompatible_content_illegal": "Yes",
    "territorial_scope": ["PT", "ES", "DE"],
    "content_language": "EN",
    "content_date": "2023-08-08",
    "content_id": {"EAN-13": "0123456789123"},
    "application_date": "2023-08-08",
    "decision_facts": "facts about the decision",
    "source_type": "SOURCE_TRUSTED_FLAGGER",
    "automated_detection": "No",
    "automated_decision": "AUTOMATED_DECISION_PARTIALLY",
    "puid": "TK421",
}


def make(base: dict = INCOMPATIBLE, drop: tuple[str, ...] = (), **changes) -> dict:
    body = copy.deepcopy(base)
    for name in drop:
        body.pop(name, None)
    body.update(changes)
    return body


def required(field: str) -> str:
    return f"The {rules.displayable(field)} field is required."


def invalid(field: str) -> str:
    return f"The selected {rules.displayable(field)} is invalid."


# ---------------------------------------------------------------- the copied rules

def test_enumerations_come_from_the_real_code():
    assert rules.SOURCE_COMMIT == "69e80a0bc8eb3cbfbe8246e898194c3bdf490a4b"
    assert "DECISION_VISIBILITY_OTHER" in rules.DECISION_VISIBILITIES
    assert rules.AUTOMATED_DETECTIONS == ["Yes", "No"]
    assert rules.INCOMPATIBLE_CONTENT_ILLEGALS == ["Yes", "No"]
    assert len(rules.STATEMENT_CATEGORIES) == 16 and len(rules.KEYWORDS) == 69 and len(rules.CONTENT_TYPES) == 8
    assert len(rules.EUROPEAN_COUNTRY_CODES) == 30 and "IS" in rules.EUROPEAN_COUNTRY_CODES
    assert rules.ALL_LANGUAGES["EN"] == "English"


VALID = {
    "incompatible content": INCOMPATIBLE,
    "illegal content": ILLEGAL,
    "the documentation's example": DOC_EXAMPLE,
    "monetary only": make(drop=("decision_visibility",), decision_monetary="DECISION_MONETARY_SUSPENSION"),
    "provision only": make(drop=("decision_visibility",), decision_provision="DECISION_PROVISION_TOTAL_TERMINATION"),
    "account only": make(drop=("decision_visibility",), decision_account="DECISION_ACCOUNT_TERMINATED"),
    "visibility null, account set": make(decision_visibility=None, decision_account="DECISION_ACCOUNT_SUSPENDED"),
    "visibility other with its text": make(decision_visibility=["DECISION_VISIBILITY_OTHER"],
                                           decision_visibility_other="shadow banned"),
    "monetary other with its text": make(decision_monetary="DECISION_MONETARY_OTHER", decision_monetary_other="x"),
    "content type other with its text": make(content_type=["CONTENT_TYPE_OTHER", "CONTENT_TYPE_TEXT"],
                                             content_type_other="a livestream"),
    "the string 'null' in a nullable enumeration": make(decision_monetary="null", account_type="null"),
    "nullable enumerations null": make(decision_monetary=None, decision_provision=None, decision_account=None,
                                       account_type=None, content_language=None, territorial_scope=None,
                                       category_specification=None, content_id=None, content_id_ean=None,
                                       decision_ground_reference_url=None, end_date_account_restriction=None),
    "all optional lists": make(territorial_scope=list(rules.EUROPEAN_COUNTRY_CODES),
                               category_addition=["STATEMENT_CATEGORY_SCAMS_AND_FRAUD"],
                               category_specification=["KEYWORD_NUDITY", "KEYWORD_OTHER"],
                               category_specification_other="other keyword", content_language="MT"),
    "puid of every allowed character, 500 long": make(puid=("aZ09-_" * 100)[:500]),
    "puid padded with spaces (trimmed by the middleware)": make(puid="  abc-1 \n"),
    "integer puid": make(puid=12345),
    "texts at their limits": make(incompatible_content_ground="g" * 500, incompatible_content_explanation="e" * 2000,
                                  decision_facts="f" * 5000, source_identity="s" * 500,
                                  source_type="SOURCE_ARTICLE_16"),
    "lengths counted in characters, not bytes": make(decision_facts="é" * 5000),
    "date bounds": make(content_date="2000-01-01", application_date="2038-01-01",
                        end_date_visibility_restriction="2038-01-01"),
    "earliest application date": make(application_date="2020-01-01"),
    "EAN-13 both ways": make(content_id={"EAN-13": "4006381333931"}, content_id_ean="4006381333931"),
    "reference URL": make(decision_ground_reference_url="https://example.com/terms?section=4#nudity"),
    "illegal content with unused incompatible fields (excluded)": make(ILLEGAL, incompatible_content_ground="g" * 900),
    "an empty other text when not needed": make(decision_visibility_other="", content_type_other=""),
    "unknown fields are ignored": make(modq_internal_id=7),
}


@pytest.mark.parametrize("body", VALID.values(), ids=VALID.keys())
def test_valid_statements(body):
    assert validate_statement(body) == {}


REQUIRED = ["decision_ground", "content_type", "category", "content_date", "application_date", "decision_facts",
            "source_type", "automated_detection", "automated_decision", "puid"]


@pytest.mark.parametrize("field", REQUIRED)
@pytest.mark.parametrize("how", ["absent", "null", "empty string", "blank"])
def test_each_required_field(field, how):
    body = make(drop=(field,)) if how == "absent" else make(**{field: {"null": None, "empty string": "",
                                                                       "blank": "   "}[how]})
    expected = [required(field)]
    if field == "content_type" and how != "absent":  # ["array", "required", ...]: "array" runs on a present null
        expected.insert(0, "The content type field must be an array.")
    assert validate_statement(body) == {field: expected}


def test_content_type_empty_list_is_missing():
    assert validate_statement(make(content_type=[])) == {"content_type": [required("content_type")]}


def test_at_least_one_decision():
    errors = validate_statement(make(drop=("decision_visibility",)))
    assert errors == {
        "decision_visibility": ["The decision visibility field is required when none of decision monetary / "
                                "decision provision / decision account are present."],
        "decision_monetary": ["The decision monetary field is required when none of decision visibility / "
                              "decision provision / decision account are present."],
        "decision_provision": ["The decision provision field is required when none of decision visibility / "
                               "decision monetary / decision account are present."],
        "decision_account": ["The decision account field is required when none of decision visibility / "
                             "decision monetary / decision provision are present."],
    }
    assert set(validate_statement(make(decision_visibility=[]))) == set(errors)  # an empty list counts as absent


ENUMERATIONS = {
    "decision_visibility": ["DECISION_VISIBILITY_REMOVED"],
    "decision_monetary": "DECISION_MONETARY_FINE",
    "decision_provision": "DECISION_PROVISION_SUSPENSION",
    "decision_account": "DECISION_ACCOUNT_BANNED",
    "account_type": "ACCOUNT_TYPE_PERSONAL",
    "category_specification": ["KEYWORD_NUDITY", "KEYWORD_PORN"],
    "decision_ground": "Illegal Content",  # the label, not the key
    "incompatible_content_illegal": "yes",  # case matters
    "content_type": ["CONTENT_TYPE_PHOTO"],
    "category": "STATEMENT_CATEGORY_NUDITY",
    "category_addition": ["STATEMENT_CATEGORY_VIOLENCE", "VIOLENCE"],
    "territorial_scope": ["DE", "GB"],  # not in the EU/EEA list
    "content_language": "en",  # upper case only
    "source_type": "SOURCE_USER_REPORT",
    "automated_detection": True,  # "Yes"/"No", not a boolean
    "automated_decision": "AUTOMATED_DECISION_YES",
}


@pytest.mark.parametrize("field,value", ENUMERATIONS.items(), ids=ENUMERATIONS.keys())
def test_each_enumeration(field, value):
    assert validate_statement(make(**{field: value})) == {field: [invalid(field)]}


@pytest.mark.parametrize("field", ["decision_visibility", "content_type", "category_specification",
                                   "category_addition", "territorial_scope"])
def test_array_fields_want_arrays(field):
    value = {"decision_visibility": "DECISION_VISIBILITY_CONTENT_REMOVED", "content_type": "CONTENT_TYPE_IMAGE",
             "category_specification": "KEYWORD_NUDITY", "category_addition": "STATEMENT_CATEGORY_VIOLENCE",
             "territorial_scope": "DE"}[field]
    # "in:" on a non-array checks the scalar, which is a valid key: only "array" fails
    assert validate_statement(make(**{field: value}))[field] == [
        f"The {rules.displayable(field)} field must be an array."]
    assert validate_statement(make(**{field: "NOT_A_KEY"}))[field] == [
        f"The {rules.displayable(field)} field must be an array.", invalid(field)]


def test_a_string_other_decision_visibility_differs_between_endpoints():
    # the single endpoint casts (array) "DECISION_VISIBILITY_OTHER", the multiple one only looks at real arrays
    body = make(decision_visibility="DECISION_VISIBILITY_OTHER")
    assert validate_statement(body)["decision_visibility_other"] == [
        "The decision visibility other field is required."]
    assert "decision_visibility_other" not in validate_statement(body, multi=True)


def test_a_scalar_field_refuses_an_array():
    assert validate_statement(make(category=["STATEMENT_CATEGORY_VIOLENCE"])) == {"category": [invalid("category")]}


def test_category_addition_is_not_nullable():
    assert validate_statement(make(category_addition=None)) == {
        "category_addition": ["The category addition field must be an array.", invalid("category_addition")]}


CONDITIONALS = {
    "illegal content needs its legal ground": (
        make(ILLEGAL, drop=("illegal_content_legal_ground",)),
        {"illegal_content_legal_ground": [rules.CUSTOM_MESSAGES["illegal_content_legal_ground.required_if"]]}),
    "illegal content needs its explanation": (
        make(ILLEGAL, illegal_content_explanation=""),
        {"illegal_content_explanation": [rules.CUSTOM_MESSAGES["illegal_content_explanation.required_if"]]}),
    "incompatible content needs its ground": (
        make(drop=("incompatible_content_ground",)),
        {"incompatible_content_ground": [rules.CUSTOM_MESSAGES["incompatible_content_ground.required_if"]]}),
    "incompatible content needs its explanation": (
        make(incompatible_content_explanation=None),
        {"incompatible_content_explanation": [
            rules.CUSTOM_MESSAGES["incompatible_content_explanation.required_if"]]}),
    "content type other needs its text": (
        make(content_type=["CONTENT_TYPE_OTHER"]),
        {"content_type_other": ["The content type other field is required."]}),
    "visibility other needs its text": (
        make(decision_visibility=["DECISION_VISIBILITY_CONTENT_DEMOTED", "DECISION_VISIBILITY_OTHER"]),
        {"decision_visibility_other": ["The decision visibility other field is required."]}),
    "monetary other needs its text": (
        make(decision_monetary="DECISION_MONETARY_OTHER"),
        {"decision_monetary_other": [rules.CUSTOM_MESSAGES["decision_monetary_other.required_if"]]}),
}


@pytest.mark.parametrize("body,errors", CONDITIONALS.values(), ids=CONDITIONALS.keys())
def test_conditional_fields(body, errors):
    assert validate_statement(body) == errors


def test_excluded_fields_leave_the_validated_data():
    errors, validated = validate_statement_full(make(ILLEGAL, incompatible_content_ground="g",
                                                     decision_visibility_other="unused", source_identity="me"))
    assert errors == {}
    assert "incompatible_content_ground" not in validated
    assert "decision_visibility_other" not in validated
    assert "source_identity" not in validated  # SOURCE_VOLUNTARY excludes it (single endpoint)
    assert validated["illegal_content_legal_ground"] == "Directive 2011/93/EU"


def test_laravel_keeps_errors_raised_before_an_exclusion():
    # [in:Yes,No, exclude_unless:...]: the "in" runs first, so null is refused even for illegal content
    assert validate_statement(make(ILLEGAL, incompatible_content_illegal=None)) == {
        "incompatible_content_illegal": [invalid("incompatible_content_illegal")]}
    # [max:500, required-if, exclude-if]: a too-long text is refused even when it is not needed
    assert validate_statement(make(decision_visibility_other="x" * 501)) == {
        "decision_visibility_other": ["The decision visibility other field must not be greater than 500 characters."]}


def test_source_identity_on_the_multiple_endpoint_is_never_excluded():
    body = make(source_identity="me")  # SOURCE_VOLUNTARY
    assert "source_identity" not in validate_statement_full(body)[1]
    assert validate_statement_full(body, multi=True)[1]["source_identity"] == "me"
    # max:500 runs before the exclusion on both endpoints
    too_long = {"source_identity": ["The source identity field must not be greater than 500 characters."]}
    assert validate_statement(make(source_identity="x" * 501)) == too_long
    assert validate_statement(make(source_identity="x" * 501), multi=True) == too_long


LENGTHS = [
    ("decision_visibility_other", 500, {"decision_visibility": ["DECISION_VISIBILITY_OTHER"]}),
    ("decision_monetary_other", 500, {"decision_monetary": "DECISION_MONETARY_OTHER"}),
    ("category_specification_other", 500, {}),
    ("decision_ground_reference_url", 500, {}),
    ("incompatible_content_ground", 500, {}),
    ("incompatible_content_explanation", 2000, {}),
    ("content_type_other", 500, {"content_type": ["CONTENT_TYPE_OTHER"]}),
    ("decision_facts", 5000, {}),
    ("source_identity", 500, {"source_type": "SOURCE_TRUSTED_FLAGGER"}),
    ("puid", 500, {}),
]


@pytest.mark.parametrize("field,limit,context", LENGTHS, ids=[f for f, _, _ in LENGTHS])
def test_lengths(field, limit, context):
    value = "https://example.com/" + "a" * (limit - 19) if field.endswith("_url") else "a" * (limit + 1)
    assert len(value) == limit + 1
    message = f"The {rules.displayable(field)} field must not be greater than {limit} characters."
    assert validate_statement(make(**context, **{field: value})) == {field: [message]}
    assert validate_statement(make(**context, **{field: value[:limit]})) == {}


@pytest.mark.parametrize("field,limit", [("illegal_content_legal_ground", 500), ("illegal_content_explanation", 2000)])
def test_illegal_content_lengths(field, limit):
    message = f"The {rules.displayable(field)} field must not be greater than {limit} characters."
    assert validate_statement(make(ILLEGAL, **{field: "a" * (limit + 1)})) == {field: [message]}


@pytest.mark.parametrize("puid", ["with space", "dot.ted", "slash/ed", "colon:1", "ümlaut", "new\nline", "a+b",
                                  "percent%20", "semi;colon", 1.5, True])
def test_puid_character_set(puid):
    assert validate_statement(make(puid=puid)) == {"puid": ["The puid format is invalid."]}


DATES = {
    "slashes": ("content_date", "2026/11/01", ["The content date does not match the format YYYY-MM-DD."]),
    "day first": ("content_date", "01-11-2026", ["The content date does not match the format YYYY-MM-DD."]),
    "no zero padding": ("application_date", "2026-1-5",
                        ["The application date does not match the format YYYY-MM-DD."]),
    "with a time": ("application_date", "2026-11-02T10:00:00",
                    ["The application date does not match the format YYYY-MM-DD."]),
    "not a calendar date": ("content_date", "2026-02-30",
                            ["The content date does not match the format YYYY-MM-DD."]),
    # from the real test suite (test_request_rejects_bad_dates): only the format error, PHP reads "-4" as a zone
    "2023-4-4-4": ("application_date", "2023-4-4-4", ["The application date does not match the format YYYY-MM-DD."]),
    "garbage": ("content_date", "yesterday-ish", [
        "The content date does not match the format YYYY-MM-DD.",
        "The content date field must be a date after or equal to 2000-01-01.",
        "The content date field must be a date before or equal to 2038-01-01."]),
    "content before 2000": ("content_date", "1999-12-31",
                            ["The content date field must be a date after or equal to 2000-01-01."]),
    "application before 2020": ("application_date", "2019-12-31",
                                ["The application date field must be a date after or equal to 2020-01-01."]),
    "application after 2038": ("application_date", "2038-01-02",
                               ["The application date field must be a date before or equal to 2038-01-01."]),
    "end date after 2038": ("end_date_account_restriction", "2040-01-01",
                            ["The end date account restriction field must be a date before or equal to 2038-01-01."]),
    "end date format": ("end_date_service_restriction", "31.12.2026",
                        ["The end date of service restriction does not match the format YYYY-MM-DD."]),
    "a number": ("content_date", 20261101, [
        "The content date does not match the format YYYY-MM-DD.",
        "The content date field must be a date after or equal to 2000-01-01.",
        "The content date field must be a date before or equal to 2038-01-01."]),
}


@pytest.mark.parametrize("field,value,messages", DATES.values(), ids=DATES.keys())
def test_dates(field, value, messages):
    assert validate_statement(make(**{field: value})) == {field: messages}


@pytest.mark.parametrize("changes,errors", [
    ({"content_id": {"EAN-13": "012345678912"}}, {"content_id.EAN-13": ["The content id. e a n-13 field format is "
                                                                        "invalid."]}),
    ({"content_id": {"EAN-13": 4006381333931}}, {"content_id.EAN-13": ["The content id. e a n-13 field must be a "
                                                                        "string."]}),
    ({"content_id": "4006381333931"}, {"content_id": ["The content id field must be an array."]}),
    ({"content_id_ean": "40063813339311"}, {"content_id_ean": ["The content id ean field format is invalid."]}),
    ({"decision_ground_reference_url": "www.example.com"}, {
        "decision_ground_reference_url": ["The decision ground reference url field must be a valid URL."]}),
])
def test_identifiers_and_urls(changes, errors):
    assert validate_statement(make(**changes)) == errors


def test_summary_message_as_laravel():
    errors = validate_statement({})
    assert len(errors) == 14
    assert summarize(errors) == ("The decision visibility field is required when none of decision monetary / "
                                 "decision provision / decision account are present. (and 13 more errors)")
    assert summarize({"puid": ["The puid format is invalid."]}) == "The puid format is invalid."
    assert summarize({"a": ["x"], "b": ["y"]}) == "x (and 1 more error)"


def test_middleware_can_be_skipped():
    assert validate_statement(make(puid=" padded "), middleware=False) == {"puid": ["The puid format is invalid."]}
    assert validate_statement(make(puid=" padded ")) == {}


# ---------------------------------------------------------------- the HTTP server


@pytest.fixture
def tdb():
    with FakeTransparencyDatabase(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def client(tdb):
    with httpx.Client(base_url=tdb.api_url, headers=HEADERS, timeout=5) as http:
        yield http


def test_store_one(tdb, client):
    response = client.post("/statement", json=DOC_EXAMPLE)
    assert response.status_code == 201
    body = response.json()
    assert body["puid"] == "TK421" and body["uuid"] and isinstance(body["id"], int)
    assert body["content_type"] == ["CONTENT_TYPE_AUDIO", "CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_VIDEO"]
    assert body["territorial_scope"] == ["DE", "ES", "PT"]
    assert body["content_id_ean"] == "0123456789123"
    assert "illegal_content_legal_ground" not in body  # excluded: the ground is incompatible content
    assert body["self"] == f"{tdb.url}/api/v1/statement/{body['uuid']}"
    assert tdb.statements["TK421"]["uuid"] == body["uuid"]
    assert tdb.request_count == 1


def test_store_one_invalid(tdb, client):
    response = client.post("/statement", json=make(puid="bad puid", category="nope"))
    assert response.status_code == 422
    assert response.json() == {"message": "The selected category is invalid. (and 1 more error)",
                               "errors": {"category": [invalid("category")],
                                          "puid": ["The puid format is invalid."]}}
    assert tdb.statements == {}


def test_store_one_duplicate(tdb, client):
    assert client.post("/statement", json=INCOMPATIBLE).status_code == 201
    response = client.post("/statement", json=make(decision_facts="sent again"))
    assert response.status_code == 422
    assert response.json() == {"message": PUID_NOT_UNIQUE_SINGLE, "errors": {"puid": [PUID_NOT_UNIQUE_SINGLE]},
                               "existing": {"puid": "modq-item-0001"}}
    assert tdb.statements["modq-item-0001"]["decision_facts"] == INCOMPATIBLE["decision_facts"]


def test_validation_errors_without_accept_json_redirect(tdb):
    response = httpx.post(f"{tdb.api_url}/statement", json={}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 302 and response.headers["Location"] == f"{tdb.url}/"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])
def test_unauthenticated(tdb, headers):
    response = httpx.post(f"{tdb.api_url}/statement", json=INCOMPATIBLE, headers=headers)  # no Accept: still JSON
    assert response.status_code == 401 and response.json() == {"message": "Unauthenticated."}
    assert tdb.statements == {}


def batch(n: int, prefix: str = "b") -> list[dict]:
    return [make(puid=f"{prefix}-{i}") for i in range(n)]


def test_store_a_batch_of_100(tdb, client):
    response = client.post("/statements", json={"statements": batch(100)})
    assert response.status_code == 201
    out = response.json()["statements"]
    assert [item["puid"] for item in out] == [f"b-{i}" for i in range(100)]
    assert all(item["uuid"] and item["permalink"] and item["content_id_ean"] is None for item in out)
    assert len(tdb.statements) == 100


@pytest.mark.parametrize("payload,message", [
    ({"statements": batch(101)}, "The statements field must have between 1 and 100 items."),
    ({"statements": []}, "The statements field is required."),
    ({}, "The statements field is required."),
    ({"statements": "x"}, "The statements field must be an array."),
])
def test_batch_payload_errors(tdb, client, payload, message):
    response = client.post("/statements", json=payload)
    assert response.status_code == 422
    assert response.json()["errors"]["statements"][0] == message
    assert tdb.statements == {}


def test_batch_with_invalid_statements_stores_none(tdb, client):
    statements = batch(5)
    statements[1]["automated_detection"] = "Maybe"
    statements[3].pop("decision_facts")
    response = client.post("/statements", json={"statements": statements})
    assert response.status_code == 422
    assert response.json() == {"errors": {
        "statement_1": {"automated_detection": [invalid("automated_detection")]},
        "statement_3": {"decision_facts": [required("decision_facts")]},
    }}
    assert tdb.statements == {}


def test_batch_with_a_used_or_repeated_puid_stores_none(tdb, client):
    assert client.post("/statement", json=make(puid="b-2")).status_code == 201
    response = client.post("/statements", json={"statements": batch(4)})
    assert response.status_code == 422
    assert response.json() == {"message": PUID_NOT_UNIQUE_MULTIPLE,
                               "errors": {"puid": [PUID_NOT_UNIQUE_MULTIPLE], "existing_puids": ["b-2"]}}
    repeated = client.post("/statements", json={"statements": batch(2, "c") + batch(1, "c")})
    assert repeated.status_code == 422 and repeated.json()["errors"]["existing_puids"] == ["c-0"]
    assert list(tdb.statements) == ["b-2"]


def test_existing_puid(tdb, client):
    client.post("/statement", json=INCOMPATIBLE)
    found = client.get("/statement/existing-puid/modq-item-0001")
    assert found.status_code == 302 and "Location" not in found.headers
    assert found.json() == {"message": "statement of reason found", "puid": "modq-item-0001"}
    missing = client.get("/statement/existing-puid/never-sent")
    assert missing.status_code == 404
    assert missing.json() == {"message": "statement of reason not found", "puid": "never-sent"}


def test_outage(tdb, client):
    tdb.fail_next(2, status=503)
    assert [client.post("/statement", json=INCOMPATIBLE).status_code for _ in range(3)] == [503, 503, 201]
    assert tdb.request_count == 3 and list(tdb.statements) == ["modq-item-0001"]


def test_rate_limited(tdb, client):
    tdb.rate_limit(1, retry_after=7)
    limited = client.post("/statement", json=INCOMPATIBLE)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.text == RATE_LIMIT_BODY and limited.headers["X-RateLimit-Remaining"] == "0"
    assert tdb.statements == {}
    assert client.post("/statement", json=INCOMPATIBLE).status_code == 201


def test_crash_after_store(tdb, client):
    tdb.crash_after_store()
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/statement", json=INCOMPATIBLE)
    assert "modq-item-0001" in tdb.statements and tdb.requests[-1]["status"] is None
    # the client must ask before resending: the statement is there, a resend is a duplicate
    assert client.get("/statement/existing-puid/modq-item-0001").status_code == 302
    assert client.post("/statement", json=INCOMPATIBLE).status_code == 422


def test_crash_after_store_of_a_batch(tdb, client):
    tdb.crash_after_store()
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/statements", json={"statements": batch(3)})
    assert sorted(tdb.statements) == ["b-0", "b-1", "b-2"]
