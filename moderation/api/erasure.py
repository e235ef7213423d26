"""Erasure on request (issue 19.2): DELETE /v1/subjects/{subject_id} and DELETE /v1/items/{id}/personal-data
(role: admin).

Both answer what was done: the items erased, those held (with the hold's reason) and those pending (still
being moderated: erased when their moderation ends). A subject or item outside the admin's tenants, and a
``tenant`` the token does not act for, are 404 like a missing one: an admin never learns what another
tenant's users uploaded.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from moderation.api import schemas
from moderation.api.auth import allow
from moderation.api.items import ItemId, Rt
from moderation.api.subjects import SubjectId
from moderation.api.tenancy import TenantParam, named, write_tenant
from moderation.domain.tenancy import Scope
from moderation.privacy import erasure
from moderation.review.services import NotFound
from moderation.tenants.models import ADMIN
from moderation.tenants.tokens import Principal

router = APIRouter(tags=["erasure"])
Admin = Annotated[Principal, Depends(allow(ADMIN))]
_MISSING = {404: {"model": schemas.Problem}}


class HeldItem(BaseModel):
    item_id: str
    reason: str = Field(description="The legal hold's reason, as the admin who added it wrote it")


class ErasureOut(BaseModel):
    erased: list[str] = Field(description="Items whose personal data is now tombstoned")
    held: list[HeldItem] = Field(description="Items left as they are: under legal hold")
    pending: list[str] = Field(description="Items still being moderated: erased when their moderation ends")


@router.delete("/v1/subjects/{subject_id}", response_model=ErasureOut, operation_id="eraseSubject",
               responses=_MISSING)
def erase_subject(subject_id: SubjectId, principal: Admin, rt: Rt, tenant: TenantParam = None):
    """Erase everything that identifies one uploader in one tenant (the token's, or the one `?tenant=NAME`
    names): every item's media URI, metadata, subject, external id, provider answer and free text, the
    subject's flags and alerts. Held items are kept and listed; items being moderated are erased when they end.
    A subject with no item there is 404."""
    tenant_id = named(rt, principal, tenant, NotFound) if tenant is not None else write_tenant(rt, principal, None)
    return erasure.erase_subject(rt, tenant_id, subject_id, principal.actor).as_dict()


@router.delete("/v1/items/{item_id}/personal-data", response_model=ErasureOut, operation_id="eraseItem",
               responses=_MISSING)
def erase_item(item_id: ItemId, principal: Admin, rt: Rt, tenant: TenantParam = None):
    """Erase one item's personal data (as for a subject, for this item only). Another tenant's item is 404."""
    scope = principal.scope if tenant is None else Scope(tenant_ids=frozenset({named(rt, principal, tenant,
                                                                                      NotFound)}))
    return erasure.erase_item(rt, item_id, scope, principal.actor).as_dict()
