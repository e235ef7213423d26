"""Batch submit on the real broker: one pipelined Redis round trip per batch, and real workers decide it."""

from __future__ import annotations

import json
import uuid

import pytest
import redis
from celery import Celery

from moderation.items import services as service
from moderation.items.services import Entry
from tests.fakes.providers import labels_for
from tests.integration.conftest import wait_terminal
from worker.app import ROUTES
from worker.dispatch import CeleryDispatcher

pytestmark = pytest.mark.integration
BUCKET = "ugc-uploads"


def test_moderate_many_sends_every_task_in_one_pipelined_round_trip(broker_url, monkeypatch):
    prefix = f"batch-{uuid.uuid4().hex[:6]}:"  # out of the session worker's sight
    app = Celery("batch-test", broker=broker_url, set_as_current=False)
    app.conf.update(broker_transport_options={"global_keyprefix": prefix}, task_serializer="json",
                    task_routes={name: {"queue": queue} for name, queue in ROUTES.items()})
    pipelines, direct = [], []
    execute, command = redis.client.Pipeline.execute, redis.client.Redis.execute_command

    def counted_execute(self, *args, **kwargs):
        pipelines.append([c[0][0] for c in self.command_stack])
        return execute(self, *args, **kwargs)

    def counted_command(self, *args, **kwargs):
        direct.append(args[0])
        return command(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counted_execute)
    monkeypatch.setattr(redis.client.Redis, "execute_command", counted_command)
    items = [(f"img-{n}", "image") for n in range(40)] + [("vid-1", "video")]
    CeleryDispatcher(app).moderate_many(items)

    assert [p.count("LPUSH") for p in pipelines if "LPUSH" in p] == [41], "one pipeline holds every message"
    assert "LPUSH" not in direct, "no message sent on its own"
    client = redis.Redis.from_url(broker_url)
    try:
        images = [json.loads(raw) for raw in reversed(client.lrange(prefix + "images", 0, -1))]
        videos = [json.loads(raw) for raw in client.lrange(prefix + "videos", 0, -1)]
        assert [m["headers"]["argsrepr"] for m in images] == [repr((f"img-{n}",)) for n in range(40)]
        assert {m["headers"]["task"] for m in images} == {"modq.moderate_image"}
        assert [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in videos] == [("modq.start_video",
                                                                                      "('vid-1',)")]
        assert len({m["headers"]["id"] for m in images}) == 40  # a task id each
    finally:
        client.delete(*client.keys(prefix + "*"))


def test_a_batch_is_decided_by_real_workers(worker, rekognition, it_runtime):
    verdicts = {"clean.jpg": ([], "approved"), "symbol.jpg": (labels_for("Nazi Party", 72), "flagged"),
                "nude.jpg": (labels_for("Exposed Female Genitalia", 98.5), "rejected")}
    entries, expected = [], {}
    for name, (labels, verdict) in verdicts.items():
        key = f"batch-{uuid.uuid4().hex[:8]}/{name}"
        rekognition.add_s3_object(BUCKET, key, labels=[lab.to_dict() for lab in labels])
        entries.append(Entry(f"s3://{BUCKET}/{key}", f"batch-{uuid.uuid4().hex}"))
        expected[len(entries) - 1] = verdict
    entries.append(Entry("ftp://elsewhere/x.jpg", "batch-refused"))
    entries.append(Entry(entries[0].media_uri, entries[0].external_id))  # a repeat inside the batch

    results = service.submit_many(entries, rt=it_runtime)

    assert all(results[i].created and results[i].dispatched for i in expected)
    assert "unsupported URI scheme" in str(results[3]) and results[4].item_id == results[0].item_id
    rows = wait_terminal(it_runtime.settings.database_url, [results[i].item_id for i in expected])
    assert {i: rows[results[i].item_id].status for i in expected} == expected
