"""The `modq stats` report: queue depths, items by status, recent outcomes, latency, outbox, video."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import fakeredis
import pytest

from moderation.alerts.models import Alert
from moderation.infra.clock import utcnow
from moderation.items import services as service
from moderation.ops import stats
from moderation.items import models as m
from moderation.infra.db import transaction
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for
from worker.app import QUEUES


@pytest.fixture
def broker(monkeypatch):
    server = fakeredis.FakeServer()
    monkeypatch.setattr("redis.Redis.from_url", lambda *a, **k: fakeredis.FakeRedis(server=server))
    client = fakeredis.FakeRedis(server=server)
    client.rpush("images", b"1", b"2")
    client.rpush("videos", b"v")
    return client


@pytest.fixture
def activity(rt, media_root, fake_provider):
    """Two approved, one rejected (with its alert), one failed, one queued, one video running."""
    for name, color in (("a.jpg", (1, 1, 1)), ("b.jpg", (2, 2, 2)), ("x.jpg", (3, 3, 3))):
        (media_root / name).write_bytes(jpeg_bytes(color=color))
    (media_root / "broken.jpg").write_bytes(b"\xff\xd8\xff broken")
    fake_provider.by_key[hashlib.sha256((media_root / "x.jpg").read_bytes()).hexdigest()] = labels_for("Explicit", 99)
    ids = [service.submit(n, rt=rt).item_id for n in ("a.jpg", "b.jpg", "x.jpg", "broken.jpg", "a.jpg")]
    for item_id in ids[:4]:
        service.process_image(item_id, rt=rt)
    with transaction(rt.settings.database_url) as s:
        s.add(m.Item(media_uri="s3://b/v.mp4", media_type="video", status=m.SUBMITTED))
    return ids


def test_collect_reports_every_section(rt, broker, activity):
    with transaction(rt.settings.database_url) as s:  # an undone review's alert: cancelled, never sent, no backlog
        s.add(Alert(item_id=activity[2], kind="review", dedup_id="undone", subject="s", cancelled_at=utcnow()))
    sections = {s.key: s for s in stats.collect(rt.settings, timedelta(minutes=15), QUEUES)}
    assert [s.key for s in stats.collect(rt.settings, timedelta(minutes=15), QUEUES)] == \
        ["queues", "items", "recent", "latency", "outbox", "video", "calls", "cost"]
    assert all(s.error is None for s in sections.values()), {k: s.error for k, s in sections.items()}
    assert sections["queues"].data == {"waiting": {"images": 2, "videos": 1, "alerts": 0, "maintenance": 0,
                                                   "webhooks": 0},
                                       "unacked": 0}
    assert sections["items"].data["by_status"] == {"approved": 2, "rejected": 1, "failed": 1, "queued": 1,
                                                   "submitted": 1}
    assert sections["recent"].data["outcomes"] == {"approved": 2, "rejected": 1, "failed": 1}
    assert sections["latency"].data["image"]["count"] == 3
    assert 0 <= sections["latency"].data["image"]["p50"] < 60
    assert sections["outbox"].data["backlog"] == 1 and sections["outbox"].data["failing"] == 0
    assert sections["video"].data["in_flight"] == 1


def test_broker_down_is_reported_not_raised(rt, activity):
    settings = rt.settings.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"})
    sections = {s.key: s for s in stats.collect(settings, timedelta(minutes=15), QUEUES)}
    assert "cannot read the broker" in sections["queues"].error
    assert sections["items"].error is None and sections["items"].data["by_status"]["approved"] == 2


def test_a_failing_section_does_not_abort_the_others(rt, broker, activity):
    def broken(ctx):
        ctx.session.execute(__import__("sqlalchemy").text("SELECT * FROM no_such_table"))

    sections = stats.collect(rt.settings, timedelta(minutes=15), QUEUES, [broken, stats.items, stats.outbox])
    assert sections[0].error.startswith("OperationalError") or sections[0].error.startswith("ProgrammingError")
    assert sections[1].error is None and sections[1].data["by_status"]["approved"] == 2
    assert sections[2].error is None
