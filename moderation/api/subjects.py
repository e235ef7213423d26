"""A subject's history: GET /v1/subjects/{subject_id} (roles: reviewer, admin).

A subject is an uploader's account on one platform, so the answer is for one tenant: the token's, or the
one ``?tenant=NAME`` names. A subject with no item in that tenant, whether it has items elsewhere or not,
is 404: a token never learns what another tenant's users uploaded.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import AfterValidator, BaseModel, Field

from moderation.api import schemas
from moderation.api.auth import Reviewer
from moderation.api.items import Rt
from moderation.api.tenancy import TenantParam, write_tenant
from moderation.items import subjects
from moderation.review.services import NotFound
from moderation.tenants import services as tenants

router = APIRouter(prefix="/v1/subjects", tags=["subjects"])


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must not contain control characters")
    return value


SubjectId = Annotated[str, Path(min_length=1, max_length=255, description="The subject_id items were submitted "
                                "with"), AfterValidator(schemas.storable), AfterValidator(_printable)]


class SubjectItem(BaseModel):
    id: str
    verdict: str
    decided_at: str | None
    external_id: str | None
    media_type: str


class SubjectFlag(BaseModel):
    rule: str = Field(description="The rule crossed, e.g. rejected>=3 within 7d")
    count: int = Field(description="Rejected items in the window when it crossed")
    crossed_at: str | None


class SubjectOut(BaseModel):
    subject_id: str
    tenant: str
    items: int = Field(description="Items submitted with this subject_id")
    counts: dict[str, int] = Field(description="By verdict (approved, flagged, rejected), failed, and pending "
                                               "(not decided yet)")
    first_submitted_at: str | None
    last_submitted_at: str | None
    latest: list[SubjectItem] = Field(description=f"The latest decided items, newest first (at most "
                                                  f"{subjects.LATEST})")
    flag: SubjectFlag | None = Field(description="The open subject flag (the tenant's `subjects:` rule crossed "
                                                 "and not fallen back under since), if any")


@router.get("/{subject_id}", response_model=SubjectOut, operation_id="getSubject",
            responses={404: {"model": schemas.Problem}})
def get_subject(subject_id: SubjectId, principal: Reviewer, rt: Rt, tenant: TenantParam = None):
    """What one uploader has submitted: counts by verdict, the first and last submission, the latest decided
    items and the open flag (roles: reviewer, admin). For one tenant: the token's, or (a token for several
    tenants) the one `?tenant=NAME` names. A subject with no item there is 404."""
    tenant_id = write_tenant(rt, principal, tenant)
    view = subjects.history(rt.settings.database_url, subject_id, tenant_id=tenant_id)
    if view is None:
        raise NotFound(f"no items with subject_id {subject_id!r}")
    return {**view, "tenant": tenant or _name(rt, tenant_id)}


def _name(rt: Rt, tenant_id: int) -> str:
    return tenants.names(rt.settings.database_url).get(tenant_id, str(tenant_id))
