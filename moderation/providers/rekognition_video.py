"""Amazon Rekognition stored-video moderation: StartContentModeration / GetContentModeration.

Facts relied on (../shared/REKOGNITION.md §2): S3 input only; the same
``ClientRequestToken`` returns the same JobId; at most 20 jobs in progress per
account, past which Start answers ``LimitExceededException``; botocore has no
paginator for Get, so pages are read here with ``NextToken``. Limits botocore
does not check (MinConfidence <= 100, token and tag patterns) are checked
before the call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from moderation.infra import aws
from moderation.domain.errors import BadInput, Deferred, DeploymentFault, TransientFault
from moderation.infra.media.imaging import S3Object
from moderation.providers.rekognition import RekognitionClient, classify

MAX_RESULTS = 1000  # the most Get returns per page
MAX_PAGES = 10_000  # ten million detections: a token that never ends is a bug, not a video
_TOKEN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_JOB_TAG = re.compile(r"^[a-zA-Z0-9_.\-:+=/]{1,1024}$")
_STATUSES = ("IN_PROGRESS", "SUCCEEDED", "FAILED")

BAD_INPUT = {
    "VideoTooLargeException": "video is over Rekognition's limits (10 GB, 6 hours)",
    "InvalidS3ObjectException": "Rekognition cannot read the S3 video (missing key, other region, or no read access)",
    "IdempotentParameterMismatchException": "the job was started before with other parameters (policy or "
                                            "notification settings changed meanwhile); re-drive the item",
}
DEPLOYMENT = {
    "AccessDeniedException": "IAM denied rekognition:StartContentModeration/GetContentModeration (Rekognition "
                             "also needs s3:GetObject on the video, and iam:PassRole on MODQ_VIDEO_ROLE_ARN for "
                             "notifications)",
}


class JobLimitExceeded(Deferred):
    """Too many jobs in progress in the account: not a failure, start again later."""


@dataclass(frozen=True)
class JobResult:
    status: str  # IN_PROGRESS | SUCCEEDED | FAILED
    status_message: str = ""
    detections: list[dict[str, Any]] = field(default_factory=list)  # every page's ModerationLabels, in order
    video_metadata: dict[str, Any] = field(default_factory=dict)
    model_version: str = "unknown"
    pages: int = 0


class RekognitionVideo(RekognitionClient):
    def start(self, video: S3Object, min_confidence: float, token: str, job_tag: str,
              notification: tuple[str, str] | None = None) -> str:
        """Start (or find again, by ``token``) the job for ``video``; return its JobId."""
        if not 0 <= min_confidence <= 100:
            raise BadInput(f"MinConfidence {min_confidence} is outside 0-100")
        if not _TOKEN.match(token):
            raise ValueError(f"ClientRequestToken {token!r} must be 1-64 characters of [a-zA-Z0-9-_]")
        if not _JOB_TAG.match(job_tag):
            raise ValueError(f"JobTag {job_tag!r} has characters Rekognition refuses")
        obj = {"Bucket": video.bucket, "Name": video.key, **({"Version": video.version} if video.version else {})}
        params: dict[str, Any] = {"Video": {"S3Object": obj}, "MinConfidence": min_confidence,
                                  "ClientRequestToken": token, "JobTag": job_tag}
        if notification:
            params["NotificationChannel"] = {"SNSTopicArn": notification[0], "RoleArn": notification[1]}
        try:
            return self.client.start_content_moderation(**params)["JobId"]
        except ClientError as exc:
            if aws.error_code(exc) == "LimitExceededException":
                raise JobLimitExceeded(f"Rekognition: too many video jobs in progress ({_message(exc)})") from None
            raise _classify(exc, "StartContentModeration") from None
        except BotoCoreError as exc:  # no answer: credentials, region, or connection errors
            raise aws.botocore_fault(exc, "Rekognition", self._client) from None

    def results(self, job_id: str) -> JobResult:
        """The job's status; once SUCCEEDED, every page of its detections (by timestamp)."""
        first = self._get(job_id)
        status = first.get("JobStatus")
        if status not in _STATUSES:
            raise TransientFault(f"Rekognition returned JobStatus {status!r} for job {job_id}")
        if status != "SUCCEEDED":
            return JobResult(status, first.get("StatusMessage") or "")
        try:
            pages = self._all_pages(job_id, first)
        except _PaginationExpired:
            # The token lives 24 h; after that (or any invalid token) reading again
            # from the first page is the only way on. Once: twice means a bug.
            try:
                pages = self._all_pages(job_id, self._get(job_id))
            except _PaginationExpired as exc:
                raise TransientFault(f"GetContentModeration kept refusing its own NextToken for job {job_id}: {exc}")
        last = pages[-1]
        detections = [d for page in pages for d in page.get("ModerationLabels", [])]
        return JobResult("SUCCEEDED", "", detections, dict(last.get("VideoMetadata") or {}),
                         last.get("ModerationModelVersion") or "unknown", len(pages))

    def _all_pages(self, job_id: str, first: dict[str, Any]) -> list[dict[str, Any]]:
        pages = [first]
        while pages[-1].get("NextToken"):
            if len(pages) >= MAX_PAGES:
                raise TransientFault(f"GetContentModeration for job {job_id}: more than {MAX_PAGES} pages")
            pages.append(self._get(job_id, pages[-1]["NextToken"]))
        return pages

    def _get(self, job_id: str, next_token: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"JobId": job_id, "MaxResults": MAX_RESULTS, "SortBy": "TIMESTAMP"}
        if next_token:
            params["NextToken"] = next_token
        try:
            return self.client.get_content_moderation(**params)
        except ClientError as exc:
            code = aws.error_code(exc)
            if code == "InvalidPaginationTokenException":
                raise _PaginationExpired(_message(exc)) from None
            if code == "ResourceNotFoundException":
                raise BadInput(f"Rekognition has no job {job_id} (results expire after some days, or the job "
                               f"belongs to another account or region)") from None
            raise _classify(exc, "GetContentModeration") from None
        except BotoCoreError as exc:  # no answer: credentials, region, or connection errors
            raise aws.botocore_fault(exc, "Rekognition", self._client) from None


class _PaginationExpired(Exception):
    pass


def _classify(exc: ClientError, operation: str) -> Exception:
    code = aws.error_code(exc)
    detail = f"{operation} {code}" + (f": {_message(exc)}" if _message(exc) else "")
    if code in BAD_INPUT:
        return BadInput(f"{BAD_INPUT[code]} ({detail})")
    if code in DEPLOYMENT:
        return DeploymentFault(f"{DEPLOYMENT[code]} ({detail})")
    return classify(exc, operation)


def _message(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Message", "")
