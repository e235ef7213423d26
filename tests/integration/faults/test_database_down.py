"""Guarantee 3: the database goes away for a while; tasks wait and everything completes once.

The worker reaches PostgreSQL through a TCP proxy the test cuts and restores
(tests/fakes/tcp_proxy.py): connections in use are reset mid-transaction and
new ones refused. A database outage is not the item's fault, so tasks defer
with backoff (without spending MODQ_MAX_ATTEMPTS) until it is back. Each item
is written in one transaction, so a cut leaves nothing half-written: after
recovery every item has exactly one analysis, one decision and one alert.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from moderation.infra import db
from moderation.items import models as m
from tests.fakes.tcp_proxy import TcpProxy
from tests.integration.conftest import wait_for
from tests.integration.faults.conftest import APPROVE, FLAG, assert_decided_once, in_flight

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_proxy(pg_url):
    url = make_url(pg_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield proxy, url.set(host=proxy.host, port=proxy.port).render_as_string(hide_password=False)
    proxy.close()


def test_database_outage_tasks_wait_then_every_item_completes_once(deployment, pg_proxy):
    proxy, proxied_url = pg_proxy
    deployment.rekognition.latency_s = 1.0
    worker = deployment.worker(concurrency=4, MODQ_DATABASE_URL=proxied_url, MODQ_RETRY_BACKOFF_MAX="1")
    items = {deployment.submit(lab): lab for lab in [FLAG, APPROVE, FLAG, FLAG, APPROVE, FLAG]}
    in_flight(deployment, 4)  # four items are at Rekognition; their results will meet a dead database

    proxy.down()

    def deferrals_per_item() -> Counter:
        return Counter(e["item_id"] for e in deployment.log_events("deferred") if "OperationalError" in e["reason"])

    # Outlast the attempt budget (MODQ_MAX_ATTEMPTS=3): charged retries would have failed every item by now.
    wait_for(lambda: len(deferrals_per_item()) == len(items) and min(deferrals_per_item().values()) > 3, 40,
             message="every item to wait through more tries than its attempt budget")
    assert all(status != "failed" for status, _, _ in deployment.outcomes(list(items)).values())
    proxy.up()

    assert_decided_once(deployment, items)
    with db.transaction(deployment.database_url) as s:
        rows = {i.id: i for i in s.scalars(select(m.Item).where(m.Item.id.in_(list(items))))}
        for item in rows.values():
            analyses = s.scalar(select(func.count()).select_from(m.Analysis).where(m.Analysis.content_key == item.content_key))
            decide_events = s.scalar(select(func.count()).select_from(m.AuditEvent).where(
                m.AuditEvent.item_id == item.id, m.AuditEvent.action == "decide"))
            assert (analyses, decide_events) == (1, 1), "nothing half-written, nothing written twice"
            assert item.analysis_id is not None and item.decided_at is not None
    assert proxy.refused > 0 and "OperationalError" in worker.output()
