"""POST /v1/items/batch: one answer per item, single submit's messages, idempotent, one dispatch per batch."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from moderation.api.batch import BATCH_MAX
from moderation.infra.db import transaction
from moderation.items import models as m, services as service
from tests.conftest import jpeg_bytes

URL = "/v1/items/batch"
NESTED_9 = {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {}}}}}}}}}}
# Items POST /v1/items refuses (422), each for its own reason.
BAD_ITEMS = [
    {"external_id": "bad-1", "media_uri": "/etc/passwd"},
    {"external_id": "bad-2", "media_uri": "../x.jpg"},
    {"external_id": "bad-3", "media_uri": "gopher://h/x.jpg"},
    {"external_id": "bad-4", "media_uri": "missing.jpg"},
    {"external_id": "bad-5", "media_uri": "s3://Bad_Bucket/x.jpg"},
    {"external_id": "bad-6", "media_uri": "file:///a%00b.jpg"},
    {"external_id": "bad-7", "media_uri": "a" * 300 + ".jpg"},
    {"media_uri": "a.jpg"},
    {"external_id": "bad-9"},
    {"external_id": "", "media_uri": "a.jpg"},
    {"external_id": "x" * 256, "media_uri": "a.jpg"},
    {"external_id": "bad-12", "media_uri": "a.jpg", "media_type": "audio"},
    {"external_id": "bad-13", "media_uri": "a.jpg", "metadata": []},
    {"external_id": "bad-14", "media_uri": "a.jpg", "colour": "red"},
    {"external_id": "bad\x00", "media_uri": "a.jpg"},
    {"external_id": "bad-16", "media_uri": "a.jpg", "metadata": {"k": "x" * 17000}},
    {"external_id": "bad-17", "media_uri": "a.jpg", "metadata": NESTED_9},
]


def stored(rt) -> dict[str | None, str]:
    """external_id -> item id of every stored item."""
    with transaction(rt.settings.database_url) as s:
        return dict(s.execute(select(m.Item.external_id, m.Item.id)).all())


@pytest.fixture
def photos(media_root):
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (media_root / name).write_bytes(jpeg_bytes())


def test_mixed_batch_answers_each_item_in_order_with_single_submits_messages(client, auth, rt, photos):
    good = [{"external_id": "ok-1", "media_uri": "a.jpg", "metadata": {"user": "7"}},
            {"external_id": "ok-2", "media_uri": "b.jpg"},
            {"external_id": "ok-3", "media_uri": "s3://ugc/clip.mp4", "media_type": "video"}]
    items = [good[0], *BAD_ITEMS[:9], good[1], *BAD_ITEMS[9:], "not an object", good[2]]
    response = client.post(URL, json={"items": items}, headers=auth["ingest"])

    assert response.status_code == 200, response.text
    body = response.json()
    results = body["results"]
    assert len(results) == len(items) and (body["created"], body["known"], body["refused"]) == (3, 0, len(items) - 3)
    created = [r for r in results if r["created"]]
    assert [r["external_id"] for r in created] == ["ok-1", "ok-2", "ok-3"]
    assert all(r["status"] == "queued" and r["error"] is None for r in created)
    assert stored(rt) == {r["external_id"]: r["id"] for r in created}
    assert rt.dispatcher.batches == [3]
    assert sorted(rt.dispatcher.sent) == sorted([(created[0]["id"], "image"), (created[1]["id"], "image"),
                                                  (created[2]["id"], "video")])
    refused = [(item, r) for item, r in zip(items, results) if not r["created"]]
    assert all(r["id"] is None and r["status"] is None and r["error"] for _, r in refused)
    assert refused[-1][1]["error"] == "the item is a string, not a JSON object"
    for item, result in refused[:-1]:  # the very words POST /v1/items answers, which stores nothing either
        single = client.post("/v1/items", json=item, headers=auth["ingest"])
        assert single.status_code == 422 and result["error"] == single.json()["message"], item
    assert len(stored(rt)) == 3
    assert refused[0][1]["external_id"] == "bad-1"  # echoed when it is a usable string


def test_repeats_inside_a_batch_and_across_batches_are_the_first_item(client, auth, rt, photos):
    first = client.post(URL, json={"items": [{"external_id": "p-1", "media_uri": "a.jpg"},
                                             {"external_id": "p-1", "media_uri": "b.jpg"},
                                             {"external_id": "p-2", "media_uri": "missing.jpg"},
                                             {"external_id": "p-2", "media_uri": "c.jpg"}]},
                        headers=auth["ingest"]).json()
    p1, repeat, p2_refused, p2 = first["results"]
    assert p1["created"] and not repeat["created"] and repeat["id"] == p1["id"]
    assert "no such file" in p2_refused["error"] and p2["created"]
    assert (first["created"], first["known"], first["refused"]) == (2, 1, 1)

    single = client.post("/v1/items", json={"external_id": "p-3", "media_uri": "a.jpg"}, headers=auth["ingest"])
    second = client.post(URL, json={"items": [{"external_id": "p-2", "media_uri": "/etc/passwd"},
                                              {"external_id": "p-3", "media_uri": "b.jpg"},
                                              {"external_id": "p-1", "media_uri": "a.jpg"}]},
                         headers=auth["ingest"]).json()
    assert [(r["id"], r["created"], r["error"]) for r in second["results"]] == [
        (p2["id"], False, None), (single.json()["id"], False, None), (p1["id"], False, None)]
    assert (second["created"], second["known"]) == (0, 3)
    assert len(stored(rt)) == 3 and rt.dispatcher.batches == [2]  # nothing new, nothing sent


def test_known_items_report_their_status_now(client, auth, rt, photos, fake_provider):
    first = client.post(URL, json={"items": [{"external_id": "s-1", "media_uri": "a.jpg"}]}, headers=auth["ingest"])
    service.process_image(first.json()["results"][0]["id"], rt=rt)
    again = client.post(URL, json={"items": [{"external_id": "s-1", "media_uri": "a.jpg"}]}, headers=auth["ingest"])
    assert again.json()["results"][0]["status"] == "approved"


def test_501_items_are_refused_whole_with_a_clear_message(client, auth, rt, photos):
    items = [{"external_id": f"n-{i}", "media_uri": "a.jpg"} for i in range(BATCH_MAX + 1)]
    response = client.post(URL, json={"items": items}, headers=auth["ingest"])
    assert response.status_code == 422
    assert response.json()["message"] == ("items: a batch holds at most 500 items, not 501: send the rest in "
                                          "another request")
    assert stored(rt) == {} and rt.dispatcher.sent == []

    accepted = client.post(URL, json={"items": items[:BATCH_MAX]}, headers=auth["ingest"])
    assert accepted.status_code == 200 and accepted.json()["created"] == BATCH_MAX
    assert len(stored(rt)) == BATCH_MAX and rt.dispatcher.batches == [BATCH_MAX]


@pytest.mark.parametrize("body, message", [
    ({"items": []}, "items: List should have at least 1 item"),
    ({}, "items: Field required"),
    ({"items": {"external_id": "e"}}, "items: Input should be a valid list"),
    ({"items": [], "extra": 1}, "extra: Extra inputs are not permitted"),
    ([{"external_id": "e", "media_uri": "a.jpg"}], "not a JSON object"),
])
def test_a_malformed_batch_is_422_and_stores_nothing(client, auth, rt, photos, body, message):
    response = client.post(URL, json=body, headers=auth["ingest"])
    assert response.status_code == 422 and message in response.json()["message"]
    assert stored(rt) == {}


@pytest.mark.parametrize("role, code", [("reviewer", 403), (None, 401)])
def test_only_ingest_and_admin_tokens_may_submit(client, auth, rt, photos, role, code):
    headers = auth[role] if role else {"Authorization": "Bearer modq_not-a-token"}
    response = client.post(URL, json={"items": [{"external_id": "t", "media_uri": "a.jpg"}]}, headers=headers)
    assert response.status_code == code and stored(rt) == {}
    ok = client.post(URL, json={"items": [{"external_id": "t", "media_uri": "a.jpg"}]}, headers=auth["admin"])
    assert ok.json()["created"] == 1


def test_a_broker_that_is_down_leaves_the_batch_queued(client, auth, rt, photos):
    class DownDispatcher:
        def moderate_many(self, items):
            raise ConnectionError("redis down")

    rt.dispatcher = DownDispatcher()
    response = client.post(URL, json={"items": [{"external_id": "d-1", "media_uri": "a.jpg"},
                                                {"external_id": "d-2", "media_uri": "b.jpg"}]},
                           headers=auth["ingest"])
    assert response.status_code == 200 and response.json()["created"] == 2  # stored: the reaper sends them
    with transaction(rt.settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(m.Item).where(m.Item.status == "queued")) == 2


def test_the_batch_body_limit_is_its_own_setting(client, auth, rt):
    limit = rt.settings.api_max_batch_body_bytes
    assert limit > rt.settings.api_max_body_bytes
    fits = {"items": [{"external_id": f"b-{i}", "media_uri": "missing.jpg", "metadata": {"pad": "x" * 1000}}
                      for i in range(100)]}  # over the single-item limit, within the batch one
    assert client.post(URL, json=fits, headers=auth["ingest"]).status_code == 200
    over = {"items": [{"external_id": "e", "media_uri": "a.jpg", "metadata": {"pad": "x" * limit}}]}
    response = client.post(URL, json=over, headers=auth["ingest"])
    assert response.status_code == 413 and "MODQ_API_MAX_BATCH_BODY_BYTES" in response.json()["message"]


def test_a_refused_external_id_is_echoed_only_when_it_could_be_written(client, auth, rt):
    raw = json.dumps({"items": [{"external_id": "\ud800", "media_uri": "s3://bucket/x.jpg"},
                                {"external_id": "e\x00", "media_uri": "s3://bucket/x.jpg"},
                                {"external_id": "fine", "media_uri": "s3://Bad_Bucket/x.jpg"}]}).encode()
    response = client.post(URL, content=raw, headers={**auth["ingest"], "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert [r["external_id"] for r in response.json()["results"]] == [None, None, "fine"]
    assert all(r["error"] for r in response.json()["results"]) and stored(rt) == {}
