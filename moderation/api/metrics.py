"""``GET /metrics``: Prometheus text exposition for the API process (roles: any).

What this process counted (items it decided, if any, and provider calls), and
the state read at scrape time from Redis and the database: queue depth,
unacked messages, outbox backlog, video jobs in flight. Workers serve their own
counters on MODQ_METRICS_PORT (moderation/infra/metrics.py); the state is
``moderation.ops.collectors``. With several uvicorn
workers, set PROMETHEUS_MULTIPROC_DIR so that every worker's counters are summed.

Like every endpoint but /healthz it needs a token; Prometheus sends one with
``authorization: {type: Bearer, credentials_file: ...}`` in its scrape config.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from moderation.infra import metrics
from moderation.ops.collectors import StateCollector
from moderation.api.auth import Reader
from worker.app import QUEUES

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(request: Request, _: Reader) -> Response:
    rt = request.app.state.rt
    body, content_type = metrics.render_latest(StateCollector.of(rt.settings, QUEUES, rt.active_policy().priorities))
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
