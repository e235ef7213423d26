"""Settings from ``MODQ_*`` environment variables, validated once at start-up.

AWS access deliberately has no settings here: boto3's standard chain
(AWS_REGION, AWS_PROFILE, credentials, AWS_ENDPOINT_URL_<SERVICE>) applies.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from moderation.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_THRESHOLDS = PACKAGE_DIR / "thresholds.yaml"
_SNS_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MODQ_", extra="ignore", frozen=True)

    database_url: str = "sqlite:///var/modq.db"
    broker_url: str = "redis://127.0.0.1:6379/0"
    provider: Literal["local", "rekognition"] = "local"
    thresholds: Path = DEFAULT_THRESHOLDS
    media_root: Path = Path("media")
    sns_topic_arn: str | None = None
    s3_buckets: str | None = Field(None, description="comma-separated allow-list; unset allows any bucket")

    max_attempts: int = Field(5, ge=1, le=50, description="task attempts before an item is failed")
    retry_backoff_max: int = Field(600, ge=1, description="cap on the retry countdown, seconds")
    aws_max_attempts: int = Field(3, ge=1, le=20, description="botocore standard-mode attempts per call")
    aws_timeout_seconds: float = Field(10.0, gt=0)
    max_image_bytes: int = Field(15 * 1024 * 1024, ge=1)
    local_threads: int = Field(1, ge=1, le=64, description="onnxruntime threads per worker process")
    worker_concurrency: int = Field(2, ge=1)
    worker_pool: Literal["prefork", "threads", "solo", "gevent"] = "prefork"
    outbox_interval_seconds: float = Field(30.0, gt=0)
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"

    @field_validator("sns_topic_arn")
    @classmethod
    def _check_arn(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _SNS_ARN.match(value):
            raise ValueError("not an SNS topic ARN (arn:aws:sns:<region>:<12-digit account>:<name>)")
        return value

    @field_validator("thresholds")
    @classmethod
    def _check_thresholds(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @property
    def s3_bucket_allowlist(self) -> frozenset[str] | None:
        if not self.s3_buckets:
            return None
        return frozenset(b.strip() for b in self.s3_buckets.split(",") if b.strip())

    @property
    def sns_is_fifo(self) -> bool:
        return bool(self.sns_topic_arn and self.sns_topic_arn.endswith(".fifo"))


def load_settings(**overrides) -> Settings:
    """Settings from the environment, or a ``ConfigError`` naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            problems.append(f"MODQ_{field.upper()}: {err['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()``)."""
    return load_settings()
