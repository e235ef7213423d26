"""Bulk review over HTTP (issue 17.4): `POST /v1/review/bulk` decides many items with one verdict and reason,
each as a single review; `GET /v1/review/queue/count` says how many items a queue filter matches (what an
admin confirms before deciding "all matching")."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from moderation.api import schemas
from moderation.api.auth import Reviewer, runtime
from moderation.api.review_context import known_label
from moderation.api.tenancy import TenantParam, read_scope
from moderation.bootstrap import Runtime
from moderation.review import bulk
from moderation.review.queries import QueueFilter

router = APIRouter(tags=["review"])
Rt = Annotated[Runtime, Depends(runtime)]
ItemIdIn = Annotated[str, Field(min_length=1, max_length=bulk.ID_MAX)]


class QueueCountIn(BaseModel):
    """The queue filter of `GET /v1/review/queue` (items only)."""

    verdict: schemas.QueueVerdict = "flagged"
    label: Annotated[schemas.Text | None, Field(None, min_length=1, max_length=128), AfterValidator(known_label)] = (
        Field(None, description="A taxonomy label (or any under it); an unknown one is 422, not an empty count"))
    media_type: schemas.MediaType | None = None
    min_age: int | None = Field(None, ge=0, le=10 * 365 * 86400)
    max_age: int | None = Field(None, ge=0, le=10 * 365 * 86400)


class BulkFilterIn(QueueCountIn):
    model_config = ConfigDict(extra="forbid")


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"verdict": "rejected", "reason": "spam wave", "item_ids": ["0b9e...", "4f1c..."]},
        {"verdict": "approved", "reason": "false positives of the old policy", "all_matching": True,
         "filter": {"label": "Alcohol"}, "expected_count": 312}]})

    verdict: Literal["approved", "rejected"]
    reason: schemas.Text = Field(min_length=1, max_length=1000, pattern=r"\S",
                                 description="One reason for every item; audited and sent with each")
    item_ids: list[Annotated[ItemIdIn, AfterValidator(schemas.storable)]] | None = Field(
        None, min_length=1, max_length=bulk.IDS_MAX, description=f"The items, 1-{bulk.IDS_MAX}")
    reason_code: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(schemas.storable)] | None = Field(
        None, description="One of the policy's reason codes (issue 17.6), for every item")
    all_matching: bool = Field(False, description="Admins: every item `filter` matches (instead of item_ids)")
    filter: BulkFilterIn | None = Field(None, description="With all_matching: the queue filter")
    expected_count: int | None = Field(None, ge=0, le=bulk.MATCHING_MAX, description=(
        "With all_matching: how many items you saw match (`GET /v1/review/queue/count`); 409 if it changed"))

    @model_validator(mode="after")
    def _one_way(self) -> BulkIn:
        if self.all_matching:
            if self.item_ids is not None:
                raise ValueError("item_ids: give item_ids or all_matching, not both")
            if self.expected_count is None:
                raise ValueError("expected_count: required with all_matching (the count you confirmed)")
        else:
            if self.item_ids is None:
                raise ValueError("item_ids: required (or all_matching with a filter, admins only)")
            if self.filter is not None or self.expected_count is not None:
                raise ValueError("filter: filter and expected_count go with all_matching")
        return self


class BulkItemOut(BaseModel):
    item_id: str
    outcome: Literal["reviewed", "skipped"]
    reason: Literal["leased", "not_awaiting_review", "not_found", "escalated", "refused"] | None = Field(
        None, description="Why skipped (`refused`: the review refused this item; `detail` says why)")
    detail: str | None = None


class BulkOut(BaseModel):
    verdict: str
    requested: int
    reviewed: int
    skipped: int
    skipped_by_reason: dict[str, int]
    results: list[BulkItemOut] = Field(description="Every item asked for, with its outcome (in the order given, "
                                                   "or the queue's order for all_matching)")


class CountOut(BaseModel):
    count: int
    max: int = Field(description="The most items one all_matching request may decide")


@router.post("/v1/review/bulk", response_model=BulkOut, operation_id="reviewBulk", responses={
    403: {"model": schemas.Problem, "description": "all_matching by a token that is not an admin's"},
    409: {"model": schemas.Problem, "description": "all_matching: the filter matches another count now"},
    422: {"model": schemas.Problem, "description": "Invalid body: the message names the field"}})
def review_bulk(body: BulkIn, principal: Reviewer, rt: Rt, tenant: TenantParam = None):
    """Approve or reject many items with one reason; each is decided as a single review (its own audit entry,
    alert and webhook events, undo window).

    `item_ids` (reviewers and admins, up to 200), or `all_matching` with a queue `filter` and the
    `expected_count` you confirmed (admins only, up to 5,000; 409 and nothing decided if the filter matches
    another count now). Items leased to someone else are skipped, never taken; so are items not awaiting
    review and, as "not found", missing items and items of tenants the token does not act for. The answer
    lists every item with its outcome."""
    scope = read_scope(rt, principal, tenant)
    if body.all_matching and not principal.is_admin:
        raise HTTPException(403, "all_matching: only an admin may decide every item a filter matches; send "
                                 "item_ids instead")
    try:
        result = bulk.bulk(rt, principal.actor, body.verdict, body.reason, item_ids=body.item_ids,
                           f=_filter(body.filter or BulkFilterIn()) if body.all_matching else None,
                           expected=body.expected_count, admin=principal.is_admin, scope=scope,
                           reason_code=body.reason_code)
    except bulk.Forbidden as exc:
        raise HTTPException(403, str(exc)) from None
    return result.as_dict()


@router.get("/v1/review/queue/count", response_model=CountOut, operation_id="reviewQueueCount")
def queue_count(principal: Reviewer, rt: Rt, filters: Annotated[QueueCountIn, Query()],
                tenant: TenantParam = None):
    """How many items awaiting review match the queue filter (leased ones included), for the token's tenants
    (or the one `tenant` names): the `expected_count` an admin confirms for `all_matching`."""
    return {"count": bulk.matching(rt, _filter(filters), read_scope(rt, principal, tenant)),
            "max": bulk.MATCHING_MAX}


def _filter(body: QueueCountIn) -> QueueFilter:
    return QueueFilter(verdict=body.verdict, label=body.label, media_type=body.media_type, min_age=body.min_age,
                       max_age=body.max_age)
