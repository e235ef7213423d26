"""The Redis lease semaphore on fakeredis (the same tests run on real Redis in
tests/integration/test_limits_redis.py)."""

from __future__ import annotations

import threading

import fakeredis
import pytest

from moderation.infra.semaphore import LeaseSemaphore


class Clock:
    """Stands in for Redis server time, which the semaphore reads by default."""

    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def client():
    return fakeredis.FakeRedis()


@pytest.fixture
def clock():
    return Clock()


def test_grants_up_to_the_limit_then_refuses(client, clock):
    sem = LeaseSemaphore(client, "slots", limit=3, lease_seconds=60, clock=clock)
    assert [sem.acquire(f"item-{i}") for i in range(5)] == [True, True, True, False, False]
    assert sorted(sem.holders()) == ["item-0", "item-1", "item-2"] and sem.in_use() == 3


def test_same_holder_renews_instead_of_taking_a_second_slot(client, clock):
    sem = LeaseSemaphore(client, "slots", limit=2, lease_seconds=60, clock=clock)
    assert sem.acquire("a") and sem.acquire("a") and sem.acquire("a")
    assert sem.in_use() == 1
    assert sem.acquire("b") and not sem.acquire("c")


def test_release_frees_a_slot_and_is_idempotent(client, clock):
    sem = LeaseSemaphore(client, "slots", limit=1, lease_seconds=60, clock=clock)
    assert sem.acquire("a") and not sem.acquire("b")
    assert sem.release("a") is True
    assert sem.release("a") is False
    assert sem.acquire("b")


def test_a_crashed_holders_lease_expires(client, clock):
    sem = LeaseSemaphore(client, "slots", limit=1, lease_seconds=60, clock=clock)
    assert sem.acquire("crashed")
    clock.advance(59)
    assert not sem.acquire("b")
    clock.advance(2)
    assert sem.acquire("b")
    assert sem.holders() == ["b"]
    assert client.zscore("slots", "crashed") is None  # cleaned up, not just ignored


def test_renew_extends_only_a_lease_that_exists(client, clock):
    sem = LeaseSemaphore(client, "slots", limit=1, lease_seconds=60, clock=clock)
    assert sem.renew("nobody") is False and sem.in_use() == 0  # renew never creates a slot
    sem.acquire("a")
    clock.advance(50)
    assert sem.renew("a")
    clock.advance(50)  # 100 s after acquiring, 50 after renewing
    assert sem.holders() == ["a"] and not sem.acquire("b")


def test_holder_whose_lease_lapsed_needs_a_free_slot_again(client, clock):
    sem = LeaseSemaphore(client, "slots", limit=1, lease_seconds=10, clock=clock)
    sem.acquire("a")
    clock.advance(11)
    assert sem.acquire("b")
    assert not sem.acquire("a")  # its old entry does not entitle it to a slot


def test_concurrent_acquirers_never_exceed_the_limit(client):
    sem = LeaseSemaphore(client, "slots", limit=5, lease_seconds=60)  # fakeredis's TIME
    granted, lock = [], threading.Lock()

    def worker(i):
        if sem.acquire(f"h{i}"):
            with lock:
                granted.append(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 5 and sem.in_use() == 5


@pytest.mark.parametrize("limit, lease", [(0, 10), (1, 0)])
def test_rejects_nonsense_configuration(client, limit, lease):
    with pytest.raises(ValueError):
        LeaseSemaphore(client, "slots", limit=limit, lease_seconds=lease)
