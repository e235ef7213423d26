"""Policy API: read and apply the active threshold policy, follow a re-evaluation (role: admin); per tenant.

``?tenant=NAME``: that tenant's policy (its own version, else the deployment's it
inherits); without it, the deployment's, which only an admin token for every
tenant ('*') may change. A tenant the token does not act for gets the same 404
as one that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from moderation.domain import policy
from moderation.policy import reevaluations, versions as policy_store
from moderation.api import schemas, tenancy
from moderation.api.auth import allow, runtime
from moderation.api.errors import problem
from moderation.domain.errors import BadInput, ConfigError
from moderation.bootstrap import Runtime
from moderation.domain.tenancy import check_name
from moderation.tenants import services as tenants
from moderation.tenants.models import ADMIN
from moderation.review.services import NotFound
from moderation.tenants.tokens import Principal

router = APIRouter(tags=["policy"])
Admin = Annotated[Principal, Depends(allow(ADMIN))]
Rt = Annotated[Runtime, Depends(runtime)]
TenantName = Annotated[Annotated[str, Field(max_length=63)] | None, schemas.blank_is(None), Query(
    description="A tenant's policy (its own version, else the deployment's it inherits); without it, the deployment's")]
DEPLOYMENT_ONLY = ("tenant: only an admin token for every tenant ('*') may change the deployment's policy; "
                   "give ?tenant=NAME to change one tenant's")
ACTOR_MAX = 128  # policy_activations.author, policy_reevaluations.actor


def tenant_named(rt: Runtime, principal: Principal, name: str | None) -> int | None:
    """The id of the tenant named (None: none was), if the token acts for it; else 404 with ``tenancy.named``'s
    message, the answer a tenant that does not exist gets (existence does not leak). A malformed name: 422."""
    if name is None:
        return None
    check_name(name)
    try:
        return tenancy.named(rt, principal, name)
    except BadInput as exc:
        raise NotFound(str(exc)) from None


def for_the_deployment(rt: Runtime, principal: Principal) -> bool:
    """Whether the token may act on the deployment's policy: a token for every tenant, or, while the deployment
    has a single tenant (as before tenants), a token for it."""
    if principal.scope.all:
        return True
    every = tenants.names(rt.settings.database_url)
    return len(every) == 1 and principal.covers(next(iter(every)))


def actor(principal: Principal) -> str:
    """The token as the policy history and the audit trail name it (name and id), within their 128 characters."""
    suffix = f" (token {principal.token_id})"
    return principal.name[:ACTOR_MAX - len(suffix)] + suffix


class PolicyIn(BaseModel):
    yaml: str = Field(..., max_length=60_000, description="The thresholds file's text")
    note: str = Field("", max_length=2000, pattern=r"^[^\x00]*$", description="Why; shown in history")


class ReevaluationOut(BaseModel):
    id: str
    version: str = Field(description="The policy version items are re-decided under")
    tenant: str | None = Field(description="The tenant whose items it walks; null: the deployment's policy "
                               "(the items of tenants without a policy of their own)")
    actor: str
    state: Literal["queued", "running", "done", "failed"]
    done: int = Field(description="Flagged, unreviewed items walked so far")
    total: int | None = Field(description="Items to walk (null until counted; equal to done once finished)")
    counts: dict[str, int] = Field(description="examined, unchanged, approved, rejected, claimed (skipped: a "
                                   "reviewer holds it), alerts (sent for items now rejected)")
    errors: list[str] = Field(description="Why the job failed, if it did")
    runs: int = Field(description="Deliveries that ran it: over 1 when a worker restart made it continue")
    created_at: datetime
    started_at: datetime | None
    updated_at: datetime
    finished_at: datetime | None
    status_url: str


class PolicyOut(BaseModel):
    version: str
    source: str = Field(description="'database' (an applied version) or 'file' (MODQ_THRESHOLDS)")
    tenant: str | None = Field(None, description="The tenant asked for; null: the deployment's policy")
    inherited: bool = Field(False, description="The tenant has no version of its own: the deployment's decides "
                                               "its items (always false for the deployment's policy)")
    activated_at: datetime | None = None
    author: str | None = None
    note: str | None = None
    yaml: str
    policy: dict[str, Any]
    changed: bool | None = Field(None, description="PUT only: false when it was already the active version")
    reevaluation: ReevaluationOut | None = Field(
        None, description="PUT ?reevaluate=true only: the background job just queued; follow its status_url")


def _active(rt: Runtime, tenant_id: int | None, name: str | None) -> dict:
    found = policy_store.active(rt.settings.database_url, tenant_id)
    whose = {"tenant": name, "inherited": tenant_id is not None and (found is None or found.tenant_id is None)}
    if found is None:
        text = rt.settings.thresholds.read_text(encoding="utf-8")
        return {"version": rt.policy.version, "source": "file", "yaml": text, "policy": policy_store.describe(rt.policy),
                **whose}
    parsed = policy.parse(found.text, f"version {found.version}")
    return {"version": found.version, "source": "database", "activated_at": found.activated_at,
            "author": found.author, "note": found.note, "yaml": found.text, "policy": policy_store.describe(parsed),
            **whose}


@router.get("/v1/policy", response_model=PolicyOut, operation_id="getPolicy",
            responses={404: {"model": schemas.Problem, "description": "No such tenant (or not this token's)"}})
def get_policy(principal: Admin, rt: Rt, tenant: TenantName = None):
    """The active threshold policy, its version and where it comes from: a tenant's (``?tenant=``) or the
    deployment's."""
    return _active(rt, tenant_named(rt, principal, tenant), tenant)


JOB_LINK = {"getReevaluation": {"operationId": "getReevaluation",
                               "parameters": {"job_id": "$response.body#/reevaluation/id"}}}
JobId = Annotated[str, Path(max_length=64, description="The id PUT /v1/policy?reevaluate=true returned")]


@router.put("/v1/policy", response_model=PolicyOut, operation_id="putPolicy",
            responses={202: {"model": PolicyOut, "links": JOB_LINK,
                             "description": "?reevaluate=true: applied, and a re-evaluation job queued (Location)"},
                       403: {"model": schemas.Problem,
                             "description": "The deployment's policy, by a token not for every tenant"},
                       404: {"model": schemas.Problem, "description": "No such tenant (or not this token's)"},
                       422: {"model": schemas.Problem, "description": "Invalid thresholds; the message names the key"},
                       503: {"model": schemas.Problem,
                             "description": "?reevaluate=true: applied, but the job could not be queued (broker)"}})
def put_policy(principal: Admin, rt: Rt, body: PolicyIn, request: Request, response: Response,
               reevaluate: bool = False, tenant: TenantName = None):
    """Validate a thresholds file and make it the active version of the tenant named (``?tenant=``: a token
    acting for it), or of the deployment (a token for every tenant, or for the only one there is: it decides
    the items of tenants without their own); workers pick it up within MODQ_POLICY_REFRESH_SECONDS. Applying
    the active version again changes nothing. ``?reevaluate=true``: then re-decide the unreviewed flagged
    items it decides in the background, as ``modq policy apply --reevaluate`` does in the foreground (alerts
    only for items now rejected): 202, with the job's status URL in ``Location`` and
    ``reevaluation.status_url``."""
    tenant_id = tenant_named(rt, principal, tenant)
    if tenant_id is None and not for_the_deployment(rt, principal):
        return problem(403, DEPLOYMENT_ONLY)
    try:
        result = policy_store.apply(rt.settings.database_url, body.yaml, author=actor(principal), note=body.note,
                                    source="thresholds", tenant_id=tenant_id)
    except ConfigError as exc:
        return problem(422, str(exc))
    job = None
    if reevaluate:
        try:
            job = _with_url(request, reevaluations.start(rt, result.version, actor(principal), tenant_id), tenant)
        except reevaluations.NotQueued as exc:
            return problem(503, str(exc))
        response.status_code, response.headers["Location"] = 202, job["status_url"]
    return {**_active(rt, tenant_id, tenant), "changed": result.created, "reevaluation": job}


@router.get("/v1/policy/reevaluations/{job_id}", response_model=ReevaluationOut, operation_id="getReevaluation",
            responses={404: {"model": schemas.Problem, "description": "No such job"}})
def get_reevaluation(job_id: JobId, principal: Admin, rt: Rt, request: Request):
    """A re-evaluation job: its state (queued, running, done, failed), items done of total, counts, errors.
    A job for a tenant the token does not act for (or the deployment's, for a token not for every tenant)
    is not found."""
    job = reevaluations.status(rt.settings.database_url, job_id)
    if job is None or not (principal.covers(job["tenant_id"]) if job["tenant_id"] is not None
                           else for_the_deployment(rt, principal)):
        raise NotFound(f"no re-evaluation job {job_id!r}")
    name = None if job["tenant_id"] is None else tenants.names(rt.settings.database_url).get(job["tenant_id"])
    return _with_url(request, job, name)


def _with_url(request: Request, job: dict, tenant: str | None) -> dict:
    return {**job, "tenant": tenant, "status_url": str(request.url_for("get_reevaluation", job_id=job["id"]))}
