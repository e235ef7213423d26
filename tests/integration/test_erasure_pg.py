"""Erasure on request (issue 19.2) on PostgreSQL: the Done-when of a subject with items in every state, one being
processed and one under legal hold, scanned column by column; the audit trail's trigger letting only the
tombstone through; and an erasure waiting on the row lock of an item a worker is deciding."""

from __future__ import annotations

import itertools
import threading

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError

from config.settings import Settings
from moderation.domain.tenancy import Scope
from moderation.infra.db import transaction
from moderation.items import models as m, services as service
from moderation.items.queries import lock_item
from moderation.privacy import erasure
from moderation.privacy.retention import purge
from moderation.tenants import services as tenants
from tests.erasure_items import HOLD_REASON, rows, rule_runtime, scan, seed, status_of
from tests.fakes.providers import FakeProvider
from tests.integration.conftest import wait_for
from tests.integration.fresh_pg import fresh_database
from tests.integration.test_outcomes_pg import lock_waiters

pytestmark = pytest.mark.integration
_n = itertools.count(1)
ERASABLE = ("approved", "flagged", "rejected", "failed", "reviewed", "appealed")


@pytest.fixture(scope="module")
def erasure_pg_url():
    with fresh_database("modq_erasure") as url:
        yield url


@pytest.fixture
def pg_rt(erasure_pg_url, tmp_path):
    return rule_runtime(Settings(database_url=erasure_pg_url, media_root=tmp_path), FakeProvider())


@pytest.fixture
def tenant_id(pg_rt) -> int:
    return tenants.create(pg_rt.settings.database_url, f"t{next(_n)}", "test")["id"]


def test_a_subject_with_items_in_every_state_is_erased_the_hold_respected_the_pending_one_when_it_ends(pg_rt,
                                                                                                       tenant_id):
    seeded = seed(pg_rt, tenant_id, "pg")
    assert rows(pg_rt, m.SubjectFlag, m.SubjectFlag.tenant_id == tenant_id)  # the rule flagged the subject

    report = erasure.erase_subject(pg_rt, tenant_id, seeded.subject, "admin (token 1)")

    assert sorted(report.erased) == sorted(seeded.items[s] for s in ERASABLE)
    assert report.held == [{"item_id": seeded.items["held"], "reason": HOLD_REASON}]
    assert report.pending == [seeded.items["processing"]]
    assert scan(pg_rt, seeded.personal(*ERASABLE)) == set()  # an unsent statement loses the reviewer's words
    assert scan(pg_rt, [seeded.subject]) == {(seeded.subject, "items", "subject_id")}  # the held item's row
    assert {v for v, _, _ in scan(pg_rt, seeded.personal("held"))} == set(seeded.personal("held"))
    assert rows(pg_rt, m.SubjectFlag, m.SubjectFlag.tenant_id == tenant_id) == []

    assert service.process_image(seeded.items["processing"], rt=pg_rt) == m.REJECTED
    purge(pg_rt, tenant_id=tenant_id)
    assert scan(pg_rt, seeded.personal("processing", *ERASABLE)) == set()
    assert scan(pg_rt, [seeded.subject]) == {(seeded.subject, "items", "subject_id")}
    assert rows(pg_rt, m.SubjectFlag, m.SubjectFlag.tenant_id == tenant_id) == []


def test_the_audit_trail_stays_append_only_but_for_the_tombstone(pg_rt, tenant_id):
    seeded = seed(pg_rt, tenant_id, "pga")
    erasure.erase_item(pg_rt, seeded.items["reviewed"], tenants_scope(tenant_id), "admin")
    entries = rows(pg_rt, m.AuditEvent, m.AuditEvent.item_id == seeded.items["reviewed"])
    assert {e.reason for e in entries if e.action == m.AuditAction.REVIEW} == {"[erased]"}
    with pytest.raises(DBAPIError, match="audit_events is append-only"):  # anything but the tombstone: refused
        with transaction(pg_rt.settings.database_url) as s:
            s.execute(update(m.AuditEvent).where(m.AuditEvent.item_id == seeded.items["reviewed"])
                      .values(reason="rewritten"))


def test_an_erasure_waits_for_the_worker_deciding_the_item_and_then_erases_it(pg_rt, tenant_id):
    seeded = seed(pg_rt, tenant_id, "pgl")
    item_id, url = seeded.items["processing"], pg_rt.settings.database_url
    locked, release, result = threading.Event(), threading.Event(), {}

    def worker():  # a worker's deciding transaction, held open until the erasure is seen waiting
        with transaction(url) as s:
            item = lock_item(s, item_id)
            locked.set()
            release.wait(30)
            item.status, item.verdict = m.APPROVED, m.APPROVED

    def erase():
        result["report"] = erasure.erase_item(pg_rt, item_id, tenants_scope(tenant_id), "admin")

    threads = [threading.Thread(target=worker), threading.Thread(target=erase)]
    threads[0].start()
    assert locked.wait(30)
    threads[1].start()
    wait_for(lambda: lock_waiters(url) >= 1, timeout=30)
    release.set()
    for t in threads:
        t.join(30)

    assert result["report"].erased == [item_id] and result["report"].pending == []
    assert status_of(pg_rt, item_id) == m.APPROVED
    assert scan(pg_rt, seeded.personal("processing")) == set()
    with transaction(url) as s:  # nothing left waiting
        assert s.scalar(text("SELECT count(*) FROM items WHERE id = :i AND erase_requested_at IS NOT NULL"),
                        {"i": item_id}) == 0


def tenants_scope(tenant_id: int) -> Scope:
    return Scope(tenant_ids=frozenset({tenant_id}))
