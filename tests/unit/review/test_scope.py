"""Review is scoped by tenant: a reviewer sees, claims, decides and releases only their tenants' items; another
tenant's item is "not found", as a missing one."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from moderation.domain.tenancy import DEFAULT_TENANT_ID, EVERY_TENANT, Scope
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review import services as review
from moderation.review.queries import QueueFilter
from moderation.tenants import services as tenants
from tests.review_items import decided_item


@pytest.fixture
def two(rt, media_root, fake_provider):
    """(A's flagged item, B's flagged item, scope of A, scope of B); A is the tenant ``default``."""
    b = tenants.create(rt.settings.database_url, "b", "test")["id"]
    in_a = decided_item(rt, media_root, fake_provider)
    in_b = decided_item(rt, media_root, fake_provider)
    move(rt, in_b, b)
    return in_a, in_b, Scope(tenant_ids=frozenset({DEFAULT_TENANT_ID})), Scope(tenant_ids=frozenset({b}))


def move(rt, item_id: str, tenant_id: int) -> None:
    with transaction(rt.settings.database_url) as s:
        s.execute(update(m.Item).where(m.Item.id == item_id).values(tenant_id=tenant_id))


def lease_owner(rt, item_id: str) -> str | None:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id).lease_owner


def test_the_queue_holds_only_the_scope_s_items(rt, two):
    in_a, in_b, a, b = two
    assert [i.id for i in review.queue(rt, QueueFilter(scope=a))] == [in_a]
    assert [i.id for i in review.queue(rt, QueueFilter(scope=b))] == [in_b]
    assert {i.id for i in review.queue(rt, QueueFilter(scope=EVERY_TENANT))} == {in_a, in_b}
    assert review.queue(rt, QueueFilter(scope=Scope())) == []  # a scope of no tenant sees nothing


def test_a_claim_takes_only_the_scope_s_items(rt, two):
    in_a, in_b, a, b = two
    assert review.claim(rt, "rita", QueueFilter(scope=a), item_id=in_b) is None  # as if it were taken
    assert lease_owner(rt, in_b) is None
    assert review.claim(rt, "rita", QueueFilter(scope=a)).item_id == in_a
    assert review.claim(rt, "bob", QueueFilter(scope=a)) is None  # B's item is never offered
    assert review.claim(rt, "bob", QueueFilter(scope=b)).item_id == in_b


@pytest.mark.parametrize("admin", [False, True])
def test_deciding_or_releasing_another_tenant_s_item_is_not_found(rt, two, admin):
    in_a, in_b, a, b = two
    review.claim(rt, "bob", QueueFilter(scope=b))
    with pytest.raises(review.NotFound, match=f"no item '{in_b}'"):
        review.review(rt, in_b, "rita", "approved", "fine", admin=admin, scope=a)
    with pytest.raises(review.NotFound, match=f"no item '{in_b}'"):
        review.release(rt, in_b, "rita", admin=admin, scope=a)
    review.release(rt, in_b, "rita", admin=admin, missing_ok=True, scope=a)  # the console's: a no-op
    assert lease_owner(rt, in_b) == "bob"
    review.review(rt, in_b, "bob", "approved", "fine", scope=b)  # the scope's own reviewer still can


def test_skip_never_releases_another_tenant_s_item(rt, two):
    in_a, in_b, a, b = two
    review.claim(rt, "bob", QueueFilter(scope=b))
    assert review.claim(rt, "rita", QueueFilter(scope=a), skip=in_b).item_id == in_a
    assert lease_owner(rt, in_b) == "bob"


def test_a_lease_held_in_another_scope_is_not_handed_out_in_this_one(rt, two):
    in_a, in_b, a, b = two
    review.claim(rt, "dana", QueueFilter(scope=b))  # at the CLI: --tenant b, then --tenant default
    with pytest.raises(review.Conflict, match=f"you hold a lease on item {in_b}"):
        review.claim(rt, "dana", QueueFilter(scope=a))
    assert lease_owner(rt, in_a) is None
