"""MODQ_DSA_* settings: sending statements of reasons to the EU DSA Transparency Database (README "Transparency
(EU DSA)"; moderation/transparency/submission.py). Unset URL: statements are kept and exported, not sent."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

_LOCAL = {"localhost", "127.0.0.1", "::1"}


class TransparencySettings(BaseModel):
    dsa_tdb_url: str | None = Field(None, description="the Transparency Database API's base URL, e.g. "
                                    "https://transparency.dsa.ec.europa.eu (unset: statements are not sent)")
    dsa_tdb_token: SecretStr | None = Field(None, description="the platform's API token (Authorization: Bearer)")
    dsa_tdb_batch_size: int = Field(100, ge=1, le=100, description="statements per POST /api/v1/statements "
                                    "(the API takes at most 100)")
    dsa_tdb_requests_per_second: float = Field(5.0, gt=0, le=200, description="requests to the database per "
                                               "second, every worker together (the API allows 200)")
    dsa_tdb_timeout_seconds: float = Field(30.0, gt=0, le=300, description="connect and read timeout of a request")
    dsa_tdb_interval_seconds: float = Field(60.0, gt=0, le=3600, description="how often beat sends the "
                                            "statements that are due")
    dsa_tdb_retry_max_seconds: float = Field(3600.0, gt=0, le=24 * 3600, description="longest wait before a "
                                             "statement whose batch failed is tried again")

    @field_validator("dsa_tdb_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.query:
            raise ValueError("must be an https URL with a host and no credentials or query")
        if parts.scheme == "http" and parts.hostname not in _LOCAL:  # a token must not cross a network in clear
            raise ValueError("must be https (plain http only for localhost)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _token_with_url(self) -> "TransparencySettings":
        if self.dsa_tdb_url and not (self.dsa_tdb_token and self.dsa_tdb_token.get_secret_value().strip()):
            raise ValueError("MODQ_DSA_TDB_TOKEN is required when MODQ_DSA_TDB_URL is set")
        return self
