"""Notices (Art. 16 DSA; issue 18.4): a platform files its users' and trusted flaggers' notices on an item."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from moderation.api import schemas
from moderation.api.auth import Ingestor, app_runtime
from moderation.api.tenancy import TenantParam, write_tenant
from moderation.bootstrap import Runtime
from moderation.transparency import notice_filing
from moderation.transparency.notice_input import EMAIL_MAX, EXPLANATION_MAX, NoticeIn

router = APIRouter(tags=["transparency"])
Rt = Annotated[Runtime, Depends(app_runtime)]


class NoticeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"external_id": "post-123", "explanation": "This image shows a swastika flag at a rally.",
         "notifier_name": "A. User", "notifier_email": "a.user@example.org", "good_faith": True}]})

    external_id: schemas.Text | None = Field(None, min_length=1, max_length=255,
                                             description="The item, by your id (or give media_uri)")
    media_uri: schemas.Text | None = Field(None, min_length=1, max_length=2048, description=(
        "The media, when modq has no item of it yet: submitted as POST /v1/items would (with external_id, if "
        "given; a known external_id is that item)"))
    media_type: schemas.MediaType | None = None
    explanation: schemas.Text = Field(min_length=1, max_length=EXPLANATION_MAX, description=(
        "Why the notifier holds the content illegal or against your terms, in their words"))
    notifier_name: schemas.Text | None = Field(None, max_length=255, description=(
        "Required unless csam is true; for a trusted flagger, its name as the thresholds file lists it"))
    notifier_email: schemas.Text | None = Field(None, max_length=EMAIL_MAX, description="Required unless csam is true")
    good_faith: StrictBool = Field(description="The notifier's confirmation that the notice is accurate and "
                                               "complete to the best of their knowledge: must be true")
    trusted_flagger: StrictBool = Field(False, description=(
        "The notifier is one of the tenant's trusted flaggers (transparency.trusted_flaggers): reviewed first"))
    csam: StrictBool = Field(False, description="The notice concerns child sexual abuse material: name and e-mail "
                                                "are not required")


class NoticeFiled(BaseModel):
    id: str
    item_id: str
    state: str = Field(description="open; or answered: a person had decided the item already, and that decision "
                                   "answers it (the notice.decided event follows)")
    grouped_with: int = Field(description="The item's open notices, this one included: one review answers them all")
    item_status: str


@router.post("/v1/notices", status_code=201, response_model=NoticeFiled, operation_id="fileNotice",
             responses={404: {"model": schemas.Problem, "description": "No item with that external_id"},
                        422: {"model": schemas.Problem, "description": "Refused: the message says why"}})
def file_notice(body: NoticeBody, principal: Ingestor, rt: Rt, tenant: TenantParam = None):
    """File a notice (Art. 16 DSA) on an item (roles: ingest, admin).

    The notice puts the item in front of a reviewer: an item approved automatically goes back to the review
    queue (`GET /v1/review/queue?source=notice`), a trusted flagger's notice first. Several notices on one item
    are grouped and answered together by one decision, each with a `notice.decided` event (webhook and SNS):
    the decision and whether automated means were used. An `external_id` the tenant has no item of is 404
    (another tenant's item too); anything refused (422) stores nothing.
    """
    notice = NoticeIn(**body.model_dump())
    filed = notice_filing.file(rt, notice, tenant_id=write_tenant(rt, principal, tenant), actor=principal.actor)
    return NoticeFiled(id=filed.notice_id, item_id=filed.item_id, state=filed.state,
                       grouped_with=filed.grouped_with, item_status=filed.item_status)
