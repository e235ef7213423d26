"""Stored-video moderation jobs for the fake Rekognition (StartContentModeration / GetContentModeration).

A job is IN_PROGRESS until BOTH of its rules are met: it has answered
``job_polls_in_progress`` GetContentModeration calls with IN_PROGRESS (it
finishes as the Nth such answer is sent, so the next Get sees the result), and
``job_duration_s`` seconds (by ``clock``) have passed since it started. With
the defaults (0, 0) it is finished when StartContentModeration returns. It then
turns FAILED (``StatusMessage`` = the object's ``fail_job``) or SUCCEEDED, and
``on_job_complete(job)`` runs once, outside the lock. The HTTP server calls
``tick()`` every few milliseconds so time-based jobs finish (and notify)
without being polled.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import uuid
from typing import Any, Callable

from tests.fakes.rekognition_state import MODEL_VERSION, FakeError, RekognitionState, invalid, min_confidence, norm_label

_TOKEN_RE = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_JOB_TAG_RE = re.compile(r"^[a-zA-Z0-9_.\-:+=/]{1,1024}$")
_SNS_ARN_RE = re.compile(r"^arn:aws:sns:.*:\w{12}:.+$")
_SORT_BY = ("TIMESTAMP", "NAME")
_AGGREGATE_BY = ("TIMESTAMPS", "SEGMENTS")
_SEGMENT_KEYS = ("StartTimestampMillis", "EndTimestampMillis", "DurationMillis")
VIDEO_METADATA = {
    "Codec": "h264", "Format": "QuickTime / MOV", "FrameRate": 29.97,
    "FrameHeight": 720, "FrameWidth": 1280, "ColorRange": "LIMITED",
}


def norm_detection(d: dict[str, Any]) -> dict[str, Any]:
    item = {"Timestamp": int(d["Timestamp"]), "ModerationLabel": norm_label(d), "ContentTypes": []}
    item.update({k: int(d[k]) for k in _SEGMENT_KEYS if d.get(k) is not None})
    return item


class RekognitionVideoState(RekognitionState):
    def _reset_extra(self) -> None:
        self.max_concurrent_jobs = 20
        self.max_concurrent_jobs_seen = 0
        self.job_polls_in_progress = 0
        self.job_duration_s = 0.0
        self.completion_api = "CONTENT_MODERATION"  # "API" in completion messages (real value UNVERIFIED)
        self.on_job_complete: Callable[[dict[str, Any]], Any] | None = None
        self.jobs: dict[str, dict[str, Any]] = {}
        self._idempotency: dict[str, tuple[str, str]] = {}  # token -> (params fingerprint, JobId)
        self._page_tokens: dict[str, tuple[str, int]] = {}  # NextToken -> (JobId, offset)

    # ------------------------------------------------------------ test helpers
    def complete_job(self, job_id: str) -> dict[str, Any]:
        """Finish one job now (SUCCEEDED, or FAILED if its object has ``fail_job``); returns its copy."""
        completed: list[dict[str, Any]] = []
        with self.lock:
            job = self.jobs[job_id]
            if job["JobStatus"] == "IN_PROGRESS":
                self._finish(job, completed)
            result = copy.deepcopy(job)
        self._fire_callbacks(completed)
        return result

    def completion_message(self, job_id: str) -> dict[str, Any]:
        """The SNS-style notification AWS publishes when a job finishes."""
        with self.lock:
            job = self.jobs[job_id]
            if job["JobStatus"] == "IN_PROGRESS":
                raise ValueError(f"job {job_id} is still IN_PROGRESS")
            s3 = job["Video"]["S3Object"]
            message = {
                "JobId": job_id,
                "Status": job["JobStatus"],
                "API": self.completion_api,
                "Timestamp": job["CompletionTimestamp"],
                "Video": {"S3ObjectName": s3["Name"], "S3Bucket": s3["Bucket"]},
            }
            if job["JobTag"] is not None:
                message["JobTag"] = job["JobTag"]
            return message

    def tick(self) -> None:
        """Finish every job whose rules are met (the server calls this in a loop)."""
        completed: list[dict[str, Any]] = []
        with self.lock:
            self._refresh_jobs(completed)
        self._fire_callbacks(completed)

    def in_progress_jobs(self) -> int:
        with self.lock:
            return sum(job["JobStatus"] == "IN_PROGRESS" for job in self.jobs.values())

    # --------------------------------------------------------------- internals
    def _refresh_jobs(self, completed: list[dict[str, Any]]) -> None:
        for job in self.jobs.values():
            self._maybe_finish(job, completed)

    def _maybe_finish(self, job: dict[str, Any], completed: list[dict[str, Any]]) -> None:
        if (
            job["JobStatus"] == "IN_PROGRESS"
            and job["Polls"] >= job["PollsRequired"]
            and self.clock() - job["StartedAt"] >= job["DurationS"]
        ):
            self._finish(job, completed)

    def _finish(self, job: dict[str, Any], completed: list[dict[str, Any]]) -> None:
        job["JobStatus"] = "FAILED" if job["FailMessage"] else "SUCCEEDED"
        job["StatusMessage"] = job["FailMessage"]
        job["CompletionTimestamp"] = int(self.wall_clock() * 1000)
        completed.append(copy.deepcopy(job))

    def _fire_callbacks(self, completed: list[dict[str, Any]]) -> None:
        callback = self.on_job_complete
        for job in completed:
            if callback is None:
                continue
            try:
                callback(job)
            except Exception as exc:  # noqa: BLE001 - a broken test callback must not kill the server
                with self.lock:
                    self.callback_errors.append(f"{job['JobId']}: {exc!r}")

    def _start_content_moderation(self, body: dict[str, Any], completed: list) -> dict[str, Any]:
        video = body.get("Video")
        if not isinstance(video, dict) or "S3Object" not in video:
            raise invalid("Video.S3Object is required")
        floor = min_confidence(body)
        token, tag = body.get("ClientRequestToken"), body.get("JobTag")
        if token is not None and not (isinstance(token, str) and _TOKEN_RE.match(token)):
            raise invalid("ClientRequestToken must be 1-64 characters of [a-zA-Z0-9-_]")
        if tag is not None and not (isinstance(tag, str) and _JOB_TAG_RE.match(tag)):
            raise invalid("JobTag must be 1-1024 characters of [a-zA-Z0-9_.-:+=/]")
        channel = body.get("NotificationChannel")
        if channel is not None and not (
            isinstance(channel, dict) and channel.get("RoleArn")
            and _SNS_ARN_RE.match(str(channel.get("SNSTopicArn", "")))
        ):
            raise invalid("NotificationChannel needs a valid SNSTopicArn and RoleArn")
        fingerprint = json.dumps({k: v for k, v in body.items() if k != "ClientRequestToken"}, sort_keys=True)
        if token is not None and token in self._idempotency:
            previous, job_id = self._idempotency[token]
            if previous != fingerprint:
                raise FakeError("IdempotentParameterMismatchException", "ClientRequestToken reused with other parameters")
            return {"JobId": job_id}
        obj = self.lookup_s3(video["S3Object"], "video")
        self._refresh_jobs(completed)
        running = sum(job["JobStatus"] == "IN_PROGRESS" for job in self.jobs.values())
        if running >= self.max_concurrent_jobs:
            raise FakeError("LimitExceededException", f"{running} stored-video jobs already in progress")
        job_id = uuid.uuid4().hex
        job = self.jobs[job_id] = {
            "JobId": job_id, "JobStatus": "IN_PROGRESS", "StatusMessage": None, "JobTag": tag,
            "Video": {"S3Object": copy.deepcopy(video["S3Object"])}, "MinConfidence": floor,
            "NotificationChannel": copy.deepcopy(channel), "ClientRequestToken": token,
            "Detections": [norm_detection(d) for d in obj["labels"]], "FailMessage": obj.get("fail_job"),
            "PollsRequired": self.job_polls_in_progress, "DurationS": self.job_duration_s, "Polls": 0,
            "StartedAt": self.clock(), "StartTimestamp": int(self.wall_clock() * 1000), "CompletionTimestamp": None,
        }
        self.max_concurrent_jobs_seen = max(self.max_concurrent_jobs_seen, running + 1)
        if token is not None:
            self._idempotency[token] = (fingerprint, job_id)
        self._maybe_finish(job, completed)
        return {"JobId": job_id}

    def _get_content_moderation(self, body: dict[str, Any], completed: list) -> dict[str, Any]:
        job = self.jobs.get(body.get("JobId"))  # type: ignore[arg-type]
        if job is None:
            raise FakeError("ResourceNotFoundException", f"Job {body.get('JobId')!r} not found")
        sort_by, aggregate_by = body.get("SortBy", "TIMESTAMP"), body.get("AggregateBy", "TIMESTAMPS")
        if sort_by not in _SORT_BY or aggregate_by not in _AGGREGATE_BY:
            raise invalid(f"SortBy must be one of {_SORT_BY}, AggregateBy one of {_AGGREGATE_BY}")
        max_results = body.get("MaxResults", 1000)
        if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
            raise invalid("MaxResults must be a positive integer")
        offset = 0
        if "NextToken" in body:
            entry = self._page_tokens.get(body["NextToken"])
            if entry is None or entry[0] != job["JobId"]:
                raise FakeError("InvalidPaginationTokenException", "Invalid pagination token")
            offset = entry[1]
        self._maybe_finish(job, completed)
        response: dict[str, Any] = {
            "JobStatus": job["JobStatus"], "JobId": job["JobId"], "Video": copy.deepcopy(job["Video"]),
            "GetRequestMetadata": {"SortBy": sort_by, "AggregateBy": aggregate_by},
        }
        if job["JobTag"] is not None:
            response["JobTag"] = job["JobTag"]
        if job["JobStatus"] == "IN_PROGRESS":
            job["Polls"] += 1
            self._maybe_finish(job, completed)  # the Nth IN_PROGRESS answer finishes it: notified right away
            return response
        if job["JobStatus"] == "FAILED":
            response["StatusMessage"] = job["StatusMessage"]
            return response
        items = [copy.deepcopy(d) for d in job["Detections"] if d["ModerationLabel"]["Confidence"] >= job["MinConfidence"]]
        if sort_by == "NAME":
            items.sort(key=lambda d: (d["ModerationLabel"]["Name"], -d["ModerationLabel"]["Confidence"], d["Timestamp"]))
        else:
            items.sort(key=lambda d: d["Timestamp"])
        if aggregate_by == "SEGMENTS":  # simplified: every detection becomes its own segment
            for d in items:
                start = d.setdefault("StartTimestampMillis", d["Timestamp"])
                end = d.setdefault("EndTimestampMillis", start)
                d.setdefault("DurationMillis", end - start)
        page_end = offset + min(max_results, 1000)
        last = max((d.get("EndTimestampMillis", d["Timestamp"]) for d in job["Detections"]), default=0)
        response.update(
            VideoMetadata={**VIDEO_METADATA, "DurationMillis": max(60_000, last + 1000)},
            ModerationLabels=items[offset:page_end],
            ModerationModelVersion=MODEL_VERSION,
        )
        if page_end < len(items):
            next_token = secrets.token_urlsafe(32)
            self._page_tokens[next_token] = (job["JobId"], page_end)
            response["NextToken"] = next_token
        return response
