"""The console's Undo toast and an admin's override form (issue 17.2).

After a verdict the console opens the next item with ``?undo=<id>`` (``review_undo.with_undo``); that page
shows a toast with an Undo button (and the key ``u``) while the window lasts (``static/undo.js`` counts it
down and hides the toast when it closes; the server decides either way). Undo reopens the undone item, leased
to the reviewer again. An admin sees an override form on the page of a reviewed item.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from moderation.api import console
from moderation.api.auth import ConsoleUser, check_csrf, runtime
from moderation.domain.errors import BadInput
from moderation.review import override as overrides, services as review, undo as undos

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=128)]


@router.post("/items/{item_id}/undo")
def undo_item(request: Request, item_id: console.ItemId, user: ConsoleUser, csrf: Csrf = ""):
    """Undo your review of the item and reopen it (leased to you again)."""
    check_csrf(user, csrf)
    try:
        undos.undo(runtime(request), item_id, user.principal.actor, scope=user.principal.scope)
    except review.NotFound:
        return console.missing(request, item_id, user)
    except review.Conflict as exc:
        return _page(request, item_id, user, f"Not undone: {exc}", 409)
    return RedirectResponse(f"/items/{item_id}", status_code=303)


@router.post("/items/{item_id}/override")
def override_item(request: Request, item_id: console.ItemId, user: ConsoleUser, csrf: Csrf = "",
                  verdict: Annotated[str, Form(max_length=16)] = "",
                  reason: Annotated[str, Form(max_length=1000)] = ""):
    """Admins: replace the verdict of the item's review, with a reason."""
    check_csrf(user, csrf)
    if not user.principal.is_admin:
        return _page(request, item_id, user, "Only an admin can override a review.", 403)
    try:
        overrides.override(runtime(request), item_id, user.principal.actor, verdict, reason,
                           scope=user.principal.scope)
    except review.NotFound:
        return console.missing(request, item_id, user)
    except (review.Conflict, BadInput) as exc:
        return _page(request, item_id, user, f"Not overridden: {exc}", 409 if isinstance(exc, review.Conflict) else 422)
    return RedirectResponse(f"/items/{item_id}", status_code=303)


def _page(request: Request, item_id: str, user, error: str, status: int):
    return console.refused(request, item_id, user, error, status)
