"""The global rate limiter on the suite's real Redis: one bucket for every client and process."""

from __future__ import annotations

import multiprocessing
import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from moderation.domain.errors import Deferred, Throttled
from moderation.infra.ratelimit import RateLimiter

pytestmark = pytest.mark.integration


@pytest.fixture
def prefix(broker_url):
    name = f"modq:test:rl:{uuid.uuid4().hex[:8]}:"
    yield name
    client = redis.Redis.from_url(broker_url)
    for key in client.scan_iter(name + "*"):
        client.delete(key)


class SleepLog(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def limiter(url: str, prefix: str, rate: float, burst: float = 1, max_wait: float = 10, **kw) -> RateLimiter:
    return RateLimiter(redis.Redis.from_url(url), rate, burst, max_wait, prefix=prefix, **kw)


def test_burst_then_one_token_per_interval_reserved_in_order(broker_url, prefix):
    slept = SleepLog()
    rl = limiter(broker_url, prefix, rate=10, burst=2, sleep=slept)
    waits = [rl.acquire("DetectModerationLabels") for _ in range(5)]
    assert waits[:2] == [0.0, 0.0]  # the burst
    # each later caller is queued one interval behind the previous reservation
    assert [round(w, 1) for w in waits[2:]] == [0.1, 0.2, 0.3]
    assert slept == waits[2:]


def test_too_long_a_wait_raises_throttled_without_reserving(broker_url, prefix):
    rl = limiter(broker_url, prefix, rate=1, burst=1, max_wait=0.2, sleep=lambda s: None)
    assert rl.acquire("DetectModerationLabels") == 0.0
    for _ in range(3):  # nothing reserved: each refusal quotes the same wait, not a growing queue
        with pytest.raises(Throttled, match=r"at its rate limit of 1/s \(MODQ_REKOGNITION_TPS\)") as info:
            rl.acquire("DetectModerationLabels")
        assert 0.8 < info.value.retry_after <= 1.0
    assert isinstance(info.value, Deferred)  # the task retries it without spending an attempt


def test_operations_have_separate_buckets_and_rates(broker_url, prefix):
    rl = limiter(broker_url, prefix, rate=1, max_wait=0, rates={"GetContentModeration": 50}, sleep=lambda s: None)
    rl.acquire("DetectModerationLabels")
    rl.acquire("StartContentModeration")  # another operation: its own bucket
    with pytest.raises(Throttled):
        rl.acquire("DetectModerationLabels")
    assert rl.rate_for("GetContentModeration") == 50 and rl.rate_for("DetectModerationLabels") == 1


def _take(url: str, prefix: str, n: int, out) -> None:
    rl = limiter(url, prefix, rate=20, burst=1)
    for _ in range(n):
        rl.acquire("DetectModerationLabels")
        out.put(time.time())


def test_processes_share_one_bucket(broker_url, prefix):
    """Three processes, 8 calls each, one bucket at 20/s: 24 calls take ~1.15 s, never faster."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_take, args=(broker_url, prefix, 8, out)) for _ in range(3)]
    for p in procs:
        p.start()
    stamps = sorted(out.get(timeout=20) for _ in range(24))
    for p in procs:
        p.join(10)
    span = stamps[-1] - stamps[0]
    assert span >= 23 / 20 - 0.05, span  # 20/s across all processes together
    for first, later in zip(stamps, stamps[20:]):  # no second holds more than rate + burst calls
        assert later - first >= 0.95


def test_redis_unreachable_is_a_deferral(prefix):
    rl = RateLimiter(unreachable_redis(), 10, prefix=prefix)
    with pytest.raises(Deferred, match="rate limiter unavailable"):
        rl.acquire("DetectModerationLabels")


def unreachable_redis() -> redis.Redis:
    return redis.Redis(port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
