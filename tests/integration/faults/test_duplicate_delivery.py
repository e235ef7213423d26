"""Guarantee 6: the same task delivered several times gives one decision and one alert.

Two kinds of duplicate: the same message again (same task id: a Redis
visibility-timeout redelivery, a publisher retry) and another task for the
same item (the reaper, a client re-sending). The row lock and terminal check
record one decision; the lease makes a different-id duplicate wait instead of
calling Rekognition a second time.
"""

from __future__ import annotations

import uuid

import pytest

from moderation.items import services as service
from moderation.bootstrap import InMemoryDispatcher
from tests.integration.faults.conftest import APPROVE, BUCKET, FLAG

pytestmark = pytest.mark.integration


def queued_item(deployment, labels=FLAG) -> str:
    """An item committed as queued with no task sent: the test sends the deliveries itself."""
    key = f"{uuid.uuid4().hex[:12]}.jpg"
    deployment.rekognition.add_s3_object(BUCKET, key, labels=labels)
    rt = deployment.rt
    silent = type(rt)(rt.settings, rt.policy, InMemoryDispatcher(), rt.publisher)
    item_id = service.submit(f"s3://{BUCKET}/{key}", rt=silent).item_id
    deployment.keys[item_id] = key
    return item_id


def test_duplicate_deliveries_record_one_decision_and_one_alert(deployment):
    deployment.rekognition.latency_s = 1.0
    deployment.worker(concurrency=8)
    same_message, other_tasks = queued_item(deployment), queued_item(deployment)
    approved = queued_item(deployment, APPROVE)  # no alert row whose unique dedup_id could mask a second decision
    task_id, approved_task_id = str(uuid.uuid4()), str(uuid.uuid4())
    for _ in range(3):  # one message delivered three times
        deployment.dispatcher.send("modq.moderate_image", same_message, queue="images", task_id=task_id)
        deployment.dispatcher.send("modq.moderate_image", approved, queue="images", task_id=approved_task_id)
    for _ in range(4):  # four tasks for one item
        deployment.dispatcher.send("modq.moderate_image", other_tasks, queue="images")

    items = [same_message, other_tasks, approved]
    rows = deployment.wait_decided(items)
    assert [rows[i].status for i in items] == ["flagged", "flagged", "approved"]
    assert deployment.outcomes(items) == {same_message: ("flagged", 1, 1), other_tasks: ("flagged", 1, 1),
                                          approved: ("approved", 1, 0)}
    assert deployment.sqs_messages_per_item(2) == {same_message: 1, other_tasks: 1}
    # The lease kept the other tasks away from Rekognition while the first worked on the item.
    assert deployment.calls_for(other_tasks) == 1
    assert deployment.log_events("deferred"), "duplicates waited for the lease"
