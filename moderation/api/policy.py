"""Policy API: read and apply the active threshold policy, follow a re-evaluation (role: admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from moderation.domain import policy
from moderation.policy import reevaluations, versions as policy_store
from moderation.api import schemas
from moderation.api.auth import allow, runtime
from moderation.api.errors import problem
from moderation.domain.errors import ConfigError
from moderation.bootstrap import Runtime
from moderation.tenants.models import ADMIN
from moderation.review.services import NotFound
from moderation.tenants.tokens import Principal

router = APIRouter(tags=["policy"])
Admin = Annotated[Principal, Depends(allow(ADMIN))]
Rt = Annotated[Runtime, Depends(runtime)]


class PolicyIn(BaseModel):
    yaml: str = Field(..., max_length=60_000, description="The thresholds file's text")
    note: str = Field("", max_length=2000, pattern=r"^[^\x00]*$", description="Why; shown in history")


class ReevaluationOut(BaseModel):
    id: str
    version: str = Field(description="The policy version items are re-decided under")
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
    activated_at: datetime | None = None
    author: str | None = None
    note: str | None = None
    yaml: str
    policy: dict[str, Any]
    changed: bool | None = Field(None, description="PUT only: false when it was already the active version")
    reevaluation: ReevaluationOut | None = Field(
        None, description="PUT ?reevaluate=true only: the background job just queued; follow its status_url")


def _active(rt: Runtime) -> dict:
    url = rt.settings.database_url
    active = policy_store.active_text(url)
    if active is None:
        text = rt.settings.thresholds.read_text(encoding="utf-8")
        return {"version": rt.policy.version, "source": "file", "yaml": text, "policy": policy_store.describe(rt.policy)}
    last = policy_store.history(url, 1)[0]
    parsed = policy.parse(active[1], f"version {active[0]}")
    return {"version": active[0], "source": "database", "activated_at": last.activated_at, "author": last.author,
            "note": last.note, "yaml": active[1], "policy": policy_store.describe(parsed)}


@router.get("/v1/policy", response_model=PolicyOut, operation_id="getPolicy")
def get_policy(principal: Admin, rt: Rt):
    """The active threshold policy, its version and where it comes from."""
    return _active(rt)


JOB_LINK = {"getReevaluation": {"operationId": "getReevaluation",
                               "parameters": {"job_id": "$response.body#/reevaluation/id"}}}
JobId = Annotated[str, Path(max_length=64, description="The id PUT /v1/policy?reevaluate=true returned")]


@router.put("/v1/policy", response_model=PolicyOut, operation_id="putPolicy",
            responses={202: {"model": PolicyOut, "links": JOB_LINK,
                             "description": "?reevaluate=true: applied, and a re-evaluation job queued (Location)"},
                       422: {"model": schemas.Problem, "description": "Invalid thresholds; the message names the key"},
                       503: {"model": schemas.Problem,
                             "description": "?reevaluate=true: applied, but the job could not be queued (broker)"}})
def put_policy(principal: Admin, rt: Rt, body: PolicyIn, request: Request, response: Response,
               reevaluate: bool = False):
    """Validate a thresholds file and make it the active version (workers pick it up within
    MODQ_POLICY_REFRESH_SECONDS). Applying the active version again changes nothing.
    ``?reevaluate=true``: then re-decide unreviewed flagged items under it in the background, as
    ``modq policy apply --reevaluate`` does in the foreground (alerts only for items now rejected):
    202, with the job's status URL in ``Location`` and ``reevaluation.status_url``."""
    try:
        result = policy_store.apply(rt.settings.database_url, body.yaml, author=principal.name, note=body.note,
                                    source="thresholds")
    except ConfigError as exc:
        return problem(422, str(exc))
    job = None
    if reevaluate:
        try:
            job = _with_url(request, reevaluations.start(rt, result.version, principal.name))
        except reevaluations.NotQueued as exc:
            return problem(503, str(exc))
        response.status_code, response.headers["Location"] = 202, job["status_url"]
    return {**_active(rt), "changed": result.created, "reevaluation": job}


@router.get("/v1/policy/reevaluations/{job_id}", response_model=ReevaluationOut, operation_id="getReevaluation",
            responses={404: {"model": schemas.Problem, "description": "No such job"}})
def get_reevaluation(job_id: JobId, principal: Admin, rt: Rt, request: Request):
    """A re-evaluation job: its state (queued, running, done, failed), items done of total, counts, errors."""
    job = reevaluations.status(rt.settings.database_url, job_id)
    if job is None:
        raise NotFound(f"no re-evaluation job {job_id!r}")
    return _with_url(request, job)


def _with_url(request: Request, job: dict) -> dict:
    return {**job, "status_url": str(request.url_for("get_reevaluation", job_id=job["id"]))}
