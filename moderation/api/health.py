"""``GET /healthz``: the one endpoint that answers without a token.

It says only ok/error per dependency; the reasons go to the log, not to
whoever can reach the port.
"""

from __future__ import annotations

from typing import Callable

import redis
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from moderation.api import schemas
from moderation.bootstrap import Runtime
from moderation.infra.db import transaction

log = structlog.get_logger("modq.api.health")
router = APIRouter(tags=["health"])
Check = Callable[[Runtime], None]


def database(rt: Runtime) -> None:
    with transaction(rt.settings.database_url) as s:
        s.execute(text("SELECT 1"))


def broker(rt: Runtime) -> None:
    url = rt.settings.broker_url
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return  # not a Redis broker: nothing we know how to ping
    with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as client:
        client.ping()


DEFAULT_CHECKS: dict[str, Check] = {"database": database, "broker": broker}


@router.get("/healthz", response_model=schemas.Health, operation_id="health",
            responses={503: {"model": schemas.Health}})
def healthz(request: Request):
    """Database and broker reachable: 200, else 503 (for load balancers and compose)."""
    rt, checks = request.app.state.rt, request.app.state.health_checks
    results = {}
    for name, check in checks.items():
        try:
            check(rt)
            results[name] = "ok"
        except Exception as exc:
            log.error("health_check_failed", check=name, error=str(exc))
            results[name] = "error"
    ok = all(v == "ok" for v in results.values())
    return JSONResponse({"status": "ok" if ok else "error", "checks": results}, status_code=200 if ok else 503)
