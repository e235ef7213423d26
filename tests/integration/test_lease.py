"""Item leases: Redis (shared by all workers) and the in-process variant obey the same rules."""

from __future__ import annotations

import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from moderation.domain.errors import Deferred
from moderation.infra.lease import LeaseBusy, LocalLeases, RedisLeases, held

pytestmark = pytest.mark.integration


@pytest.fixture(params=["redis", "local"])
def leases(request, broker_url):
    if request.param == "local":
        yield LocalLeases()
        return
    prefix = f"modq:test:lease:{uuid.uuid4().hex[:8]}:"
    yield RedisLeases(redis.Redis.from_url(broker_url), prefix=prefix)
    client = redis.Redis.from_url(broker_url)
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)


def test_one_holder_at_a_time_and_the_same_owner_takes_it_over(leases):
    assert leases.acquire("item", "task-1", 30) == 0.0
    assert leases.acquire("item", "task-1", 30) == 0.0  # a redelivery of the same task after a crash
    wait = leases.acquire("item", "task-2", 30)
    assert 29 < wait <= 30  # the reaper's copy waits
    leases.release("item", "task-2")  # not the holder: no effect
    assert leases.acquire("item", "task-2", 30) > 0
    leases.release("item", "task-1")
    assert leases.acquire("item", "task-2", 30) == 0.0


def test_a_dead_holders_lease_expires(leases):
    assert leases.acquire("item", "killed-worker", 0.2) == 0.0
    time.sleep(0.3)
    assert leases.acquire("item", "someone-else", 30) == 0.0


def test_held_raises_lease_busy_and_always_releases(leases):
    with held(leases, "item", "a", 30):
        with pytest.raises(LeaseBusy, match="another delivery is processing item item") as info:
            with held(leases, "item", "b", 30):
                pass
        assert isinstance(info.value, Deferred) and info.value.retry_after > 29
    with pytest.raises(RuntimeError):
        with held(leases, "item", "a", 30):
            raise RuntimeError("the task failed")
    assert leases.acquire("item", "b", 30) == 0.0  # released on the way out


def test_redis_unreachable_is_a_deferral():
    leases = RedisLeases(unreachable_redis())
    with pytest.raises(Deferred, match="lease store unavailable"):
        leases.acquire("item", "a", 30)


def unreachable_redis() -> redis.Redis:
    return redis.Redis(port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
