"""An item's statement of reasons (EU DSA Art. 17; issue 18.2): GET /v1/items/{item_id}/statement.

What the platform shows (or sends) its user when it restricts their upload, as modq wrote it for the
Transparency Database, and where it is on its way there. The item's tenant only: an item of another tenant,
a missing one and one never restricted get the same 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from moderation.api import schemas
from moderation.api.auth import Reader
from moderation.api.items import ItemId, Rt
from moderation.review.services import NotFound
from moderation.transparency import queries

router = APIRouter(tags=["transparency"])


class StatementOut(BaseModel):
    puid: str = Field(description="The platform's unique id of the statement in the Transparency Database")
    decision: str = Field(description="Which decision restricted the item: automatic, review, override or appeal")
    state: str = Field(description="pending (not sent yet), sent, or rejected (by the database: see errors)")
    created_at: str | None
    sent_at: str | None
    errors: dict[str, Any] | None = Field(description="The database's field errors, if it refused the statement")
    statement: dict[str, Any] = Field(description="The StatementStoreRequest body, as sent to the database")


@router.get("/v1/items/{item_id}/statement", response_model=StatementOut, operation_id="getItemStatement",
            responses={404: {"model": schemas.Problem}})
def get_statement(item_id: ItemId, principal: Reader, rt: Rt):
    """The statement of reasons of the item's latest restriction (roles: ingest, reviewer, admin): the body
    sent to the DSA Transparency Database and its state. An item of another tenant, a missing one, or one
    with no restrictive decision (or whose only one was undone) is 404."""
    found = queries.latest_for_item(rt.settings.database_url, item_id, principal.scope)
    if found is None:
        raise NotFound(f"no statement of reasons for item {item_id!r}")
    return found
