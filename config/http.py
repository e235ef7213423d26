"""MODQ_API_* and MODQ_REVIEW_* settings: the HTTP API and review console (`modq api`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator


class HttpSettings(BaseModel):
    # HTTP API and review console (`modq api`)
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    api_workers: int = Field(1, ge=1, le=64)
    api_max_body_bytes: int = Field(64 * 1024, ge=1024, le=16 * 1024 * 1024)
    api_max_batch_body_bytes: int = Field(1024 * 1024, ge=1024, le=64 * 1024 * 1024, description="request body "
                                          "limit of POST /v1/items/batch (up to 500 items)")
    # Slow clients (README "What modq guarantees"; moderation/api/server.py): a connection that does not
    # deliver a whole request in time is closed; past the bound, requests are answered 503 at once.
    api_read_timeout_seconds: float = Field(10.0, gt=0, le=300, description="time a connection has to send a "
                                            "whole request (head and body), from opening or from its last response")
    api_max_connections: int = Field(1000, ge=1, le=100_000, description="open connections per API process; "
                                     "requests past them are answered 503 at once")
    api_forwarded_allow_ips: str = Field("127.0.0.1", description="proxies trusted for X-Forwarded-Proto/For")
    api_cookie_secure: Literal["auto", "true", "false"] = Field(
        "auto", description="Secure flag on the console cookie; auto: when the request came over https")
    api_session_hours: float = Field(12.0, gt=0, le=24 * 30, description="console sign-in lifetime")
    api_media_url_seconds: int = Field(300, ge=10, le=3600, description="lifetime of presigned S3 media URLs")
    review_lease_seconds: int = Field(300, ge=10, le=24 * 3600, description="how long a claim holds an item")
    review_max_lease_seconds: int = Field(3600, ge=10, le=24 * 3600,
                                          description="longest lease a claim may ask for (lease_seconds)")
    # Undo (issue 17.2): a review's alerts and webhooks wait this long, so an undo within it leaves no trace
    # outside modq; 0 turns undo off and sends at once.
    review_undo_seconds: int = Field(10, ge=0, le=300, description="how long a recorded review can be undone "
                                     "by its reviewer; its alerts wait until then")

    @model_validator(mode="after")
    def _check_review_lease(self) -> "HttpSettings":
        # The default lease is itself a claim's lease: it must be one a claim may ask for.
        if self.review_lease_seconds > self.review_max_lease_seconds:
            raise ValueError("MODQ_REVIEW_LEASE_SECONDS must not be greater than MODQ_REVIEW_MAX_LEASE_SECONDS")
        return self
