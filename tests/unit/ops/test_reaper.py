"""The reaper re-sends items whose task was lost; the database says which (SQLite, fake dispatcher)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from moderation.ops import reaper
from moderation.items import models as m
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction


def add(rt, status: str, idle_seconds: float, media_type: str = "image") -> str:
    with transaction(rt.settings.database_url) as s:
        item = m.Item(media_uri="s3://b/k.jpg", media_type=media_type, item_metadata={}, status=status)
        s.add(item)
        s.flush()
        item.updated_at = utcnow() - timedelta(seconds=idle_seconds)
        return item.id


def test_resends_in_flight_items_past_the_deadline_and_nothing_else(rt):
    deadline = rt.settings.reaper_stuck_after_seconds
    stuck = {add(rt, "queued", deadline + 5): "image", add(rt, "processing", deadline + 60): "image",
             add(rt, "submitted", deadline + 1, media_type="video"): "video"}
    add(rt, "queued", deadline - 30)  # still within its deadline
    for status in ("approved", "flagged", "rejected", "failed"):
        add(rt, status, deadline * 10)

    resent = reaper.reap(rt)

    assert sorted(rt.dispatcher.sent) == sorted(stuck.items())  # routed by media type
    assert {r.item_id for r in resent} == set(stuck) and all(r.dispatched for r in resent)
    with transaction(rt.settings.database_url) as s:
        events = list(s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "resend")))
        statuses = {i.id: i.status for i in s.scalars(select(m.Item).where(m.Item.id.in_(list(stuck))))}
    assert {e.item_id for e in events} == set(stuck) and {e.actor for e in events} == {"reaper"}
    assert all(e.from_status == e.to_status and "task re-sent" in e.reason for e in events)
    assert statuses == {i: s for i, s in statuses.items() if s in m.IN_FLIGHT}  # status unchanged


def test_an_item_is_resent_once_per_deadline(rt):
    item_id = add(rt, "queued", rt.settings.reaper_stuck_after_seconds + 1)
    assert [r.item_id for r in reaper.reap(rt)] == [item_id]
    assert reaper.reap(rt) == []  # the re-send bumped updated_at
    later = utcnow() + timedelta(seconds=rt.settings.reaper_stuck_after_seconds + 1)
    assert [r.item_id for r in reaper.reap(rt, now=later)] == [item_id]


def test_a_broker_that_refuses_leaves_the_item_for_the_next_run(rt):
    class DownDispatcher:
        def moderate(self, item_id, media_type):
            raise ConnectionError("redis is down")

    rt.dispatcher = DownDispatcher()
    item_id = add(rt, "processing", rt.settings.reaper_stuck_after_seconds + 1)
    (resent,) = reaper.reap(rt)
    assert resent.item_id == item_id and not resent.dispatched and resent.idle_seconds > 0
