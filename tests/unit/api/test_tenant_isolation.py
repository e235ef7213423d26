"""Tenant isolation over the HTTP API (issue 16): a token never sees or touches another tenant's items.

Two tenants, ``a`` and ``b``, each with an ingest, a reviewer and an admin token. Another tenant's item is
404 with the body a missing item gets (existence does not leak), on every route that reads items.
"""

from __future__ import annotations

import hashlib
import itertools

import pytest

from moderation.items import services as service
from moderation.tenants import services as tenant_services
from moderation.tenants import tokens
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for

ROLES = ("ingest", "reviewer", "admin")
MISSING = "00000000-0000-0000-0000-000000000000"
_colors = itertools.count(1)


@pytest.fixture
def tenants(rt) -> dict[str, dict[str, dict[str, str]]]:
    """Headers per tenant and role: tenants "a" and "b", tokens named "<tenant>-<role>"."""
    url = rt.settings.database_url
    for name in ("a", "b"):
        tenant_services.create(url, name, "test")

    def header(tenant: str, role: str) -> dict[str, str]:
        secret = tokens.create(url, f"{tenant}-{role}", role, "test", tenant_names=[tenant])[1]
        return {"Authorization": f"Bearer {secret}"}

    return {t: {role: header(t, role) for role in ROLES} for t in ("a", "b")}


@pytest.fixture
def every(rt, tenants) -> dict[str, str]:
    """Headers of an admin token for every tenant ('*')."""
    return {"Authorization": f"Bearer {tokens.create(rt.settings.database_url, 'root', 'admin', 'test', ['*'])[1]}"}


@pytest.fixture
def media(media_root, fake_provider):
    """A new JPEG in the media root, labelled for the fake provider (``label``); its URI and bytes."""

    def make(label: str | None = None, data: bytes | None = None) -> tuple[str, bytes]:
        n = next(_colors)
        data = data or jpeg_bytes(width=100 + n, color=((n * 53) % 256, (n * 97) % 256, 30))
        name = f"t-{n}.jpg"
        (media_root / name).write_bytes(data)
        if label:
            fake_provider.by_key[hashlib.sha256(data).hexdigest()] = labels_for(label, 70)
        return name, data

    return make


@pytest.fixture
def submit(client, rt, media):
    """POST /v1/items with these headers, then run the worker's task: the answer's JSON."""

    def go(headers, external_id: str, label: str | None = None, data: bytes | None = None, query: str = ""):
        uri, _ = media(label, data)
        response = client.post(f"/v1/items{query}", json={"external_id": external_id, "media_uri": uri},
                               headers=headers)
        assert response.status_code in (200, 202), response.text
        if response.json()["created"]:
            service.process_image(response.json()["id"], rt=rt)
        return response.json()

    return go


def _as_missing(client, headers, path: str, item_id: str) -> None:
    """``path`` with another tenant's ``item_id`` answers exactly as with an id no item has."""
    theirs = client.get(path.format(item_id), headers=headers)
    missing = client.get(path.format(MISSING), headers=headers)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == {k: v.replace(MISSING, item_id) for k, v in missing.json().items()}


def test_the_same_external_id_in_two_tenants_makes_two_items(client, tenants, submit):
    a = submit(tenants["a"]["ingest"], "post-1", "Hate Symbols")
    b = submit(tenants["b"]["ingest"], "post-1")
    assert a["created"] and b["created"] and a["id"] != b["id"]
    assert client.get("/v1/items/post-1", headers=tenants["a"]["ingest"]).json()["id"] == a["id"]
    assert client.get("/v1/items/post-1", headers=tenants["b"]["reviewer"]).json()["id"] == b["id"]
    assert client.get("/v1/items/post-1", headers=tenants["a"]["reviewer"]).json()["verdict"] == "flagged"
    assert client.get("/v1/items/post-1", headers=tenants["b"]["reviewer"]).json()["verdict"] == "approved"


@pytest.mark.parametrize("role", ROLES)
def test_another_tenants_item_is_404_as_a_missing_one(client, tenants, submit, role):
    theirs = submit(tenants["a"]["ingest"], "only-in-a", "Hate Symbols")["id"]
    headers = tenants["b"][role]
    _as_missing(client, headers, "/v1/items/{}", theirs)
    by_external = client.get("/v1/items/only-in-a", headers=headers)
    assert by_external.status_code == 404
    assert by_external.json() == client.get("/v1/items/never-sent", headers=headers).json() | {
        "detail": "no item with id or external_id 'only-in-a'", "message": "no item with id or external_id 'only-in-a'"}
    assert client.get("/v1/items?external_id=only-in-a", headers=headers).json()["items"] == []
    if role != "ingest":  # media and the audit trail are for reviewers and admins
        _as_missing(client, headers, "/v1/items/{}/media", theirs)
        _as_missing(client, headers, "/v1/audit?item_id={}", theirs)
    assert client.get(f"/v1/items/{theirs}", headers=tenants["a"][role]).status_code == 200


def test_lists_and_the_audit_trail_show_only_the_tokens_tenants(client, tenants, submit, every):
    a = submit(tenants["a"]["ingest"], "a-1", "Hate Symbols")["id"]
    b = submit(tenants["b"]["ingest"], "b-1")["id"]
    for tenant, mine, theirs in (("a", a, b), ("b", b, a)):
        listed = [i["id"] for i in client.get("/v1/items", headers=tenants[tenant]["reviewer"]).json()["items"]]
        assert listed == [mine]
        events = client.get("/v1/audit?limit=1000", headers=tenants[tenant]["admin"]).json()["events"]
        assert {e["item_id"] for e in events} - {None} == {mine}
        assert theirs not in str(events)
    # A deployment-wide event (a token for every tenant was made: every's) only for '*' admins.
    everything = client.get("/v1/audit?action=token_create&limit=1000", headers=every).json()["events"]
    mine = client.get("/v1/audit?action=token_create&limit=1000", headers=tenants["a"]["admin"]).json()["events"]
    assert any("'root'" in e["reason"] for e in everything) and not any("'root'" in e["reason"] for e in mine)
    assert all("'a-" in e["reason"] for e in mine) and len(mine) == 3
    both = {i["id"] for i in client.get("/v1/items", headers=every).json()["items"]}
    assert both == {a, b}


def test_the_squatting_attack_no_longer_works(client, tenants, submit):
    """Tenant b pre-registers a's external_id with harmless media: a's real submit makes a's own item, and
    its media is moderated."""
    squatted = submit(tenants["b"]["ingest"], "a-post-9")
    real = submit(tenants["a"]["ingest"], "a-post-9", "Hate Symbols")
    assert real["created"] is True and real["id"] != squatted["id"]
    view = client.get("/v1/items/a-post-9", headers=tenants["a"]["reviewer"]).json()
    assert view["id"] == real["id"] and view["verdict"] == "flagged"
    again = client.post("/v1/items", json={"external_id": "a-post-9", "media_uri": "x.jpg"},
                        headers=tenants["a"]["ingest"])
    assert again.status_code == 200 and again.json()["id"] == real["id"]


def test_the_audit_actor_of_a_submit_names_the_token(client, tenants, submit, rt, media):
    item = submit(tenants["a"]["ingest"], "who-1")["id"]
    uri, _ = media()
    batch = client.post("/v1/items/batch", json={"items": [{"external_id": "who-2", "media_uri": uri}]},
                        headers=tenants["a"]["ingest"]).json()["results"][0]["id"]
    token_id = next(t["id"] for t in tokens.list_tokens(rt.settings.database_url) if t["name"] == "a-ingest")
    for item_id in (item, batch):
        events = client.get(f"/v1/audit?item_id={item_id}&action=submit", headers=tenants["a"]["admin"]).json()
        assert [e["actor"] for e in events["events"]] == [f"a-ingest (token {token_id})"]
    assert client.get("/v1/audit?actor=a-ingest&action=submit", headers=tenants["a"]["admin"]).json()[
        "events"][0]["item_id"] in (item, batch)


def test_a_token_for_several_tenants_names_the_one_it_submits_for(client, tenants, every, media, rt):
    uri, _ = media()
    body = {"external_id": "multi-1", "media_uri": uri}
    unnamed = client.post("/v1/items", json=body, headers=every)
    assert unnamed.status_code == 422 and "tenant" in unnamed.json()["message"]
    named = client.post("/v1/items?tenant=b", json=body, headers=every)
    assert named.status_code == 202
    assert client.get("/v1/items/multi-1", headers=tenants["b"]["ingest"]).json()["id"] == named.json()["id"]
    assert client.get("/v1/items/multi-1", headers=tenants["a"]["ingest"]).status_code == 404
    batch = client.post("/v1/items/batch?tenant=a", json={"items": [body]}, headers=every).json()
    assert batch["created"] == 1
    # Both tenants now have "multi-1": a token for both must say which it means.
    ambiguous = client.get("/v1/items/multi-1", headers=every)
    assert ambiguous.status_code == 422 and "?tenant=NAME" in ambiguous.json()["message"]
    assert client.get("/v1/items/multi-1?tenant=a", headers=every).json()["id"] == batch["results"][0]["id"]
    assert [i["id"] for i in client.get("/v1/items?tenant=b", headers=every).json()["items"]] == [
        named.json()["id"]]


@pytest.mark.parametrize("query", ["?tenant=b", "?tenant=nowhere"])
def test_a_tenant_outside_the_token_is_refused_like_an_unknown_one(client, tenants, media, rt, query):
    uri, _ = media()
    for path, body in (("/v1/items", {"external_id": "x", "media_uri": uri}),
                       ("/v1/items/batch", {"items": [{"external_id": "x", "media_uri": uri}]})):
        response = client.post(path + query, json=body, headers=tenants["a"]["ingest"])
        assert response.status_code == 422
        assert response.json()["message"] == f"tenant: no tenant named {query[8:]!r} that this token acts for"
    assert client.get(f"/v1/items{query}", headers=tenants["a"]["reviewer"]).status_code == 422
    assert client.get("/v1/items", headers=tenants["b"]["reviewer"]).json()["items"] == []  # nothing stored


def test_bank_entries_belong_to_a_tenant_or_to_every_tenant(client, tenants, every, submit, media):
    _, data = media()
    key = hashlib.sha256(data).hexdigest()
    own = client.post("/v1/bank", json={"content_key": key, "verdict": "rejected", "note": "a's list"},
                      headers=tenants["a"]["admin"])
    assert own.status_code == 201 and own.json()["tenant"] == "a" and own.json()["added_by"].startswith("a-admin")
    glob = client.post("/v1/bank", json={"content_key": "c" * 64, "verdict": "rejected"}, headers=every)
    assert glob.status_code == 201 and glob.json()["tenant"] is None
    seen = lambda h: {e["id"] for e in client.get("/v1/bank", headers=h).json()["items"]}  # noqa: E731
    assert seen(tenants["a"]["reviewer"]) == {own.json()["id"], glob.json()["id"]}
    assert seen(tenants["b"]["reviewer"]) == {glob.json()["id"]}
    assert client.delete(f"/v1/bank/{own.json()['id']}", headers=tenants["b"]["admin"]).status_code == 404
    refused = client.delete(f"/v1/bank/{glob.json()['id']}", headers=tenants["a"]["admin"])
    assert refused.status_code == 403 and "global" in refused.json()["message"]
    # The same bytes: a's item is decided by a's entry, b's item never by it.
    a_item = submit(tenants["a"]["ingest"], "banked", data=data)["id"]
    b_item = submit(tenants["b"]["ingest"], "banked", data=data)["id"]
    a_view = client.get(f"/v1/items/{a_item}", headers=tenants["a"]["reviewer"]).json()
    b_view = client.get(f"/v1/items/{b_item}", headers=tenants["b"]["reviewer"]).json()
    assert a_view["verdict"] == "rejected" and f"hash bank entry #{own.json()['id']}" in a_view["reasons"][0]
    assert b_view["verdict"] == "approved" and not any("hash bank" in r for r in b_view["reasons"])


def test_a_reused_analysis_never_names_another_tenants_item(client, tenants, submit, media, fake_provider):
    _, data = media("Hate Symbols")
    first = submit(tenants["a"]["ingest"], "orig", data=data)["id"]
    calls = len(fake_provider.calls)
    theirs = submit(tenants["b"]["ingest"], "copy", data=data)["id"]
    ours = submit(tenants["a"]["ingest"], "copy", data=data)["id"]
    assert len(fake_provider.calls) == calls  # reused across tenants: same bytes, same labels, paid once
    b_view = client.get(f"/v1/items/{theirs}", headers=tenants["b"]["admin"]).json()
    assert b_view["verdict"] == "flagged" and "an earlier item reused" in b_view["reasons"][-1]
    b_audit = client.get(f"/v1/audit?item_id={theirs}", headers=tenants["b"]["admin"]).json()["events"]
    assert first not in str(b_view) + str(b_audit)
    a_view = client.get(f"/v1/items/{ours}", headers=tenants["a"]["admin"]).json()
    assert f"of item {first} reused" in a_view["reasons"][-1]  # the same tenant's item is named
