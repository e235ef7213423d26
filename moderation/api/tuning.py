"""Threshold tuning: the active policy's precision/recall curve per category, for admins.

``GET /v1/policy/curves`` (admin token) and, for the console (admin session; the API never takes the
cookie), ``GET /tuning`` (the page: uPlot, vendored under static/, draws the curves) and
``GET /tuning/curves`` (the same JSON). The curves are ``modq policy recommend --plot``'s: see
``moderation.policy.curves``.

Per tenant (``?tenant=NAME``): that tenant's reviewed items under its policy. Without it, a token for
every tenant gets the deployment's policy over the items it decides (tenants without their own), a token
for one tenant that tenant's; a token for several names one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from moderation.api import schemas
from moderation.api.auth import ConsoleUser, allow, runtime
from moderation.api.errors import problem
from moderation.api.pages import page
from moderation.api.policy import TenantName, tenant_named
from moderation.bootstrap import Runtime
from moderation.domain.errors import BadInput
from moderation.policy import curves, queries as replay_db, recommend
from moderation.tenants.models import ADMIN
from moderation.tenants.tokens import Principal


router = APIRouter(tags=["policy"])
Admin = Annotated[Principal, Depends(allow(ADMIN))]
Since = Annotated[str, Query(pattern=r"^[0-9]{1,4}[mhdw]$", description="Reviewed items decided in this window")]
Provider = Annotated[Literal["rekognition", "local"] | None, schemas.blank_is(None),
                     Query(description="Whose analyses (default: the one with most reviews)")]
Target = Annotated[Annotated[float, Field(gt=0, le=1)] | None, schemas.blank_is(None),
                   Query(description="Also mark the flag `modq policy recommend` would propose for this precision, "
                                     "e.g. 0.9")]
MinSupport = Annotated[int, schemas.blank_is(20), Query(ge=1, le=1_000_000, description="With ?target: reviewed items a "
                                                 "category needs for a recommendation (as --min-support)")]
FORBIDDEN = "the Tuning page is for admins (needs an admin token)"


class PointOut(BaseModel):
    threshold: float
    precision: float | None = Field(description="None: nothing flagged at this threshold")
    recall: float | None = Field(description="None: no reviewer-rejected item in the category")
    f1: float | None
    tp: int
    fp: int
    fn: int
    tn: int


class CurveOut(BaseModel):
    category: str
    support: int = Field(description="Reviewed items of the category")
    current: float | None = Field(description="The active policy's flag threshold (None: never flags)")
    candidate: float | None = Field(description="The recommended flag at ?target (None without a target)")
    reject: float | None = Field(description="The rule's reject threshold: past it the curve is flat")
    points: list[PointOut] = Field(description="Lowest threshold first")


class CurvesOut(BaseModel):
    version: str = Field(description="The active policy version the curves are measured under")
    tenant: str | None = Field(None, description="Whose items and policy; null: the deployment's")
    provider: str
    since: str
    reviewed: int
    target: float | None
    min_support: int
    curves: list[CurveOut]


def curves_tenant(rt: Runtime, principal: Principal, name: str | None) -> int | None:
    """Whose curves: the tenant named; else the deployment's for a token for every tenant, the token's one
    tenant for a token for one."""
    if name is not None or principal.scope.all:
        return tenant_named(rt, principal, name)
    only = principal.scope.only()
    if only is None:
        raise BadInput("tenant: this token acts for several tenants: name one with ?tenant=NAME")
    return only


def tuning_curves(rt: Runtime, since: str, provider: str | None, target: float | None, min_support: int,
                  tenant_id: int | None = None, tenant: str | None = None) -> dict:
    """The curves under the active policy of ``tenant_id`` (None: the deployment's) over the reviewed items it
    decides; with ``target``, the flags ``recommend`` would propose marked."""
    start = datetime.now(UTC) - replay_db.parse_since(since)
    rows = list(replay_db.rows(rt.settings.database_url, start, reviewed_only=True, tenant_id=tenant_id))
    provider = provider or curves.busiest_provider(rows)
    active = rt.active_policy(tenant_id)
    candidate = None
    if target is not None:
        rec = recommend.recommend(rows, active, target, provider, min_support)
        candidate = curves.with_recommendation(active, rec)
    found = curves.curves(rows, active, provider, candidate=candidate)
    return {"version": active.version, "tenant": tenant, "provider": provider, "since": since, "target": target,
            "min_support": min_support, "reviewed": sum(r.provider == provider for r in rows),
            "curves": [c.to_dict() for c in found]}


@router.get("/v1/policy/curves", response_model=CurvesOut, operation_id="getPolicyCurves")
def get_curves(principal: Admin, request: Request, since: Since = "30d", provider: Provider = None,
               target: Target = None, min_support: MinSupport = 20, tenant: TenantName = None):
    """Precision and recall on reviewed items against each top-level category's flag threshold, under the
    active policy (positive: flagged or rejected; truth: reviewer rejected), as ``modq policy recommend
    --curve`` writes them. ``?tenant=``: that tenant's items under its policy (see the module docstring)."""
    rt = runtime(request)
    return tuning_curves(rt, since, provider, target, min_support, curves_tenant(rt, principal, tenant), tenant)


@router.get("/tuning", include_in_schema=False)
def tuning_page(request: Request, user: ConsoleUser, since: Since = "30d", provider: Provider = None,
                target: Target = None, min_support: MinSupport = 20, tenant: TenantName = None):
    if not user.principal.is_admin:
        return page(request, "tuning.html", user, 403, forbidden=FORBIDDEN)
    rt = runtime(request)
    tenant_id = curves_tenant(rt, user.principal, tenant)
    query = urlencode({k: v for k, v in (("since", since), ("provider", provider), ("target", target),
                                         ("min_support", min_support if target else None), ("tenant", tenant))
                       if v})
    return page(request, "tuning.html", user, since=since, provider=provider or "", target=target,
                min_support=min_support, tenant=tenant or "",
                version=rt.active_policy(tenant_id).version, curves_url=f"/tuning/curves?{query}")


@router.get("/tuning/curves", include_in_schema=False)
def tuning_data(request: Request, user: ConsoleUser, since: Since = "30d", provider: Provider = None,
                target: Target = None, min_support: MinSupport = 20, tenant: TenantName = None):
    if not user.principal.is_admin:
        return problem(403, FORBIDDEN)
    rt = runtime(request)
    tenant_id = curves_tenant(rt, user.principal, tenant)
    return CurvesOut(**tuning_curves(rt, since, provider, target, min_support, tenant_id, tenant))
