"""The console's escalation (issue 17.6): the Escalate form on the item page of the lease holder, the Escalated
tab (senior reviewers and admins) with its counts per category and each item's note, and the reason-code select
of the review form.

The item page and its review form stay console.py's; the templates reach what they need here through two
template globals (``reason_code_options``, ``escalated_waiting``), so the page's handler does not change for
them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse

from moderation.api import console, pages
from moderation.api.auth import ConsoleUser, check_csrf, runtime
from moderation.api.pages import page
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import EVERY_TENANT
from moderation.items.queries import stored_item
from moderation.review import backlog, escalations, reason_codes
from moderation.review import services as review
from moderation.review.queries import QueueFilter

router = APIRouter(include_in_schema=False)
ItemId = Annotated[str, Path(max_length=64)]
Csrf = Annotated[str, Form(max_length=128)]
Notice = Literal["empty", "decided"]
PAGE = 200


@router.get("/escalated")
def escalated_page(request: Request, user: ConsoleUser, notice: Notice | None = None):
    """The escalated queue: by priority, then escalation time, each with its note; counts per category."""
    if not user.principal.is_senior:
        return page(request, "escalated.html", user, 403, forbidden=True, rows=[], categories=[])
    rt, f = runtime(request), _senior_filter(user)
    rows, _ = backlog.page(rt, f, PAGE)
    categories = backlog.by_category(rt.settings.database_url, rt.active_policy().priorities, scope=f.scope,
                                     escalated=True)
    return page(request, "escalated.html", user, rows=rows, categories=categories, notice=notice,
                total=sum(c["count"] for c in categories))


@router.post("/escalated/next")
def next_escalated(request: Request, user: ConsoleUser, csrf: Csrf = ""):
    """Claim the first escalated item and open it (senior reviewers and admins)."""
    check_csrf(user, csrf)
    if not user.principal.is_senior:
        return page(request, "escalated.html", user, 403, forbidden=True, rows=[], categories=[])
    lease = review.claim(runtime(request), user.principal.actor, _senior_filter(user))
    return RedirectResponse(f"/items/{lease.item_id}" if lease else "/escalated?notice=empty", status_code=303)


@router.post("/items/{item_id}/escalate")
def escalate_item(request: Request, item_id: ItemId, user: ConsoleUser, csrf: Csrf = "",
                  note: Annotated[str, Form(max_length=escalations.NOTE_MAX + 100)] = ""):
    """Send the item to the escalated queue with the note; the item page then shows it escalated."""
    check_csrf(user, csrf)
    rt, principal = runtime(request), user.principal
    try:
        escalations.escalate(rt, item_id, principal.actor, note, scope=principal.scope, senior=principal.is_senior)
    except review.NotFound:
        return console.missing(request, item_id, user)
    except (review.Conflict, BadInput) as exc:
        return console.refused(request, item_id, user, str(exc), 409 if isinstance(exc, review.Conflict) else 422)
    return RedirectResponse(f"/items/{item_id}", status_code=303)


def _senior_filter(user) -> QueueFilter:
    return QueueFilter(scope=user.principal.scope, escalated=True)


def reason_code_options(request: Request, item: dict[str, Any]) -> dict[str, Any]:
    """For ``_reason_codes.html``: the codes of the item's tenant's policy, those of the categories that fired on
    it first (``reason_codes.options``)."""
    rt = runtime(request)
    row = stored_item(rt.settings.database_url, item["id"], scope=EVERY_TENANT)  # the page already checked scope
    codes = rt.active_policy(row.tenant_id if row else None).reasons
    return reason_codes.options(codes, [rule["label"] for rule in item.get("rules", [])])


def escalated_waiting(request: Request, principal) -> int:
    """For ``_nav_escalated.html``: how many escalated items wait among the user's tenants."""
    return escalations.waiting(runtime(request), scope=principal.scope)


pages.templates.env.globals["reason_code_options"] = reason_code_options
pages.templates.env.globals["escalated_waiting"] = escalated_waiting
