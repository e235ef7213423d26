"""Review API: the queue, claims, verdicts (roles: reviewer, admin)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, Response
from pydantic import Field

from moderation.review import services as review
from moderation.review import backlog, keyset, views
from moderation.api import appeals as appeal_api, review_escalation as escalation_api, schemas
from moderation.api.item_notices import ClaimedWithNotices, ItemWithNotices, with_notices
from moderation.api.auth import Reviewer, runtime
from moderation.api.items import PAGE_MAX, ItemId, Offset
from moderation.api.tenancy import TenantParam, read_scope
from moderation.bootstrap import Runtime
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import Scope
from moderation.review.queries import QueueFilter
from moderation.tenants.tokens import Principal

router = APIRouter(tags=["review"])
Rt = Annotated[Runtime, Depends(runtime)]
CONFLICT = {409: {"model": schemas.Problem, "description": "Not awaiting review, or leased to someone else"}}
NOT_FOUND = {404: {"model": schemas.Problem}}
CLAIMED = {op: {"operationId": op, "parameters": {"item_id": "$response.body#/item/id"}}
           for op in ("reviewItem", "releaseItem", "getItem")}


Source = Literal["notice"]
SOURCE = "notice: only items with an open notice (Art. 16 DSA; POST /v1/notices), trusted flaggers' first"


class ClaimIn(schemas.ClaimIn):
    source: Source | None = Field(None, description=SOURCE)


class QueuePage(schemas.QueuePage):
    next: str | None = Field(None, description="Pass as `after` for the next page; null on the last page")


After = Annotated[str | None, Query(max_length=keyset.MAX_CURSOR, description=(
    "Where the page starts: the `next` of the page before (opaque). Pages by `after` stay exact while items "
    "come and go, at any depth; `offset` (deprecated) skips rows"))]


@router.get("/v1/review/queue", response_model=QueuePage, operation_id="reviewQueue")
def queue(principal: Reviewer, rt: Rt, filters: Annotated[schemas.QueueFilterIn, Query()],
          limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50, offset: Offset = 0, after: After = None,
          tenant: TenantParam = None, source: Annotated[Source | None, Query(description=SOURCE)] = None):
    """Items awaiting review of the token's tenants (or the one `tenant` names): by the priority of their
    category (the thresholds file's `priority`; unranked last), then oldest first; page on with `after` = the
    answer's `next`. Leased items are listed with their lease. `queue=appeals`: pending appeals instead, oldest
    first (the other filters do not apply). `queue=escalated` (senior and admin tokens; others 403): escalated
    items only, with their escalation, by priority then escalation time (`verdict` does not apply); the other
    queue never lists them."""
    if filters.queue == "appeals":
        return appeal_api.queue_page(rt, read_scope(rt, principal, tenant), limit, offset)
    key = keyset.decode(after) if after else None
    if key is not None and offset:
        raise BadInput("after: give after or offset, not both (offset is deprecated)")
    f = _filter(filters, read_scope(rt, principal, tenant), escalated=escalation_api.senior_queue(filters, principal),
                source=source)
    rows, following = backlog.page(rt, f, limit, offset, key)
    listed = schemas.page(rows + [None] * (following is not None), limit, offset)
    return {**listed, "next": following, **({"next_offset": None} if key else {})}  # offsets mean nothing here


@router.post("/v1/review/claim", response_model=ClaimedWithNotices, operation_id="claimItem",
             responses={200: {"links": CLAIMED},
                        204: {"description": "Nothing to claim: the (filtered) queue is empty"},
                        422: {"model": schemas.Problem,
                              "description": "Invalid body, or lease_seconds over MODQ_REVIEW_MAX_LEASE_SECONDS"}})
def claim(principal: Reviewer, rt: Rt, body: Annotated[ClaimIn | None, Body()] = None,
          tenant: TenantParam = None):
    """Lease the first matching item (most urgent, then oldest) of the token's tenants (or the one `tenant` names)
    to you for `lease_seconds`.

    Nobody else can claim it until the lease ends. You hold one lease at a
    time: a lease you already hold is returned (and renewed), whatever the
    filters, rather than a second item, even when claims arrive at once. Send
    `skip` with the id of the item you hold to give it back and get the next one.
    A `lease_seconds` over MODQ_REVIEW_MAX_LEASE_SECONDS is refused, not shortened.
    `{"queue": "appeals"}` claims the oldest pending appeal you may decide (not one of a decision you made)
    and answers `{"appeal", "item", "lease"}`: the decision appealed, its reasons, who made it, the statement.
    The item comes with its `notices` (Art. 16 DSA): what was reported and whether a trusted flagger sent it
    (never the notifier's name or e-mail).
    `{"queue": "escalated"}` (senior and admin tokens; others 403) claims the first escalated item.
    """
    body = body or ClaimIn()
    if body.queue == "appeals":  # the oldest pending appeal you may decide: {"appeal", "item", "lease"}
        return appeal_api.claimed(rt, principal, read_scope(rt, principal, tenant), body.lease_seconds)
    f = _filter(body, read_scope(rt, principal, tenant), escalated=escalation_api.senior_queue(body, principal),
                source=body.source)
    lease = review.claim(rt, principal.actor, f, lease_seconds=body.lease_seconds, skip=body.skip)
    if lease is None:
        return Response(status_code=204)
    return {"item": _detail(rt, lease.item_id, principal),
            "lease": {"owner": lease.owner, "expires_at": lease.expires_at.isoformat()}}


@router.post("/v1/items/{item_id}/review", response_model=ItemWithNotices, operation_id="reviewItem",
             responses={**CONFLICT, **NOT_FOUND})
def decide(item_id: ItemId, body: schemas.ReviewIn, principal: Reviewer, rt: Rt):
    """Record your verdict, `approved` or `rejected`, with a reason.

    Only the lease holder (or an admin, without a claim) may review; an item is
    reviewed once. The outcome is audited and published to SNS (kind `review`).
    An item of a tenant the token does not act for is 404, as a missing one.
    `reason_code`: one of the policy's `reasons` codes (unknown: 422). An escalated item is decided by a
    senior reviewer or an admin (409 for anyone else), which resolves its escalation.
    """
    review.review(rt, item_id, principal.actor, body.verdict, body.reason, admin=principal.is_admin,
                  scope=principal.scope, reason_code=body.reason_code)
    return _detail(rt, item_id, principal)


@router.post("/v1/items/{item_id}/release", status_code=204, operation_id="releaseItem",
             responses={**CONFLICT, **NOT_FOUND})
def release(item_id: ItemId, principal: Reviewer, rt: Rt):
    """Give back an item you claimed (admins: anyone's, of their tenants; another tenant's item is 404)."""
    review.release(rt, item_id, principal.actor, admin=principal.is_admin, scope=principal.scope)
    return Response(status_code=204)


def _filter(body: schemas.QueueFilterIn, scope: Scope, escalated: bool = False,
            source: str | None = None) -> QueueFilter:
    return QueueFilter(verdict=body.verdict, label=body.label, media_type=body.media_type,
                       min_age=body.min_age, max_age=body.max_age, scope=scope, escalated=escalated, source=source)


def _detail(rt: Runtime, item_id: str, principal: Principal) -> dict:
    """The item as a reviewer sees it, with its notices (why it was reported, never by whom)."""
    url = rt.settings.database_url
    return with_notices(url, views.item_detail(url, item_id, scope=principal.scope), principal.scope)
