"""Guarantee 2: the broker loses its queue; the reaper re-sends every stuck item from the database.

Redis restarted without persistence (played here by deleting every key of
this deployment's namespace) loses queued tasks and the record of running
ones. The items are still ``queued``/``processing`` in PostgreSQL, the source
of truth; beat runs the reaper, which re-sends the task of each item with no
progress for MODQ_REAPER_STUCK_AFTER_SECONDS.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.infra import db
from moderation.items import models as m
from tests.integration.conftest import wait_for
from tests.integration.faults.conftest import APPROVE, FLAG, assert_decided_once, in_flight

pytestmark = pytest.mark.integration
REAPER = {"MODQ_REAPER_STUCK_AFTER_SECONDS": "3", "MODQ_REAPER_INTERVAL_SECONDS": "1"}


def test_redis_loses_queued_and_running_tasks_reaper_resends_and_all_complete_once(deployment):
    deployment.rekognition.latency_s = 0.6
    deployment.worker(concurrency=2, **REAPER)
    items = {deployment.submit(lab): lab for lab in [FLAG, APPROVE, FLAG, FLAG, APPROVE, FLAG, APPROVE, FLAG]}
    in_flight(deployment, 2)
    wait_for(lambda: deployment.queued_in_broker() >= 4, 10, message="a backlog in Redis")

    assert deployment.lose_broker_state() > 0
    assert deployment.queued_in_broker() == 0
    deployment.beat(**REAPER)  # the scheduler comes (back) up after the loss, as with a restarted Redis host

    assert_decided_once(deployment, items)
    with db.transaction(deployment.database_url) as s:
        resent = set(s.scalars(select(m.AuditEvent.item_id).where(m.AuditEvent.item_id.in_(list(items)),
                                                                    m.AuditEvent.action == "resend",
                                                                    m.AuditEvent.actor == "reaper")))
    assert len(resent) >= 4, "the lost backlog came back through the reaper"
