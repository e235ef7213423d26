"""Hash bank API: list (reviewer, admin), add and remove entries (admin).

The same rules as ``modq bank``: one active entry per content key and tenant,
a verdict of ``rejected`` or ``approved``, removal keeps the row. Over HTTP an
entry names its content by key (as ``GET /v1/items/{id}`` would not show it,
an item id works too); hashing a file is the CLI's job.

Entries belong to a tenant, or to none (global: for every tenant's items). A
token sees its tenants' entries and the global ones; another tenant's entry
is "not found". A tenant's admin adds and removes its tenant's entries; only
an admin for every tenant ('*') adds (no ``tenant``) or removes global ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator, model_validator

from moderation.items.banks import services as banks
from moderation.api import schemas
from moderation.api.auth import allow, runtime
from moderation.api.errors import problem
from moderation.api.items import Offset
from moderation.api.tenancy import TenantParam, read_scope, write_tenant
from moderation.domain.errors import BadInput
from moderation.bootstrap import Runtime
from moderation.items.queries import stored_item
from moderation.tenants import services as tenants
from moderation.tenants.models import ADMIN, REVIEWER, SENIOR
from moderation.tenants.tokens import Principal

router = APIRouter(tags=["bank"])
Admin = Annotated[Principal, Depends(allow(ADMIN))]
Reader = Annotated[Principal, Depends(allow(REVIEWER, SENIOR, ADMIN))]
Rt = Annotated[Runtime, Depends(runtime)]


class BankIn(BaseModel):
    content_key: schemas.Text | None = Field(None, min_length=1, max_length=255,
                                             description="sha256 hex, or s3:bucket/key@version as items show it")
    item_id: schemas.Text | None = Field(None, min_length=1, max_length=36, description="Bank this item's content")
    verdict: Literal["rejected", "approved"]
    note: schemas.Text = Field("", max_length=2000, description="Becomes the reason of every decision it makes")

    @field_validator("content_key")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError("must not contain control characters")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> "BankIn":
        if (self.content_key is None) == (self.item_id is None):
            raise ValueError("give exactly one of content_key and item_id")
        return self


class BankOut(BaseModel):
    id: int
    content_key: str
    tenant: str | None = Field(description="The tenant whose items it decides; null: a global entry (every tenant)")
    verdict: str
    note: str
    pdq: bool
    source: str
    added_by: str
    added_at: datetime
    removed_at: datetime | None
    removed_by: str | None


class BankPage(schemas.Page[BankOut]):
    """Bank entries, newest first."""


@router.get("/v1/bank", response_model=BankPage, operation_id="listBank")
def list_bank(principal: Reader, rt: Rt, include_removed: bool = False,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Offset = 0, tenant: TenantParam = None):
    """Bank entries of the token's tenants (or the one `tenant` names) and the global ones, newest first, a
    page at a time like ``GET /v1/items``."""
    rows = banks.listing(rt.settings.database_url, include_removed, limit + 1, offset,
                         scope=read_scope(rt, principal, tenant))
    return schemas.page(_named(rt, rows), limit, offset)


def _named(rt: Runtime, rows: list[dict]) -> list[dict]:
    """Entries with their tenant's name (``tenant``) in place of its id."""
    names = tenants.names(rt.settings.database_url) if any(r["tenant_id"] is not None for r in rows) else {}
    return [{**r, "tenant": names.get(r["tenant_id"])} for r in rows]


@router.post("/v1/bank", response_model=BankOut, status_code=201, operation_id="addBank",
             responses={200: {"model": BankOut, "description": "Already banked with this verdict: nothing changed"},
                        409: {"model": schemas.Problem, "description": "Banked with the other verdict"},
                        404: {"model": schemas.Problem, "description": "No such item"}})
def add_bank(principal: Admin, rt: Rt, body: BankIn, tenant: TenantParam = None):
    """Bank content: items with it are decided at once, with no provider call.

    The entry decides the items of the token's tenant (a token for several tenants names one with
    `?tenant=NAME`); an admin for every tenant ('*') who names none adds a global entry, for every tenant."""
    tenant_id = None if principal.scope.all and tenant is None else write_tenant(rt, principal, tenant)
    key = body.content_key
    if body.item_id is not None:
        item = stored_item(rt.settings.database_url, body.item_id, scope=principal.scope)
        if item is None:
            return problem(404, f"no item {body.item_id!r}")
        if not item.content_key:
            return problem(409, f"item {body.item_id} has no content key yet (status {item.status})")
        key = item.content_key
    try:
        result, created = banks.bank(rt.settings.database_url, key, body.verdict, note=body.note, source="api",
                                     added_by=principal.actor, tenant_id=tenant_id)
    except BadInput as exc:
        return problem(409, str(exc))
    [shown] = _named(rt, [result])
    if not created:  # the same verdict again: nothing changed
        return JSONResponse(jsonable_encoder(BankOut.model_validate(shown)), 200)
    return shown


@router.delete("/v1/bank/{entry_id}", response_model=BankOut, operation_id="removeBank",
               responses={404: {"model": schemas.Problem, "description": "No active entry with this number"},
                          403: {"model": schemas.Problem, "description": "A global entry, and the token is not for "
                                                                         "every tenant"}})
def remove_bank(principal: Admin, rt: Rt, entry_id: Annotated[int, Path(ge=1, le=2**31 - 1)]):
    """Stop deciding from an entry; it is kept, marked removed, so old decisions stay traceable. Another
    tenant's entry is 404, as a missing one."""
    try:
        [removed] = _named(rt, [banks.unbank(rt.settings.database_url, entry_id, principal.actor,
                                             scope=principal.scope)])
        return removed
    except banks.GlobalEntry as exc:
        return problem(403, str(exc))
    except BadInput as exc:
        return problem(404, str(exc))
