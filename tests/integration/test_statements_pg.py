"""Statements of reasons on PostgreSQL (issue 18.1-2): written in the review's transaction, withdrawn by an undo,
superseded within their hold by a lifting decision (timestamptz comparisons), and exported in keyset pages
over rows that share one created_at."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from moderation.domain.decisions import OVERRIDE, Decided
from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.review import services as review, undo as undos
from moderation.transparency import queries, statements as writer
from moderation.transparency.models import Statement
from tests.fakes.transparency_rules import validate_statement
from tests.integration.test_review_claim_pg import make_flagged, pg_rt, review_pg_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration


def rows(rt, item_id: str) -> list[Statement]:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(Statement).where(Statement.item_id == item_id).order_by(Statement.id)))


def test_a_review_writes_a_valid_statement_an_undo_withdraws_it_a_new_review_writes_another(pg_rt):
    [item_id] = make_flagged(pg_rt, 1)
    review.claim(pg_rt, "alice", item_id=item_id)
    first = review.review(pg_rt, item_id, "alice", "rejected", "hate symbol", scope=EVERY_TENANT)
    [stored] = rows(pg_rt, item_id)
    assert validate_statement(stored.body) == {} and stored.decision_ref == f"r{first.id}"
    assert stored.body["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"  # no model decision stored

    undos.undo(pg_rt, item_id, "alice", scope=EVERY_TENANT)
    again = review.review(pg_rt, item_id, "alice", "rejected", "looked again", scope=EVERY_TENANT)

    assert [(r.decision_ref, r.state) for r in rows(pg_rt, item_id)] == [(f"r{first.id}", "withdrawn"),
                                                                         (f"r{again.id}", "pending")]
    assert queries.latest_for_item(pg_rt.settings.database_url, item_id, EVERY_TENANT)["statement"]["puid"] \
        == f"default_{item_id}_r{again.id}"


def test_a_lifting_decision_withdraws_only_a_statement_still_held(pg_rt):
    held, past = make_flagged(pg_rt, 2)
    for item_id in (held, past):
        review.claim(pg_rt, "alice", item_id=item_id)
        review.review(pg_rt, item_id, "alice", "rejected", "hate symbol", scope=EVERY_TENANT)
    with transaction(pg_rt.settings.database_url) as s:
        s.execute(update(Statement).where(Statement.item_id == past)
                  .values(hold_until=utcnow() - timedelta(seconds=1)))
    for item_id in (held, past):
        with transaction(pg_rt.settings.database_url) as s:
            writer.supersede(s, Decided(item_id, "approved", "rejected", OVERRIDE, "o1-1", utcnow(), "root", "ok"))
    assert [r.state for r in rows(pg_rt, held)] == ["withdrawn"]
    assert [r.state for r in rows(pg_rt, past)] == ["pending"]


def test_an_export_pages_over_equal_created_at_once_each(pg_rt):
    ids = make_flagged(pg_rt, 5)
    for item_id in ids:
        review.claim(pg_rt, "alice", item_id=item_id)
        review.review(pg_rt, item_id, "alice", "rejected", "hate symbol", scope=EVERY_TENANT)
    same = utcnow() - timedelta(minutes=1)
    with transaction(pg_rt.settings.database_url) as s:
        s.execute(update(Statement).where(Statement.item_id.in_(ids)).values(created_at=same))
    since = same - timedelta(seconds=1)
    got = [r["puid"] for r in queries.export_rows(pg_rt.settings.database_url, since, EVERY_TENANT, page=2)]
    mine = [r["puid"] for r in queries.export_rows(pg_rt.settings.database_url, since, EVERY_TENANT, page=100)]
    assert got == mine and len(got) == len(set(got))
    assert {p.split("_")[1] for p in got} >= set(ids)
