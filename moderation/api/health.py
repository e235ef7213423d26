"""``GET /healthz``: the one endpoint that answers without a token.

It says only ok/error per dependency; the reasons go to the log, not to
whoever can reach the port.
"""

from __future__ import annotations

from typing import Literal

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel


log = structlog.get_logger("modq.api.health")
router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "error"]
    checks: dict[str, str]


@router.get("/healthz", response_model=Health, operation_id="health",
            responses={503: {"model": Health}})
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
