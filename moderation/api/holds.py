"""Legal holds over HTTP (issue 19.3): list, add and release (admin only), as ``modq holds``.

A hold is for one tenant: the token's, or the one ``?tenant=NAME`` names (an item hold by a token for several
tenants may leave it out: the item's own, if the token acts for it). Another tenant's item or hold is 404, as a
missing one; each add and release is in the audit trail (``hold``, ``release_hold``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field, model_validator

from moderation.api import schemas
from moderation.api.auth import allow
from moderation.api.items import Rt
from moderation.api.tenancy import TenantParam, read_scope, write_tenant
from moderation.items.queries import stored_item
from moderation.privacy import holds
from moderation.review.services import NotFound
from moderation.tenants.models import ADMIN
from moderation.tenants.tokens import Principal

router = APIRouter(prefix="/v1/holds", tags=["holds"])
Admin = Annotated[Principal, Depends(allow(ADMIN))]
HoldId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The hold's number")]


class HoldIn(BaseModel):
    item_id: schemas.Text | None = Field(None, min_length=1, max_length=64, description="Hold this item")
    subject_id: schemas.Text | None = Field(None, min_length=1, max_length=holds.SUBJECT_MAX,
                                            description="Hold every item of this uploader in the tenant, now "
                                                        "and later")
    reason: schemas.Text = Field(min_length=1, max_length=holds.REASON_MAX,
                                 description="Why: the order, request or investigation (audited)")

    @model_validator(mode="after")
    def _one(self) -> "HoldIn":
        if (self.item_id is None) == (self.subject_id is None):
            raise ValueError("give exactly one of item_id and subject_id")
        return self


class ReleaseIn(BaseModel):
    reason: schemas.Text | None = Field(None, min_length=1, max_length=holds.REASON_MAX, description="Why (audited)")


class HoldOut(BaseModel):
    id: int
    tenant: str
    item_id: str | None
    subject_id: str | None
    reason: str
    created_by: str
    created_at: str
    released_by: str | None
    released_at: str | None


@router.get("", response_model=list[HoldOut], operation_id="listHolds")
def list_holds(principal: Admin, rt: Rt, tenant: TenantParam = None, include_released: bool = False):
    """The token's tenants' legal holds (or the one `tenant` names), oldest first; released ones too with
    `include_released=true`."""
    return holds.list_(rt, read_scope(rt, principal, tenant), include_released=include_released)


@router.post("", response_model=HoldOut, status_code=201, operation_id="addHold",
             responses={404: {"model": schemas.Problem, "description": "No such item in the tenant"},
                        409: {"model": schemas.Problem, "description": "The item's personal data is gone"}})
def add_hold(principal: Admin, rt: Rt, body: HoldIn, tenant: TenantParam = None):
    """Put an item, or every item of a subject, under legal hold: retention and erasure skip it until released."""
    if body.item_id is not None and tenant is None and principal.scope.only() is None:
        item = stored_item(rt.settings.database_url, body.item_id, scope=principal.scope)
        if item is None:
            raise NotFound(f"no item {body.item_id!r}")
        tenant_id = item.tenant_id
    else:
        tenant_id = write_tenant(rt, principal, tenant)
    return holds.add(rt, tenant_id, item_id=body.item_id, subject_id=body.subject_id, reason=body.reason,
                     actor=principal.actor)


@router.post("/{hold_id}/release", response_model=HoldOut, operation_id="releaseHold",
             responses={404: {"model": schemas.Problem, "description": "No such hold (another tenant's too)"},
                        409: {"model": schemas.Problem, "description": "Released already"}})
def release_hold(hold_id: HoldId, principal: Admin, rt: Rt, body: ReleaseIn | None = None):
    """Release a hold: its data is again subject to retention and erasure; the hold stays listed."""
    return holds.release(rt, hold_id, principal.scope, principal.actor, body.reason if body else None)
