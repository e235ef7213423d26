"""Webhooks API (role: admin): a tenant admin's endpoints and deliveries (README "Webhooks").

Scoped like items: an endpoint or delivery of a tenant the token does not act for is "not found" (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field

from moderation.alerts import webhooks
from moderation.alerts.events import EVENTS
from moderation.api import schemas
from moderation.api.auth import allow, runtime
from moderation.api.tenancy import write_tenant
from moderation.bootstrap import Runtime
from moderation.tenants.models import ADMIN
from moderation.tenants.tokens import Principal

router = APIRouter(tags=["webhooks"])
Admin = Annotated[Principal, Depends(allow(ADMIN))]
Rt = Annotated[Runtime, Depends(runtime)]
EndpointId = Annotated[str, Path(max_length=36, description="The endpoint's id (ep_...)")]
NOT_FOUND = {404: {"model": schemas.Problem, "description": "No such endpoint or delivery (or not this token's)"}}
REFUSED = {422: {"model": schemas.Problem, "description": "Refused; the message names the field"}}


class EndpointIn(BaseModel):
    url: str = Field(..., max_length=2000, description="https:// URL receiving the events (POST, JSON)")
    events: list[str] | None = Field(None, max_length=len(EVENTS),
                                     description=f"Events to send (default: all of {', '.join(EVENTS)})")
    tenant: str | None = Field(None, max_length=63, description="The tenant whose events it receives (by name); "
                               "needed by a token for several tenants")


class EndpointOut(BaseModel):
    id: str
    tenant: str
    url: str
    events: list[str]
    state: Literal["active", "disabled", "removed"]
    created_by: str
    created_at: datetime
    previous_secret_until: datetime | None = Field(description="Until then the old secret signs too")
    failing_since: datetime | None
    disabled_reason: str | None
    secret: str | None = Field(None, description="Creation and rotation only: the signing secret, shown once")


class RotateIn(BaseModel):
    overlap: str = Field("24h", max_length=16, description="How long the old secret still signs too (24h, 90m; 0)")


class AttemptOut(BaseModel):
    at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None


class DeliveryOut(BaseModel):
    id: int
    endpoint_id: str
    alert_id: int
    event: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    attempt_log: list[AttemptOut]


@router.post("/v1/webhooks", response_model=EndpointOut, status_code=201, operation_id="addWebhook",
             responses={422: {"model": schemas.Problem, "description": "Refused; the message names the field (url, "
                                                                       "events, tenant)"}})
def add_webhook(principal: Admin, rt: Rt, body: EndpointIn) -> dict[str, Any]:
    """Add an endpoint; the answer carries its signing secret, shown this once."""
    s = rt.settings
    return webhooks.add(s.database_url, write_tenant(rt, principal, body.tenant), body.url, body.events,
                        principal.actor, s.webhook_http_hosts, s.webhook_private_hosts)


@router.get("/v1/webhooks", response_model=list[EndpointOut], operation_id="listWebhooks")
def list_webhooks(principal: Admin, rt: Rt) -> list[dict[str, Any]]:
    return webhooks.listing(rt.settings.database_url, principal.scope)


@router.delete("/v1/webhooks/{endpoint_id}", response_model=EndpointOut, operation_id="removeWebhook",
               responses={**NOT_FOUND})
def remove_webhook(principal: Admin, rt: Rt, endpoint_id: EndpointId) -> dict[str, Any]:
    return _found(lambda: webhooks.remove(rt.settings.database_url, endpoint_id, principal.scope))


@router.post("/v1/webhooks/{endpoint_id}/rotate-secret", response_model=EndpointOut, operation_id="rotateWebhookSecret",
             responses={**NOT_FOUND, **REFUSED})
def rotate_secret(principal: Admin, rt: Rt, endpoint_id: EndpointId, body: RotateIn | None = None) -> dict[str, Any]:
    """A new secret, shown this once; the old one signs too (a second signature) for ``overlap``."""
    overlap = webhooks.parse_overlap((body or RotateIn()).overlap)
    return _found(lambda: webhooks.rotate_secret(rt.settings.database_url, endpoint_id, principal.scope, overlap))


@router.get("/v1/webhooks/deliveries", response_model=list[DeliveryOut], operation_id="listWebhookDeliveries",
            responses={**NOT_FOUND})
def list_deliveries(principal: Admin, rt: Rt, failed: bool = False,
                    endpoint: Annotated[str | None, Query(max_length=36)] = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    """The latest deliveries, newest first, each with its attempts."""
    return _found(lambda: webhooks.deliveries(rt.settings.database_url, principal.scope, failed, endpoint, limit))


@router.post("/v1/webhooks/deliveries/{delivery_id}/redeliver", response_model=DeliveryOut, status_code=202,
             operation_id="redeliverWebhook", responses={**NOT_FOUND})
def redeliver(principal: Admin, rt: Rt,
              delivery_id: Annotated[int, Path(ge=1, le=webhooks.MAX_ID)]) -> dict[str, Any]:
    """Send again now with the same ``webhook-id`` (and re-enable a disabled endpoint)."""
    row = _found(lambda: webhooks.redeliver(rt.settings.database_url, delivery_id, principal.scope))
    try:
        rt.dispatcher.deliver_webhooks([row["id"]])
    except Exception:  # noqa: BLE001 - queued in the database: beat's sweep sends it
        pass
    return row


def _found(call):
    try:
        return call()
    except webhooks.NotFound as exc:
        raise HTTPException(404, str(exc)) from None
