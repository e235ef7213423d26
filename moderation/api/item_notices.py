"""An item's notices (Art. 16 DSA) in the item detail the API answers (claim, verdict, GET /v1/items/{id}),
so that the person deciding a reported item knows why it was reported. Never the notifier's name or e-mail.

The detail is review's read model, which cannot read notices (transparency sits above review): it is
composed here, in the adapter, from ``transparency.notice_views``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from moderation.api import schemas
from moderation.domain.tenancy import Scope
from moderation.transparency.notice_views import notices_of


class NoticeOut(BaseModel):
    id: str
    explanation: str = Field(description="Why the notifier holds the content illegal or against the terms")
    trusted_flagger: bool
    csam: bool = Field(description="The notice concerns child sexual abuse material")
    received_at: str
    state: Literal["open", "answered"] = Field(description="answered: a decision on the item answered it")
    outcome: str | None = Field(description="The verdict that answered it")


class ItemWithNotices(schemas.ItemDetail):
    notices: list[NoticeOut] = Field([], description=(
        "The item's notices (POST /v1/notices), oldest first: what was reported and whether a trusted flagger "
        "sent it; never the notifier's name or e-mail"))


class ClaimedWithNotices(schemas.Claimed):
    item: ItemWithNotices


def with_notices(database_url: str, view: dict[str, Any] | None, scope: Scope) -> dict[str, Any] | None:
    """``view`` (an item detail, or None for a missing item) with the item's notices added."""
    if view is None:
        return None
    return {**view, "notices": notices_of(database_url, view["id"], scope=scope)}
