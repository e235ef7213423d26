"""The circuit breaker on the suite's real Redis: shared state, atomic transitions."""

from __future__ import annotations

import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from moderation.infra.circuit import CircuitBreaker, CircuitOpen
from moderation.domain.errors import Deferred

pytestmark = pytest.mark.integration


@pytest.fixture
def make(broker_url):
    prefix = f"modq:test:circuit:{uuid.uuid4().hex[:8]}:"

    def build(**kw) -> CircuitBreaker:
        options = dict(failures=3, ratio=0.5, window=30, open_for=0.3)
        options.update(kw)
        return CircuitBreaker(redis.Redis.from_url(broker_url), "rekognition", prefix=prefix, **options)

    yield build
    client = redis.Redis.from_url(broker_url)
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)


def test_opens_after_enough_failures_and_fails_fast(make):
    breaker, other_host = make(), make()
    assert breaker.allow() is False  # closed; not a probe
    assert [breaker.record(False), breaker.record(True), breaker.record(False)] == ["counted"] * 3
    assert breaker.record(False) == "opened"  # 3 failures, 75% of 4 answers
    with pytest.raises(CircuitOpen, match="rekognition circuit is open") as info:
        other_host.allow()  # every worker sees it
    assert 0 < info.value.retry_after <= 0.5 and isinstance(info.value, Deferred)


def test_a_low_failure_ratio_keeps_it_closed(make):
    """One poison item failing again and again among healthy traffic must not pause everyone."""
    breaker = make()
    for _ in range(10):
        breaker.record(True)
    assert [breaker.record(False) for _ in range(5)] == ["counted"] * 5  # 5 of 15
    assert breaker.allow() is False


def test_half_open_lets_one_probe_through_success_closes(make):
    breaker = make()
    for _ in range(3):
        breaker.record(False)
    time.sleep(0.35)
    assert breaker.allow() is True  # the probe
    with pytest.raises(CircuitOpen):
        breaker.allow()  # everyone else waits for its answer
    assert breaker.record(True, probe=False) == "ignored"  # a call that began before the circuit opened
    assert breaker.record(True, probe=True) == "closed"
    assert breaker.allow() is False
    assert breaker.record(False) == "counted"  # counting starts afresh


def test_failed_probe_opens_it_again(make):
    breaker = make()
    for _ in range(3):
        breaker.record(False)
    time.sleep(0.35)
    assert breaker.allow() is True
    assert breaker.record(False, probe=True) == "reopened"
    with pytest.raises(CircuitOpen):
        breaker.allow()


def test_failures_outside_the_window_do_not_add_up(make):
    breaker = make(window=0.2)
    breaker.record(False)
    breaker.record(False)
    time.sleep(0.3)
    assert breaker.record(False) == "counted"
    assert breaker.allow() is False


def test_redis_unreachable():
    breaker = CircuitBreaker(unreachable_redis(), "rekognition")
    with pytest.raises(Deferred, match="circuit breaker state unavailable"):
        breaker.allow()
    assert breaker.record(False) == "unknown"  # the call already happened: never raise after it


def unreachable_redis() -> redis.Redis:
    return redis.Redis(port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
