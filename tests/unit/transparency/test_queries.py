"""Reads of the statements (transparency/queries.py): an export streams every row once, in keyset pages, even
when many share one created_at; a withdrawn statement is no statement; a scope narrows to its tenants."""

from __future__ import annotations

from datetime import timedelta

import pytest

from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.tenants import services as tenants
from moderation.transparency import queries
from moderation.transparency.models import Statement


@pytest.fixture
def rows(rt):
    """Seven statements: five of tenant 1 (three at one instant), one of tenant "other", one withdrawn."""
    other = tenants.create(rt.settings.database_url, "other", "test")["id"]
    now = utcnow()
    at = [now - timedelta(hours=5), now - timedelta(hours=3), now - timedelta(hours=3), now - timedelta(hours=3),
          now - timedelta(hours=1), now - timedelta(hours=2), now - timedelta(hours=4)]
    with transaction(rt.settings.database_url) as s:
        for n, when in enumerate(at):
            tenant = other if n == 5 else 1
            s.add(m.Item(id=f"item-{n}", tenant_id=tenant, media_uri=f"{n}.jpg", media_type="image",
                         status="rejected"))
            s.flush()
            s.add(Statement(puid=f"t_item-{n}_d{n}", tenant_id=tenant, item_id=f"item-{n}", decision="automatic",
                            decision_ref=f"d{n}", body={"puid": f"t_item-{n}_d{n}"}, created_at=when,
                            state="withdrawn" if n == 6 else "pending"))
    return other


@pytest.mark.parametrize("page", [1, 2, 3, 100])
def test_an_export_yields_each_statement_once_oldest_first_whatever_the_page(rt, rows, page):
    since = utcnow() - timedelta(days=1)
    got = [r["puid"] for r in queries.export_rows(rt.settings.database_url, since, EVERY_TENANT, page=page)]
    assert got == [f"t_item-{n}_d{n}" for n in (0, 1, 2, 3, 5, 4)]
    assert queries.export_count(rt.settings.database_url, since, EVERY_TENANT) == 6


def test_an_export_is_narrowed_by_scope_and_since(rt, rows):
    url, since = rt.settings.database_url, utcnow() - timedelta(minutes=150)
    ours = Scope(tenant_ids=frozenset({1}))
    assert [r["puid"] for r in queries.export_rows(url, since, ours)] == ["t_item-4_d4"]
    theirs = Scope(tenant_ids=frozenset({rows}))
    assert [r["tenant_id"] for r in queries.export_rows(url, utcnow() - timedelta(days=1), theirs)] == [rows]


def test_the_latest_for_an_item_is_scoped_and_never_a_withdrawn_one(rt, rows):
    url = rt.settings.database_url
    assert queries.latest_for_item(url, "item-4", Scope(tenant_ids=frozenset({1})))["puid"] == "t_item-4_d4"
    assert queries.latest_for_item(url, "item-5", Scope(tenant_ids=frozenset({1}))) is None
    assert queries.latest_for_item(url, "item-6", EVERY_TENANT) is None
