"""Bulk review on PostgreSQL (issue 17.4): two admins deciding overlapping items in opposite orders while
reviewers claim from the same queue: no deadlock, every item reviewed once, never one a reviewer holds."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy import select

from config.settings import Settings
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.domain import policy
from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review import bulk, services as review
from moderation.review.models import Review
from tests.fakes.providers import RecordingPublisher
from tests.integration.fresh_pg import fresh_database

pytestmark = pytest.mark.integration
ITEMS, CLAIMERS = 60, 4


@pytest.fixture
def pg_rt(tmp_path):
    with fresh_database("modq_bulk") as url:
        settings = Settings(database_url=url, media_root=tmp_path)
        yield Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())


def flagged_items(rt: Runtime, n: int) -> list[str]:
    ids = []
    with transaction(rt.settings.database_url) as s:
        for _ in range(n):
            item = m.Item(media_uri=f"s3://bucket/{uuid.uuid4()}.jpg", media_type="image", status=m.FLAGGED,
                          verdict=m.FLAGGED, policy_version="p1")
            s.add(item)
            s.flush()
            ids.append(item.id)
    return ids


def test_concurrent_bulk_actions_and_claims_decide_each_item_once(pg_rt):
    ids = flagged_items(pg_rt, ITEMS)
    results, claimed, errors = {}, {}, []

    def admin(name: str, order: list[str]) -> None:
        try:
            results[name] = bulk.bulk(pg_rt, name, "rejected", "spam wave", item_ids=order, admin=True,
                                      scope=EVERY_TENANT)
        except Exception as exc:  # a deadlock would land here
            errors.append(repr(exc))

    def claimer(name: str) -> None:
        try:
            lease = review.claim(pg_rt, name)
            claimed[name] = lease.item_id if lease else None
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=admin, args=("root", ids[:45])),
               threading.Thread(target=admin, args=("ops", list(reversed(ids[15:])))),
               *(threading.Thread(target=claimer, args=(f"rev{n}",)) for n in range(CLAIMERS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with transaction(pg_rt.settings.database_url) as s:
        reviewers = Counter(s.scalars(select(Review.item_id)))
        held = {i.id: i.lease_owner for i in s.scalars(select(m.Item).where(m.Item.lease_owner.is_not(None)))}
    assert max(reviewers.values()) == 1  # each item reviewed at most once
    for name, item_id in claimed.items():  # an item a reviewer got stays theirs, unless the bulk got there first
        if item_id is not None and item_id not in reviewers:
            assert held[item_id] == name
    reviewed = {r.item_id for result in results.values() for r in result.results if r.outcome == "reviewed"}
    assert reviewed == set(reviewers)
    assert all(owner.startswith("rev") for owner in held.values())  # no bulk lease is left behind
    skipped = Counter(r.reason for result in results.values() for r in result.results if r.outcome == "skipped")
    assert set(skipped) <= {"leased", "not_awaiting_review"}
    assert len(reviewed) + sum(1 for i in claimed.values() if i and i not in reviewers) == ITEMS
