"""Every query a hot path or the console runs walks an index on a table of a million items (issue 19.4).

A database of its own, migrated with Alembic, seeded in SQL (``bench/growth_seed.py``: 1,000,000 items over a
year and four tenants, ~2.7 M audit entries, analyses and decisions for a third, reviews, alerts, statements,
notices) and ANALYZEd. Each case runs the code's own function (the read model, the queue, the retention pass),
captures the statements it sends with their parameters, and asks PostgreSQL for their plan (EXPLAIN, not
executed again); ``enable_seqscan`` is left alone, so these are the plans production would get. The check: no
Seq Scan on the big tables, and the index named for the case appears in some plan. Slow-ish (about a minute to
seed), so it runs with the integration group.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
import pytest
from sqlalchemy import event, func, select

from bench.growth_seed import seed
from config.settings import Settings
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.domain import policy
from moderation.alerts.queries import pending_alerts
from moderation.domain.retention import DEFAULT
from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.infra import db
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.items.audit_trail import audit_trail
from moderation.items.subjects import history
from moderation.privacy import retention
from moderation.review import backlog, keyset
from moderation.review import services as review
from moderation.review.queries import QueueFilter, awaiting_review, in_scope, pending
from moderation.review.views import item_detail, item_summaries
from moderation.transparency.outbox import due
from moderation.transparency.models import Statement
from tests.fakes.providers import RecordingPublisher
from tests.integration.fresh_pg import fresh_database

pytestmark = pytest.mark.integration

ITEMS = 1_000_000
# Tables that grow with every item. ``reviews`` is left out: a count over many items anti-joins it by hashing it
# whole, the right plan for a table a fraction of the size of the rows counted.
BIG = {"items", "audit_events", "analyses", "decisions", "alerts"}


@pytest.fixture(scope="module")
def big_url():
    if os.environ.get("GROWTH_PLANS_URL"):  # a database seeded (and migrated) before: re-running while tuning
        yield os.environ["GROWTH_PLANS_URL"]
        return
    with fresh_database("modq_growth_plans") as url:
        seed(url, ITEMS)
        yield url


@contextmanager
def captured(url: str):
    """The (SQL, parameters) of every statement sent to ``url``'s engine meanwhile."""
    engine = db.session_factory(url).kw["bind"]
    sent: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def plans(url: str, sent) -> list[dict]:
    """PostgreSQL's plan of each captured SELECT (EXPLAIN only: nothing runs twice)."""
    engine = db.session_factory(url).kw["bind"]
    out = []
    with engine.connect() as conn:
        for statement, parameters in sent:
            if not statement.lstrip().upper().startswith("SELECT") or "pg_advisory" in statement:
                continue
            raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
            plan = raw if isinstance(raw, list) else json.loads(raw)
            out.append({"sql": statement, "plan": plan[0]["Plan"]})
    return out


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def check(url: str, sent, index: str | None) -> list[dict]:
    """No Seq Scan of a big table in any captured plan, and ``index`` used by one of them (None: any)."""
    found = plans(url, sent)
    assert found, "the code sent no SELECT"
    used = set()
    for p in found:
        for node in nodes(p["plan"]):
            table = node.get("Relation Name")
            assert not (node["Node Type"] == "Seq Scan" and table in BIG), \
                f"Seq Scan on {table}:\n{p['sql']}\n{json.dumps(p['plan'], indent=1)[:3000]}"
            used.add(node.get("Index Name"))
    assert index in used if index else used - {None}, f"{index} not used; used {sorted(filter(None, used))}:\n" + \
        "\n".join(p["sql"] for p in found)
    return found


def some_item(url: str, **where) -> m.Item:
    with transaction(url) as s:
        return s.scalars(select(m.Item).filter_by(**where).limit(1)).one()


TENANT_4 = Scope(tenant_ids=frozenset({4}))  # 5 % of the items
SMALL_TENANT = Scope(tenant_ids=frozenset({5}))  # 0.2 %


@pytest.mark.parametrize("f", [QueueFilter(), QueueFilter(verdict=m.REJECTED, scope=TENANT_4),
                               QueueFilter(media_type="video")], ids=["flagged", "rejected-tenant", "video"])
def test_review_queue_first_page_and_next(big_url, f):
    now = utcnow()
    with capture_session(big_url) as (s, sent):
        page = list(s.scalars(pending("postgresql", f, now).limit(51)))
        s.scalars(pending("postgresql", f, now, after=keyset.of(page[-1])).limit(51)).all()
    check(big_url, sent, "ix_items_review_queue")


def test_escalated_queue_and_its_count(big_url):
    now, f = utcnow(), QueueFilter(escalated=True)
    with capture_session(big_url) as (s, sent):
        s.scalars(pending("postgresql", f, now).limit(51)).all()
        # The Escalated tab's count on every console page (review.escalations.waiting's statement).
        s.scalar(select(func.count()).select_from(m.Item)
                 .where(awaiting_review(), in_scope(EVERY_TENANT), m.Item.escalated_at.is_not(None)))
        s.execute(backlog.query(EVERY_TENANT, escalated=True)).all()
    check(big_url, sent, "ix_items_escalated")


def test_queue_counts_by_category(big_url):
    """The counts per category (on every console queue page): no Seq Scan, but they read every flagged or rejected
    item ever stored, the reviewed ones joined away, so they grow with history (bench/RESULTS.md, "Growth"):
    bounding them takes a column, not an index."""
    with capture_session(big_url) as (s, sent):
        s.execute(backlog.query(TENANT_4, escalated=False)).all()
    check(big_url, sent, None)


def test_item_detail_read_model(big_url):
    item = _decided_with_analysis(big_url)
    with captured(big_url) as sent:
        assert item_detail(big_url, item.id, scope=EVERY_TENANT)["id"] == item.id
    check(big_url, sent, "items_pkey")
    check(big_url, sent, "uq_decisions_item")


def test_items_list_newest_first(big_url):
    with captured(big_url) as sent:
        assert len(item_summaries(big_url, scope=SMALL_TENANT, limit=50)) == 50
        item_summaries(big_url, status=m.FAILED, scope=EVERY_TENANT, limit=50)
    check(big_url, sent, "ix_items_tenant_created_at")


def test_subject_history_and_audit_trail(big_url):
    item = some_item(big_url, tenant_id=2, status=m.REJECTED)
    with captured(big_url) as sent:
        assert history(big_url, item.subject_id, tenant_id=2)
        assert audit_trail(big_url, item_id=item.id, scope=EVERY_TENANT)
    check(big_url, sent, "ix_items_tenant_subject_created_at")
    check(big_url, sent, "ix_audit_events_item_id")


def test_claim(big_url, tmp_path):
    """A claim asks which item the reviewer already holds, then locks the queue's first free item."""
    settings = Settings(database_url=big_url, media_root=tmp_path)
    rt = Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())
    with captured(big_url) as sent:
        first = review.claim(rt, "rev-plans", QueueFilter(scope=TENANT_4))
        assert review.claim(rt, "rev-plans", QueueFilter(scope=TENANT_4)).item_id == first.item_id
    check(big_url, sent, "ix_items_lease_owner")
    check(big_url, sent, "ix_items_review_queue")


def test_outbox_sweeps(big_url):
    now = utcnow()
    with capture_session(big_url) as (s, sent):
        pending_alerts(s, now=now)
        s.execute(select(Statement.id).where(due(now)).order_by(Statement.id).limit(100)).all()
    check(big_url, sent, "ix_alerts_published_at")


@pytest.mark.parametrize("rule", ["approved_days", "flagged_rejected_days", "failed_days", "erase_requested"])
def test_retention_scan(big_url, rule):
    """The statements of one retention pass (its count and its first batch), as moderation.privacy.retention
    builds them: a partial index over the items not purged yet, so purged rows drop out of what it reads."""
    now = utcnow()
    conditions = retention.due_conditions(3, rule, DEFAULT, now, "")
    with capture_session(big_url) as (s, sent):
        s.scalar(select(func.count()).select_from(m.Item).where(*conditions))
        s.scalars(select(m.Item).where(*conditions).order_by(m.Item.id).limit(500)
                  .with_for_update(skip_locked=True, of=m.Item)).all()
        s.rollback()
    for index in INDEXES_OF_PASS[rule]:
        check(big_url, sent, index)


# The count reads what is due; a batch walks the tenant's unpurged items in id order, or, for a status as rare as
# ``failed``, takes its few due rows from the same index as the count and sorts them.
INDEXES_OF_PASS = {"approved_days": ("ix_items_retention", "ix_items_unpurged"),
                   "flagged_rejected_days": ("ix_items_retention", "ix_items_unpurged"),
                   "failed_days": ("ix_items_retention",), "erase_requested": ("ix_items_erase_requested",)}


@contextmanager
def capture_session(url: str):
    with captured(url) as sent, transaction(url) as s:
        yield s, sent


def _decided_with_analysis(url: str) -> m.Item:
    with transaction(url) as s:
        return s.scalars(select(m.Item).where(m.Item.analysis_id.is_not(None), m.Item.status == m.REJECTED)
                         .limit(1)).one()

