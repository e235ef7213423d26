"""MODQ_VIDEO_* settings (README "Video"): Rekognition's stored-video jobs and the offline sampler."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

_VIDEO_SNS_ARN = re.compile(r"^arn:aws:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


class VideoSettings(BaseModel):
    # Countdowns stay under the broker's 3600 s visibility
    # timeout: a longer one would be redelivered while it waits.
    video_max_concurrent_jobs: int = Field(20, ge=1, le=1000, description="Rekognition jobs in flight, all workers")
    video_poll_initial_seconds: float = Field(5.0, gt=0, le=1800, description="first GetContentModeration countdown")
    video_poll_max_interval_seconds: float = Field(300.0, gt=0, le=1800, description="cap on the growing countdown")
    video_poll_deadline_seconds: float = Field(6 * 3600.0, gt=0, description="a job still running after this fails")
    video_start_retry_seconds: float = Field(30.0, gt=0, le=1800, description="wait when no job slot is free")
    video_completion_queue_url: str | None = Field(None, description="SQS queue subscribed to the completion topic")
    video_completion_interval_seconds: float = Field(10.0, gt=0, description="how often beat drains that queue")
    video_sns_topic_arn: str | None = Field(None, description="NotificationChannel topic (with video_role_arn)")
    video_role_arn: str | None = Field(None, description="role Rekognition assumes to publish to that topic")
    video_staging_bucket: str | None = Field(None, description="where local videos go for Rekognition")
    video_sample_fps: float = Field(1.0, gt=0, le=30, description="offline path: frames analysed per second")
    video_sampling: Literal["auto", "decode", "seek"] = "auto"
    video_max_seconds: float = Field(3600.0, gt=0, description="offline path: longest video accepted")
    video_max_bytes: int = Field(2 * 1024**3, ge=1, description="largest video file read or uploaded")

    @field_validator("video_sns_topic_arn")
    @classmethod
    def _check_video_topic(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _VIDEO_SNS_ARN.match(value):  # Rekognition's own pattern: aws partition only
            raise ValueError("not an SNS topic ARN Rekognition accepts "
                             "(arn:aws:sns:<region>:<12-digit account>:<name>)")
        return value

    @field_validator("video_role_arn")
    @classmethod
    def _check_role(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _ROLE_ARN.match(value):
            raise ValueError("not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)")
        return value

    @field_validator("video_completion_queue_url", "video_staging_bucket")
    @classmethod
    def _video_empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _check_video(self) -> "VideoSettings":
        if bool(self.video_sns_topic_arn) != bool(self.video_role_arn):
            raise ValueError("MODQ_VIDEO_SNS_TOPIC_ARN and MODQ_VIDEO_ROLE_ARN go together: set both or neither")
        if self.video_poll_initial_seconds > self.video_poll_max_interval_seconds:
            raise ValueError("MODQ_VIDEO_POLL_INITIAL_SECONDS is above MODQ_VIDEO_POLL_MAX_INTERVAL_SECONDS")
        return self

    @property
    def video_slot_lease_seconds(self) -> float:
        """How long a job slot survives without a poll renewing it (a crashed worker's slot frees itself)."""
        return max(600.0, 3 * self.video_poll_max_interval_seconds)
