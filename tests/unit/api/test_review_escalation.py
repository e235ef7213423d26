"""Reason codes and escalation over HTTP (issue 17.6): a reviewer escalates the item they hold; the escalated queue
is listed, counted, claimed and decided by senior and admin tokens only; deciding resolves the escalation; a
review's reason_code is one of the policy's (else 422, nothing stored); tenants and bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review.models import Escalation, Review
from moderation.tenants import services as tenants

NOTE = "Possible minor in the picture: needs a senior decision."


@pytest.fixture
def senior(token):
    return token("senior", "sam")


@pytest.fixture
def held(client, auth, flagged):
    """A flagged item alice (the reviewer) claimed over the API."""
    def make(label: str = "Hate Symbols") -> str:
        item_id = flagged(label)
        claimed = client.post("/v1/review/claim", headers=auth["reviewer"])
        assert claimed.status_code == 200 and claimed.json()["item"]["id"] == item_id, claimed.text
        return item_id

    return make


def escalate(client, headers, item_id: str, body: dict | None = None):
    return client.post(f"/v1/items/{item_id}/escalate", json={"note": NOTE} if body is None else body,
                       headers=headers)


def stored(rt, model, item_id: str) -> list:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(model).where(model.item_id == item_id)))


def test_a_reviewer_escalates_the_item_they_hold(client, auth, held):
    item_id = held()
    answer = escalate(client, auth["reviewer"], item_id)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["lease"] is None and body["status"] == "flagged"
    assert (body["escalation"]["note"], body["escalation"]["escalated_by"], body["escalation"]["open"]) == (
        NOTE, "alice (token 2)", True)
    queue = client.get("/v1/review/queue", headers=auth["reviewer"]).json()
    assert queue["items"] == []  # out of the reviewers' queue
    assert client.post("/v1/review/claim", headers=auth["reviewer"]).status_code == 204
    audit = client.get(f"/v1/audit?item_id={item_id}&action=escalate", headers=auth["admin"]).json()
    assert [(e["actor"], e["reason"]) for e in audit["events"]] == [("alice (token 2)", NOTE)]


def test_another_reviewer_s_lease_is_409_and_no_lease_is_409(client, auth, held, flagged, token):
    item_id, free = held(), flagged()
    bob = token("reviewer", "bob")
    taken = escalate(client, bob, item_id)
    assert taken.status_code == 409 and "leased to alice (token 2)" in taken.json()["message"]
    unclaimed = escalate(client, bob, free)
    assert unclaimed.status_code == 409 and "you hold no lease" in unclaimed.json()["message"]
    again = escalate(client, auth["reviewer"], item_id)
    assert again.status_code == 200
    twice = escalate(client, auth["admin"], item_id)
    assert twice.status_code == 409 and "already escalated" in twice.json()["message"]


def test_another_tenant_s_item_is_404_like_a_missing_one(client, rt, held, token):
    tenants.create(rt.settings.database_url, "b", "test")
    item_id = held()
    theirs = escalate(client, token("admin", "b-admin", "b"), item_id)
    missing = escalate(client, token("admin", "b-admin", "b"), "no-such-item")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["message"].replace(item_id, "X") == missing.json()["message"].replace("no-such-item", "X")
    assert stored(rt, Escalation, item_id) == []


@pytest.mark.parametrize("body, named", [
    ({}, "note"), ({"note": ""}, "note"), ({"note": "   "}, "note"), ({"note": "x" * 1001}, "note"),
    ({"note": None}, "note"), ({"note": 5}, "note"), ({"note": "a\x00b"}, "note"), ({"note": "bell \x07"}, "note"),
    ({"note": NOTE, "urgent": True}, "urgent"),
])
def test_a_bad_body_is_422_naming_the_field_and_nothing_is_stored(client, auth, rt, held, body, named):
    item_id = held()
    answer = escalate(client, auth["reviewer"], item_id, body)
    assert answer.status_code == 422 and named in answer.json()["message"], answer.json()
    assert stored(rt, Escalation, item_id) == []
    assert client.get(f"/v1/items/{item_id}", headers=auth["reviewer"]).json()["lease"] is not None


def test_an_ingest_token_cannot_escalate_and_sees_no_note(client, auth, held):
    item_id = held()
    assert escalate(client, auth["ingest"], item_id).status_code == 403
    assert escalate(client, auth["reviewer"], item_id).status_code == 200
    seen = client.get(f"/v1/items/{item_id}", headers=auth["ingest"]).json()["escalation"]
    assert seen["open"] is True and seen["note"] is None and seen["escalated_by"] is None


def test_a_reviewer_cannot_list_count_claim_or_decide_the_escalated_queue(client, auth, held):
    item_id = held()
    escalate(client, auth["reviewer"], item_id)
    for answer in (client.get("/v1/review/queue?queue=escalated", headers=auth["reviewer"]),
                   client.post("/v1/review/claim", json={"queue": "escalated"}, headers=auth["reviewer"]),
                   client.get("/v1/review/escalated", headers=auth["reviewer"])):
        assert answer.status_code == 403, answer.text
        assert "senior" in answer.json()["message"]
    decided = client.post(f"/v1/items/{item_id}/review", json={"verdict": "rejected", "reason": "bad"},
                          headers=auth["reviewer"])
    assert decided.status_code == 409 and "escalated" in decided.json()["message"]
    assert stored(client.app.state.rt, Review, item_id) == []


def test_a_senior_lists_claims_and_decides_and_the_escalation_is_resolved(client, auth, rt, held, senior):
    item_id = held()
    escalate(client, auth["reviewer"], item_id)
    listed = client.get("/v1/review/queue?queue=escalated", headers=senior).json()
    assert [r["id"] for r in listed["items"]] == [item_id]
    assert listed["items"][0]["escalation"]["note"] == NOTE
    counts = client.get("/v1/review/escalated", headers=senior).json()
    assert counts["total"] == 1 and [(c["category"], c["count"]) for c in counts["categories"]] == [
        ("Hate Symbols / Violence", 1)]
    assert client.post("/v1/review/claim", headers=senior).status_code == 204  # the reviewers' queue is empty
    claimed = client.post("/v1/review/claim", json={"queue": "escalated"}, headers=senior)
    assert claimed.status_code == 200 and claimed.json()["item"]["id"] == item_id
    sam = claimed.json()["lease"]["owner"]
    assert sam.startswith("sam (token ")
    decided = client.post(f"/v1/items/{item_id}/review", headers=senior,
                          json={"verdict": "rejected", "reason": "a minor: removed", "reason_code": "hate-symbol"})
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["review"]["reason_code"] == "hate-symbol" and body["review"]["reviewer"] == sam
    assert body["escalation"]["open"] is False and body["escalation"]["resolved_by"] == sam
    assert client.get("/v1/review/escalated", headers=senior).json() == {"total": 0, "categories": []}
    assert client.post("/v1/review/claim", json={"queue": "escalated"}, headers=senior).status_code == 204


def test_a_senior_may_escalate_an_item_they_do_not_hold(client, auth, held, senior):
    item_id = held()
    answer = escalate(client, senior, item_id)
    assert answer.status_code == 200 and answer.json()["escalation"]["escalated_by"].startswith("sam (token ")
    assert answer.json()["lease"] is None  # alice's lease ended


def test_the_escalated_queue_of_another_tenant_is_not_seen(client, rt, held, token):
    tenants.create(rt.settings.database_url, "b", "test")
    item_id = held()
    escalate(client, token("senior", "sam"), item_id)
    other = token("senior", "b-senior", "b")
    assert client.get("/v1/review/queue?queue=escalated", headers=other).json()["items"] == []
    assert client.get("/v1/review/escalated", headers=other).json()["total"] == 0
    assert client.post("/v1/review/claim", json={"queue": "escalated"}, headers=other).status_code == 204


@pytest.mark.parametrize("code, status", [
    ("not-a-code", 422), ("Hate-Symbol", 422), ("hate symbol", 422), ("", 422), ("x" * 65, 422), (7, 422),
])
def test_an_unknown_or_malformed_reason_code_is_422_naming_it_and_nothing_is_stored(client, auth, rt, held, code,
                                                                                   status):
    item_id = held()
    answer = client.post(f"/v1/items/{item_id}/review", headers=auth["reviewer"],
                         json={"verdict": "rejected", "reason": "swastika", "reason_code": code})
    assert answer.status_code == status and "reason_code" in answer.json()["message"], answer.json()
    assert stored(rt, Review, item_id) == []
    with transaction(rt.settings.database_url) as s:
        assert s.get(m.Item, item_id).status == "flagged"


def test_a_valid_reason_code_is_stored_and_the_free_text_stays_required(client, auth, rt, held):
    item_id = held()
    no_text = client.post(f"/v1/items/{item_id}/review", headers=auth["reviewer"],
                          json={"verdict": "rejected", "reason_code": "hate-symbol"})
    assert no_text.status_code == 422 and "reason" in no_text.json()["message"]
    answer = client.post(f"/v1/items/{item_id}/review", headers=auth["reviewer"],
                         json={"verdict": "rejected", "reason": "swastika", "reason_code": "hate-symbol"})
    assert answer.status_code == 200 and answer.json()["review"]["reason_code"] == "hate-symbol"
    assert stored(rt, Review, item_id)[0].reason_code == "hate-symbol"


@pytest.mark.parametrize("section, named", [
    ("reasons: {Explicit: [Adult Nudity]}", "reasons.Explicit"),
    ("reasons: {Explicitt: [adult-nudity]}", "reasons.Explicitt"),
    ("reasons: [adult-nudity]", "reasons"),
])
def test_put_policy_refuses_a_bad_reasons_section_naming_the_key(client, auth, section, named):
    text = "min_confidence: 50\ndefault: {flag: 80, reject: null}\n" + section + "\n"
    bad = client.put("/v1/policy", headers=auth["admin"], json={"yaml": text})
    assert bad.status_code == 422 and named in bad.json()["message"], bad.json()
