"""A global rate limiter: a token bucket per operation in Redis, shared by all workers.

Rekognition's TPS quotas are per account, region and operation; ten workers
pacing themselves would still add up to ten times the quota. So the bucket
lives in Redis (MODQ_REDIS_URL, else the broker's) and one Lua script reads,
refills and takes from it atomically: callers on different hosts can never
both take the last token. Refill uses Redis's own clock (TIME), so the hosts'
clocks do not matter.

A caller *reserves* its token: the script answers how long until it is due
(0 when one is free) and the caller sleeps that long. A wait longer than
``max_wait`` is not reserved; ``Throttled`` is raised with the wait as
``retry_after`` so the task is re-sent later instead of holding a worker.
"""

from __future__ import annotations

import time
from typing import Callable

import redis
import structlog

from moderation.domain.errors import Deferred, Throttled

log = structlog.get_logger("modq.ratelimit")

# KEYS[1] the bucket; ARGV rate (tokens/s), burst (bucket size), max_wait (s).
# Returns {reserved (1/0), wait seconds as a string: Lua numbers become integers in replies}.
_TAKE = """
local rate, burst, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens < 1 then wait = (1 - tokens) / rate end
if wait > max_wait then return {0, tostring(wait)} end
tokens = tokens - 1  -- may go below zero: later callers queue behind this reservation
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {1, tostring(wait)}
"""


class RateLimiter:
    """``acquire(operation)`` before every call; at most ``rate`` calls a second, all hosts together."""

    def __init__(self, client: redis.Redis, default_rate: float, burst: float = 1.0, max_wait: float = 10.0,
                 rates: dict[str, float] | None = None, prefix: str = "modq:ratelimit:",
                 sleep: Callable[[float], None] = time.sleep):
        if default_rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.default_rate, self.burst, self.max_wait = default_rate, burst, max_wait
        self.rates = dict(rates or {})
        self.prefix = prefix
        self._take = client.register_script(_TAKE)  # EVALSHA, reloaded by itself after a Redis restart
        self._sleep = sleep

    def rate_for(self, operation: str) -> float:
        return self.rates.get(operation, self.default_rate)

    def acquire(self, operation: str, max_wait: float | None = None) -> float:
        """Take one token for ``operation``, sleeping until it is due; return the seconds slept.

        Raises ``Throttled`` (nothing reserved) if the token is more than
        ``max_wait`` seconds away, and ``Deferred`` if Redis cannot be reached.
        """
        rate = self.rate_for(operation)
        limit = self.max_wait if max_wait is None else max_wait
        try:
            reserved, wait = self._take(keys=[self.prefix + operation], args=[rate, self.burst, limit])
        except redis.RedisError as exc:
            raise Deferred(f"rate limiter unavailable ({type(exc).__name__}); will retry") from None
        wait = float(wait)
        if not int(reserved):
            raise Throttled(f"{operation} is at its rate limit of {rate:g}/s (MODQ_REKOGNITION_TPS); "
                            f"next call in {wait:.1f}s", retry_after=wait)
        if wait > 0:
            self._sleep(wait)
        return wait
