"""Retention on PostgreSQL (issue 19.1): the seeded tenant of tests/retention_seed.py ages past its retention,
the purge runs in batches of 3, and a scan of every text and JSON column (JSONB here) of every table finds no
seeded personal value but the held item's, and reviewers' reasons inside statements of reasons. Stats and the
transparency report give the same figures before and after; the audit trail's trigger takes the tombstones;
an item another transaction has locked is passed over (SKIP LOCKED), not waited for, and purged next run."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config.settings import Settings
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.domain import policy
from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.db import transaction
from moderation.infra.lease import LocalLeases
from moderation.items.queries import lock_item
from moderation.ops.stats import SECTIONS, collect
from moderation.privacy import retention
from moderation.transparency import report as transparency_report
from tests.fakes.providers import FakeProvider, RecordingPublisher
from tests.integration.fresh_pg import fresh_database
from tests.retention_seed import later, scan, seed, status_of
from tests.review_items import decided_item

pytestmark = pytest.mark.integration
SENT_IN_STATEMENTS = ("pv-reason-", "pv-appeal-reason-")  # a statement keeps the fields already sent


@pytest.fixture
def pg_rt(tmp_path):
    with fresh_database("modq_retention") as url:
        media = tmp_path / "media"
        media.mkdir()
        settings = Settings(database_url=url, media_root=media)
        thresholds = settings.thresholds.read_text() + '\ntransparency:\n  trusted_flaggers: ["IWF"]\n'
        rt = Runtime(settings, policy.parse(thresholds), InMemoryDispatcher(), RecordingPublisher())
        rt._provider, rt._leases = FakeProvider(), LocalLeases()
        yield rt


def figures(rt: Runtime, period: transparency_report.Period):
    url = rt.settings.database_url
    sections = collect(rt.settings, timedelta(days=1), ("images",), [f for f in SECTIONS if f.__name__ != "queues"])
    stats = {s.key: s.data for s in sections if s.error is None}
    stats["items"].pop("oldest_in_flight_seconds"), stats["outbox"].pop("oldest_seconds")  # wall-clock ages
    report = transparency_report.build(url, period)
    return stats, report.summary, {name: t.rows for name, t in report.tables.items()}


def test_a_seeded_tenant_past_retention_keeps_no_personal_value_and_the_same_totals(pg_rt):
    rt, url = pg_rt, pg_rt.settings.database_url
    seeded = seed(rt, rt.settings.media_root, rt._provider)
    every = [v for vs in seeded.personal.values() for v in vs]
    assert {v for _, _, v in scan(url, every)} == set(every)  # the scan sees every seeded value before
    period = transparency_report.Period(start=later(-1), end=later(1), scope=EVERY_TENANT, tenant="*")
    before = figures(rt, period)

    report = retention.purge(rt, now=later(400), batch=3)

    held = set(seeded.personal["held"]) | set(seeded.personal["queued"])
    left = scan(url, every)
    assert {v for _, _, v in left} >= held
    assert [x for x in left if x[2] not in held
            and not (x[:2] == ("statements", "body") and x[2].startswith(SENT_IN_STATEMENTS))] == []
    assert report.total == 10 and report.batches >= 4
    assert [x.item_id for x in report.skipped] == [seeded.ids["held"]]
    assert figures(rt, period) == before
    assert retention.purge(rt, now=later(401), batch=3).total == 0


def test_an_item_locked_elsewhere_is_passed_over_and_purged_next_run(pg_rt):
    rt, url = pg_rt, pg_rt.settings.database_url
    busy = decided_item(rt, rt.settings.media_root, rt._provider, None)
    free = decided_item(rt, rt.settings.media_root, rt._provider, None)
    with transaction(url) as s:  # a worker or reviewer holding the row: the purge must not wait for it
        lock_item(s, busy)
        report = retention.purge(rt, now=later(40), batch=1)
    assert report.total == 1
    assert status_of(url, busy)[1] is None and status_of(url, free)[1] is not None
    assert retention.purge(rt, now=later(40)).total == 1
    assert status_of(url, busy)[1] is not None


def test_a_dry_run_locks_nothing_and_counts_what_another_transaction_holds(pg_rt):
    rt, url = pg_rt, pg_rt.settings.database_url
    busy = decided_item(rt, rt.settings.media_root, rt._provider, None)
    decided_item(rt, rt.settings.media_root, rt._provider, None)
    with transaction(url) as s:  # a worker or reviewer holding one row
        lock_item(s, busy)
        assert retention.purge(rt, now=later(40), batch=1, dry_run=True).total == 2
    assert status_of(url, busy)[1] is None  # nothing purged
