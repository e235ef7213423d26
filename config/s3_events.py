"""MODQ_S3_EVENTS_* settings (README "Ingest from S3 uploads"; docs/s3-events.md)."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator, model_validator

from config.validators import valid_bucket_name


class S3EventsSettings(BaseModel):
    # S3 upload events (README "Ingest from S3 uploads"; docs/s3-events.md)
    s3_events_queue_url: str | None = Field(None, description="SQS queue receiving the buckets' ObjectCreated events")
    s3_events_buckets: str | None = Field(None, description="comma-separated buckets taken from events; "
                                                            "unset: MODQ_S3_BUCKETS, or any bucket")
    s3_events_prefixes: str | None = Field(None, description="comma-separated key prefixes; unset: any key")
    s3_events_suffixes: str | None = Field(None, description="comma-separated key suffixes, any case (.jpg,.mp4)")
    s3_events_max_object_bytes: int | None = Field(None, ge=1, description="larger objects are skipped, not failed")
    s3_events_interval_seconds: float = Field(10.0, gt=0, le=3600, description="how often beat drains the queue")
    s3_events_wait_seconds: int = Field(1, ge=0, le=20, description="SQS long-poll wait of each receive")
    s3_events_max_messages: int = Field(500, ge=1, le=100_000, description="messages one drain reads at most")
    # A tenant's name (moderation.domain.tenancy.check_name's form); that it exists is checked when ingest starts
    s3_events_tenant: str = Field("default", pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$",
                                  description="the tenant the uploads' items belong to (`modq tenants list`)")

    @field_validator("s3_events_queue_url", "s3_events_buckets", "s3_events_prefixes", "s3_events_suffixes")
    @classmethod
    def _s3_events_empty_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("s3_events_queue_url")
    @classmethod
    def _check_s3_events_queue(cls, value: str | None) -> str | None:
        # The usual slip is the queue's ARN or name: ReceiveMessage needs its URL.
        if value is not None and not re.match(r"^https?://[^/\s]+/\d{12}/[A-Za-z0-9_-]{1,80}(\.fifo)?$", value):
            raise ValueError("not an SQS queue URL (https://sqs.<region>.amazonaws.com/<12-digit account>/<queue>)")
        return value

    @model_validator(mode="after")
    def _check_s3_events(self) -> "S3EventsSettings":
        buckets = self.csv_entries(self.s3_events_buckets)
        bad = [b for b in buckets if not valid_bucket_name(b)]
        if bad:
            raise ValueError(f"MODQ_S3_EVENTS_BUCKETS: {bad[0]!r} is not an S3 bucket name")
        return self

    @property
    def s3_events_prefix_list(self) -> tuple[str, ...]:
        return tuple(self.csv_entries(self.s3_events_prefixes))

    @property
    def s3_events_suffix_list(self) -> tuple[str, ...]:
        return tuple(s.lower() for s in self.csv_entries(self.s3_events_suffixes))

    @staticmethod
    def csv_entries(value: str | None) -> list[str]:
        """A comma-separated setting as its non-empty, stripped entries."""
        return [part.strip() for part in (value or "").split(",") if part.strip()]
