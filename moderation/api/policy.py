"""Policy API: read and apply the active threshold policy (role: admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from moderation.domain import policy
from moderation.policy import versions as policy_store
from moderation.api import schemas
from moderation.api.auth import allow, runtime
from moderation.api.errors import problem
from moderation.domain.errors import ConfigError
from moderation.bootstrap import Runtime
from moderation.review.models import ADMIN
from moderation.review.tokens import Principal

router = APIRouter(tags=["policy"])
Admin = Annotated[Principal, Depends(allow(ADMIN))]
Rt = Annotated[Runtime, Depends(runtime)]


class PolicyIn(BaseModel):
    yaml: str = Field(..., max_length=60_000, description="The thresholds file's text")
    note: str = Field("", max_length=2000, pattern=r"^[^\x00]*$", description="Why; shown in history")


class PolicyOut(BaseModel):
    version: str
    source: str = Field(description="'database' (an applied version) or 'file' (MODQ_THRESHOLDS)")
    activated_at: datetime | None = None
    author: str | None = None
    note: str | None = None
    yaml: str
    policy: dict[str, Any]
    changed: bool | None = Field(None, description="PUT only: false when it was already the active version")
    reevaluated: dict[str, Any] | None = Field(
        None, description="PUT ?reevaluate=true only: examined, unchanged, approved, rejected, claimed, alerts")


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


@router.put("/v1/policy", response_model=PolicyOut, operation_id="putPolicy",
            responses={422: {"model": schemas.Problem, "description": "Invalid thresholds; the message names the key"}})
def put_policy(principal: Admin, rt: Rt, body: PolicyIn, reevaluate: bool = False):
    """Validate a thresholds file and make it the active version (workers pick it up within
    MODQ_POLICY_REFRESH_SECONDS). Applying the active version again changes nothing.
    ``?reevaluate=true``: then re-decide unreviewed flagged items under it, as
    ``modq policy apply --reevaluate`` does (alerts only for items now rejected)."""
    try:
        result = policy_store.apply(rt.settings.database_url, body.yaml, author=principal.name, note=body.note,
                                    source="thresholds")
    except ConfigError as exc:
        return problem(422, str(exc))
    done = None
    if reevaluate:
        from moderation.policy.reevaluate import reevaluate as run

        done = run(rt, result.policy, principal.name).to_dict()
    return {**_active(rt), "changed": result.created, "reevaluated": done}
