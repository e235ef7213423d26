"""Appeals on PostgreSQL (issue 17.7): concurrent reviewers claiming from the appeals queue get distinct
appeals (FOR UPDATE SKIP LOCKED), each decided once; an appeal's claim passes over its own decider's
decisions; a concurrent second filing of one item is one appeal."""

from __future__ import annotations

import json
import threading
from urllib.parse import quote
import uuid
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from config.settings import Settings
from moderation.api.app import create_app
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.domain import policy
from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review import appeals, services as review
from moderation.review.models import Appeal, Review
from tests.fakes.providers import RecordingPublisher
from moderation.tenants import tokens
from tests.integration.fresh_pg import fresh_database

pytestmark = pytest.mark.integration
APPEALS, REVIEWERS = 24, 6


@pytest.fixture(scope="module")
def appeals_pg_url():
    with fresh_database("modq_appeals") as url:
        yield url


@pytest.fixture
def pg_rt(appeals_pg_url, tmp_path):
    settings = Settings(database_url=appeals_pg_url, media_root=tmp_path)
    with transaction(appeals_pg_url) as s:  # each test starts with no pending appeal
        s.execute(Appeal.__table__.update().values(state="decided"))
    return Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())


def rejected_items(rt: Runtime, n: int) -> list[str]:
    ids = []
    with transaction(rt.settings.database_url) as s:
        for _ in range(n):
            item = m.Item(media_uri=f"s3://bucket/{uuid.uuid4()}.jpg", media_type="image", status=m.REJECTED,
                          verdict=m.REJECTED, policy_version="p1", decided_at=utcnow())
            s.add(item)
            s.flush()
            ids.append(item.id)
    return ids


def test_concurrent_reviewers_get_distinct_appeals_each_decided_once(pg_rt):
    filed = {appeals.file(pg_rt, i, "not what it looks like", None, "forum (token 1)", scope=EVERY_TENANT)["id"]
             for i in rejected_items(pg_rt, APPEALS)}
    decided: Counter[str] = Counter()
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            while (claimed := appeals.claim(pg_rt, name, scope=EVERY_TENANT)) is not None:
                appeals.decide(pg_rt, claimed["id"], name, "upheld", None, "stands", scope=EVERY_TENANT)
                decided[claimed["id"]] += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"reviewer-{n}",)) for n in range(REVIEWERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert set(decided) == filed and set(decided.values()) == {1}


def test_a_claim_passes_over_the_appeal_of_ones_own_decision(pg_rt):
    mine, other = rejected_items(pg_rt, 2)
    with transaction(pg_rt.settings.database_url) as s:  # alice reviewed `mine`, whose appeal is the older
        s.add(Review(item_id=mine, reviewer="alice (token 2)", verdict="rejected", reason="x",
                     previous_status="flagged"))
    first = appeals.file(pg_rt, mine, "please", None, "forum (token 1)", scope=EVERY_TENANT)
    second = appeals.file(pg_rt, other, "please", None, "forum (token 1)", scope=EVERY_TENANT)
    assert first["original"]["decided_by"] == "alice (token 2)"
    assert appeals.claim(pg_rt, "alice (token 9)", scope=EVERY_TENANT)["id"] == second["id"]


def test_concurrent_filings_of_one_item_make_one_appeal(pg_rt):
    [item_id] = rejected_items(pg_rt, 1)
    outcomes: list[str] = []

    def file() -> None:
        try:
            appeals.file(pg_rt, item_id, "twice", None, "forum (token 1)", scope=EVERY_TENANT)
            outcomes.append("filed")
        except review.Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=file) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict"] * 4 + ["filed"]
    with transaction(pg_rt.settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(Appeal).where(Appeal.item_id == item_id)) == 1


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", "x" * 5000, "' OR 1=1 --", "%00"], ids=repr)
def test_hostile_strings_to_every_appeal_operation_get_no_server_error(pg_rt, value):
    [item_id] = rejected_items(pg_rt, 1)
    headers = {"Authorization": f"Bearer {tokens.create(pg_rt.settings.database_url, 'fuzz', 'admin', 'test')[1]}",
               "Content-Type": "application/json"}
    q = quote(value.encode("utf-8", "surrogatepass"), safe="")
    body = lambda **kw: json.dumps(kw).encode()  # noqa: E731 - json escapes what httpx would refuse
    with TestClient(create_app(pg_rt, health_checks={}), raise_server_exceptions=False) as client:
        responses = [
            client.post(f"/v1/items/{q}/appeals", content=body(statement="s"), headers=headers),
            client.post(f"/v1/items/{item_id}/appeals", content=body(statement=value, appellant=value),
                        headers=headers),
            client.get(f"/v1/appeals/{q}", headers=headers),
            client.post(f"/v1/appeals/{q}/decision", content=body(outcome="upheld", reason=value), headers=headers),
            client.post(f"/v1/appeals/{q}/release", headers=headers),
            client.get("/v1/review/queue?queue=appeals", headers=headers),
            client.post("/v1/review/claim", content=body(queue="appeals"), headers=headers),
        ]
    assert [r.status_code for r in responses if r.status_code >= 500] == []
