"""Settings from ``MODQ_*`` environment variables, validated once at start-up.

AWS access deliberately has no settings here: boto3's standard chain
(AWS_REGION, AWS_PROFILE, credentials, AWS_ENDPOINT_URL_<SERVICE>) applies.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.appeals import AppealSettings
from config.http import HttpSettings
from config.retention import RetentionSettings
from config.s3_events import S3EventsSettings
from config.transparency import TransparencySettings
from config.validators import parse_rates
from config.video import VideoSettings
from config.webhooks import WebhookSettings

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_THRESHOLDS = PACKAGE_DIR / "thresholds.yaml"
_SNS_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")


class SettingsError(Exception):
    """MODQ_* variables that cannot be used; the message names each one. Entry points print it on one line."""


class Settings(RetentionSettings, AppealSettings, TransparencySettings, WebhookSettings, VideoSettings,
               S3EventsSettings, HttpSettings, BaseSettings):
    """Every MODQ_* variable. The video, S3-events and HTTP groups live in their own modules, each with its
    checks; a check across groups (visibility timeout against video polls) is where both are known."""

    model_config = SettingsConfigDict(env_prefix="MODQ_", extra="ignore", frozen=True)

    database_url: str = "sqlite:///var/modq.db"
    broker_url: str = "redis://127.0.0.1:6379/0"
    provider: Literal["local", "rekognition", "recorded"] = "local"
    # recorded: replay DetectModerationLabels answers from a file, calling nothing (moderation/providers/recorded.py)
    recorded_answers: Path | None = Field(None, description="MODQ_PROVIDER=recorded: the JSON file of answers "
                                          "it replays, by content sha256")
    thresholds: Path = DEFAULT_THRESHOLDS
    media_root: Path = Path("media")
    sns_topic_arn: str | None = None
    s3_buckets: str | None = Field(None, description="comma-separated allow-list; unset allows any bucket")

    max_attempts: int = Field(5, ge=1, le=50, description="task attempts before an item is failed")
    retry_backoff_max: int = Field(600, ge=1, description="cap on the retry countdown, seconds")
    aws_max_attempts: int = Field(3, ge=1, le=20, description="botocore standard-mode attempts per call")
    aws_timeout_seconds: float = Field(10.0, gt=0)
    max_image_bytes: int = Field(15 * 1024 * 1024, ge=1)
    # Decode budget (README "What modq guarantees"): checked from the header before any pixel is decoded.
    # At least 1 MiB: a smaller value is a unit slip ("256" meant as MiB) that would refuse every image.
    max_decode_bytes: int = Field(256 * 1024**2, ge=1024**2, description="largest image or video frame a worker "
                                  "decodes: width x height x bands x bytes per sample, in bytes")
    local_threads: int = Field(1, ge=1, le=64, description="onnxruntime threads per worker process")
    worker_concurrency: int = Field(2, ge=1)
    worker_pool: Literal["prefork", "threads", "solo", "gevent"] = "prefork"
    # A prefork pool process whose RSS is above this after a task is replaced by a fresh one (Celery's
    # worker_max_memory_per_child): a large image's buffers are not always given back to the OS. Normal
    # items peak near 250 MiB with the offline model loaded (../shared/LOCAL_MODEL.md). 0: never.
    worker_max_memory_per_child_mb: int = Field(512, ge=0, le=1024 * 1024, description="replace a pool process "
                                                "whose resident memory exceeds this after a task; 0: never")
    outbox_interval_seconds: float = Field(30.0, gt=0)
    policy_refresh_seconds: float = Field(10.0, ge=0, le=3600, description="workers re-read the active policy version this often")

    # Fault tolerance (README "What modq guarantees")
    redis_url: str | None = Field(None, description="shared state (rate limits, circuit, leases); unset: the broker's")
    broker_key_prefix: str = Field("", max_length=64, pattern=r"^[A-Za-z0-9_.:-]*$",
                                   description="namespace for modq's keys when deployments share one Redis")
    broker_visibility_timeout: int = Field(3600, ge=2, description="unacked task redelivered after this many seconds")
    rekognition_tps: float = Field(50.0, gt=0, le=10000, description="set to your account's quota, per operation")
    rekognition_operation_tps: str | None = Field(None, description="Operation=tps,... overriding rekognition_tps")
    rekognition_burst: float = Field(1.0, ge=1, le=10000, description="calls allowed at once after an idle spell")
    rate_limit_max_wait_seconds: float = Field(10.0, ge=0, le=600, description="longer waits re-send the task")
    circuit_failures: int = Field(5, ge=1, le=10000, description="server errors in the window that open the circuit")
    circuit_failure_ratio: float = Field(0.5, gt=0, le=1, description="... and their minimum share of the answers")
    circuit_window_seconds: float = Field(30.0, gt=0, le=3600)
    circuit_open_seconds: float = Field(30.0, gt=0, le=3600, description="cool-down before one probe call")
    processing_lease_seconds: float = Field(120.0, gt=0, le=3600, description="a duplicate delivery waits this long")
    reaper_stuck_after_seconds: float = Field(900.0, gt=0, description="re-send items with no progress for this long")
    reaper_interval_seconds: float = Field(60.0, gt=0, description="how often beat runs the reaper")

    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"

    # Metrics and cost estimate (README "Observability")
    metrics_port: int | None = Field(None, ge=0, le=65535, description="worker: serve Prometheus /metrics here (0: any free port)")
    # The exporter has no authentication: loopback unless the operator opens it (e.g. a container
    # scraped over its private network sets 0.0.0.0).
    metrics_host: str = Field("127.0.0.1", description="worker: IP address the metrics exporter binds "
                              "(0.0.0.0 or :: for every interface)")

    @field_validator("metrics_host")
    @classmethod
    def _check_metrics_host(cls, value: str) -> str:
        # An address literal, not a name: what the exporter listens on should not depend on DNS at start-up.
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError("not an IP address to bind: 127.0.0.1 (this machine only) "
                             "or 0.0.0.0 (every interface)") from None
        return value
    price_per_image: float = Field(0.001, ge=0, description="USD per DetectModerationLabels call, for modq_estimated_cost_usd_total")
    price_per_video_minute: float = Field(0.10, ge=0, description="USD per minute of stored video analysed")

    # Multi-frame images (README "What modq guarantees"; docs/animations.md): every distinct frame of an
    # animated GIF/PNG/WebP or page of a TIFF is analysed, each one provider call. The two limits are read
    # from the header, so a file over them fails before any frame is decoded or paid for.
    animation_max_frames: int = Field(16, ge=2, le=1000, description="distinct frames analysed per file, chosen "
                                      "by display time (at least 2: the first and the longest-shown)")
    animation_max_frame_count: int = Field(1000, ge=2, le=100_000, description="frames (or pages) a file may have")
    animation_max_total_pixels: int = Field(250_000_000, ge=1_000_000, description="pixels over all of a file's "
                                            "frames (frames x width x height): what decoding them all costs")

    @model_validator(mode="after")
    def _check_recorded(self) -> "Settings":
        if self.provider == "recorded" and self.recorded_answers is None:
            raise ValueError("MODQ_PROVIDER=recorded needs MODQ_RECORDED_ANSWERS: the JSON file of answers it replays")
        if self.provider == "recorded" and not self.recorded_answers.is_file():
            raise ValueError(f"MODQ_RECORDED_ANSWERS: no such file: {self.recorded_answers}")
        return self

    @model_validator(mode="after")
    def _check_animation(self) -> "Settings":
        if self.animation_max_frames > self.animation_max_frame_count:
            raise ValueError("MODQ_ANIMATION_MAX_FRAMES must not be greater than MODQ_ANIMATION_MAX_FRAME_COUNT")
        return self

    # Paying once (README "Paying once"): decide from what is already known before calling a provider
    dedupe: bool = Field(True, description="reuse an earlier analysis of identical content by the same model")
    bank_reviewer_rejections: bool = Field(False, description="a reviewer's rejection adds the content to the bank")
    bank_pdq_distance: int = Field(0, ge=0, le=128, description="near-duplicate bank matches: PDQ Hamming "
                                   "distance in bits (0: exact content only; PDQ's authors suggest 31)")

    @field_validator("bank_pdq_distance")
    @classmethod
    def _check_pdq_installed(cls, value: int) -> int:
        if value and importlib.util.find_spec("pdqhash") is None:
            raise ValueError("near-duplicate matching needs the pdqhash package: pip install 'modq[pdq]'")
        return value

    @field_validator("sns_topic_arn")
    @classmethod
    def _check_arn(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _SNS_ARN.match(value):
            raise ValueError("not an SNS topic ARN (arn:aws:sns:<region>:<12-digit account>:<name>)")
        return value

    @field_validator("rekognition_operation_tps")
    @classmethod
    def _check_operation_tps(cls, value: str | None) -> str | None:
        parse_rates(value)  # ValueError names the bad entry
        return value or None

    @model_validator(mode="after")
    def _check_reliability(self) -> "Settings":
        # A countdown longer than the visibility timeout is redelivered while it waits
        # (a duplicate); a reaper deadline shorter than a countdown re-sends items that
        # are only waiting for their retry.
        if self.broker_visibility_timeout <= self.retry_backoff_max:
            raise ValueError("MODQ_BROKER_VISIBILITY_TIMEOUT must be greater than MODQ_RETRY_BACKOFF_MAX")
        if self.reaper_stuck_after_seconds <= self.retry_backoff_max:
            raise ValueError("MODQ_REAPER_STUCK_AFTER_SECONDS must be greater than MODQ_RETRY_BACKOFF_MAX")
        # A poll countdown past the visibility timeout is redelivered while it waits; one past the
        # reaper's deadline makes every healthy long job look stuck.
        if self.video_poll_max_interval_seconds >= min(self.broker_visibility_timeout, self.reaper_stuck_after_seconds):
            raise ValueError("MODQ_VIDEO_POLL_MAX_INTERVAL_SECONDS must be below MODQ_BROKER_VISIBILITY_TIMEOUT "
                             "and MODQ_REAPER_STUCK_AFTER_SECONDS")
        return self

    @model_validator(mode="after")
    def _check_s3_events_buckets_allowed(self) -> "Settings":
        buckets = set(self.csv_entries(self.s3_events_buckets))
        outside = sorted(buckets - (self.s3_bucket_allowlist or buckets))
        if outside:  # submit would refuse every object of these buckets
            raise ValueError(f"MODQ_S3_EVENTS_BUCKETS names buckets missing from MODQ_S3_BUCKETS: {', '.join(outside)}")
        return self

    @property
    def s3_events_bucket_allowlist(self) -> frozenset[str] | None:
        """Buckets whose events are taken; None: any (submit still applies MODQ_S3_BUCKETS)."""
        return frozenset(self.csv_entries(self.s3_events_buckets)) or self.s3_bucket_allowlist

    @field_validator("worker_max_memory_per_child_mb")
    @classmethod
    def _check_memory_per_child(cls, value: int) -> int:
        # A pool process with the offline model loaded starts near 110 MiB: a smaller limit (KiB meant
        # as MiB?) would replace it after every task, reloading the model each time.
        if 0 < value < 128:
            raise ValueError(f"{value} MiB is below what a pool process needs to start (about 110 MiB); "
                             f"use at least 128, or 0 to never replace a process")
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
    """Settings from the environment, or a ``SettingsError`` naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            if not err["loc"]:  # a rule across several variables names them in its message
                problems.append(err["msg"])
                continue
            problems.append(f"MODQ_{str(err['loc'][0]).upper()}: {err['msg']}")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()``)."""
    return load_settings()
