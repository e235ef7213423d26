"""What every worker on every host shares through Redis, built from settings.

The rate limiter, the circuit breaker (``moderation.providers.guard`` builds
them on this client) and item leases must be one state for the whole fleet,
so they live in Redis: MODQ_REDIS_URL, else the broker's.
Keys start with MODQ_BROKER_KEY_PREFIX, like the broker's own, so deployments
sharing one Redis stay apart.
"""

from __future__ import annotations

import threading
from urllib.parse import urlparse

import redis

from config.settings import Settings
from moderation.infra.lease import Leases, LocalLeases, RedisLeases

_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def redis_url(settings: Settings) -> str | None:
    url = settings.redis_url or settings.broker_url
    return url if urlparse(url).scheme in ("redis", "rediss", "unix") else None


def redis_client(settings: Settings) -> redis.Redis:
    """One client per process and URL. Its pool blocks instead of raising when all connections
    are busy, and is sized to the worker's concurrency (../shared/CELERY.md: redis-py caps a
    shared client at 100 connections and raises MaxConnectionsError past the cap)."""
    url = redis_url(settings)
    if url is None:
        raise ValueError(f"MODQ_REDIS_URL is needed: the broker {settings.broker_url!r} is not Redis")
    with _lock:
        if url not in _clients:
            pool = redis.BlockingConnectionPool.from_url(
                url, max_connections=max(10, 2 * settings.worker_concurrency), timeout=10,
                socket_timeout=10, socket_connect_timeout=5, health_check_interval=30)
            _clients[url] = redis.Redis(connection_pool=pool)  # redis-py resets the pool itself after a fork
        return _clients[url]


def leases(settings: Settings) -> Leases:
    if redis_url(settings) is None:
        return LocalLeases()  # a single process (no Redis broker): in-process leases do the same job
    return RedisLeases(redis_client(settings), prefix=settings.broker_key_prefix + "modq:lease:")
