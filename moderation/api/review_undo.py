"""Undo and override over the API (issue 17.2), and what the console's Undo toast needs.

`POST /v1/items/{item_id}/review/undo`: the reviewer who recorded a review takes it back within
MODQ_REVIEW_UNDO_SECONDS (roles reviewer, senior, admin; only the recorder, whatever their role).
`POST /v1/items/{item_id}/override`: an admin replaces a recorded review's verdict, with a reason.
The console's forms for both are in ``console_undo``.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from moderation.api import schemas
from moderation.api.auth import Reviewer, allow, runtime
from moderation.api.items import ItemId
from moderation.bootstrap import Runtime
from moderation.review import override as overrides, undo as undos, views
from moderation.tenants.models import ADMIN
from moderation.tenants.tokens import Principal

router = APIRouter(tags=["review"])
Rt = Annotated[Runtime, Depends(runtime)]
Admin = Annotated[Principal, Depends(allow(ADMIN))]
ID_MAX = 64
PROBLEMS = {404: {"model": schemas.Problem, "description": "No such item among the token's tenants"},
            409: {"model": schemas.Problem, "description": "No review to undo or override; undo: not yours, the "
                                                           "window closed, or overridden; override: same verdict"}}


class UndoOut(BaseModel):
    verdict: Literal["approved", "rejected"] = Field(description="The verdict undone")
    status: str = Field(description="The item's status again (what it was before the review)")
    lease_expires_at: str = Field(description="The item is leased to you again until then, to decide it again")
    followed_up: bool = Field(description="An event of the review had already gone out: `review.undone` follows")


class UndoneItem(schemas.ItemDetail):
    undo: UndoOut


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"verdict": "approved", "reason": "museum context: educational, not hate speech"}]})

    verdict: Literal["approved", "rejected"] = Field(description="The new verdict; it must change the item's")
    reason: schemas.Text = Field(min_length=1, max_length=1000, pattern=r"\S", description="Why; audited and sent")


class OverrideOut(BaseModel):
    previous_verdict: str
    verdict: str
    reason: str
    reviewer: str = Field(description="Who recorded the review overridden")
    overridden_by: str
    overridden_at: str


class OverriddenItem(schemas.ItemDetail):
    override: OverrideOut


@router.post("/v1/items/{item_id}/review/undo", response_model=UndoneItem, operation_id="undoReview",
             responses=PROBLEMS)
def undo(item_id: ItemId, principal: Reviewer, rt: Rt):
    """Take back the review you recorded, within MODQ_REVIEW_UNDO_SECONDS (default 10) of it: the item goes
    back to its status before the review, leased to you again; the review's events, held for the window, are
    cancelled (any that had already gone out is followed by `review.undone`). Audited (`undo`). Someone else's
    review, or after the window: 409 (an admin can override it)."""
    done = undos.undo(rt, item_id, principal.actor, scope=principal.scope)
    return {**_detail(rt, item_id, principal), "undo": done}


@router.post("/v1/items/{item_id}/override", response_model=OverriddenItem, operation_id="overrideReview",
             responses=PROBLEMS)
def override(item_id: ItemId, body: OverrideIn, principal: Admin, rt: Rt):
    """Admins: replace the verdict of the item's recorded review, with a reason. Audited (`override`) and sent
    at once (SNS kind `override`; webhook event `review.overridden`, with `verdict`, `previous_verdict` and the
    reason). No review yet, or the verdict it already has: 409."""
    done = overrides.override(rt, item_id, principal.actor, body.verdict, body.reason, scope=principal.scope)
    return {**_detail(rt, item_id, principal), "override": done}


def _detail(rt: Runtime, item_id: str, principal: Principal) -> dict:
    return views.item_detail(rt.settings.database_url, item_id, scope=principal.scope)


# --- the console's Undo toast -------------------------------------------------


def with_undo(url: str, item_id: str, rt: Runtime) -> str:
    """The page a console verdict redirects to, told which item was just reviewed (``undo=``), so it offers
    the Undo toast; unchanged when undo is off."""
    if rt.settings.review_undo_seconds <= 0:
        return url
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode({"undo": item_id})) if q)
    return urlunsplit(parts._replace(query=query))


def toast(request: Request, principal: Principal) -> dict | None:
    """The Undo toast for the page's ``undo`` query parameter, checked here (not trusted): only if the signed-in
    reviewer recorded that review and its window is still open. ``{item_id, verdict, seconds_left}``."""
    wanted = request.query_params.get("undo")
    if not wanted or len(wanted) > ID_MAX or not wanted.isprintable():
        return None
    rt = runtime(request)
    found = undos.offer(rt, wanted, principal.actor, scope=principal.scope)
    return None if found is None else {**found, "seconds_left": math.ceil(found["seconds_left"])}
