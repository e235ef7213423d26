"""GET/POST/DELETE /v1/bank: the hash bank over HTTP, with the CLI's rules and the API's roles."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.items import services as service
from moderation.items import models as m
from moderation.infra.db import transaction

KEY = "b" * 64


def test_add_list_remove(client, auth, rt):
    added = client.post("/v1/bank", headers=auth["admin"],
                        json={"content_key": KEY, "verdict": "rejected", "note": "hash list 2026-11"})
    assert added.status_code == 201, added.json()
    entry = added.json()
    assert (entry["content_key"], entry["verdict"], entry["note"], entry["source"]) == (
        KEY, "rejected", "hash list 2026-11", "api")
    again = client.post("/v1/bank", headers=auth["admin"], json={"content_key": KEY, "verdict": "rejected"})
    assert again.status_code == 200 and again.json()["id"] == entry["id"]
    listed = client.get("/v1/bank", headers=auth["reviewer"])
    assert listed.status_code == 200 and [e["id"] for e in listed.json()["items"]] == [entry["id"]]
    removed = client.delete(f"/v1/bank/{entry['id']}", headers=auth["admin"])
    assert removed.status_code == 200 and removed.json()["removed_at"] and removed.json()["removed_by"]
    assert client.get("/v1/bank", headers=auth["admin"]).json()["items"] == []
    assert len(client.get("/v1/bank?include_removed=true", headers=auth["admin"]).json()["items"]) == 1
    gone = client.delete(f"/v1/bank/{entry['id']}", headers=auth["admin"])
    assert gone.status_code == 404 and f"no active bank entry #{entry['id']}" in gone.json()["message"]



def test_the_list_is_a_page_like_items(client, auth):
    """GET /v1/bank answers with the shape of GET /v1/items (one schema, Page): items, limit, offset, next_offset."""
    keys = [f"{n:064x}" for n in range(5)]
    for key in keys:
        assert client.post("/v1/bank", headers=auth["admin"], json={"content_key": key, "verdict": "rejected"}) \
            .status_code == 201
    first = client.get("/v1/bank?limit=2", headers=auth["reviewer"]).json()
    assert set(first) == set(client.get("/v1/items", headers=auth["reviewer"]).json()) == {
        "items", "limit", "offset", "next_offset"}
    assert [e["content_key"] for e in first["items"]] == keys[:-3:-1] and first["next_offset"] == 2
    pages, offset = [first], first["next_offset"]
    while offset is not None:
        pages.append(client.get(f"/v1/bank?limit=2&offset={offset}", headers=auth["reviewer"]).json())
        offset = pages[-1]["next_offset"]
    assert [e["content_key"] for p in pages for e in p["items"]] == keys[::-1]  # newest first, each once
    assert [(p["limit"], p["offset"]) for p in pages] == [(2, 0), (2, 2), (2, 4)]
    schema = client.get("/openapi.json", headers=auth["admin"]).json()["components"]["schemas"]
    assert set(schema["BankPage"]["properties"]) == set(schema["ItemPage"]["properties"])


@pytest.mark.parametrize("query, message", [
    ("limit=0", "query.limit: Input should be greater than or equal to 1"),
    ("offset=-1", "query.offset: Input should be greater than or equal to 0"),
    ("offset=x", "query.offset: Input should be a valid integer, unable to parse string as an integer"),
])
def test_bad_paging_is_422(client, auth, query, message):
    answer = client.get(f"/v1/bank?{query}", headers=auth["reviewer"])
    assert answer.status_code == 422 and answer.json()["message"] == message

def test_bank_an_item_by_id_and_the_next_copy_is_decided_from_it(client, auth, rt, flagged, media_root,
                                                                  fake_provider):
    item_id = flagged()
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        key, uri = item.content_key, item.media_uri
    added = client.post("/v1/bank", headers=auth["admin"], json={"item_id": item_id, "verdict": "rejected"})
    assert added.status_code == 201 and added.json()["content_key"] == key
    calls = len(fake_provider.calls)
    copy = service.submit(uri, external_id="repost", rt=rt).item_id
    assert service.process_image(copy, rt=rt) == "rejected" and len(fake_provider.calls) == calls


@pytest.mark.parametrize("role, method, path, body", [
    ("reviewer", "post", "/v1/bank", {"content_key": KEY, "verdict": "rejected"}),
    ("ingest", "get", "/v1/bank", None),
    ("reviewer", "delete", "/v1/bank/1", None),
])
def test_roles(client, auth, role, method, path, body):
    kwargs = {"json": body} if body else {}
    assert getattr(client, method)(path, headers=auth[role], **kwargs).status_code == 403


@pytest.mark.parametrize("body, status, named", [
    ({"content_key": KEY, "verdict": "flagged"}, 422, "verdict"),
    ({"verdict": "rejected"}, 422, "give exactly one of content_key and item_id"),
    ({"content_key": KEY, "item_id": "x", "verdict": "rejected"}, 422, "give exactly one of content_key and item_id"),
    ({"content_key": "a\nb", "verdict": "rejected"}, 422, "control characters"),
    ({"content_key": "k" * 256, "verdict": "rejected"}, 422, "content_key"),
    ({"content_key": KEY, "verdict": "rejected", "note": "nul \x00"}, 422, "note"),
    ({"item_id": "no-such-item", "verdict": "rejected"}, 404, "no item 'no-such-item'"),
])
def test_bad_requests_are_refused_and_store_nothing(client, auth, rt, body, status, named):
    answer = client.post("/v1/bank", headers=auth["admin"], json=body)
    assert answer.status_code == status and named in answer.json()["message"], answer.json()
    assert client.get("/v1/bank", headers=auth["admin"]).json()["items"] == []


def test_the_other_verdict_is_a_conflict(client, auth):
    client.post("/v1/bank", headers=auth["admin"], json={"content_key": KEY, "verdict": "approved"})
    clash = client.post("/v1/bank", headers=auth["admin"], json={"content_key": KEY, "verdict": "rejected"})
    assert clash.status_code == 409 and "already banked as approved" in clash.json()["message"]


def test_an_item_not_decided_yet_cannot_be_banked(client, auth, rt, media_root):
    from tests.conftest import jpeg_bytes

    (media_root / "new.jpg").write_bytes(jpeg_bytes())
    item_id = service.submit("new.jpg", rt=rt).item_id
    answer = client.post("/v1/bank", headers=auth["admin"], json={"item_id": item_id, "verdict": "rejected"})
    assert answer.status_code == 409 and "has no content key yet (status queued)" in answer.json()["message"]
    with transaction(rt.settings.database_url) as s:
        assert s.scalar(select(m.Item.status).where(m.Item.id == item_id)) == "queued"
