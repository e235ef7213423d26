"""Bank entries per tenant (issue 16): a tenant's items are matched against its own and the global entries,
never another tenant's; a rejection wins; a caller sees and removes only what its scope allows."""

from __future__ import annotations

import pytest

from moderation.items.banks import services as banks
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.infra.db import transaction
from moderation.tenants import services as tenant_services

KEY = "d" * 64
PDQ = "f" * 64


@pytest.fixture
def ids(sqlite_url) -> tuple[int, int]:
    return tuple(tenant_services.create(sqlite_url, name, "test")["id"] for name in ("a", "b"))


def add(url: str, verdict: str, tenant_id: int | None, key: str = KEY, pdq: str | None = None) -> int:
    with transaction(url) as s:
        return banks.add(s, key, verdict, source="test", added_by="t", tenant_id=tenant_id, pdq=pdq)[0].id


def match(url: str, tenant_id: int, key: str = KEY, pdq: str | None = None, distance: int = 0):
    with transaction(url) as s:
        return banks.match(s, key, pdq, distance, tenant_id=tenant_id)


def test_another_tenants_entry_never_matches(sqlite_url, ids):
    a, b = ids
    entry = add(sqlite_url, "rejected", a, pdq=PDQ)
    assert match(sqlite_url, a).entry_id == entry
    assert match(sqlite_url, b) is None
    assert match(sqlite_url, b, "e" * 64, PDQ, 8) is None  # nor by its perceptual hash
    assert match(sqlite_url, a, "e" * 64, PDQ, 8).entry_id == entry


def test_a_global_entry_matches_every_tenant_and_a_rejection_wins(sqlite_url, ids):
    a, b = ids
    glob = add(sqlite_url, "approved", None)
    assert match(sqlite_url, a).entry_id == match(sqlite_url, b).entry_id == glob
    own = add(sqlite_url, "rejected", a)  # one active entry per key and tenant: both may exist
    assert match(sqlite_url, a).entry_id == own and match(sqlite_url, b).entry_id == glob
    bad = add(sqlite_url, "rejected", None, key="9" * 64)
    add(sqlite_url, "approved", b, key="9" * 64)
    assert match(sqlite_url, b, "9" * 64).entry_id == bad  # a tenant cannot approve what is banned everywhere


def test_a_scope_sees_its_tenants_and_the_global_entries_and_removes_only_its_own(sqlite_url, ids):
    a, b = ids
    mine, theirs, glob = add(sqlite_url, "rejected", a), add(sqlite_url, "rejected", b), add(sqlite_url, "approved", None)
    only_a = Scope(tenant_ids=frozenset({a}))
    assert {e["id"] for e in banks.listing(sqlite_url, scope=only_a)} == {mine, glob}
    assert {e["id"] for e in banks.listing(sqlite_url, scope=EVERY_TENANT)} == {mine, theirs, glob}
    with pytest.raises(BadInput, match=f"no active bank entry #{theirs}"):
        banks.unbank(sqlite_url, theirs, "a-admin", scope=only_a)
    with pytest.raises(banks.GlobalEntry):
        banks.unbank(sqlite_url, glob, "a-admin", scope=only_a)
    assert banks.unbank(sqlite_url, mine, "a-admin", scope=only_a)["removed_by"] == "a-admin"
    assert banks.unbank(sqlite_url, glob, "root", scope=EVERY_TENANT)["tenant_id"] is None


def test_a_reviewers_rejection_is_banked_for_the_items_tenant_only(sqlite_url, ids):
    a, b = ids
    with transaction(sqlite_url) as s:
        banks.bank_review_rejection(s, KEY, "item-1", "alice (token 2)", "gore", tenant_id=a)
    assert match(sqlite_url, a).verdict == "rejected" and match(sqlite_url, b) is None
