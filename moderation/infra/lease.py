"""Which delivery is working on an item: a short lease, so duplicates wait instead of calling the provider.

Correctness does not depend on it: the database already records one decision
per item (row lock, terminal check, unique decision row). The lease saves the
provider call and its quota when the reaper or a duplicate publish sends a
second task while the first is still running: the second raises
``LeaseBusy`` (a deferral) and looks again once the lease is due.

The owner is the Celery task id, which a redelivered or retried task keeps:
after a worker is SIGKILLed its own task, redelivered, takes the lease over at
once. Any other task waits at most MODQ_PROCESSING_LEASE_SECONDS, so a lease
whose holder died never blocks an item for long.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator, Protocol

import redis
import structlog

from moderation.domain.errors import Deferred

log = structlog.get_logger("modq.lease")

_ACQUIRE = """
local cur = redis.call('GET', KEYS[1])
if (not cur) or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 0
end
return math.max(redis.call('PTTL', KEYS[1]), 1)
"""
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class LeaseBusy(Deferred):
    """Another delivery is processing this item right now."""


class Leases(Protocol):
    def acquire(self, item_id: str, owner: str, seconds: float) -> float:
        """Take or renew the lease; 0.0 if ``owner`` holds it now, else seconds until it is due."""
        ...

    def release(self, item_id: str, owner: str) -> None: ...


class RedisLeases:
    def __init__(self, client: redis.Redis, prefix: str = "modq:lease:"):
        self.prefix = prefix
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)

    def acquire(self, item_id: str, owner: str, seconds: float) -> float:
        try:
            wait_ms = self._acquire(keys=[self.prefix + item_id], args=[owner, max(1, int(seconds * 1000))])
        except redis.RedisError as exc:
            raise Deferred(f"lease store unavailable ({type(exc).__name__}); will retry") from None
        return int(wait_ms) / 1000

    def release(self, item_id: str, owner: str) -> None:
        self._release(keys=[self.prefix + item_id], args=[owner])


class LocalLeases:
    """The same rules inside one process: unit tests, and setups without Redis."""

    def __init__(self, clock=time.monotonic):
        self._held: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def acquire(self, item_id: str, owner: str, seconds: float) -> float:
        with self._lock:
            now = self._clock()
            holder, until = self._held.get(item_id, (owner, now))
            if holder != owner and until > now:
                return until - now
            self._held[item_id] = (owner, now + seconds)
            return 0.0

    def release(self, item_id: str, owner: str) -> None:
        with self._lock:
            if self._held.get(item_id, ("",))[0] == owner:
                del self._held[item_id]


@contextmanager
def held(leases: Leases, item_id: str, owner: str, seconds: float) -> Iterator[None]:
    """Run the block holding ``item_id``'s lease, or raise ``LeaseBusy`` to try again later."""
    wait = leases.acquire(item_id, owner, seconds)
    if wait > 0:
        raise LeaseBusy(f"another delivery is processing item {item_id}; looking again in {wait:.0f}s",
                        retry_after=wait)
    try:
        yield
    finally:
        try:
            leases.release(item_id, owner)
        except redis.RedisError as exc:  # it expires by itself
            log.warning("lease_release_failed", item_id=item_id, error=type(exc).__name__)
