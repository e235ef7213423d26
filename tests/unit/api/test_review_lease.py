"""Lease renewal over HTTP (issue 17.3): `POST /v1/items/{id}/lease` for the live holder only (someone else's,
an ended or no lease: 409; another tenant's item: 404; bounds: 422 naming the field, nothing stored), and the
console's `GET|POST /items/{id}/lease` that lease.js calls, CSRF-checked and answered in JSON."""

from __future__ import annotations


import pytest
from sqlalchemy import update

from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.tenants import services as tenants
from tests.review_items import ends_in, lease_of


@pytest.fixture
def claimed(client, auth, flagged):
    """A flagged item alice (reviewer) claimed over the API."""
    item_id = flagged()
    assert client.post("/v1/review/claim", headers=auth["reviewer"]).json()["item"]["id"] == item_id
    return item_id




def test_the_holder_renews_the_lease(client, auth, rt, claimed):
    ends_in(rt, claimed, 30)
    response = client.post(f"/v1/items/{claimed}/lease", headers=auth["reviewer"])
    assert response.status_code == 200, response.text
    body = response.json()
    owner, until = lease_of(rt, claimed)
    assert body == {"item_id": claimed, "owner": owner, "expires_at": until.isoformat(),
                    "seconds_left": body["seconds_left"]}
    assert owner.startswith("alice (token ") and 295 <= body["seconds_left"] <= 300


def test_lease_seconds_sets_the_length(client, auth, rt, claimed):
    ends_in(rt, claimed, 20)
    response = client.post(f"/v1/items/{claimed}/lease", headers=auth["reviewer"], json={"lease_seconds": 60})
    assert response.status_code == 200 and 55 <= response.json()["seconds_left"] <= 60
    longer = client.post(f"/v1/items/{claimed}/lease", headers=auth["reviewer"], json={"lease_seconds": 1800})
    assert 1795 <= longer.json()["seconds_left"] <= 1800
    kept = client.post(f"/v1/items/{claimed}/lease", headers=auth["reviewer"], json={"lease_seconds": 60})
    assert kept.json()["expires_at"] == longer.json()["expires_at"]  # a renewal never shortens a lease


@pytest.mark.parametrize("role", ["reviewer", "admin"])
def test_renewing_someone_else_s_lease_is_refused(client, auth, token, rt, claimed, role):
    held = lease_of(rt, claimed)
    other = token(role, "mallory")
    response = client.post(f"/v1/items/{claimed}/lease", headers=other, json={"lease_seconds": 3600})
    assert response.status_code == 409
    assert response.json()["message"] == f"item {claimed} is leased to {held[0]}, not to you"
    assert lease_of(rt, claimed) == held


def test_an_ended_lease_is_not_renewed(client, auth, rt, claimed):
    ends_in(rt, claimed, -1)
    held = lease_of(rt, claimed)
    response = client.post(f"/v1/items/{claimed}/lease", headers=auth["reviewer"])
    assert response.status_code == 409 and response.json()["message"].endswith("UTC: claim it again")
    assert lease_of(rt, claimed) == held


def test_no_lease_or_a_reviewed_item_is_a_conflict(client, auth, flagged, claimed):
    unclaimed = flagged()
    response = client.post(f"/v1/items/{unclaimed}/lease", headers=auth["reviewer"])
    assert response.status_code == 409 and "you hold no lease" in response.json()["message"]
    client.post(f"/v1/items/{claimed}/review", headers=auth["reviewer"], json={"verdict": "approved", "reason": "ok"})
    response = client.post(f"/v1/items/{claimed}/lease", headers=auth["reviewer"])
    assert response.status_code == 409 and "not awaiting review" in response.json()["message"]


def test_another_tenant_s_item_is_not_found(client, rt, token, flagged):
    tenants.create(rt.settings.database_url, "b", "test")
    item_id = flagged()
    alice = token("reviewer", "alice", "default")
    assert client.post("/v1/review/claim", headers=alice).status_code == 200
    held = lease_of(rt, item_id)
    outsider = token("admin", "bea", "b")
    for path in (f"/v1/items/{item_id}/lease", "/v1/items/no-such-item/lease"):
        response = client.post(path, headers=outsider)
        assert response.status_code == 404 and response.json()["message"].startswith("no item '")
    assert lease_of(rt, item_id) == held


@pytest.mark.parametrize("body, field", [
    ({"lease_seconds": 9}, "lease_seconds"),
    ({"lease_seconds": -1}, "lease_seconds"),
    ({"lease_seconds": "soon"}, "lease_seconds"),
    ({"lease_seconds": 1.5}, "lease_seconds"),
    ({"lease_seconds": 3601}, "lease_seconds 3601 is over the limit of 3600 seconds"),
    ({"lease_seconds": 10**30}, "lease_seconds"),
    ({"seconds": 60}, "seconds"),
    ([60], "not a JSON object"),
])
def test_bad_bodies_are_422_naming_the_field_and_store_nothing(client, auth, rt, claimed, body, field):
    held = lease_of(rt, claimed)
    response = client.post(f"/v1/items/{claimed}/lease", headers=auth["reviewer"], json=body)
    assert response.status_code == 422 and field in response.json()["message"]
    assert lease_of(rt, claimed) == held


def test_bad_ids_and_roles(client, auth, claimed):
    assert client.post("/v1/items/" + "x" * 65 + "/lease", headers=auth["reviewer"]).status_code == 422
    assert client.post(f"/v1/items/{claimed}/lease").status_code == 401
    assert client.post(f"/v1/items/{claimed}/lease", headers=auth["ingest"]).status_code == 403


def test_the_operation_is_documented(client, auth):
    operation = client.get("/openapi.json", headers=auth["reviewer"]).json()["paths"]["/v1/items/{item_id}/lease"]
    assert operation["post"]["operationId"] == "renewLease"
    assert {"404", "409", "422"} <= set(operation["post"]["responses"])


# --- the console's endpoint (lease.js) ------------------------------------------------------------------------


@pytest.fixture
def console_claim(client, sign_in, flagged):
    """(item id, CSRF token): alice signed in to the console and claimed an item there."""
    item_id = flagged()
    csrf = sign_in()
    assert client.post(f"/items/{item_id}/claim", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    return item_id, csrf


def test_the_item_page_loads_lease_js_with_what_it_needs(client, console_claim, rt):
    item_id, csrf = console_claim
    page = client.get(f"/items/{item_id}").text
    assert '<script src="/static/lease.js" defer></script>' in page
    assert f'data-item-id="{item_id}"' in page and f'data-csrf="{csrf}"' in page
    assert f'data-expires-at="{lease_of(rt, item_id)[1].isoformat()}"' in page
    assert 'id="lease-reclaim-form"' in page and f'action="/items/{item_id}/claim"' in page
    assert client.get("/static/lease.js").status_code == 200


def test_the_console_reads_and_renews_the_lease(client, console_claim, rt):
    item_id, csrf = console_claim
    read = client.get(f"/items/{item_id}/lease")
    assert read.status_code == 200 and read.json()["renew_seconds"] == rt.settings.review_lease_seconds
    ends_in(rt, item_id, 30)
    renewed = client.post(f"/items/{item_id}/lease", headers={"X-CSRF-Token": csrf})
    assert renewed.status_code == 200 and 295 <= renewed.json()["seconds_left"] <= 300
    assert renewed.json()["expires_at"] == lease_of(rt, item_id)[1].isoformat()
    ends_in(rt, item_id, 30)
    assert client.post(f"/items/{item_id}/lease", data={"csrf": csrf}).status_code == 200  # a form field too


@pytest.mark.parametrize("headers", [{}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}])
def test_the_console_renewal_needs_the_csrf_token(client, console_claim, rt, headers):
    item_id, _ = console_claim
    ends_in(rt, item_id, 30)
    held = lease_of(rt, item_id)
    response = client.post(f"/items/{item_id}/lease", headers=headers)
    assert response.status_code == 403 and "CSRF" in response.json()["message"]
    assert lease_of(rt, item_id) == held


def test_the_console_renews_only_the_reviewer_s_own_lease(client, console_claim, rt):
    from moderation.review import services as review

    item_id, csrf = console_claim
    review.release(rt, item_id, lease_of(rt, item_id)[0])
    review.claim(rt, "bob", item_id=item_id)
    held = lease_of(rt, item_id)
    for response in (client.get(f"/items/{item_id}/lease"),
                     client.post(f"/items/{item_id}/lease", headers={"X-CSRF-Token": csrf})):
        assert response.status_code == 409 and "leased to bob" in response.json()["message"]
    assert lease_of(rt, item_id) == held


def test_the_console_endpoint_is_scoped_and_needs_a_session(client, rt, sign_in, flagged, app):
    from fastapi.testclient import TestClient

    b = tenants.create(rt.settings.database_url, "b", "test")["id"]
    item_id = flagged()
    with transaction(rt.settings.database_url) as s:
        s.execute(update(m.Item).where(m.Item.id == item_id).values(tenant_id=b))
    csrf = sign_in()  # alice: tenant default
    assert client.get(f"/items/{item_id}/lease").status_code == 404
    assert client.post(f"/items/{item_id}/lease", headers={"X-CSRF-Token": csrf}).status_code == 404
    assert client.get("/items/a%00b/lease").status_code == 422
    assert client.get("/items/" + "x" * 65 + "/lease").status_code == 422
    with TestClient(app) as anonymous:
        assert anonymous.post(f"/items/{item_id}/lease", follow_redirects=False).headers["location"] == "/login"
