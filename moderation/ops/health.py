"""What ``GET /healthz`` checks: the database and the broker answer.

A check raises when its dependency does not answer; the API turns that into
"error" for the caller and logs the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import redis

from moderation.infra import db

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime

Check = Callable[["Runtime"], None]


def database(rt: Runtime) -> None:
    db.ping(rt.settings.database_url)


def broker(rt: Runtime) -> None:
    url = rt.settings.broker_url
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return  # not a Redis broker: nothing we know how to ping
    with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as client:
        client.ping()


CHECKS: dict[str, Check] = {"database": database, "broker": broker}
