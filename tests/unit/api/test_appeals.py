"""Appeals over HTTP (issue 17.7): filed by the item's platform within the window, once; queued and claimed
apart from items; decided by a person other than whoever made the decision appealed; the outcome audited and
sent through the outbox (kind appeal, webhook event appeal.decided)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from moderation.alerts import services as alerts
from moderation.alerts.models import Alert
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review.models import Review
from moderation.tenants import services as tenants

STATEMENT = {"statement": "This is a museum photo of a historical flag, not hate.", "appellant": "user-4821"}


@pytest.fixture
def automated(flagged):
    """An item rejected by the automatic decision (Hate Symbols 95 >= reject 90)."""
    return lambda: flagged("Hate Symbols", 95)


@pytest.fixture
def reviewed(client, auth, flagged):
    """A flagged item alice (token 2) rejected."""
    def make() -> str:
        item_id = flagged()
        assert client.post("/v1/review/claim", headers=auth["reviewer"]).json()["item"]["id"] == item_id
        response = client.post(f"/v1/items/{item_id}/review", json={"verdict": "rejected", "reason": "swastika"},
                               headers=auth["reviewer"])
        assert response.status_code == 200
        return item_id

    return make


def decided_ago(rt, item_id: str, days: float) -> None:
    """Move the item's decision (and review) back in time: the clock, as the window sees it."""
    at = utcnow() - timedelta(days=days)
    with transaction(rt.settings.database_url) as s:
        s.execute(update(m.Item).where(m.Item.id == item_id).values(decided_at=at))
        s.execute(update(Review).where(Review.item_id == item_id).values(reviewed_at=at))


def file(client, headers, item_id: str, body: dict | None = None):
    return client.post(f"/v1/items/{item_id}/appeals", json=body or STATEMENT, headers=headers)


def actions(rt, item_id: str) -> list[str]:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(m.AuditEvent.action).where(m.AuditEvent.item_id == item_id)
                              .order_by(m.AuditEvent.id)))


def test_an_appeal_inside_the_window_is_filed_and_one_outside_is_refused_naming_the_window(client, auth, rt,
                                                                                          automated):
    inside, outside = automated(), automated()
    decided_ago(rt, inside, 182)
    decided_ago(rt, outside, 184)
    filed = file(client, auth["ingest"], inside)
    assert filed.status_code == 201, filed.text
    body = filed.json()
    assert (body["state"], body["statement"], body["appellant"]) == ("pending", STATEMENT["statement"], "user-4821")
    assert body["original"]["verdict"] == "rejected" and body["original"]["automated"] is True
    assert "decided_by" not in body["original"] and body["filed_by"] is None  # no names for the platform
    late = file(client, auth["ingest"], outside)
    assert late.status_code == 409 and "within 183 days" in late.json()["message"]
    assert "MODQ_APPEAL_WINDOW_DAYS" in late.json()["message"]
    assert actions(rt, inside)[-1] == "appeal" and actions(rt, outside)[-1] != "appeal"


def test_the_window_is_a_setting(client, auth, rt, automated):
    item_id = automated()
    decided_ago(rt, item_id, 31)
    rt.settings = rt.settings.model_copy(update={"appeal_window_days": 30})
    refused = file(client, auth["ingest"], item_id)
    assert refused.status_code == 409 and "within 30 days" in refused.json()["message"]


def test_another_tenant_s_item_is_404_like_a_missing_one(client, rt, automated, token):
    tenants.create(rt.settings.database_url, "b", "test")
    item_id = automated()
    theirs = file(client, token("ingest", "b-backend", "b"), item_id)
    missing = file(client, token("ingest", "b-backend", "b"), "no-such-item")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["message"].replace(item_id, "X") == missing.json()["message"].replace("no-such-item", "X")


def test_a_second_appeal_is_409_and_an_undecided_item_cannot_be_appealed(client, auth, automated, flagged):
    item_id = automated()
    assert file(client, auth["ingest"], item_id).status_code == 201
    again = file(client, auth["admin"], item_id)
    assert again.status_code == 409 and "already been appealed" in again.json()["message"]
    waiting = file(client, auth["ingest"], flagged())
    assert waiting.status_code == 409 and "only a decided item" in waiting.json()["message"]


def test_an_automated_decision_is_appealed_claimed_and_decided_by_a_person(client, auth, rt, automated):
    item_id = automated()
    appeal = file(client, auth["ingest"], item_id).json()
    queue = client.get("/v1/review/queue?queue=appeals", headers=auth["reviewer"]).json()
    assert [a["id"] for a in queue["items"]] == [appeal["id"]]
    claimed = client.post("/v1/review/claim", json={"queue": "appeals"}, headers=auth["reviewer"])
    assert claimed.status_code == 200, claimed.text
    body = claimed.json()
    assert body["appeal"]["id"] == appeal["id"] and body["item"]["id"] == item_id
    assert body["appeal"]["statement"] == STATEMENT["statement"]
    assert body["appeal"]["original"]["decided_by"] == "system" and body["appeal"]["original"]["reasons"]
    assert body["lease"]["owner"] == "alice (token 2)"
    upheld = client.post(f"/v1/appeals/{appeal['id']}/decision", headers=auth["reviewer"],
                         json={"outcome": "upheld", "reason": "the symbol is shown approvingly"})
    assert upheld.status_code == 200, upheld.text
    assert (upheld.json()["outcome"], upheld.json()["new_verdict"]) == ("upheld", "rejected")
    assert upheld.json()["decided_by"] == "alice (token 2)"
    assert actions(rt, item_id)[-2:] == ["appeal", "appeal_decide"]
    # decided once; and a person decided the item, so it leaves the (rejected) review queue
    again = client.post(f"/v1/appeals/{appeal['id']}/decision", headers=auth["admin"],
                        json={"outcome": "overturned", "verdict": "approved", "reason": "x"})
    assert again.status_code == 409 and "already been decided" in again.json()["message"]
    rejected_queue = client.get("/v1/review/queue?verdict=rejected", headers=auth["reviewer"]).json()
    assert item_id not in [r["id"] for r in rejected_queue["items"]]


def test_the_original_reviewer_is_refused_and_another_overturns_with_an_event(client, auth, rt, reviewed,
                                                                              make_token):
    item_id = reviewed()
    appeal = file(client, auth["ingest"], item_id).json()
    # alice made the decision: the claim passes over her own decision's appeal, and deciding it is refused
    assert client.post("/v1/review/claim", json={"queue": "appeals"}, headers=auth["reviewer"]).status_code == 204
    for headers in (auth["reviewer"], {"Authorization": f"Bearer {make_token('reviewer', 'alice')}"}):
        refused = client.post(f"/v1/appeals/{appeal['id']}/decision", headers=headers,
                              json={"outcome": "overturned", "verdict": "approved", "reason": "fine"})
        assert refused.status_code == 409
        assert "you made the decision appealed" in refused.json()["message"]
    bob = {"Authorization": f"Bearer {make_token('reviewer', 'bob')}"}
    claimed = client.post("/v1/review/claim", json={"queue": "appeals"}, headers=bob).json()
    assert claimed["appeal"]["original"] == {"verdict": "rejected", "automated": False, "reasons": ["swastika"],
                                             "decided_by": "alice (token 2)"}
    no_verdict = client.post(f"/v1/appeals/{appeal['id']}/decision", headers=bob,
                             json={"outcome": "overturned", "reason": "historical context"})
    assert no_verdict.status_code == 422 and "verdict" in no_verdict.json()["message"]
    done = client.post(f"/v1/appeals/{appeal['id']}/decision", headers=bob,
                       json={"outcome": "overturned", "verdict": "approved", "reason": "historical context"})
    assert done.status_code == 200, done.text
    item = client.get(f"/v1/items/{item_id}", headers=auth["ingest"]).json()
    assert (item["status"], item["verdict"]) == ("approved", "approved")
    assert [(a["outcome"], a["new_verdict"], a["reason"]) for a in item["appeals"]] == [
        ("overturned", "approved", "historical context")]
    assert "decided_by" not in item["appeals"][0]  # the platform does not learn reviewers' names
    with transaction(rt.settings.database_url) as s:
        alert = s.scalars(select(Alert).where(Alert.item_id == item_id).order_by(Alert.id.desc())).first()
        assert alert.kind == "appeal" and alert.attributes["kind"] == "appeal"
        audit = s.scalars(select(m.AuditEvent).where(m.AuditEvent.item_id == item_id)
                          .order_by(m.AuditEvent.id.desc())).first()
        assert (audit.action, audit.from_status, audit.to_status, audit.actor) == (
            "appeal_decide", "rejected", "approved", "bob (token 5)")
    alerts.flush_outbox(rt.settings.database_url, rt.publisher)
    sent = rt.publisher.sent[-1]
    assert sent["attributes"]["kind"] == "appeal" and sent["message"]["outcome"] == "overturned"
    assert (sent["message"]["verdict"], sent["message"]["previous_verdict"]) == ("approved", "rejected")
    assert "bob" not in str(sent)


def test_an_appeal_leased_to_another_reviewer_is_theirs_to_decide(client, auth, automated, make_token):
    appeal = file(client, auth["ingest"], automated()).json()
    assert client.post("/v1/review/claim", json={"queue": "appeals"}, headers=auth["reviewer"]).status_code == 200
    bob = {"Authorization": f"Bearer {make_token('reviewer', 'bob')}"}
    assert client.post("/v1/review/claim", json={"queue": "appeals"}, headers=bob).status_code == 204
    taken = client.post(f"/v1/appeals/{appeal['id']}/decision", headers=bob, json={"outcome": "upheld",
                                                                                    "reason": "x"})
    assert taken.status_code == 409 and "claimed by alice" in taken.json()["message"]


def test_ingest_tokens_cannot_decide_and_reviewers_cannot_file(client, auth, automated):
    item_id = automated()
    assert file(client, auth["reviewer"], item_id).status_code == 403
    appeal = file(client, auth["ingest"], item_id).json()
    response = client.post(f"/v1/appeals/{appeal['id']}/decision", headers=auth["ingest"],
                           json={"outcome": "upheld", "reason": "x"})
    assert response.status_code == 403
