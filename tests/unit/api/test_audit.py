"""The audit trail over the API: JSON and CSV, filters, pages."""

from __future__ import annotations

import csv
import io

import pytest


@pytest.fixture
def reviewed(client, auth, flagged):
    item_id = flagged()
    client.post("/v1/review/claim", headers=auth["reviewer"])
    client.post(f"/v1/items/{item_id}/review", json={"verdict": "rejected", "reason": "=HYPERLINK(\"x\")"},
                headers=auth["reviewer"])
    return item_id


def test_audit_json_has_who_when_what_why_policy_previous(client, auth, reviewed, rt):
    events = client.get(f"/v1/audit?item_id={reviewed}", headers=auth["reviewer"]).json()["events"]
    assert [e["action"] for e in events] == ["review", "claim", "decide", "processing", "submit"]  # newest first
    review = events[0]
    assert review["actor"].startswith("alice (token ") and review["at"]  # the token's name and id
    assert (review["from_status"], review["to_status"], review["verdict"]) == ("flagged", "rejected", "rejected")
    assert review["reason"] == '=HYPERLINK("x")' and review["policy_version"] == rt.policy.version


def test_an_action_modq_never_writes_is_refused_naming_the_ones_it_does(client, auth, reviewed):
    answer = client.get("/v1/audit?action=reviewed", headers=auth["admin"])  # a slip for "review"
    assert answer.status_code == 422
    message = str(answer.json())
    assert "'review'" in message and "'token_create'" in message and "'reevaluate'" in message


def test_audit_filters_and_pages(client, auth, reviewed):
    get = lambda q: client.get(f"/v1/audit?{q}", headers=auth["admin"]).json()  # noqa: E731
    assert [e["item_id"] for e in get("actor=alice&action=review")["events"]] == [reviewed]
    assert get("action=token_create")["events"][0]["actor"] == "test"
    assert get("since=2100-01-01T00:00:00Z")["events"] == []
    assert len(get("until=2100-01-01")["events"]) > 5
    page = get("limit=2")
    assert len(page["events"]) == 2 and page["next_offset"] == 2


def test_audit_csv_defuses_formulas(client, auth, reviewed):
    response = client.get(f"/v1/audit?format=csv&item_id={reviewed}", headers=auth["reviewer"])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[0]["action"] == "review" and rows[0]["reason"] == "'=HYPERLINK(\"x\")"


@pytest.mark.parametrize("query", ["format=xml", "since=yesterday", "limit=0", "limit=10001",
                                   "since=0001-01-01T00:00:00%2B01:00", "actor=" + "a" * 256])
def test_audit_bad_queries_are_422(client, auth, query):
    response = client.get(f"/v1/audit?{query}", headers=auth["admin"])
    assert response.status_code == 422 and response.json()["message"]
