"""Request and response bodies of the HTTP API (they are the OpenAPI schema).

Every string a client sends is checked to be storable: no NUL and valid
UTF-8, which PostgreSQL and SQLite would otherwise refuse with a server error.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Generic, Literal, TypeVar
from urllib.parse import unquote

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from moderation.api.review_context import known_label

METADATA_MAX_BYTES = 16 * 1024
METADATA_MAX_DEPTH = 8
MediaType = Literal["image", "video"]
Status = Literal["queued", "processing", "submitted", "approved", "flagged", "rejected", "failed"]
Verdict = Literal["approved", "flagged", "rejected"]
QueueVerdict = Literal["flagged", "rejected"]
Row = TypeVar("Row")


def blank_is(default):
    """An empty field means the default: the console's forms send every field, "any" as an empty value."""
    return BeforeValidator(lambda value: default if value == "" else value)


AnyMediaType = Annotated[MediaType | None, blank_is(None)]


def storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


Text = Annotated[str, AfterValidator(storable)]


def _check_json(value: Any, depth: int = 0) -> None:
    if depth > METADATA_MAX_DEPTH:
        raise ValueError(f"metadata nests deeper than {METADATA_MAX_DEPTH} levels")
    if isinstance(value, str):
        storable(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("metadata numbers must be finite (no NaN or Infinity)")
    elif isinstance(value, dict):
        for key, inner in value.items():
            storable(key)
            _check_json(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            _check_json(inner, depth + 1)


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"external_id": "post-123", "media_uri": "s3://ugc-uploads/2026/11/cat.jpg", "metadata": {"user": "42"}}]})

    external_id: Text = Field(min_length=1, max_length=255,
                              description="Your id; resubmitting it returns the same item")
    media_uri: Text = Field(min_length=1, max_length=2048,
                            description="s3://bucket/key or a path under the media root")
    media_type: MediaType | None = Field(None, description="Default: detected from the content or extension")
    metadata: dict[str, Any] = Field(default_factory=dict,
                                     description=f"Free-form JSON, up to {METADATA_MAX_BYTES} bytes")
    subject_id: Annotated[str, Field(min_length=1, max_length=255), AfterValidator(storable)] | None = Field(
        None, description="The uploader's account on your platform, 1-255 printable characters: their history is "
                          "GET /v1/subjects/{subject_id}")

    @field_validator("subject_id")
    @classmethod
    def _subject_id(cls, value: str | None) -> str | None:
        if value is not None and not value.isprintable():  # it is shown to reviewers
            raise ValueError("must not contain control characters")
        return value

    @field_validator("media_uri")
    @classmethod
    def _media_uri(cls, value: str) -> str:
        # media.parse percent-decodes URIs; a decoded NUL or control character
        # would otherwise reach the filesystem or the database.
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in unquote(value)):
            raise ValueError("must not contain control characters, raw or percent-encoded")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        _check_json(value)
        if len(json.dumps(value)) > METADATA_MAX_BYTES:
            raise ValueError(f"metadata is over {METADATA_MAX_BYTES} bytes as JSON")
        return value


class Submitted(BaseModel):
    id: str
    external_id: str | None
    status: str
    created: bool = Field(description="False: the external_id was already known; nothing was queued")


class ItemSummary(BaseModel):
    id: str
    external_id: str | None
    media_type: str
    status: str
    verdict: str | None
    failure_reason: str | None
    policy_version: str | None
    created_at: str | None
    decided_at: str | None


class Page(BaseModel, Generic[Row]):
    """The one shape of a list answer: ``GET /v1/items``, ``/v1/review/queue``, ``/v1/bank``."""

    items: list[Row]
    limit: int
    offset: int
    next_offset: int | None = Field(description="Pass as offset for the next page; null on the last page")


def page(rows: list, limit: int, offset: int) -> dict[str, Any]:
    """A ``Page`` of ``rows``, read with ``limit + 1`` so that one more row says a next page exists."""
    return {"items": rows[:limit], "limit": limit, "offset": offset,
            "next_offset": offset + limit if len(rows) > limit else None}


class ItemPage(Page[ItemSummary]):
    """Items, newest first."""


class LeaseOut(BaseModel):
    owner: str
    expires_at: str


class ReviewOut(BaseModel):
    verdict: str
    reason: str
    previous_status: str
    reviewed_at: str | None
    reviewer: str | None = Field(None, description="Shown to reviewer and admin tokens only")
    reason_code: str | None = Field(None, description="One of the policy's `reasons` codes, if the reviewer gave one")
    overridden_from: str | None = Field(None, description="An admin overrode the review: the verdict replaced "
                                        "(`verdict` and `reason` are then the admin's)")
    overridden_at: str | None = None
    overridden_by: str | None = Field(None, description="The admin who overrode it (reviewer and admin tokens only)")


class EscalationOut(BaseModel):
    escalated_at: str | None
    resolved_at: str | None
    open: bool = Field(description="Waiting in the escalated queue for a senior reviewer or an admin")
    note: str | None = Field(None, description="Why it was escalated (reviewer, senior and admin tokens only)")
    escalated_by: str | None = Field(None, description="Reviewer, senior and admin tokens only")
    resolved_by: str | None = Field(None, description="Who decided it (reviewer, senior and admin tokens only)")


class LabelScore(BaseModel):
    name: str
    confidence: float


class ItemDetail(ItemSummary):
    subject_id: str | None = Field(None, description="The uploader's account on the platform, if submitted with one")
    media_uri: str
    metadata: dict[str, Any]
    provider: str | None
    attempts: int
    model_version: str | None
    labels: list[dict[str, Any]] = Field(description="Rekognition-shaped labels; `fired` marks those a rule fired on")
    content_types: list[Any]
    reasons: list[str]
    rules: list[dict[str, Any]] = Field(description="The rules that fired: label, confidence, action, threshold, rule")
    lease: LeaseOut | None
    review: ReviewOut | None
    markers: list[dict[str, Any]] = Field(description="Video only: where flagged labels were seen (t in seconds)")
    fired_frame: dict[str, Any] | None = Field(None, description="Animated or multi-page image only: the frame the "
                                               "first rule fired on (index from 0, offset_ms, where, reason)")
    appeals: list[dict[str, Any]] = Field([], description="The item's appeal (at most one) and its outcome "
                                          "(POST /v1/items/{item_id}/appeals)")
    escalation: EscalationOut | None = Field(None, description="Its latest escalation to the senior queue "
                                             "(POST /v1/items/{item_id}/escalate), open or decided")


class QueueRow(ItemSummary):
    lease: LeaseOut | None
    top_labels: list[LabelScore]
    escalation: EscalationOut | None = Field(None, description="`queue=escalated` only: why and by whom")


class QueuePage(Page[QueueRow]):
    """Items awaiting review, oldest first."""


class QueueFilterIn(BaseModel):
    queue: Literal["items", "appeals", "escalated"] = Field(
        "items", description="items awaiting review (default); appeals (pending, oldest first; the other filters "
        "do not apply); or escalated items (senior and admin only; by priority, then escalation time; `verdict` "
        "does not apply)")
    verdict: QueueVerdict = Field("flagged", description="Automatic verdict: flagged (default) or rejected")
    label: Annotated[Text, Field(min_length=1, max_length=128), AfterValidator(known_label)] | None = Field(
        None, description="A v7 label (or a retired v6.1 name) and any label under it; unknown: 422")
    media_type: MediaType | None = None
    min_age: int | None = Field(None, ge=0, le=10 * 365 * 86400, description="Seconds since submission, at least")
    max_age: int | None = Field(None, ge=0, le=10 * 365 * 86400, description="Seconds since submission, at most")


class ClaimIn(QueueFilterIn):
    model_config = ConfigDict(extra="forbid")

    # No static upper bound: the limit is a setting, and the use case's refusal names it.
    lease_seconds: int | None = Field(None, ge=10, description="Default: MODQ_REVIEW_LEASE_SECONDS; at most "
                                      "MODQ_REVIEW_MAX_LEASE_SECONDS (default 3600), a longer one is refused (422)")
    skip: Text | None = Field(None, max_length=64, description="An item you hold: release it and pass over it")


class Claimed(BaseModel):
    item: ItemDetail
    lease: LeaseOut


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"verdict": "rejected", "reason": "hate symbol clearly visible"}]})

    verdict: Literal["approved", "rejected"]
    reason: Text = Field(min_length=1, max_length=1000, pattern=r"\S", description="Why; kept in the audit trail")
    reason_code: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
                                    description="One of the policy's `reasons` codes (any category's); unknown: 422")


class Problem(BaseModel):
    detail: Any
    message: str
