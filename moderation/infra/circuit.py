"""A circuit breaker shared by all workers: stop calling a service that keeps failing.

When Rekognition answers 5xx or times out again and again, retrying every
item only burns attempts and adds load. After ``failures`` server errors
making up at least ``ratio`` of the answers within ``window`` seconds the
circuit *opens*: for ``open_for`` seconds calls fail at once with
``CircuitOpen`` (a deferral: the item is not charged an attempt) without
reaching the service. Then it is *half-open*: one call, the probe, goes
through; success closes the circuit, failure opens it again. The ratio keeps
one poison image that always gets a 5xx from pausing everyone.

Throttling is not a failure here (the rate limiter handles it), and neither
is a 4xx: the service answered. State is in Redis so every worker on every
host opens and closes together; two Lua scripts keep each step atomic.
"""

from __future__ import annotations

import structlog
import redis

from moderation.domain.errors import Deferred

log = structlog.get_logger("modq.circuit")

# KEYS open, tripped, probe; ARGV probe lease (ms). -> {state, ms until worth asking again}
_ALLOW = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then return {'open', ttl} end
if redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[1]) then return {'probe', 0} end
  return {'open', math.max(redis.call('PTTL', KEYS[3]), 0)}
end
return {'closed', 0}
"""
# KEYS open, tripped, probe, stats; ARGV ok, is_probe, min failures, ratio, window ms, open ms. -> transition
_RECORD = """
if redis.call('EXISTS', KEYS[2]) == 1 then
  if ARGV[2] ~= '1' then return 'ignored' end  -- began before the circuit opened
  redis.call('DEL', KEYS[3])
  if ARGV[1] == '1' then redis.call('DEL', KEYS[1], KEYS[2], KEYS[4]) return 'closed' end
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[6])
  return 'reopened'
end
local field = 'fail'
if ARGV[1] == '1' then field = 'ok' end
local n = redis.call('HINCRBY', KEYS[4], field, 1)
if redis.call('PTTL', KEYS[4]) < 0 then redis.call('PEXPIRE', KEYS[4], ARGV[5]) end
if field == 'ok' then return 'counted' end
local ok = tonumber(redis.call('HGET', KEYS[4], 'ok') or '0')
if n >= tonumber(ARGV[3]) and n >= tonumber(ARGV[4]) * (n + ok) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[6])
  redis.call('SET', KEYS[2], '1', 'PX', 86400000)
  redis.call('DEL', KEYS[4])
  return 'opened'
end
return 'counted'
"""


class CircuitOpen(Deferred):
    """The service failed too often lately; calls pause until the cool-down ends."""


class CircuitBreaker:
    def __init__(self, client: redis.Redis, name: str, failures: int = 5, ratio: float = 0.5,
                 window: float = 30.0, open_for: float = 30.0, prefix: str = "modq:circuit:"):
        self.name, self.failures, self.ratio, self.window, self.open_for = name, failures, ratio, window, open_for
        base = f"{prefix}{name}:"
        self._keys = [base + "open", base + "tripped", base + "probe", base + "stats"]
        self._allow = client.register_script(_ALLOW)
        self._record = client.register_script(_RECORD)

    def allow(self) -> bool:
        """Go ahead (True: this call is the half-open probe), or raise ``CircuitOpen``."""
        try:
            state, wait_ms = self._allow(keys=self._keys[:3], args=[int(self.open_for * 1000)])
        except redis.RedisError as exc:
            raise Deferred(f"circuit breaker state unavailable ({type(exc).__name__}); will retry") from None
        state = state.decode() if isinstance(state, bytes) else state
        if state == "open":
            wait = max(float(wait_ms) / 1000, 0.5)
            raise CircuitOpen(f"{self.name} circuit is open after repeated server errors; next try in {wait:.0f}s",
                              retry_after=wait)
        return state == "probe"

    def record(self, ok: bool, probe: bool = False) -> str:
        """Count one answer (ok: the service answered; not ok: 5xx or no answer)."""
        try:
            result = self._record(keys=self._keys, args=[int(ok), int(probe), self.failures, self.ratio,
                                                         int(self.window * 1000), int(self.open_for * 1000)])
        except redis.RedisError as exc:  # losing one count is harmless; the call itself already happened
            log.warning("circuit_record_failed", circuit=self.name, error=type(exc).__name__)
            return "unknown"
        result = result.decode() if isinstance(result, bytes) else result
        if result in ("opened", "reopened"):
            log.error("circuit_opened", circuit=self.name, open_seconds=self.open_for, probe_failed=probe)
        elif result == "closed" and probe:
            log.warning("circuit_closed", circuit=self.name)
        return result
