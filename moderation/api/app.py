"""The FastAPI application: ingest API, review API and review console.

``create_app(runtime)`` wires routers onto a ``Runtime`` (tests pass one with
fakes); ``modq api`` serves ``create_app()`` with uvicorn, whose runtime sends
work through Celery.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from moderation.api import (appeals, audit, bank, batch, console, console_appeals, errors, health, items, metrics,
                            pages, policy, preferences, review, review_lease, subjects, tuning, webhooks)
from moderation.api import console_bulk, review_bulk  # issue 17.4: bulk review
from moderation.api import console_escalation, review_escalation  # issue 17.6: escalation
from moderation.api import console_undo, review_undo  # issue 17.2: undo and override
from moderation.api import notices, statements  # issue 18: EU DSA transparency
from moderation.api import holds  # issue 19.3: legal holds
from moderation.api import erasure  # issue 19.2: erasure on request
from moderation.api.auth import docs_reader
from moderation.api.middleware import BodyLimit, SecurityHeaders
from moderation.bootstrap import Runtime, get_runtime
from moderation.ops.health import CHECKS, Check
from moderation.tenants.tokens import Principal
from worker.app import dispatcher

STATIC = Path(__file__).resolve().parent / "static"
# /docs runs swagger-ui from the pinned fastapi-swagger package, not a CDN. Only its
# files are used (not its patch_fastapi, whose page has an inline script).
SWAGGER_UI = Path(str(importlib.resources.files("fastapi_swagger") / "resources"))
SWAGGER_UI_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css"})
DESCRIPTION = """
Submit items for moderation and read decisions (role **ingest**), review
flagged items (role **reviewer**), or both (role **admin**). Every endpoint but
`/healthz` needs `Authorization: Bearer <token>`; create tokens with
`modq tokens create --role ingest|reviewer|senior|admin --name NAME`.
Decisions, automatic and human, are also published to the SNS topic.
"""


def create_app(runtime: Runtime | None = None, health_checks: dict[str, Check] | None = None) -> FastAPI:
    rt = runtime or get_runtime(dispatcher)  # the server queues work for the Celery workers
    app = FastAPI(title="modq", version="1", description=DESCRIPTION, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.rt = rt
    app.state.health_checks = CHECKS if health_checks is None else health_checks
    errors.install(app)
    for module in (items, batch, subjects, review, appeals, policy, tuning, bank, audit, webhooks, health, metrics,
                   console, console_appeals, review_lease, preferences, review_bulk, console_bulk,
                   review_escalation, console_escalation, review_undo, console_undo, statements, notices, erasure,
                   holds):
        app.include_router(module.router)
    _docs(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, max_bytes=rt.settings.api_max_body_bytes, paths={
        "/v1/items/batch": (rt.settings.api_max_batch_body_bytes, batch.BATCH_BODY_SETTING)})
    app.add_middleware(SecurityHeaders)
    return app


def _docs(app: FastAPI) -> None:
    """/openapi.json and /docs need a token (or a console session) like everything else."""

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_: Annotated[Principal, Depends(docs_reader)]):
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request, _: Annotated[Principal, Depends(docs_reader)]):
        response = pages.templates.TemplateResponse(request, "docs.html", {"openapi_url": "/openapi.json"})
        response.headers["Content-Security-Policy"] = pages.CSP  # docs.js starts swagger-ui: no inline script
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/static/swagger-ui/{name}", include_in_schema=False)
    def swagger_ui(name: str):
        if name not in SWAGGER_UI_FILES:
            raise HTTPException(404, "not found")
        return FileResponse(SWAGGER_UI / name)
