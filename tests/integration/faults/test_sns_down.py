"""Guarantee 4: SNS unavailable; decisions are kept, alerts wait in the outbox and go out once each.

The worker reaches SNS through a TCP proxy the test cuts (tests/fakes/tcp_proxy.py).
Decisions and their outbox rows are written in one transaction whatever SNS
does; ``publish_alert`` gives up after its attempts and leaves the row
pending; beat's ``flush_outbox`` delivers it after recovery. The row lock and
``published_at`` make each alert go out once; its ``dedup_id`` is stable, so a
FIFO topic would absorb a repeat after a crash between publish and commit.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from moderation.infra import db
from moderation.alerts.models import Alert
from tests.fakes.tcp_proxy import TcpProxy
from tests.integration.conftest import wait_alerts_published, wait_for
from tests.integration.faults.conftest import APPROVE, FLAG

pytestmark = pytest.mark.integration


@pytest.fixture
def sns_proxy(moto_endpoint):
    url = urlparse(moto_endpoint)
    proxy = TcpProxy(url.hostname, url.port)
    yield proxy
    proxy.close()


def alerts_of(deployment, ids: list[str]) -> list[Alert]:
    with db.transaction(deployment.database_url) as s:
        return list(s.scalars(select(Alert).where(Alert.item_id.in_(ids))))


def test_sns_outage_keeps_decisions_and_delivers_every_alert_once_after_recovery(deployment, sns_proxy):
    env = {"AWS_ENDPOINT_URL_SNS": f"http://{sns_proxy.address}"}
    sns_proxy.down()
    deployment.worker(concurrency=4, **env)
    deployment.beat(**env)
    items = {deployment.submit(lab): lab for lab in [FLAG, FLAG, APPROVE, FLAG]}
    flagged = [i for i, lab in items.items() if lab]

    rows = deployment.wait_decided(list(items))  # decided while SNS is down
    assert [rows[i].status for i in items] == ["flagged", "flagged", "approved", "flagged"]
    # publish_alert used up its attempts (MODQ_MAX_ATTEMPTS=3) and the outbox flush keeps trying: all pending
    wait_for(lambda: all(a.attempts >= 4 and a.published_at is None and a.last_error for a in alerts_of(deployment, flagged)),
             30, message="every alert to be refused by SNS more often than publish_alert's attempts")
    assert deployment.alerts.drain() == []

    sns_proxy.up()
    published = wait_alerts_published(deployment.database_url, flagged, timeout=30)
    assert sorted(a.item_id for a in published) == sorted(flagged)
    assert len({a.dedup_id for a in published}) == len(flagged)
    assert deployment.sqs_messages_per_item(len(flagged)) == {i: 1 for i in flagged}
    assert deployment.outcomes(list(items)) == {i: (rows[i].status, 1, 1 if items[i] else 0) for i in items}
