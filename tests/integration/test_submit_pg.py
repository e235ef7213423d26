"""Submit on PostgreSQL: one statement writes the row and its audit event, and a race for an external_id is
skipped by ON CONFLICT, not turned into an error (SQLite takes the lookup-and-insert path of the unit tests)."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from config.settings import Settings
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.domain import policy
from moderation.domain.errors import RefusedSubmission
from moderation.infra.db import transaction
from moderation.items import models as m, services as service
from moderation.items.services import Entry
from tests.fakes.providers import RecordingPublisher

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_rt(pg_url, tmp_path) -> Runtime:
    settings = Settings(database_url=pg_url, media_root=tmp_path, provider="local", sns_topic_arn=None)
    return Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())


def counts(rt, item_ids: list[str]) -> tuple[int, int]:
    with transaction(rt.settings.database_url) as s:
        items = s.scalar(select(func.count()).select_from(m.Item).where(m.Item.id.in_(item_ids)))
        events = s.scalar(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.item_id.in_(item_ids), m.AuditEvent.action == "submit", m.AuditEvent.actor == "api"))
    return items, events


def test_submit_writes_the_row_and_its_audit_event_and_a_repeat_writes_nothing(pg_rt):
    ext = f"pg-{uuid.uuid4().hex}"
    first = service.submit("s3://ugc-uploads/a.jpg", external_id=ext, metadata={"k": [1]}, rt=pg_rt)
    again = service.submit("s3://ugc-uploads/b.jpg", external_id=ext, rt=pg_rt)
    refused_repeat = service.submit("ftp://nowhere/x.jpg", external_id=ext, rt=pg_rt)  # known: whatever its URI
    assert first.created and first.dispatched and not again.created and not refused_repeat.created
    assert again.item_id == refused_repeat.item_id == first.item_id
    assert counts(pg_rt, [first.item_id]) == (1, 1) and pg_rt.dispatcher.sent == [(first.item_id, "image")]
    with transaction(pg_rt.settings.database_url) as s:
        row = s.get(m.Item, first.item_id)
        assert (row.status, row.media_uri, row.item_metadata, row.attempts) == ("queued", "s3://ugc-uploads/a.jpg",
                                                                               {"k": [1]}, 0)
    with pytest.raises(RefusedSubmission, match="unsupported URI scheme"):
        service.submit("ftp://nowhere/x.jpg", external_id=f"pg-{uuid.uuid4().hex}", rt=pg_rt)


def test_concurrent_submits_of_one_external_id_make_one_item(pg_rt):
    ext, results, errors = f"race-{uuid.uuid4().hex}", [], []
    start = threading.Barrier(8)

    def one(n: int) -> None:
        try:
            start.wait()
            results.append(service.submit(f"s3://ugc-uploads/{n}.jpg", external_id=ext, rt=pg_rt))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({r.item_id for r in results}) == 1 and sum(r.created for r in results) == 1
    assert counts(pg_rt, [results[0].item_id]) == (1, 1)


def test_submit_many_on_postgresql(pg_rt):
    tag = uuid.uuid4().hex
    entries = [Entry(f"s3://ugc-uploads/{n}.jpg", f"{tag}-{n % 3}") for n in range(6)] + [Entry("/etc/passwd")]
    results = service.submit_many(entries, rt=pg_rt)
    created = [r for r in results[:6] if r.created]
    assert len(created) == 3 and isinstance(results[6], RefusedSubmission)
    assert [r.item_id for r in results[3:6]] == [r.item_id for r in results[:3]]
    assert counts(pg_rt, [r.item_id for r in created]) == (3, 3) and pg_rt.dispatcher.batches == [3]
