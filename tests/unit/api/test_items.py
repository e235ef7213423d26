"""Ingest API: submit (idempotent, refusals as 422), get, list with filters and pages."""

from __future__ import annotations

import pytest

from tests.conftest import jpeg_bytes

NESTED_9 = {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {}}}}}}}}}}


@pytest.fixture
def photo(media_root):
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    return "a.jpg"


def test_submit_is_202_with_the_item_id_then_idempotent(client, auth, rt, photo):
    body = {"external_id": "post-1", "media_uri": photo, "metadata": {"user": 42, "tags": ["a"]}}
    first = client.post("/v1/items", json=body, headers=auth["ingest"])
    assert first.status_code == 202, first.text
    created = first.json()
    assert created["created"] is True and created["status"] == "queued" and created["external_id"] == "post-1"
    assert first.headers["location"].endswith(f"/v1/items/{created['id']}")
    assert rt.dispatcher.sent == [(created["id"], "image")]
    again = client.post("/v1/items", json={**body, "media_uri": "other.jpg"}, headers=auth["ingest"])
    assert again.status_code == 200 and again.json()["id"] == created["id"] and again.json()["created"] is False
    assert len(rt.dispatcher.sent) == 1


@pytest.mark.parametrize("uri, message", [
    ("/etc/passwd", "outside the media root"),
    ("../x.jpg", "contains '..'"),
    ("gopher://h/x.jpg", "unsupported URI scheme"),
    ("missing.jpg", "no such file"),
    ("s3://Bad_Bucket/x.jpg", "invalid S3 bucket name"),
    ("file:///a%00b.jpg", "control characters"),
    ("s3://bucket/key%0A", "control characters"),
    ("a" * 300 + ".jpg", "File name too long"),
])
def test_refused_uris_are_422_with_the_reason(client, auth, uri, message):
    response = client.post("/v1/items", json={"external_id": "e", "media_uri": uri}, headers=auth["ingest"])
    assert response.status_code == 422 and message in response.json()["message"]


@pytest.mark.parametrize("body, where", [
    ({}, "external_id: Field required"),
    ({"external_id": "e"}, "media_uri: Field required"),
    ({"external_id": "", "media_uri": "a.jpg"}, "external_id"),
    ({"external_id": "x" * 256, "media_uri": "a.jpg"}, "external_id"),
    ({"external_id": "e", "media_uri": "a.jpg", "media_type": "audio"}, "media_type"),
    ({"external_id": "e", "media_uri": "a.jpg", "metadata": []}, "metadata"),
    ({"external_id": "e", "media_uri": "a.jpg", "colour": "red"}, "colour: Extra inputs"),
    ({"external_id": "e\x00", "media_uri": "a.jpg"}, "NUL"),
    ({"external_id": "e", "media_uri": "a.jpg", "metadata": {"k": "\x00"}}, "NUL"),
    ({"external_id": "e", "media_uri": "a.jpg", "metadata": {"k": "x" * 17000}}, "over 16384 bytes"),
    ({"external_id": "e", "media_uri": "a.jpg", "metadata": NESTED_9}, "deeper"),
])
def test_validation_errors_are_422_with_a_message(client, auth, body, where):
    response = client.post("/v1/items", json=body, headers=auth["ingest"])
    assert response.status_code == 422
    assert where in response.json()["message"]


@pytest.mark.parametrize("raw", [b'{"external_id": "e", "media_uri": "a.jpg", "metadata": {"x": NaN}}',
                                 b'{"external_id": "e", "media_uri": "a.jpg", "metadata": {"x": Infinity}}',
                                 b'{"external_id": "e\\ud800", "media_uri": "a.jpg"}',
                                 b'{"external_id": ', b"\xff\xfe", b"[" * 5000 + b"]" * 5000])
def test_hostile_json_is_4xx_not_500(client, auth, photo, raw):
    headers = {**auth["ingest"], "Content-Type": "application/json"}
    response = client.post("/v1/items", content=raw, headers=headers)
    assert response.status_code in (400, 422), response.text  # 400: nested too deep to parse
    assert response.json()["message"]


def test_get_item(client, auth, flagged):
    item_id = flagged(external_id="post-7")
    response = client.get(f"/v1/items/{item_id}", headers=auth["ingest"])
    assert response.status_code == 200
    view = response.json()
    assert (view["status"], view["verdict"], view["external_id"]) == ("flagged", "flagged", "post-7")
    assert view["rules"][0]["label"] == "Hate Symbols" and view["rules"][0]["action"] == "flag"
    assert view["labels"][0]["fired"] is True
    assert view["review"] is None and view["lease"] is None


def test_unknown_item_is_404(client, auth):
    response = client.get("/v1/items/no-such-item", headers=auth["ingest"])
    assert response.status_code == 404
    assert response.json()["message"] == "no item with id or external_id 'no-such-item'"


def test_get_item_by_external_id(client, auth, flagged):
    item_id = flagged(external_id="post 8 ü")
    response = client.get("/v1/items/post%208%20%C3%BC", headers=auth["ingest"])
    assert response.status_code == 200 and response.json()["id"] == item_id
    assert client.get("/v1/items/post", headers=auth["ingest"]).status_code == 404  # exact, no prefix
    longest = flagged(external_id="e" * 255)
    assert client.get(f"/v1/items/{'e' * 255}", headers=auth["reviewer"]).json()["id"] == longest
    too_long = client.get(f"/v1/items/{'e' * 256}", headers=auth["reviewer"])
    assert too_long.status_code == 422 and "item_id: String should have at most 255 characters" in \
        too_long.json()["message"]


def test_an_id_wins_over_an_equal_external_id(client, auth, flagged):
    """Ambiguity is resolved one way: the item whose id it is, else the one whose external_id it is."""
    first = flagged()
    second = flagged(external_id=first)  # another item's external id spells the first one's id
    assert client.get(f"/v1/items/{first}", headers=auth["ingest"]).json()["id"] == first
    assert client.get(f"/v1/items/{second}", headers=auth["ingest"]).json()["external_id"] == first


def test_list_filters_and_pages(client, auth, flagged):
    flagged_ids = [flagged() for _ in range(3)]
    approved = flagged(label=None, external_id="ok-1")
    get = lambda query: client.get(f"/v1/items?{query}", headers=auth["ingest"]).json()  # noqa: E731
    assert {i["id"] for i in get("status=flagged")["items"]} == set(flagged_ids)
    assert [i["id"] for i in get("verdict=approved")["items"]] == [approved]
    assert [i["id"] for i in get("external_id=ok-1")["items"]] == [approved]
    first = get("limit=3")
    assert len(first["items"]) == 3 and first["next_offset"] == 3
    rest = get("limit=3&offset=3")
    assert len(rest["items"]) == 1 and rest["next_offset"] is None
    assert {i["id"] for i in first["items"] + rest["items"]} == {*flagged_ids, approved}


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "offset=-1", "status=weird", "verdict=maybe",
                                   "external_id=" + "x" * 256])
def test_list_query_limits(client, auth, query):
    response = client.get(f"/v1/items?{query}", headers=auth["ingest"])
    assert response.status_code == 422 and response.json()["message"]
