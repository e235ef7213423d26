"""GET /metrics on the API: a token is needed; the counters move by exactly what happened."""

from __future__ import annotations

import fakeredis
import pytest
from prometheus_client.parser import text_string_to_metric_families

from moderation.items import services as service
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for


def samples(text: str) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture(autouse=True)
def fake_broker(monkeypatch):
    server = fakeredis.FakeServer()
    monkeypatch.setattr("redis.Redis.from_url", lambda *a, **k: fakeredis.FakeRedis(server=server))
    return fakeredis.FakeRedis(server=server)


def test_metrics_need_a_token(client):
    assert client.get("/metrics").status_code == 401


def test_metrics_count_what_this_process_decided(client, auth, rt, media_root, fake_provider, fake_broker):
    def scrape():
        response = client.get("/metrics", headers=auth["ingest"])
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        return samples(response.text)

    (media_root / "ok.jpg").write_bytes(jpeg_bytes(color=(9, 9, 9)))
    (media_root / "bad.jpg").write_bytes(jpeg_bytes(color=(99, 9, 9)))
    import hashlib

    fake_provider.by_key[hashlib.sha256((media_root / "bad.jpg").read_bytes()).hexdigest()] = \
        labels_for("Exposed Female Genitalia", 99)
    fake_broker.rpush("images", b"a", b"b", b"c")
    before = scrape()
    ids = [service.submit(name, rt=rt).item_id for name in ("ok.jpg", "ok.jpg", "bad.jpg")]
    for item_id in ids + ids:  # the second round is duplicate deliveries: nothing more counted
        service.process_image(item_id, rt=rt)
    after = scrape()

    def moved(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    decided = dict(provider="local", media_type="image")
    assert moved("modq_items_decided_total", verdict="approved", **decided) == 2
    assert moved("modq_items_decided_total", verdict="rejected", **decided) == 1
    assert moved("modq_submit_to_decision_seconds_count", media_type="image", provider="local") == 3
    assert after[("modq_queue_depth", (("queue", "images"),))] == 3
    assert after[("modq_outbox_backlog", ())] >= 1  # the rejected item's alert, not yet published
    assert after[("modq_state_up", (("source", "database"),))] == 1
