"""Legal holds on PostgreSQL (issue 19.3): ``holding`` and the console's ``held_items`` find item and subject
holds of the right tenant only, and a hold released by two admins at once is released (and audited) once."""

from __future__ import annotations

import json
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from config.settings import Settings
from moderation.api.app import create_app
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.domain import policy
from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.db import transaction
from moderation.infra.lease import LocalLeases
from moderation.items import models as m
from moderation.privacy import holds
from moderation.review.services import Conflict
from moderation.tenants import services as tenants, tokens
from tests.fakes.providers import FakeProvider, RecordingPublisher
from tests.integration.fresh_pg import fresh_database
from tests.unit.privacy.hold_items import item_of

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def holds_pg_url():
    with fresh_database("modq_holds") as url:
        yield url


@pytest.fixture
def pg_rt(holds_pg_url, tmp_path):
    settings = Settings(database_url=holds_pg_url, media_root=tmp_path)
    rt = Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())
    rt._provider, rt._leases = FakeProvider(), LocalLeases()
    return rt


def test_holds_find_their_items_in_their_tenant_only(pg_rt, tmp_path):
    a, b = (tenants.create(pg_rt.settings.database_url, name, "test")["id"] for name in ("ha", "hb"))
    held, by_subject, same_subject_elsewhere = (item_of(pg_rt, tmp_path, subject_id="u-1", tenant_id=a),
                                                item_of(pg_rt, tmp_path, subject_id="u-7", tenant_id=a),
                                                item_of(pg_rt, tmp_path, subject_id="u-7", tenant_id=b))
    on_item = holds.add(pg_rt, a, item_id=held, reason="r", actor="cli:ana")["id"]
    on_subject = holds.add(pg_rt, a, subject_id="u-7", reason="r", actor="cli:ana")["id"]

    with transaction(pg_rt.settings.database_url) as s:
        assert holds.holding(s, a, held, "u-1").id == on_item
        assert holds.holding(s, a, by_subject, "u-7").id == on_subject
        assert holds.holding(s, b, same_subject_elsewhere, "u-7") is None
    assert holds.held_items(pg_rt.settings.database_url, [held, by_subject, same_subject_elsewhere]) == {
        held: on_item, by_subject: on_subject}


def test_two_releases_at_once_release_once(pg_rt, tmp_path):
    hold = holds.add(pg_rt, 1, item_id=item_of(pg_rt, tmp_path), reason="r", actor="cli:ana")["id"]
    start, outcomes = threading.Barrier(2), []

    def release(actor: str) -> None:
        start.wait()
        try:
            holds.release(pg_rt, hold, EVERY_TENANT, actor)
            outcomes.append("released")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=release, args=(f"cli:{n}",)) for n in ("bo", "cy")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sorted(outcomes) == ["conflict", "released"]
    with transaction(pg_rt.settings.database_url) as s:
        entries = s.scalar(select(func.count()).select_from(m.AuditEvent)
                           .where(m.AuditEvent.action == m.AuditAction.RELEASE_HOLD.value,
                                  m.AuditEvent.reason == f"hold {hold}"))
    assert entries == 1


REFUSED = ["a\x00b", "\ud800", "\x00", "x" * 5000]  # no column takes them: 422
HOSTILE = REFUSED + ["' OR 1=1 --", "%00"]  # only text: stored as it is


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_hostile_strings_never_give_a_server_error(pg_rt, value):
    """What PostgreSQL would refuse (NUL, a lone surrogate) or a column cannot hold is a 4xx, never a 500."""
    _, secret = tokens.create(pg_rt.settings.database_url, f"hold-admin-{len(value)}-{ord(value[0])}", "admin", "test")
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    bodies = [{"item_id": value, "reason": "r"}, {"subject_id": value, "reason": "r"},
              {"subject_id": "u", "reason": value}]
    with TestClient(create_app(pg_rt, health_checks={}), raise_server_exceptions=False) as client:
        statuses = [client.post("/v1/holds", content=json.dumps(body).encode(), headers=headers).status_code
                    for body in bodies]
        released = client.post("/v1/holds/1/release", content=json.dumps({"reason": value}).encode(),
                               headers=headers).status_code
    assert [s for s in statuses + [released] if s >= 500] == []
    if value in REFUSED:
        assert [s for s in statuses + [released] if not 400 <= s < 500] == []
