"""MODQ_RETENTION_* settings: how often beat runs the retention purge (moderation/privacy/retention.py). How long
each tenant keeps its items' personal data is its policy's ``retention:`` section, not a setting."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RetentionSettings(BaseModel):
    retention_interval_seconds: float = Field(3600.0, ge=60, le=7 * 24 * 3600, description="how often beat "
                                              "purges the personal data past each tenant's retention")
    retention_batch_size: int = Field(500, ge=1, le=10000, description="items per purge transaction: each "
                                      "batch's rows are locked only while it runs")
