"""A counting semaphore in Redis, shared by every worker on every host.

Rekognition allows 20 stored-video jobs in progress per account and answers
``LimitExceededException`` past that. Workers take a slot before they start a
job and give it back when the job has ended, so a backlog of 500 videos waits
in our queue instead of hammering the API.

Slots are leases: members of a sorted set scored by their expiry (Redis server
time, so hosts' clocks do not matter). A worker that dies holding a slot does
not leak it for ever: the slot frees itself when the lease runs out, unless
whoever polls the job renews it first. A holder is named (the item id), so
acquiring again is a renewal, never a second slot: a task delivered twice
holds one slot.

Optimistic transactions (WATCH/MULTI) rather than a Lua script: same guarantee,
and it runs unchanged on fakeredis in unit tests.
"""

from __future__ import annotations

from typing import Callable

import redis

_MAX_RETRIES = 50  # WATCH conflicts under heavy contention before giving up


class SemaphoreBusy(Exception):
    """Too much contention to get an answer; treat as 'no slot now'."""


class LeaseSemaphore:
    def __init__(self, client: redis.Redis, name: str, limit: int, lease_seconds: float,
                 clock: Callable[[], float] | None = None):
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be positive, got {lease_seconds}")
        self.client, self.key, self.limit, self.lease_seconds = client, name, limit, lease_seconds
        self._clock = clock or (lambda: _server_time(client))  # tests pass a clock they can move

    def acquire(self, holder: str) -> bool:
        """Take (or renew) ``holder``'s slot; False if every slot is held by others."""
        for _ in range(_MAX_RETRIES):
            with self.client.pipeline() as pipe:
                try:
                    pipe.watch(self.key)
                    now = self._clock()
                    held = pipe.zscore(self.key, holder)
                    live = pipe.zcount(self.key, f"({now}", "+inf")
                    if held is None or held <= now:  # not ours (or ours but lapsed): needs a free slot
                        if live >= self.limit:
                            pipe.unwatch()
                            return False
                    pipe.multi()
                    pipe.zremrangebyscore(self.key, "-inf", now)  # expired leases of crashed workers
                    pipe.zadd(self.key, {holder: now + self.lease_seconds})
                    pipe.execute()
                    return True
                except redis.WatchError:
                    continue
        raise SemaphoreBusy(f"{self.key}: no answer after {_MAX_RETRIES} contended attempts")

    def renew(self, holder: str) -> bool:
        """Extend ``holder``'s lease if it still has one (XX: never creates a slot)."""
        now = self._clock()
        changed = self.client.zadd(self.key, {holder: now + self.lease_seconds}, xx=True, ch=True)
        # zadd XX returns 0 when the score is unchanged too; check membership instead.
        return bool(changed) or self.client.zscore(self.key, holder) is not None

    def release(self, holder: str) -> bool:
        """Give the slot back; True if ``holder`` had one. Safe to call twice."""
        return bool(self.client.zrem(self.key, holder))

    def holders(self) -> list[str]:
        """Holders with a live lease (for operators and tests)."""
        now = self._clock()
        return [m.decode() if isinstance(m, bytes) else m
                for m in self.client.zrangebyscore(self.key, f"({now}", "+inf")]

    def in_use(self) -> int:
        return len(self.holders())


def _server_time(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return seconds + micros / 1_000_000
