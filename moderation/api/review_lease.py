"""Lease renewal (issue 17.3): over the API, and the console's JSON endpoint that lease.js calls.

`POST /v1/items/{item_id}/lease` (bearer token, reviewer roles) renews the caller's live lease.
The console's `GET|POST /items/{item_id}/lease` read and renew the signed-in reviewer's lease for the item
page's countdown; the POST carries the session's CSRF token (header `X-CSRF-Token`, or a `csrf` form field),
checked as every console form's, but a stale one is answered in JSON (a script reads it, not a person).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Form, Header, HTTPException, Path, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from moderation.api import schemas
from moderation.api.auth import ConsoleUser, Reviewer, runtime
from moderation.api.items import ItemId
from moderation.bootstrap import Runtime
from moderation.review import leases
from moderation.review.services import Lease
from moderation.tenants import tokens

router = APIRouter()
Rt = Annotated[Runtime, Depends(runtime)]
ConsoleItemId = Annotated[str, Path(max_length=64), AfterValidator(schemas.storable)]
CSRF_HEADER = "X-CSRF-Token"


class LeaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # No static upper bound: the limit is a setting, and the use case's refusal names it (as a claim's).
    lease_seconds: int | None = Field(None, ge=10, description="Default: MODQ_REVIEW_LEASE_SECONDS; at most "
                                      "MODQ_REVIEW_MAX_LEASE_SECONDS (default 3600), a longer one is refused (422)")


class LeaseState(BaseModel):
    item_id: str
    owner: str
    expires_at: str
    seconds_left: int = Field(description="Whole seconds until the lease ends, by the server's clock")


class ConsoleLease(LeaseState):
    renew_seconds: int = Field(description="How long a renewal from the console makes the lease")


@router.post("/v1/items/{item_id}/lease", response_model=LeaseState, operation_id="renewLease", tags=["review"],
             responses={404: {"model": schemas.Problem, "description": "No such item, or another tenant's"},
                        409: {"model": schemas.Problem, "description": "Not awaiting review, or you hold no live "
                              "lease on it (none, someone else's, or it ended: claim it again)"},
                        422: {"model": schemas.Problem, "description": "lease_seconds out of bounds"}})
def renew(item_id: ItemId, principal: Reviewer, rt: Rt, body: Annotated[LeaseIn | None, Body()] = None):
    """Renew the lease you hold on the item: it ends `lease_seconds` (default MODQ_REVIEW_LEASE_SECONDS) from
    now, or stays as it is if it already ends later. Only the live holder renews (admins too): a lease that
    ended is gone, and `POST /v1/review/claim` takes the item again if nobody else has. Renewals are not
    audited (the `claim` entry records who holds the item)."""
    body = body or LeaseIn()
    return _state(leases.renew(rt, item_id, principal.actor, body.lease_seconds, scope=principal.scope))


@router.get("/items/{item_id}/lease", response_model=ConsoleLease, include_in_schema=False)
def console_lease(request: Request, item_id: ConsoleItemId, user: ConsoleUser):
    """The signed-in reviewer's lease on the item, as the server counts it (the page's clock may be off)."""
    rt = runtime(request)
    return _console(rt, leases.current(rt, item_id, user.principal.actor, scope=user.principal.scope))


@router.post("/items/{item_id}/lease", response_model=ConsoleLease, include_in_schema=False)
def console_renew(request: Request, item_id: ConsoleItemId, user: ConsoleUser,
                  header: Annotated[str | None, Header(alias=CSRF_HEADER, max_length=128)] = None,
                  csrf: Annotated[str, Form(max_length=128)] = ""):
    """Renew the signed-in reviewer's lease for the default length (lease.js, while the reviewer is active)."""
    if not tokens.same_secret(user.csrf_token, header or csrf):
        raise HTTPException(403, f"the CSRF token ({CSRF_HEADER}) is missing or stale: reload the page")
    rt = runtime(request)
    return _console(rt, leases.renew(rt, item_id, user.principal.actor, scope=user.principal.scope))


def _state(lease: Lease) -> dict:
    return {"item_id": lease.item_id, "owner": lease.owner, "expires_at": lease.expires_at.isoformat(),
            "seconds_left": leases.seconds_left(lease)}


def _console(rt: Runtime, lease: Lease) -> dict:
    return {**_state(lease), "renew_seconds": rt.settings.review_lease_seconds}
