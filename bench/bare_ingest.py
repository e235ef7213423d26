"""Benchmark 4's baseline: a bare FastAPI endpoint doing the essential work of POST /v1/items.

The same work and nothing more: check the bearer token against modq's ``api_tokens`` table (its SHA-256,
not revoked), insert one row into ``items``, send the task through modq's own Celery app (same broker and
transport options). Same database (the engine modq builds for the URL), same broker, same uvicorn. No
idempotency lookup, no media checks, no audit event, no middleware, no response model.

    MODQ_DATABASE_URL=... uvicorn bench.bare_ingest:app
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel
from sqlalchemy import insert, select

from config.settings import get_settings
from moderation.infra.clock import utcnow
from moderation.infra.db import session_factory
from moderation.items.models import Item
from moderation.tenants.models import ApiToken
from worker.app import app as celery_app

app = FastAPI()
settings = get_settings()
engine = session_factory(settings.database_url).kw["bind"]


class ItemIn(BaseModel):
    external_id: str
    media_uri: str
    metadata: dict[str, Any] = {}


@app.post("/v1/items", status_code=202)
def submit(body: ItemIn, authorization: str = Header("")):
    digest = hashlib.sha256(authorization.removeprefix("Bearer ").encode()).hexdigest()
    item_id, now = str(uuid.uuid4()), utcnow()
    with engine.begin() as conn:
        token = conn.execute(select(ApiToken.revoked_at).where(ApiToken.token_hash == digest)).first()
        if token is None or token.revoked_at is not None:
            raise HTTPException(401, "bad token")
        conn.execute(insert(Item).values(id=item_id, external_id=body.external_id, media_uri=body.media_uri,
                                         media_type="image", item_metadata=body.metadata, status="queued",
                                         attempts=0, created_at=now, updated_at=now))
    celery_app.send_task("modq.moderate_image", (item_id,))
    return {"id": item_id, "external_id": body.external_id, "status": "queued", "created": True}


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
