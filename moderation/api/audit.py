"""The audit trail as JSON or CSV (roles: reviewer, admin)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel

from moderation.api import schemas
from moderation.api.auth import Reviewer, runtime
from moderation.api.tenancy import TenantParam, read_scope
from moderation.bootstrap import Runtime
from moderation.infra.clock import aware
from moderation.items.audit_trail import audit_trail
from moderation.items.models import AuditAction
from moderation.items.queries import stored_item
from moderation.review.services import NotFound

router = APIRouter(tags=["audit"])
Rt = Annotated[Runtime, Depends(runtime)]
COLUMNS = ("id", "at", "item_id", "actor", "action", "from_status", "to_status", "verdict", "reason", "policy_version")



class AuditEventOut(BaseModel):
    id: int
    at: str | None
    item_id: str | None
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    verdict: str | None
    reason: str | None
    policy_version: str | None


class AuditPage(BaseModel):
    events: list[AuditEventOut]
    limit: int
    offset: int
    next_offset: int | None


def _utc(value: datetime | None) -> datetime | None:
    """Naive times are UTC; out-of-range conversions are a 422, not a crash."""
    if value is None:
        return None
    try:
        return aware(value).astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("date is out of range once converted to UTC") from None


When = Annotated[datetime | None, AfterValidator(_utc)]


@router.get("/v1/audit", response_model=AuditPage, operation_id="auditTrail",
            responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}})
def audit(principal: Reviewer, rt: Rt,
          item_id: Annotated[schemas.Text | None, Query(max_length=64)] = None,
          actor: Annotated[schemas.Text | None, Query(max_length=255, description="As the trail writes it, or a "
                                                       "token's name (finds '<name> (token <id>)')")] = None,
          action: Annotated[AuditAction | None, Query(description="one of the actions modq writes")] = None,
          since: Annotated[When, Query(description="ISO 8601; events at or after")] = None,
          until: Annotated[When, Query(description="ISO 8601; events before")] = None,
          format: Literal["json", "csv"] = "json",
          limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
          offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0, tenant: TenantParam = None):
    """Who did what to which item, when, why, under which policy version; newest first.

    Only the token's tenants' events (or those of the one `tenant` names): their items' events and events
    about no item that name one of them; deployment-wide events only for a token for every tenant ('*').
    An `item_id` that is not one of those tenants' items is 404, as a missing item."""
    scope = read_scope(rt, principal, tenant)
    if item_id and stored_item(rt.settings.database_url, item_id, scope=scope) is None:
        raise NotFound(f"no item {item_id!r}")
    rows = audit_trail(rt.settings.database_url, item_id=item_id, actor=actor, action=action, since=since,
                       until=until, limit=limit + 1, offset=offset, scope=scope)
    events = rows[:limit]
    if format == "csv":
        return Response(to_csv(events), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="modq-audit.csv"'})
    return {"events": events, "limit": limit, "offset": offset,
            "next_offset": offset + limit if len(rows) > limit else None}


def to_csv(events: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for event in events:
        writer.writerow([_cell(event[c]) for c in COLUMNS])
    return out.getvalue()


def _cell(value) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; a reason is user text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
