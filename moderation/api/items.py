"""Ingest: submit items and read their decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import AfterValidator

from moderation.items import services as service
from moderation.api import schemas
from moderation.api.auth import Ingestor, Reader, Reviewer, app_runtime
from moderation.api.item_notices import ItemWithNotices, with_notices
from moderation.api.media import media_response
from moderation.api.tenancy import TenantParam, read_scope, write_tenant
from moderation.domain.errors import BadInput
from moderation.review.services import NotFound
from moderation.bootstrap import Runtime
from moderation.items.queries import stored_item
from moderation.review.views import item_detail, item_summaries

router = APIRouter(prefix="/v1/items", tags=["items"])
Rt = Annotated[Runtime, Depends(app_runtime)]
# The length before the storable check, so that a long one is "String should have at most 64 characters".
ItemId = Annotated[str, Path(max_length=64, description="The item id modq returned"), AfterValidator(schemas.storable)]
ItemRef = Annotated[str, Path(max_length=255, description="The item id modq returned, or your external_id (an item "
                              "whose id it is comes first)"), AfterValidator(schemas.storable)]
PAGE_MAX = 200
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Where the page starts: a next_offset")]


# OpenAPI links let generated clients (and schemathesis' stateful phase) follow an item.
GET_ITEM = {"getItem": {"operationId": "getItem", "parameters": {"item_id": "$response.body#/id"}}}


@router.post("", status_code=202, response_model=schemas.Submitted, operation_id="submitItem",
             responses={202: {"links": GET_ITEM},
                        200: {"model": schemas.Submitted, "description": "external_id already known: that item"},
                        422: {"model": schemas.Problem, "description": "Refused: the message says why"}})
def submit(body: schemas.ItemIn, principal: Ingestor, rt: Rt, request: Request, response: Response,
           tenant: TenantParam = None):
    """Queue an item for moderation (roles: ingest, admin).

    The item belongs to the token's tenant; a token for several tenants names one
    with `?tenant=NAME`. Idempotent on `external_id` within the tenant: a repeat
    returns the tenant's first item (200) and queues nothing, whatever its
    `media_uri`. A URI that is malformed, outside the media root, not allow-listed
    or missing is refused with 422 and nothing is stored.
    """
    origin = service.Origin(write_tenant(rt, principal, tenant), actor=principal.actor)
    try:
        result = service.submit(body.media_uri, external_id=body.external_id, metadata=body.metadata,
                                media_type=body.media_type, rt=rt, origin=origin, subject_id=body.subject_id)
    except (ValueError, OSError) as exc:  # media.parse maps OS errors itself; this is the net under it
        raise BadInput(f"media_uri cannot be used: {exc}") from None
    response.headers["Location"] = str(request.url_for("get_item", item_id=result.item_id))
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return schemas.Submitted(id=result.item_id, external_id=body.external_id, status=result.status,
                             created=result.created)


@router.get("", response_model=schemas.ItemPage, operation_id="listItems")
def items(principal: Reader, rt: Rt,
          external_id: Annotated[schemas.Text | None, Query(max_length=255)] = None,
          status: schemas.Status | None = None, verdict: schemas.Verdict | None = None,
          limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50, offset: Offset = 0, tenant: TenantParam = None):
    """The token's tenants' items (or the one `tenant` names), newest first (roles: ingest, reviewer, admin)."""
    rows = item_summaries(rt.settings.database_url, status=status, verdict=verdict, external_id=external_id,
                          limit=limit + 1, offset=offset, scope=read_scope(rt, principal, tenant))
    return schemas.page(rows, limit, offset)


@router.get("/{item_id}", response_model=ItemWithNotices, operation_id="getItem",
            responses={404: {"model": schemas.Problem}})
def get_item(item_id: ItemRef, principal: Reader, rt: Rt, tenant: TenantParam = None):
    """Status, verdict, labels, the rules that fired, and the review if any.

    `item_id` is modq's id or your `external_id`: the item with that id if there is
    one, else the item with that external id, among the token's tenants (a token for
    several tenants whose external ids collide names one with `?tenant=NAME`). An
    item of another tenant is 404, as a missing one. An external id with a `/` in it
    cannot be a path segment: read it with `GET /v1/items?external_id=`. `notices`: what its notices (Art. 16
    DSA) reported and whether a trusted flagger sent them, never the notifier's name or e-mail."""
    scope = read_scope(rt, principal, tenant)
    view = item_detail(rt.settings.database_url, item_id, with_reviewer=principal.role != "ingest",
                       or_external_id=True, scope=scope)
    view = with_notices(rt.settings.database_url, view, scope)
    if view is None:
        raise NotFound(f"no item with id or external_id {item_id!r}")
    return view


@router.get("/{item_id}/media", operation_id="getItemMedia",
            responses={200: {"content": {"image/*": {}, "video/*": {}}},
                                           307: {"description": "Redirect to a short-lived S3 URL"},
                                           404: {"model": schemas.Problem},
                                           422: {"model": schemas.Problem,
                                                 "description": "The file is there but cannot be read (a "
                                                                "symlink loop, no permission, ...): the message "
                                                                "says why"}})
def get_media(item_id: ItemId, principal: Reviewer, rt: Rt):
    """The item's media (roles: reviewer, admin): streamed from the media root,
    or a redirect to a presigned S3 URL."""
    item = stored_item(rt.settings.database_url, item_id, scope=principal.scope)
    if item is None:
        raise NotFound(f"no item {item_id!r}")
    return media_response(rt, item)
