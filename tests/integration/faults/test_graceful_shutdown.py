"""Guarantee 8: SIGTERM lets in-flight work finish; what was not started stays queued.

Celery's warm shutdown stops taking tasks, waits for the running ones (whose
acks come after they finish, ``acks_late``), gives reserved-but-unstarted
messages back to Redis, and exits. A worker started afterwards takes the rest.
"""

from __future__ import annotations

import pytest

from tests.integration.faults.conftest import APPROVE, FLAG, assert_decided_once, in_flight

pytestmark = pytest.mark.integration


def test_sigterm_finishes_running_tasks_and_leaves_the_rest_queued(deployment):
    deployment.rekognition.latency_s = 1.2
    first = deployment.worker(concurrency=2)
    items = {deployment.submit(lab): lab for lab in [FLAG, APPROVE, FLAG, FLAG, APPROVE, FLAG]}
    in_flight(deployment, 2)
    running = [i for i, (status, _, _) in deployment.outcomes(list(items)).items() if status == "processing"]
    assert len(running) == 2

    first.terminate()
    assert first.proc.wait(30) == 0, first.output()
    after = deployment.outcomes(list(items))
    assert all(after[i][0] in ("flagged", "approved") for i in running), "the running tasks finished"
    assert sum(status == "queued" for status, _, _ in after.values()) == 4, "the rest were left for later"
    assert deployment.queued_in_broker() == 4

    deployment.worker(concurrency=4)
    assert_decided_once(deployment, items)
