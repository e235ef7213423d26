"""submit_many: a batch with single submit's rules per item, one transaction, one dispatch (SQLite, fakes)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from moderation.bootstrap import InMemoryDispatcher
from moderation.domain.errors import RefusedSubmission
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m, services as service, submission
from moderation.items.services import Entry
from moderation.ops import reaper
from tests.conftest import jpeg_bytes


def rows(rt) -> dict[str, m.Item]:
    with transaction(rt.settings.database_url) as s:
        return {i.id: i for i in s.scalars(select(m.Item))}


def submit_events(rt) -> list[str]:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(m.AuditEvent.item_id).where(m.AuditEvent.action == "submit")))


def refusal(entry: Entry, rt) -> str:
    """What single submit says about this entry."""
    with pytest.raises(RefusedSubmission) as caught:
        service.submit(entry.media_uri, external_id=entry.external_id, metadata=entry.metadata,
                       media_type=entry.media_type, rt=rt)
    return str(caught.value)


@pytest.fixture
def photos(media_root):
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (media_root / name).write_bytes(jpeg_bytes())
    (media_root / "notes.txt").write_text("not media")


def test_mixed_batch_stores_the_good_refuses_the_bad_with_single_submits_messages(rt, photos):
    entries = [Entry("a.jpg", "ext-a", {"user": "1"}), Entry("/etc/passwd", "ext-bad"),
               Entry("b.jpg", "x" * 256), Entry("s3://bucket/clip.mp4", "ext-video"),
               Entry("missing.jpg", "ext-missing"), Entry("c.jpg", None), Entry("ftp://h/x.jpg", "ext-ftp")]
    results = service.submit_many(entries, rt=rt)

    assert len(results) == len(entries)
    good = {0: "image", 3: "video", 5: "image"}
    for i, result in enumerate(results):
        if i in good:
            assert isinstance(result, service.Submitted) and result.created and result.dispatched
        else:
            assert isinstance(result, RefusedSubmission)
    stored = rows(rt)
    assert set(stored) == {results[i].item_id for i in good}
    assert {(r.external_id, r.media_type, r.status) for r in stored.values()} == {
        ("ext-a", "image", "queued"), ("ext-video", "video", "queued"), (None, "image", "queued")}
    assert stored[results[0].item_id].item_metadata == {"user": "1"}
    assert sorted(submit_events(rt)) == sorted(stored)  # each new item has its audit event
    # every task in one dispatch, routed by media type
    assert rt.dispatcher.batches == [3]
    assert sorted(rt.dispatcher.sent) == sorted((results[i].item_id, kind) for i, kind in good.items())
    # the same words as single submit, which stores nothing either
    messages = {i: str(results[i]) for i in range(len(entries)) if i not in good}
    assert messages == {i: refusal(entries[i], rt) for i in messages}
    assert "outside the media root" in messages[1] and "1-255 characters" in messages[2]
    assert len(rows(rt)) == 3


def test_a_repeat_inside_one_batch_gets_the_first_accepted_occurrence(rt, photos):
    entries = [Entry("/etc/passwd", "dup"), Entry("a.jpg", "dup"), Entry("b.jpg", "dup"), Entry("c.jpg", "other")]
    refused, first, repeat, other = service.submit_many(entries, rt=rt)

    assert isinstance(refused, RefusedSubmission)  # refused: the external id is still free for the next one
    assert first.created and other.created
    assert (repeat.item_id, repeat.created, repeat.dispatched) == (first.item_id, False, False)
    assert stored_uri(rt, first.item_id).endswith("a.jpg") and len(rows(rt)) == 2
    assert rt.dispatcher.batches == [2]


def stored_uri(rt, item_id: str) -> str:
    return rows(rt)[item_id].media_uri


def test_a_repeat_across_batches_returns_the_stored_item_and_sends_nothing(rt, photos):
    (first,) = service.submit_many([Entry("a.jpg", "ext-1")], rt=rt)
    single = service.submit("a.jpg", external_id="ext-2", rt=rt)
    again = service.submit_many([Entry("b.jpg", "ext-1"), Entry("/etc/passwd", "ext-2"), Entry("c.jpg", "ext-3")],
                                rt=rt)

    assert [(r.item_id, r.created) for r in again[:2]] == [(first.item_id, False), (single.item_id, False)]
    assert again[2].created  # a known external id answers whatever its URI, as single submit does
    assert rt.dispatcher.batches == [1, 1] and len(rows(rt)) == 3


def test_nothing_to_store_sends_nothing(rt):
    results = service.submit_many([Entry("/etc/passwd", "a"), Entry("", "b")], rt=rt)
    assert all(isinstance(r, RefusedSubmission) for r in results)
    assert "media URI is empty" in str(results[1])
    assert rows(rt) == {} and rt.dispatcher.batches == [] and service.submit_many([], rt=rt) == []


def test_broker_down_keeps_the_rows_queued_and_the_reaper_sends_them(rt, photos):
    class DownDispatcher:
        def moderate_many(self, items):
            raise ConnectionError("redis down")

    rt.dispatcher = DownDispatcher()
    results = service.submit_many([Entry("a.jpg", "e1"), Entry("b.jpg", "e2"), Entry("/etc/passwd", "e3")], rt=rt)

    assert [(r.created, r.dispatched) for r in results[:2]] == [(True, False), (True, False)]
    assert {i.status for i in rows(rt).values()} == {"queued"} and len(rows(rt)) == 2

    rt.dispatcher = InMemoryDispatcher()  # the broker is back; the reaper runs past the deadline
    later = utcnow() + timedelta(seconds=rt.settings.reaper_stuck_after_seconds + 1)
    resent = reaper.reap(rt, now=later)
    assert sorted(r.item_id for r in resent) == sorted(r.item_id for r in results[:2])
    assert sorted(rt.dispatcher.sent) == sorted((r.item_id, "image") for r in results[:2])


def test_a_concurrent_submit_of_one_external_id_makes_it_known_and_the_rest_still_stored(rt, photos, monkeypatch):
    lookup = submission.known_items
    raced = {}

    def racing_lookup(rt_, external_ids, tenant_id):
        found = lookup(rt_, external_ids, tenant_id)
        if not raced:  # another process submits "race" after this batch looked it up, before it inserts
            raced["item"] = service.submit("c.jpg", external_id="race", rt=rt)
        return found

    monkeypatch.setattr(submission, "known_items", racing_lookup)
    results = service.submit_many([Entry("a.jpg", "mine"), Entry("b.jpg", "race")], rt=rt)

    assert results[0].created
    assert (results[1].item_id, results[1].created) == (raced["item"].item_id, False)
    with transaction(rt.settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(m.Item)) == 2
    assert rt.dispatcher.batches == [1] and (results[0].item_id, "image") in rt.dispatcher.sent


def test_single_submit_that_loses_a_race_for_its_external_id_returns_the_winner(rt, photos, monkeypatch):
    lookup = submission.known_item
    won = {}

    def racing_lookup(s, external_id, tenant_id):
        found = lookup(s, external_id, tenant_id)
        if not won:  # the other submit commits between this one's lookup and its insert
            won["item"] = service.submit_many([Entry("b.jpg", external_id)], rt=rt)[0]
        return found

    monkeypatch.setattr(submission, "known_item", racing_lookup)
    result = service.submit("a.jpg", external_id="contested", rt=rt)
    assert (result.item_id, result.created, result.dispatched) == (won["item"].item_id, False, False)
    assert len(rows(rt)) == 1 and rt.dispatcher.sent == [(won["item"].item_id, "image")]
