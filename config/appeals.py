"""MODQ_APPEAL_* settings: how long a decided item may be appealed (moderation/review/appeals.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AppealSettings(BaseModel):
    # The EU's Digital Services Act (art. 20) gives users at least six months to appeal a decision: 183 days.
    appeal_window_days: int = Field(183, ge=1, le=3660, description="days after its decision an item may be "
                                    "appealed (POST /v1/items/{id}/appeals); the DSA requires at least six months")
