"""The lease semaphore on the real Redis the suite uses (MODQ_TEST_REDIS_DB), across processes."""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid

import pytest
import redis

from moderation.infra.semaphore import LeaseSemaphore

pytestmark = pytest.mark.integration


@pytest.fixture
def key(broker_url):
    name = f"modq:test:slots:{uuid.uuid4().hex[:8]}"
    yield name
    redis.Redis.from_url(broker_url).delete(name)


def test_limit_renewal_and_release(broker_url, key):
    sem = LeaseSemaphore(redis.Redis.from_url(broker_url), key, limit=2, lease_seconds=60)
    assert sem.acquire("a") and sem.acquire("a") and sem.acquire("b") and not sem.acquire("c")
    assert sorted(sem.holders()) == ["a", "b"]
    assert sem.renew("a") and not sem.renew("c")
    assert sem.release("a") and sem.acquire("c")


def test_lease_expires_by_redis_server_time(broker_url, key):
    sem = LeaseSemaphore(redis.Redis.from_url(broker_url), key, limit=1, lease_seconds=0.5)
    assert sem.acquire("crashed-worker") and not sem.acquire("b")
    time.sleep(0.7)
    assert sem.acquire("b")


def _contend(url: str, key: str, n: int, out) -> None:
    sem = LeaseSemaphore(redis.Redis.from_url(url), key, limit=7, lease_seconds=60)
    out.put([h for h in (f"{os.getpid()}-{i}" for i in range(n)) if sem.acquire(h)])


def test_processes_sharing_one_redis_never_exceed_the_limit(broker_url, key):
    out = multiprocessing.get_context("spawn").Queue()
    procs = [multiprocessing.get_context("spawn").Process(target=_contend, args=(broker_url, key, 10, out))
             for _ in range(6)]
    for p in procs:
        p.start()
    granted = [h for _ in procs for h in out.get(timeout=60)]
    for p in procs:
        p.join(30)
    assert len(granted) == 7
    assert LeaseSemaphore(redis.Redis.from_url(broker_url), key, limit=7, lease_seconds=60).in_use() == 7
