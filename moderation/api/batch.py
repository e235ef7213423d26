"""Ingest in bulk: POST /v1/items/batch, many items in one request (``items.services.submit_many``).

Each item is checked as ``POST /v1/items`` checks its body, and answered
apart: a refused item says why, in the same words, and stores nothing; the
others are not affected.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from moderation.api import schemas
from moderation.api.auth import Ingestor
from moderation.api.errors import JSON_KINDS, validation_message
from moderation.api.items import Rt
from moderation.api.tenancy import TenantParam, write_tenant
from moderation.domain.errors import RefusedSubmission
from moderation.items import services as service

router = APIRouter(prefix="/v1/items", tags=["items"])
BATCH_MAX = 500
BATCH_BODY_SETTING = "MODQ_API_MAX_BATCH_BODY_BYTES"


def _at_most(items: list[Any]) -> list[Any]:
    if len(items) > BATCH_MAX:
        raise PydanticCustomError("too_long", "a batch holds at most {max} items, not {count}: send the rest in "
                                  "another request", {"max": BATCH_MAX, "count": len(items)})
    return items


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"items": [
        {"external_id": "post-123", "media_uri": "s3://ugc-uploads/2026/11/cat.jpg", "metadata": {"user": "42"}},
        {"external_id": "post-124", "media_uri": "s3://ugc-uploads/2026/11/dog.jpg"}]}]})

    # Checked one by one (an item that is wrong is refused alone), so any JSON value is taken here.
    items: Annotated[list[Any], Field(min_length=1, json_schema_extra={"items": {"$ref": "#/components/schemas/ItemIn"},
                                                                       "maxItems": BATCH_MAX},
                                      description=f"1-{BATCH_MAX} items, each as the body of POST /v1/items"),
                     AfterValidator(_at_most)]


class BatchResult(BaseModel):
    id: str | None = Field(description="The item (null when refused)")
    external_id: str | None
    status: str | None = Field(description="queued for a new item; a known item's status as it is now")
    created: bool = Field(description="False: refused, or the external_id was already known (or came earlier in "
                                      "this batch); nothing was queued")
    error: str | None = Field(None, description="Why this item was refused: the message POST /v1/items gives; "
                                                "nothing was stored for it")


class BatchOut(BaseModel):
    results: list[BatchResult] = Field(description="One per item, in the order sent")
    created: int
    known: int
    refused: int


def _checked(raw: Any) -> schemas.ItemIn | str:
    """The item as POST /v1/items reads its body, or what is wrong with it."""
    if not isinstance(raw, dict):
        return f"the item is {JSON_KINDS.get(type(raw), 'not an object')}, not a JSON object"
    try:
        return schemas.ItemIn.model_validate(raw)
    except ValidationError as exc:
        return validation_message([dict(e) for e in exc.errors()])


def _shown_external_id(raw: Any) -> str | None:
    """A refused item's external_id, echoed when it is one modq could have stored (a lone surrogate could not
    even be written in the answer)."""
    value = raw.get("external_id") if isinstance(raw, dict) else None
    try:
        return schemas.storable(value) if isinstance(value, str) and len(value) <= 255 else None
    except ValueError:
        return None


@router.post("/batch", response_model=BatchOut, operation_id="submitItems",
             responses={422: {"model": schemas.Problem, "description": "The batch itself is wrong: not an object "
                                                                       f"with 1-{BATCH_MAX} items"}})
def submit_batch(body: BatchIn, principal: Ingestor, rt: Rt, tenant: TenantParam = None) -> BatchOut:
    """Queue up to 500 items at once (roles: ingest, admin), all for one tenant: the token's, or (a token for
    several tenants) the one `?tenant=NAME` names.

    One result per item, in order: its `id` and `created`, or an `error` with the
    message `POST /v1/items` would give (nothing stored for that item; the others
    are not affected). Idempotent on `external_id` as `POST /v1/items` is, within
    the batch too: a repeat gets the first accepted occurrence's item, `created`
    false. The new items are one transaction, and their tasks one broker round trip.
    """
    origin = service.Origin(write_tenant(rt, principal, tenant), actor=principal.actor)
    checked = [_checked(raw) for raw in body.items]
    valid = [c for c in checked if not isinstance(c, str)]
    entries = [service.Entry(c.media_uri, c.external_id, c.metadata, c.media_type, c.subject_id) for c in valid]
    submitted = iter(service.submit_many(entries, rt=rt, origin=origin))
    results = []
    for raw, item in zip(body.items, checked):
        outcome = item if isinstance(item, str) else next(submitted)
        if isinstance(outcome, str | RefusedSubmission):
            results.append(BatchResult(id=None, external_id=_shown_external_id(raw), status=None, created=False,
                                       error=str(outcome)))
        else:
            results.append(BatchResult(id=outcome.item_id, external_id=item.external_id, status=outcome.status,
                                       created=outcome.created))
    created = sum(r.created for r in results)
    refused = sum(r.error is not None for r in results)
    return BatchOut(results=results, created=created, known=len(results) - created - refused, refused=refused)
