"""The review console: queue, item page, verdicts, media, audit.

Built for reviewing hundreds of items a day: a verdict takes you straight to
the next claimed item; `a` / `r` / `n` do the same from the keyboard.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import AfterValidator

from moderation.review import services as review
from moderation.review import backlog, keyset, views
from moderation.api import schemas, signin
from moderation.api import review_undo  # issue 17.2: the Undo toast after a verdict
from moderation.api.audit import to_csv
from moderation.api.auth import ConsoleUser, check_csrf, runtime
from moderation.api.frame_media import frame_response
from moderation.api.media import media_response
from moderation.api.pages import page
from moderation.api.review_context import known_label
from moderation.domain.errors import BadInput
from moderation.items import models as m, subjects
from moderation.items.audit_trail import audit_trail
from moderation.items.queries import stored_item
from moderation.review.queries import REVIEWABLE, QueueFilter
from moderation.transparency.notice_views import notices_of  # issue 18.4: why the item was reported
from moderation.privacy.holds import held_items  # issue 19.3: the legal hold badge

router = APIRouter(include_in_schema=False)
router.include_router(signin.router)
ItemId = Annotated[str, Path(max_length=64)]
Csrf = Annotated[str, Form(max_length=128)]
# The label filter: one of the taxonomy's labels (the queue offers them in a dropdown), else 422 naming it.
Label = Annotated[schemas.Text | None, Query(max_length=128), AfterValidator(known_label)]
FormLabel = Annotated[schemas.Text | None, Form(max_length=128), AfterValidator(known_label)]
Notice = Literal["empty", "taken", "released"]
QUEUE_PAGE = 200


def queue_filter(user, verdict: str, label: str | None, media_type: str | None) -> QueueFilter:
    """The queue the signed-in reviewer asked for, among the tenants their token acts for."""
    return QueueFilter(verdict=verdict, label=label or None, media_type=media_type or None,
                       scope=user.principal.scope)


def filter_query(f: QueueFilter) -> dict[str, str]:
    """The queue's filters as the console writes them in its URLs (the default verdict left out)."""
    return {k: v for k, v in (("verdict", f.verdict), ("label", f.label), ("media_type", f.media_type))
            if v and (k, v) != ("verdict", m.FLAGGED)}


def _next_url(lease, f: QueueFilter) -> str:
    """The next claimed item, or the queue saying it is empty; filters kept."""
    query = filter_query(f)
    if lease is None:
        return "/?" + urlencode({"notice": "empty", **query})
    return f"/items/{lease.item_id}" + ("?" + urlencode(query) if query else "")


@router.get("/")
def queue_page(request: Request, user: ConsoleUser, verdict: schemas.QueueVerdict = "flagged", label: Label = None,
               media_type: schemas.AnyMediaType = None, notice: Notice | None = None,
               after: Annotated[str | None, Query(max_length=keyset.MAX_CURSOR)] = None):
    """The queue by priority, then age, a page at a time (``after``: the "next page" link's cursor), with what
    waits per category."""
    rt, f = runtime(request), queue_filter(user, verdict, label, media_type)
    rows, following = backlog.page(rt, f, QUEUE_PAGE, after=keyset.decode(after) if after else None)
    categories = backlog.by_category(rt.settings.database_url, rt.active_policy().priorities, scope=f.scope,
                                     verdict=f.verdict)
    next_url = "/?" + urlencode({**filter_query(f), "after": following}) if following else None
    return page(request, "queue.html", user, rows=rows, more=following is not None, filters=f, notice=notice,
                undo=review_undo.toast(request, user.principal),  # the last item's verdict, on an emptied queue
                categories=categories, next_url=next_url,
                held=held_items(rt.settings.database_url, [row["id"] for row in rows]))


@router.post("/next")
def next_item(request: Request, user: ConsoleUser, csrf: Csrf = "",
              skip: Annotated[str | None, Form(max_length=64)] = None,
              verdict: Annotated[schemas.QueueVerdict, Form()] = "flagged", label: FormLabel = None,
              media_type: Annotated[schemas.AnyMediaType, Form()] = None):
    """Claim the next item (releasing ``skip``) and open it."""
    check_csrf(user, csrf)
    f = queue_filter(user, verdict, label, media_type)
    lease = review.claim(runtime(request), user.principal.actor, f, skip=skip or None)
    return RedirectResponse(_next_url(lease, f), status_code=303)


@router.get("/items/{item_id}")
def item_page(request: Request, item_id: ItemId, user: ConsoleUser, notice: Notice | None = None,
              verdict: schemas.QueueVerdict = "flagged", label: Label = None,
              media_type: schemas.AnyMediaType = None):
    return _item(request, item_id, user, queue_filter(user, verdict, label, media_type), notice)


def _item(request: Request, item_id: str, user, f: QueueFilter, notice: str | None = None,
          error: str | None = None, status: int = 200):
    view = views.item_detail(runtime(request).settings.database_url, item_id, scope=user.principal.scope)
    if view is None:  # missing, or of a tenant the token does not act for: the same page
        return _missing(request, item_id, user)
    pending = view["review"] is None and view["status"] in REVIEWABLE
    holds = bool(view["lease"]) and view["lease"]["owner"] == user.principal.actor
    fired = ", ".join(dict.fromkeys(r["label"] for r in view["rules"])) or "no rule fired"
    return page(request, "item.html", user, status, item=view, pending=pending, holds=holds,
                can_review=pending and (holds or user.principal.is_admin), blurred=bool(view["rules"]),
                filters=f, notice=notice, error=error, undo=review_undo.toast(request, user.principal),
                subject=subjects.of_item(runtime(request).settings.database_url, item_id, scope=user.principal.scope),
                notices=notices_of(runtime(request).settings.database_url, item_id, scope=user.principal.scope),
                legal_hold=held_items(runtime(request).settings.database_url, [view["id"]]).get(view["id"]),
                default_approve=f"not a violation ({fired})", default_reject=f"violation confirmed ({fired})")


@router.post("/items/{item_id}/review")
def review_item(request: Request, item_id: ItemId, user: ConsoleUser, csrf: Csrf = "",
                verdict: Annotated[str, Form(max_length=16)] = "", reason: Annotated[str, Form(max_length=1000)] = "",
                queue_verdict: Annotated[schemas.QueueVerdict, Form()] = "flagged", label: FormLabel = None,
                media_type: Annotated[schemas.AnyMediaType, Form()] = None,
                reason_code: Annotated[str, Form(max_length=64)] = "", queue: Annotated[str, Form(max_length=16)] = ""):
    """Record the verdict, then go straight to the next item (of the escalated queue, after an escalated one)."""
    check_csrf(user, csrf)
    rt, f, name = runtime(request), queue_filter(user, queue_verdict, label, media_type), user.principal.actor
    f = replace(f, escalated=queue == "escalated" and user.principal.is_senior)  # issue 17.6
    try:
        review.review(rt, item_id, name, verdict, reason, admin=user.principal.is_admin, scope=f.scope,
                      reason_code=reason_code or None)
    except review.NotFound:
        return _missing(request, item_id, user)
    except (review.Conflict, BadInput) as exc:
        status = 409 if isinstance(exc, review.Conflict) else 422
        return _item(request, item_id, user, f, error=str(exc), status=status)
    return RedirectResponse(review_undo.with_undo(_next_url(review.claim(rt, name, f), f), item_id, rt), status_code=303)


@router.post("/items/{item_id}/claim")
def claim_item(request: Request, item_id: ItemId, user: ConsoleUser, csrf: Csrf = ""):
    check_csrf(user, csrf)
    rt, scope = runtime(request), user.principal.scope
    item = stored_item(rt.settings.database_url, item_id, scope=scope)
    if item is None:
        return _missing(request, item_id, user)
    verdict = item.status if item.status in REVIEWABLE else m.FLAGGED
    f = QueueFilter(verdict=verdict, scope=scope, escalated=item.escalated_at is not None)
    if f.escalated and not user.principal.is_senior:  # issue 17.6: the escalated queue is a senior's
        return _item(request, item_id, user, f, status=403,
                     error="This item is escalated: a senior reviewer or an admin decides it.")
    try:
        lease = review.claim(rt, user.principal.actor, f, item_id=item_id)
    except review.Conflict as exc:  # one lease per reviewer: another item is still theirs
        return _item(request, item_id, user, f, error=str(exc), status=409)
    return RedirectResponse(f"/items/{item_id}" + ("" if lease else "?notice=taken"), status_code=303)


@router.post("/items/{item_id}/release")
def release_item(request: Request, item_id: ItemId, user: ConsoleUser, csrf: Csrf = ""):
    check_csrf(user, csrf)
    rt, scope = runtime(request), user.principal.scope
    if stored_item(rt.settings.database_url, item_id, scope=scope) is None:
        return _missing(request, item_id, user)
    review.release(rt, item_id, user.principal.actor, admin=user.principal.is_admin, missing_ok=True, scope=scope)
    return RedirectResponse("/?notice=released", status_code=303)


def _missing(request: Request, item_id: str, user):
    """404: no such item, or one of a tenant the token does not act for (the two look the same)."""
    return page(request, "missing.html", user, 404, item_id=item_id)


def refused(request: Request, item_id: str, user, error: str, status: int):
    """The item page saying why an action on it was refused (other console modules' forms: undo, override)."""
    return _item(request, item_id, user, QueueFilter(scope=user.principal.scope), error=error, status=status)


def missing(request: Request, item_id: str, user):
    """The 404 page of ``_missing``, for other console modules."""
    return _missing(request, item_id, user)


@router.get("/media/{item_id}")
def item_media(request: Request, item_id: ItemId, user: ConsoleUser,
               frame: Annotated[int | None, Query(ge=0, le=100_000)] = None):
    """The item's media; ``frame``: that one frame of an animated or multi-page image, as a PNG."""
    rt = runtime(request)
    item = stored_item(rt.settings.database_url, item_id, scope=user.principal.scope)
    if item is None:
        raise review.NotFound(f"no item {item_id!r}")
    return media_response(rt, item) if frame is None else frame_response(rt, item, frame)


AuditFilter = Annotated[schemas.Text | None, Query(max_length=128)]


@router.get("/audit")
def audit_page(request: Request, user: ConsoleUser, item_id: AuditFilter = None, actor: AuditFilter = None,
               action: AuditFilter = None, offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0):
    events = _audit(request, user, item_id, actor, action, 101, offset)
    query = urlencode({k: v for k, v in (("item_id", item_id), ("actor", actor), ("action", action)) if v})
    return page(request, "audit.html", user, events=events[:100], offset=offset, more=len(events) > 100,
                query=query, item_id=item_id or "", actor=actor or "", action=action or "")


@router.get("/audit.csv")
def audit_csv(request: Request, user: ConsoleUser, item_id: AuditFilter = None, actor: AuditFilter = None,
              action: AuditFilter = None):
    events = _audit(request, user, item_id, actor, action, 10_000, 0)
    return Response(to_csv(events), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="modq-audit.csv"'})


def _audit(request: Request, user, item_id, actor, action, limit: int, offset: int) -> list[dict]:
    return audit_trail(runtime(request).settings.database_url, item_id=item_id, actor=actor, action=action,
                       limit=limit, offset=offset, scope=user.principal.scope)
