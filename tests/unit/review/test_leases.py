"""Renewing a lease (issue 17.3): only the live holder renews, within a claim's bounds, never shortening it,
not audited; another tenant's item is "not found", as a missing one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from moderation.domain.errors import BadInput
from moderation.domain.tenancy import DEFAULT_TENANT_ID, Scope
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review import leases, services as review
from moderation.review.queries import QueueFilter
from moderation.tenants import services as tenants
from tests.review_items import decided_item, ends_in, lease_of


@pytest.fixture
def flagged(rt, media_root, fake_provider):
    return lambda: decided_item(rt, media_root, fake_provider)




def audit_count(rt, item_id: str) -> int:
    with transaction(rt.settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(m.AuditEvent).where(m.AuditEvent.item_id == item_id))


def test_the_holder_renews_for_the_default_length_from_now(rt, flagged):
    item_id = flagged()
    review.claim(rt, "rita", item_id=item_id)
    ends_in(rt, item_id, 30)
    before = utcnow()
    lease = leases.renew(rt, item_id, "rita")
    assert (lease.item_id, lease.owner) == (item_id, "rita")
    expected = before + timedelta(seconds=rt.settings.review_lease_seconds)
    assert timedelta(0) <= lease.expires_at - expected < timedelta(seconds=5)
    assert lease_of(rt, item_id) == ("rita", lease.expires_at)
    assert rt.settings.review_lease_seconds - 5 <= leases.seconds_left(lease) <= rt.settings.review_lease_seconds


def test_a_renewal_extends_the_lease_and_is_not_audited(rt, flagged):
    item_id = flagged()
    review.claim(rt, "rita", item_id=item_id)
    ends_in(rt, item_id, 20)
    entries = audit_count(rt, item_id)
    first = leases.renew(rt, item_id, "rita", 60)
    assert first.expires_at > utcnow() + timedelta(seconds=55)
    assert leases.renew(rt, item_id, "rita", 120).expires_at > first.expires_at
    assert audit_count(rt, item_id) == entries  # renewals every minute must not flood the audit trail


def test_a_renewal_never_shortens_a_longer_lease(rt, flagged):
    item_id = flagged()
    claimed = review.claim(rt, "rita", item_id=item_id, lease_seconds=1800)
    assert leases.renew(rt, item_id, "rita", 60).expires_at == claimed.expires_at
    assert lease_of(rt, item_id)[1] == claimed.expires_at


def test_someone_else_s_lease_is_a_conflict_and_stays_theirs(rt, flagged):
    item_id = flagged()
    claimed = review.claim(rt, "rita", item_id=item_id)
    with pytest.raises(review.Conflict, match=f"item {item_id} is leased to rita, not to you"):
        leases.renew(rt, item_id, "mallory")
    with pytest.raises(review.Conflict, match="leased to rita"):
        leases.current(rt, item_id, "mallory")
    assert lease_of(rt, item_id) == ("rita", claimed.expires_at)


def test_an_expired_lease_is_not_revived(rt, flagged):
    item_id = flagged()
    review.claim(rt, "rita", item_id=item_id)
    ends_in(rt, item_id, -1)
    ended = lease_of(rt, item_id)[1]
    with pytest.raises(review.Conflict, match=f"your lease on item {item_id} ended at .* UTC: claim it again"):
        leases.renew(rt, item_id, "rita")
    assert lease_of(rt, item_id) == ("rita", ended)
    # once someone else claims it, it is theirs
    assert review.claim(rt, "bob", item_id=item_id).item_id == item_id
    with pytest.raises(review.Conflict, match="leased to bob"):
        leases.renew(rt, item_id, "rita")


def test_an_item_nobody_claimed_or_no_longer_awaiting_review_is_a_conflict(rt, flagged):
    item_id = flagged()
    with pytest.raises(review.Conflict, match=f"you hold no lease on item {item_id}: claim it first"):
        leases.renew(rt, item_id, "rita")
    review.claim(rt, "rita", item_id=item_id)
    review.review(rt, item_id, "rita", "approved", "fine")
    with pytest.raises(review.Conflict, match="not awaiting review"):
        leases.renew(rt, item_id, "rita")
    assert lease_of(rt, item_id) == (None, None)


def test_another_tenant_s_item_is_not_found_as_a_missing_one(rt, flagged):
    item_id = flagged()
    other = tenants.create(rt.settings.database_url, "b", "test")["id"]
    review.claim(rt, "rita", item_id=item_id)
    held = lease_of(rt, item_id)
    with pytest.raises(review.NotFound, match=f"no item '{item_id}'"):
        leases.renew(rt, item_id, "rita", scope=Scope(tenant_ids=frozenset({other})))
    with pytest.raises(review.NotFound, match=f"no item '{item_id}'"):
        leases.current(rt, item_id, "rita", scope=Scope(tenant_ids=frozenset({other})))
    with pytest.raises(review.NotFound, match="no item 'nope'"):
        leases.renew(rt, "nope", "rita")
    assert lease_of(rt, item_id) == held
    own = Scope(tenant_ids=frozenset({DEFAULT_TENANT_ID}))
    assert leases.renew(rt, item_id, "rita", scope=own).owner == "rita"


@pytest.mark.parametrize("seconds, message", [(9, "lease_seconds must be at least 10"),
                                              (0, "lease_seconds must be at least 10"),
                                              (-5, "lease_seconds must be at least 10"),
                                              (3601, "lease_seconds 3601 is over the limit of 3600 seconds")])
def test_a_renewal_has_the_bounds_of_a_claim(rt, flagged, seconds, message):
    item_id = flagged()
    claimed = review.claim(rt, "rita", QueueFilter(), item_id=item_id)
    with pytest.raises(BadInput, match=message):
        leases.renew(rt, item_id, "rita", seconds)
    assert lease_of(rt, item_id) == ("rita", claimed.expires_at)  # nothing stored


def test_current_reads_the_holder_s_lease_unchanged(rt, flagged):
    item_id = flagged()
    claimed = review.claim(rt, "rita", item_id=item_id)
    assert leases.current(rt, item_id, "rita") == claimed
    assert lease_of(rt, item_id) == ("rita", claimed.expires_at)
