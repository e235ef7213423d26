"""A pool process whose memory stays high after a large item is replaced (MODQ_WORKER_MAX_MEMORY_PER_CHILD_MB,
Celery's ``worker_max_memory_per_child``): the item is still decided, and the next one runs in a fresh
process. The provider of tests/fakes/oom_worker.py (``hoard``) keeps 300 MiB resident after each call, as a
decoder's buffers that never go back to the OS; the failure-mode run without the limit keeps that process.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.integration.faults.conftest import APPROVE

pytestmark = pytest.mark.integration
LIMIT_MB = 256


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def two_items_one_after_the_other(deployment, limit_mb: int):
    """Run two items through a one-process prefork worker; return (worker, pids that called the provider)."""
    calls = deployment.tmp / f"calls-{uuid.uuid4().hex[:6]}.txt"
    worker = deployment.worker(app="tests.fakes.oom_worker", pool="prefork", concurrency=1, MODQ_TEST_OOM="hoard",
                               MODQ_TEST_CALLS=str(calls), MODQ_WORKER_MAX_MEMORY_PER_CHILD_MB=str(limit_mb))
    (fresh,) = worker.children()
    assert rss_mb(fresh) < LIMIT_MB, "a fresh pool process must start under the limit, or any process is replaced"
    for _ in range(2):
        item_id = deployment.submit(APPROVE)
        assert deployment.wait_decided([item_id])[item_id].status == "approved"
    return worker, [int(pid) for pid in calls.read_text().split()]


def test_a_pool_process_over_the_memory_limit_after_an_item_is_replaced(deployment):
    worker, (first, second) = two_items_one_after_the_other(deployment, LIMIT_MB)
    assert first != second, "the process that kept 300 MiB took the next item too"
    assert first not in worker.children() and worker.proc.poll() is None  # replaced; the worker itself lives on


def test_failure_mode_without_the_limit_the_bloated_process_keeps_its_memory_and_takes_the_next_item(deployment):
    worker, (first, second) = two_items_one_after_the_other(deployment, 0)  # 0: never replace
    assert first == second and rss_mb(first) > 2 * 300  # both hoards still resident
