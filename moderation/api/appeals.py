"""Appeals API (issue 17): a platform files its user's appeal of a decided item (roles: ingest, admin); a
person other than whoever made the decision decides it (roles: reviewer, admin). The appeals queue and its
claims are ``GET /v1/review/queue?queue=appeals`` and ``POST /v1/review/claim`` with ``{"queue": "appeals"}``
(moderation/api/review.py hands them to ``queue_page`` and ``claimed`` here)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from moderation.api import schemas
from moderation.api.auth import Ingestor, Reviewer, runtime
from moderation.api.items import ItemId
from moderation.bootstrap import Runtime
from moderation.domain.tenancy import Scope
from moderation.review import appeals, views
from moderation.tenants.tokens import Principal

router = APIRouter(tags=["appeals"])
Rt = Annotated[Runtime, Depends(runtime)]
AppealId = Annotated[str, Path(max_length=36, description="The appeal's id, as filing it answered"),
                     AfterValidator(schemas.storable)]
PROBLEMS = {404: {"model": schemas.Problem, "description": "No such item (or appeal) among the token's tenants"},
            409: {"model": schemas.Problem, "description": "Not decided yet, appealed already, past the window; "
                                                           "or, deciding: decided already, or you made the "
                                                           "decision appealed"}}


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"statement": "This is a photo of a museum exhibit, not hate speech.", "appellant": "user-4821"}]})

    statement: schemas.Text = Field(min_length=1, max_length=appeals.STATEMENT_MAX, pattern=r"\S",
                                    description="The user's words, 1-5,000 characters (newlines allowed)")
    appellant: Annotated[str, Field(min_length=1, max_length=appeals.APPELLANT_MAX),
                         AfterValidator(schemas.storable)] | None = Field(
        None, description="Who appeals, as your platform names them: 1-255 printable characters")


class AppealDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"outcome": "overturned", "verdict": "approved", "reason": "museum context: educational"}]})

    outcome: Literal["upheld", "overturned"]
    verdict: Literal["approved", "rejected"] | None = Field(None, description="The new verdict: required when "
                                                                              "overturned")
    reason: schemas.Text = Field(min_length=1, max_length=1000, pattern=r"\S", description="Why; audited and sent")


class AppealOut(BaseModel):
    id: str
    item_id: str
    state: Literal["pending", "decided"]
    statement: str
    appellant: str | None
    filed_at: str | None
    original: dict[str, Any] = Field(description="The decision appealed: verdict, automated, reasons and (reviewer "
                                                 "and admin tokens) decided_by")
    outcome: str | None
    new_verdict: str | None
    reason: str | None
    decided_at: str | None
    filed_by: str | None = None
    decided_by: str | None = None
    lease: schemas.LeaseOut | None = None


@router.post("/v1/items/{item_id}/appeals", status_code=201, response_model=AppealOut, operation_id="fileAppeal",
             responses=PROBLEMS)
def file(item_id: ItemId, body: AppealIn, principal: Ingestor, rt: Rt):
    """File your user's appeal of a decided (approved or rejected) item, within MODQ_APPEAL_WINDOW_DAYS
    (default 183) of its decision. An item is appealed once (409 the second time); an item of a tenant the
    token does not act for is 404, as a missing one. The outcome comes as the event `appeal.decided`."""
    view = appeals.file(rt, item_id, body.statement, body.appellant, principal.actor, scope=principal.scope)
    return _shown(view, principal)


@router.get("/v1/appeals/{appeal_id}", response_model=AppealOut, operation_id="getAppeal", responses=PROBLEMS)
def get(appeal_id: AppealId, principal: Reviewer, rt: Rt):
    """An appeal: the decision appealed (its reasons, who made it), the statement, and its outcome."""
    return appeals.get(rt, appeal_id, scope=principal.scope)


@router.post("/v1/appeals/{appeal_id}/decision", response_model=AppealOut, operation_id="decideAppeal",
             responses=PROBLEMS)
def decide(appeal_id: AppealId, body: AppealDecisionIn, principal: Reviewer, rt: Rt):
    """Uphold the decision appealed, or overturn it with the new `verdict` (the item's verdict changes, as a
    review changes it). Whoever made that decision cannot decide its appeal (409). Audited (`appeal_decide`)
    and sent to SNS (kind `appeal`) and webhooks (`appeal.decided`)."""
    return appeals.decide(rt, appeal_id, principal.actor, body.outcome, body.verdict, body.reason,
                          admin=principal.is_admin, scope=principal.scope)


@router.post("/v1/appeals/{appeal_id}/release", status_code=204, operation_id="releaseAppeal",
             responses=PROBLEMS)
def release(appeal_id: AppealId, principal: Reviewer, rt: Rt):
    """Give back an appeal you claimed."""
    appeals.get(rt, appeal_id, scope=principal.scope)  # 404 if missing or another tenant's
    appeals.appeal_claims.release(rt, appeal_id, principal.actor, scope=principal.scope)
    return Response(status_code=204)


def queue_page(rt: Runtime, scope: Scope, limit: int, offset: int) -> JSONResponse:
    """``GET /v1/review/queue?queue=appeals``: pending appeals, oldest first, as a page."""
    rows = appeals.queue(rt, scope=scope, limit=limit + 1, offset=offset)
    return JSONResponse(schemas.page(rows, limit, offset))


def claimed(rt: Runtime, principal: Principal, scope: Scope, lease_seconds: int | None) -> Response:
    """``POST /v1/review/claim`` with ``{"queue": "appeals"}``: the appeal leased, its item, and the lease."""
    view = appeals.claim(rt, principal.actor, scope=scope, lease_seconds=lease_seconds)
    if view is None:
        return Response(status_code=204)
    item = views.item_detail(rt.settings.database_url, view["item_id"], scope=scope)
    return JSONResponse({"appeal": view, "item": item, "lease": view["lease"]})


def _shown(view: dict, principal: Principal) -> dict:
    if principal.role == "ingest":  # no reviewer names for the platform
        view = {**view, "original": {k: v for k, v in view["original"].items() if k != "decided_by"},
                "filed_by": None, "decided_by": None, "lease": None}
    return view
