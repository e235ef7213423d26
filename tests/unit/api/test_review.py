"""Review API: queue, claim, verdict, release; SNS outcome through the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from moderation.alerts import services as alerts
from moderation.items import models as m
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction


def older(rt, item_id: str, seconds: int) -> None:
    with transaction(rt.settings.database_url) as s:
        s.execute(update(m.Item).where(m.Item.id == item_id).values(created_at=utcnow() - timedelta(seconds=seconds)))


def test_queue_oldest_first_with_filters(client, auth, rt, flagged):
    new, old = flagged("Hate Symbols", 70), flagged("Graphic Violence", 60)
    rejected = flagged("Exposed Female Genitalia", 99)
    older(rt, old, 7200)
    get = lambda q="": client.get(f"/v1/review/queue?{q}", headers=auth["reviewer"]).json()  # noqa: E731
    page = get()
    assert [r["id"] for r in page["items"]] == [old, new] and page["next_offset"] is None
    assert page["items"][0]["top_labels"][0] == {"name": "Graphic Violence", "confidence": 60.0}
    assert [r["id"] for r in get("verdict=rejected")["items"]] == [rejected]
    assert [r["id"] for r in get("label=Violence")["items"]] == [old]
    assert [r["id"] for r in get("media_type=video")["items"]] == []
    assert [r["id"] for r in get("min_age=3600")["items"]] == [old]
    assert [r["id"] for r in get("max_age=3600")["items"]] == [new]
    assert get("limit=1")["next_offset"] == 1


@pytest.mark.parametrize("query", ["verdict=approved", "min_age=-1", "limit=500", "label=" + "x" * 129,
                                   "media_type=audio"])
def test_queue_rejects_bad_filters(client, auth, query):
    response = client.get(f"/v1/review/queue?{query}", headers=auth["reviewer"])
    assert response.status_code == 422 and response.json()["message"]


def test_claim_review_and_the_platform_learns(client, auth, rt, flagged, make_token, make_settings):
    rt.settings = make_settings(review_undo_seconds=0)  # no undo window: sent at once (tests/unit/api/test_review_undo.py)
    item_id = flagged()
    claimed = client.post("/v1/review/claim", headers=auth["reviewer"])
    assert claimed.status_code == 200
    body = claimed.json()
    assert body["item"]["id"] == item_id and body["lease"]["owner"] == "alice (token 2)"
    bob = {"Authorization": f"Bearer {make_token('reviewer', 'bob')}"}
    assert client.post("/v1/review/claim", headers=bob).status_code == 204  # only item is leased
    denied = client.post(f"/v1/items/{item_id}/review", json={"verdict": "approved", "reason": "x"}, headers=bob)
    assert denied.status_code == 409 and "leased to alice" in denied.json()["message"]

    done = client.post(f"/v1/items/{item_id}/review", json={"verdict": "rejected", "reason": "swastika on flag"},
                       headers=auth["reviewer"])
    assert done.status_code == 200
    view = done.json()
    assert (view["status"], view["verdict"], view["lease"]) == ("rejected", "rejected", None)
    assert view["review"]["reviewer"] == "alice (token 2)" and view["review"]["previous_status"] == "flagged"

    alerts.flush_outbox(rt.settings.database_url, rt.publisher)
    outcome = rt.publisher.sent[-1]
    assert outcome["message"]["kind"] == "review" and outcome["message"]["verdict"] == "rejected"
    assert outcome["attributes"]["kind"] == "review"
    # the platform reads the final verdict, without the reviewer's name
    platform = client.get(f"/v1/items/{item_id}", headers=auth["ingest"]).json()
    assert platform["verdict"] == "rejected" and platform["review"]["reviewer"] is None

    again = client.post(f"/v1/items/{item_id}/review", json={"verdict": "approved", "reason": "x"},
                        headers=auth["admin"])
    assert again.status_code == 409 and "not awaiting review" in again.json()["message"]


def test_admin_reviews_without_a_claim(client, auth, flagged):
    item_id = flagged()
    response = client.post(f"/v1/items/{item_id}/review", json={"verdict": "approved", "reason": "fine"},
                           headers=auth["admin"])
    assert response.status_code == 200 and response.json()["review"]["reviewer"] == "root (token 3)"


def test_claim_options(client, auth, flagged):
    a, b = flagged(), flagged("Exposed Female Genitalia", 99)
    first = client.post("/v1/review/claim", json={"lease_seconds": 60}, headers=auth["reviewer"]).json()
    assert first["item"]["id"] == a
    again = client.post("/v1/review/claim", json={}, headers=auth["reviewer"]).json()
    assert again["item"]["id"] == a  # the lease already held, renewed
    skipped = client.post("/v1/review/claim", json={"skip": a}, headers=auth["reviewer"])
    assert skipped.status_code == 204  # nothing else flagged
    other = client.post("/v1/review/claim", json={"verdict": "rejected"}, headers=auth["reviewer"]).json()
    assert other["item"]["id"] == b


def test_claim_refuses_a_lease_over_the_limit_and_leases_nothing(client, auth, rt, flagged):
    item_id = flagged()
    refused = client.post("/v1/review/claim", json={"lease_seconds": 3601}, headers=auth["reviewer"])
    assert refused.status_code == 422
    assert refused.json()["message"] == ("lease_seconds 3601 is over the limit of 3600 seconds "
                                         "(MODQ_REVIEW_MAX_LEASE_SECONDS)")
    queue = client.get("/v1/review/queue", headers=auth["reviewer"]).json()
    assert [(r["id"], r["lease"]) for r in queue["items"]] == [(item_id, None)]
    granted = client.post("/v1/review/claim", json={"lease_seconds": 3600}, headers=auth["reviewer"])
    assert granted.status_code == 200 and granted.json()["item"]["id"] == item_id


@pytest.mark.parametrize("body", [{"lease_seconds": 5}, {"lease_seconds": 10**6}, {"verdict": "approved"},
                                  {"colour": "red"}, {"label": ""}, [], "x"])
def test_claim_validation(client, auth, body):
    response = client.post("/v1/review/claim", json=body, headers=auth["reviewer"])
    assert response.status_code == 422 and response.json()["message"]


@pytest.mark.parametrize("body, where", [
    ({"verdict": "approved"}, "reason: Field required"),
    ({"verdict": "approved", "reason": "   "}, "reason"),
    ({"verdict": "flagged", "reason": "x"}, "verdict"),
    ({"verdict": "rejected", "reason": "x" * 1001}, "reason"),
])
def test_review_validation(client, auth, flagged, body, where):
    item_id = flagged()
    response = client.post(f"/v1/items/{item_id}/review", json=body, headers=auth["admin"])
    assert response.status_code == 422 and where in response.json()["message"]


def test_review_unknown_item_is_404(client, auth):
    response = client.post("/v1/items/nope/review", json={"verdict": "approved", "reason": "x"}, headers=auth["admin"])
    assert response.status_code == 404


def test_release(client, auth, flagged, make_token):
    item_id = flagged()
    client.post("/v1/review/claim", headers=auth["reviewer"])
    bob = {"Authorization": f"Bearer {make_token('reviewer', 'bob')}"}
    assert client.post(f"/v1/items/{item_id}/release", headers=bob).status_code == 409
    assert client.post(f"/v1/items/{item_id}/release", headers=auth["reviewer"]).status_code == 204
    assert client.post("/v1/review/claim", headers=bob).json()["item"]["id"] == item_id
    assert client.post(f"/v1/items/{item_id}/release", headers=auth["admin"]).status_code == 204
    assert client.post("/v1/items/nope/release", headers=auth["admin"]).status_code == 404
