"""ops.collectors: the gauges read on each scrape from the broker and the database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import fakeredis
from prometheus_client.parser import text_string_to_metric_families

from moderation.alerts.models import Alert
from moderation.infra import metrics
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.ops.collectors import StateCollector
from moderation.review.models import Review
from worker.app import QUEUES


def test_state_collector_reads_queues_outbox_and_video_jobs(rt, monkeypatch):
    server = fakeredis.FakeServer()
    monkeypatch.setattr("redis.Redis.from_url", lambda *a, **k: fakeredis.FakeRedis(server=server))
    client = fakeredis.FakeRedis(server=server)
    client.rpush("images", *[b"m"] * 5)
    client.rpush("images\x06\x169", b"urgent")
    client.rpush("alerts", b"a")
    client.hset("unacked", "tag-1", b"x")
    url = rt.settings.database_url
    old = datetime.now(timezone.utc) - timedelta(seconds=120)
    with transaction(url) as s:
        video = m.Item(media_uri="s3://b/v.mp4", media_type="video", status=m.SUBMITTED)
        image = m.Item(media_uri="s3://b/i.jpg", media_type="image", status=m.REJECTED)
        waiting = [m.Item(media_uri=f"s3://b/q{n}.jpg", media_type="image", status=m.QUEUED,
                          created_at=old - timedelta(seconds=n)) for n in (0, 60)]
        flagged = m.Item(media_uri="s3://b/f.jpg", media_type="image", status=m.FLAGGED, created_at=old,
                         review_priority=1)
        reviewed = m.Item(media_uri="s3://b/r.jpg", media_type="image", status=m.FLAGGED, created_at=old)
        s.add_all([video, image, flagged, reviewed, *waiting])
        s.flush()
        s.add(Review(item_id=reviewed.id, reviewer="r", verdict=m.APPROVED, reason="fine", previous_status=m.FLAGGED))
        s.flush()
        s.add_all([Alert(item_id=image.id, kind="decision", dedup_id="d1", subject="s", created_at=old),
                   Alert(item_id=image.id, kind="decision", dedup_id="d2", subject="s"),
                   Alert(item_id=image.id, kind="decision", dedup_id="d3", subject="s",
                           published_at=datetime.now(timezone.utc)),
                   # an undone review's alert, cancelled (issue 17.2): never sent, so no backlog, however old
                   Alert(item_id=image.id, kind="review", dedup_id="d4", subject="s", created_at=old - timedelta(hours=2),
                         cancelled_at=old),
                   # a review's alert held for its undo window: not due yet, so no backlog either
                   Alert(item_id=image.id, kind="review", dedup_id="d5", subject="s", created_at=old - timedelta(hours=1),
                         hold_until=datetime.now(timezone.utc) + timedelta(seconds=10))])

    body, content_type = metrics.render_latest(StateCollector.of(rt.settings, QUEUES))
    assert content_type.startswith("text/plain")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for fam in text_string_to_metric_families(body.decode()) for s in fam.samples}
    assert samples[("modq_queue_depth", (("queue", "images"),))] == 6
    assert samples[("modq_queue_depth", (("queue", "alerts"),))] == 1
    assert samples[("modq_queue_depth", (("queue", "videos"),))] == 0
    assert samples[("modq_broker_unacked", ())] == 1
    assert samples[("modq_outbox_backlog", ())] == 2
    assert 119 <= samples[("modq_outbox_oldest_age_seconds", ())] < 600
    assert samples[("modq_video_jobs_in_flight", ())] == 1
    assert samples[("modq_items_in_flight", (("status", "queued"),))] == 2
    assert samples[("modq_items_in_flight", (("status", "submitted"),))] == 1
    assert samples[("modq_items_in_flight", (("status", "processing"),))] == 0
    assert 179 <= samples[("modq_items_oldest_in_flight_seconds", (("status", "queued"),))] < 600
    assert samples[("modq_items_oldest_in_flight_seconds", (("status", "processing"),))] == 0
    # The reviewed item is no longer waiting; the rejected one may still be checked (review.queries).
    # By category too (the default priorities name rank 1 Self-Harm; unranked: other); "all": every category.
    assert samples[("modq_review_backlog", (("category", "all"), ("verdict", "flagged")))] == 1
    assert samples[("modq_review_backlog", (("category", "all"), ("verdict", "rejected")))] == 1
    assert samples[("modq_review_backlog", (("category", "Self-Harm"), ("verdict", "flagged")))] == 1
    assert samples[("modq_review_backlog", (("category", "other"), ("verdict", "rejected")))] == 1
    assert 119 <= samples[("modq_review_oldest_waiting_seconds", (("category", "all"), ("verdict", "flagged")))] < 600
    assert 119 <= samples[("modq_review_oldest_waiting_seconds",
                           (("category", "Self-Harm"), ("verdict", "flagged")))] < 600
    assert samples[("modq_state_up", (("source", "redis"),))] == 1
    assert samples[("modq_state_up", (("source", "database"),))] == 1


def test_state_collector_answers_when_sources_are_down(make_settings):
    settings = make_settings(broker_url="redis://127.0.0.1:1/0", database_url="postgresql://nobody@127.0.0.1:1/none")
    body, _ = metrics.render_latest(StateCollector.of(settings, QUEUES))
    text = body.decode()
    assert 'modq_state_up{source="redis"} 0.0' in text and 'modq_state_up{source="database"} 0.0' in text
    assert "modq_queue_depth{" not in text and "modq_outbox_backlog " not in text
