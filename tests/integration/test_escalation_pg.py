"""The escalated queue on PostgreSQL (issue 17.6): reviewers' claims, even concurrent ones, never take an
escalated item; seniors' concurrent claims of the escalated queue take distinct items (SKIP LOCKED); the
keyset cursor pages it by escalation time; deciding resolves."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.db import transaction
from moderation.review import backlog, escalations, keyset, services as review
from moderation.review.models import Escalation
from moderation.review.queries import QueueFilter
from tests.integration.test_review_claim_pg import make_flagged, pg_rt, review_pg_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration
ESCALATED = QueueFilter(escalated=True)


def test_the_two_queues_stay_apart_under_concurrent_claims(pg_rt):
    items = make_flagged(pg_rt, 6)
    sent_up = items[:3]
    for item_id in reversed(sent_up):  # escalated newest first: the escalated queue's order is by this time
        escalations.escalate(pg_rt, item_id, "carol", "senior please", scope=EVERY_TENANT, senior=True)
    with ThreadPoolExecutor(6) as pool:
        reviewers = list(pool.map(lambda n: review.claim(pg_rt, f"reviewer-{n}"), range(4)))
        seniors = list(pool.map(lambda n: review.claim(pg_rt, f"senior-{n}", ESCALATED), range(4)))
    taken = [lease.item_id for lease in reviewers if lease]
    assert sorted(taken) == sorted(items[3:]) and len(set(taken)) == 3  # never an escalated one
    got = [lease.item_id for lease in seniors if lease]
    assert sorted(got) == sorted(sent_up) and len(set(got)) == 3


def test_the_escalated_queue_pages_by_escalation_time_and_deciding_resolves(pg_rt):
    items = make_flagged(pg_rt, 3)
    for item_id in reversed(items):
        escalations.escalate(pg_rt, item_id, "carol", "senior please", scope=EVERY_TENANT, senior=True)
    first, cursor = backlog.page(pg_rt, ESCALATED, 2)
    rest, end = backlog.page(pg_rt, ESCALATED, 2, after=keyset.decode(cursor))
    assert [r["id"] for r in first + rest] == list(reversed(items)) and end is None
    lease = review.claim(pg_rt, "sam", ESCALATED)
    review.review(pg_rt, lease.item_id, "sam", "approved", "fine", reason_code="educational-context")
    with transaction(pg_rt.settings.database_url) as s:
        resolved = s.scalar(select(Escalation.resolved_by).where(Escalation.item_id == lease.item_id))
    assert resolved == "sam" and escalations.waiting(pg_rt, scope=EVERY_TENANT) == 2
