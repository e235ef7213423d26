"""The console's Appeals tab (issue 17): pending appeals, and a page to decide one showing the decision
appealed (its verdict, reasons and who made it) and the user's statement.

Whoever made that decision sees the page but cannot decide: the use case refuses (409), and the page says why.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse
from pydantic import AfterValidator

from moderation.api import schemas
from moderation.api.auth import ConsoleUser, check_csrf, runtime
from moderation.api.pages import page
from moderation.domain.errors import BadInput
from moderation.review import appeals, views
from moderation.review.services import Conflict, NotFound

router = APIRouter(include_in_schema=False)
AppealId = Annotated[str, Path(max_length=36), AfterValidator(schemas.storable)]
Csrf = Annotated[str, Form(max_length=128)]
Notice = Literal["empty", "decided"]


@router.get("/appeals")
def appeals_page(request: Request, user: ConsoleUser, notice: Notice | None = None):
    rows = appeals.queue(runtime(request), scope=user.principal.scope, limit=200)
    return page(request, "appeals.html", user, rows=rows, notice=notice)


@router.post("/appeals/next")
def next_appeal(request: Request, user: ConsoleUser, csrf: Csrf = ""):
    """Claim the oldest pending appeal you may decide and open it."""
    check_csrf(user, csrf)
    claimed = appeals.claim(runtime(request), user.principal.actor, scope=user.principal.scope)
    return RedirectResponse(f"/appeals/{claimed['id']}" if claimed else "/appeals?notice=empty", status_code=303)


@router.get("/appeals/{appeal_id}")
def appeal_page(request: Request, appeal_id: AppealId, user: ConsoleUser):
    return _appeal(request, appeal_id, user)


@router.post("/appeals/{appeal_id}/decision")
def decide_appeal(request: Request, appeal_id: AppealId, user: ConsoleUser, csrf: Csrf = "",
                  outcome: Annotated[str, Form(max_length=16)] = "",
                  verdict: Annotated[str, Form(max_length=16)] = "",
                  reason: Annotated[str, Form(max_length=1000)] = ""):
    check_csrf(user, csrf)
    try:
        appeals.decide(runtime(request), appeal_id, user.principal.actor, outcome, verdict or None, reason,
                       admin=user.principal.is_admin, scope=user.principal.scope)
    except NotFound:
        return _missing(request, appeal_id, user)
    except (Conflict, BadInput) as exc:
        return _appeal(request, appeal_id, user, error=str(exc), status=409 if isinstance(exc, Conflict) else 422,
                       typed=reason)
    return RedirectResponse("/appeals?notice=decided", status_code=303)


def _appeal(request: Request, appeal_id: str, user, error: str | None = None, status: int = 200,
            typed: str = ""):
    rt, scope = runtime(request), user.principal.scope
    try:
        appeal = appeals.get(rt, appeal_id, scope=scope)
    except NotFound:
        return _missing(request, appeal_id, user)
    item = views.item_detail(rt.settings.database_url, appeal["item_id"], scope=scope)
    mine = appeals.same_person(user.principal.actor, appeal["original"]["decided_by"])
    return page(request, "appeal.html", user, status, appeal=appeal, item=item, mine=mine, error=error,
                typed=typed)


def _missing(request: Request, appeal_id: str, user):
    return page(request, "missing.html", user, 404, item_id=appeal_id)
