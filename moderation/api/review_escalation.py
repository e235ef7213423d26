"""Escalation API (issue 17.6): a reviewer sends the item they hold to the senior queue with a note; senior
reviewers and admins list, claim and decide the escalated queue (``GET /v1/review/queue?queue=escalated``,
``POST /v1/review/claim`` with ``{"queue": "escalated"}``: moderation/api/review.py asks ``senior_queue``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from moderation.api import schemas
from moderation.api.auth import Reviewer, Senior, runtime
from moderation.api.items import ItemId
from moderation.api.tenancy import TenantParam, read_scope
from moderation.bootstrap import Runtime
from moderation.review import backlog, escalations, views
from moderation.tenants.tokens import Principal

router = APIRouter(tags=["review"])
Rt = Annotated[Runtime, Depends(runtime)]
PROBLEMS = {404: {"model": schemas.Problem, "description": "No such item among the token's tenants"},
            409: {"model": schemas.Problem, "description": "Not awaiting review, escalated already, or you hold "
                                                           "no lease on it (a reviewer must claim it first)"}}
SENIOR_ONLY = "the escalated queue is for senior reviewers and admins (role senior or admin)"


class EscalateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"note": "Possible minor in the picture: needs a senior decision."}]})

    note: schemas.Text = Field(min_length=1, max_length=escalations.NOTE_MAX, pattern=r"\S",
                               description="Why it needs a senior reviewer: 1-1000 characters")


class EscalatedCount(BaseModel):
    category: str
    rank: int | None
    count: int
    oldest_seconds: float = Field(description="Since the oldest of them was submitted")


class EscalatedBacklog(BaseModel):
    total: int
    categories: list[EscalatedCount]


@router.post("/v1/items/{item_id}/escalate", response_model=schemas.ItemDetail, operation_id="escalateItem",
             responses=PROBLEMS)
def escalate(item_id: ItemId, body: EscalateIn, principal: Reviewer, rt: Rt):
    """Send an item awaiting review to the escalated queue with a note: the reviewer holding its lease, or a
    senior reviewer or admin (any item awaiting review; a lease on it ends). Your lease ends; the reviewers'
    queue no longer lists it; a senior reviewer or an admin claims it (`{"queue": "escalated"}`) and decides
    it. Audited (`escalate`, the note as its reason). Another tenant's item is 404, as a missing one."""
    escalations.escalate(rt, item_id, principal.actor, body.note, scope=principal.scope, senior=principal.is_senior)
    return views.item_detail(rt.settings.database_url, item_id, scope=principal.scope)


@router.get("/v1/review/escalated", response_model=EscalatedBacklog, operation_id="escalatedBacklog")
def backlog_(principal: Senior, rt: Rt, tenant: TenantParam = None):
    """How many escalated items wait, per category (the thresholds file's `priority`), and the oldest wait
    (senior and admin tokens)."""
    scope = read_scope(rt, principal, tenant)
    rows = backlog.by_category(rt.settings.database_url, rt.active_policy().priorities, scope=scope, escalated=True)
    return {"total": sum(r["count"] for r in rows), "categories": rows}


def senior_queue(body: schemas.QueueFilterIn, principal: Principal) -> bool:
    """Whether ``body`` asks for the escalated queue; 403 for a token that may not have it (a reviewer)."""
    if body.queue != "escalated":
        return False
    if not principal.is_senior:
        raise HTTPException(403, SENIOR_ONLY)
    return True
