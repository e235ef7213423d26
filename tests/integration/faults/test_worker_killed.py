"""Guarantee 1: a worker killed mid-task loses nothing; every item is decided exactly once.

``acks_late`` keeps a task in Redis until it has finished, so the tasks of a
worker killed outright come back after the visibility timeout;
``reject_on_worker_lost`` gives a dead pool process's task back at once.
The item's row lock, terminal check and lease make the second run record one
decision and one alert. The unsafe variants (tests/fakes/unsafe_worker.py)
run the same scenario with each setting off and show the items are lost.

An item that kills its worker every time (tests/fakes/oom_worker.py) is not
redelivered forever: the attempts counted in the database end it ``failed``
after MODQ_MAX_ATTEMPTS, with an operator alert.
"""

from __future__ import annotations

import time

import pytest

from tests.integration.conftest import wait_for
from tests.integration.faults.conftest import APPROVE, FLAG, assert_decided_once, in_flight

pytestmark = pytest.mark.integration
VISIBILITY = "4"  # seconds; production keeps 3600


def stays_stuck(deployment, ids: list[str], seconds: float) -> list[str]:
    """Items still not terminal after ``seconds`` (a redelivery would have come well within it)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        stuck = [i for i, (status, _, _) in deployment.outcomes(ids).items() if status == "processing"]
        assert stuck, "every item finished: nothing was lost"
        time.sleep(0.5)
    return stuck


def submit_batch(deployment) -> dict[str, list[dict]]:
    labels = [FLAG, FLAG, APPROVE, FLAG, APPROVE, FLAG]
    return {deployment.submit(lab): lab for lab in labels}


def test_worker_killed_mid_task_every_item_decided_once_after_restart(deployment):
    deployment.rekognition.latency_s = 1.5
    first = deployment.worker(concurrency=4, MODQ_BROKER_VISIBILITY_TIMEOUT=VISIBILITY)
    items = submit_batch(deployment)
    in_flight(deployment, 4)
    first.kill()
    assert sum(s == "processing" for s, _, _ in deployment.outcomes(list(items)).values()) >= 4

    deployment.worker(concurrency=4, MODQ_BROKER_VISIBILITY_TIMEOUT=VISIBILITY)
    assert_decided_once(deployment, items)


def test_pool_process_killed_mid_task_its_task_is_requeued_at_once(deployment):
    deployment.rekognition.latency_s = 1.5
    worker = deployment.worker(pool="prefork", concurrency=2)
    items = submit_batch(deployment)
    in_flight(deployment, 2)
    assert worker.kill_pool_processes()
    # No restart: the parent replaces its pool processes and the two tasks come straight back.
    assert_decided_once(deployment, items)
    assert "WorkerLostError" in worker.output()


def test_failure_mode_without_acks_late_a_killed_worker_loses_its_items(deployment):
    """Documents why acks_late matters: with it off the running tasks are gone for good."""
    deployment.rekognition.latency_s = 1.5
    first = deployment.worker(app="tests.fakes.unsafe_worker", concurrency=4, MODQ_TEST_UNSAFE="acks_early",
                              MODQ_BROKER_VISIBILITY_TIMEOUT=VISIBILITY)
    items = submit_batch(deployment)
    in_flight(deployment, 4)
    first.kill()
    deployment.worker(concurrency=4, MODQ_BROKER_VISIBILITY_TIMEOUT=VISIBILITY)
    stuck = stays_stuck(deployment, list(items), seconds=float(VISIBILITY))  # redelivery would come by now
    assert len(stuck) >= 4  # only the reaper (guarantee 2) could still save them


def test_failure_mode_without_reject_on_worker_lost_a_dead_pool_process_loses_its_item(deployment):
    deployment.rekognition.latency_s = 1.5
    worker = deployment.worker(app="tests.fakes.unsafe_worker", pool="prefork", concurrency=2,
                               MODQ_TEST_UNSAFE="no_requeue")
    items = submit_batch(deployment)
    in_flight(deployment, 2)
    assert worker.kill_pool_processes()
    stuck = stays_stuck(deployment, list(items), seconds=4)  # a requeue would be immediate
    assert len(stuck) >= 1


def test_an_item_that_kills_its_worker_every_time_fails_after_max_attempts_with_an_operator_alert(deployment):
    deaths = deployment.tmp / "deaths.txt"
    worker = deployment.worker(app="tests.fakes.oom_worker", pool="prefork", concurrency=1, MODQ_TEST_OOM="die",
                               MODQ_TEST_CALLS=str(deaths))  # the deployment's MODQ_MAX_ATTEMPTS is 3
    item_id = deployment.submit(FLAG)

    row = deployment.wait_decided([item_id], timeout=120)[item_id]
    died = "gave up after 3 attempts; the worker died while processing it (killed, possibly out of memory)"
    assert (row.status, row.failure_reason, row.attempts) == ("failed", died, 3)
    killed = deaths.read_text().split()
    assert len(killed) == 3 and len(set(killed)) == 3  # exactly 3 deliveries reached it, each in a new process
    assert worker.output().count("WorkerLostError") >= 3 and worker.proc.poll() is None  # the parent lived on

    (alert,) = wait_for(lambda: deployment.alerts.drain(), 30, message="the operator alert")
    assert alert["Message"]["kind"] == "worker_lost" and alert["Message"]["item_id"] == item_id
    assert alert["Message"]["reason"] == died and alert["Subject"].startswith("modq worker lost: gave up after 3")
    assert deployment.outcomes([item_id]) == {item_id: ("failed", 0, 1)}
