"""Rekognition's job-completion notifications, read from SQS: the next poll, brought forward.

Rekognition publishes ``{"JobId", "Status", "API", "JobTag", "Timestamp",
"Video"}`` to the job's SNS topic (../shared/REKOGNITION.md §2); an SQS queue
subscribed to it holds that JSON as the body (raw delivery) or as the
``Message`` string of an SNS envelope. A notification is a hint, not a result:
the matching item is polled at once and ``GetContentModeration`` decides, so a
duplicate, late or lost message changes nothing (polling goes on regardless).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import select

from moderation.video import jobs as video_jobs
from moderation.items import models as m
from moderation.video import models as vm
from moderation.infra.db import transaction

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.video")
RECHECK_AFTER_S = 30  # a message for a job whose start is not committed yet comes back after this


@dataclass(frozen=True)
class Completion:
    job_id: str
    status: str  # SUCCEEDED | FAILED | ERROR (ERROR never appears in Get's JobStatus)
    job_tag: str | None


def parse(body: str) -> Completion | None:
    """The completion in an SQS body, raw or SNS-enveloped; None if it is not one."""
    try:
        doc = json.loads(body)
        if isinstance(doc, dict) and "JobId" not in doc and isinstance(doc.get("Message"), str):
            doc = json.loads(doc["Message"])  # SNS envelope: the notification is a JSON string inside
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("JobId"), str) or not doc["JobId"]:
        return None
    tag = doc.get("JobTag")
    return Completion(doc["JobId"], str(doc.get("Status", "")), tag if isinstance(tag, str) else None)


def drain(rt: Runtime, max_messages: int = 500) -> int:
    """Read what the completion queue holds now; return how many items were advanced."""
    url = rt.settings.video_completion_queue_url
    if not url:
        return 0
    sqs, seen, advanced = rt.sqs(), 0, 0
    while seen < max_messages:
        try:
            # WaitTimeSeconds=1: long polling asks every SQS server; short polling may miss the only message.
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                        VisibilityTimeout=RECHECK_AFTER_S).get("Messages", [])
        except (ClientError, BotoCoreError) as exc:  # the next run tries again; polling covers the gap
            log.error("video_completion_receive_failed", queue_url=url, error=str(exc))
            break
        if not batch:
            break
        done = []
        for msg in batch:
            seen += 1
            outcome = _handle(rt, parse(msg.get("Body", "")))
            advanced += outcome == "advanced"
            if outcome != "later":
                done.append({"Id": str(len(done)), "ReceiptHandle": msg["ReceiptHandle"]})
        if done:
            _delete(sqs, url, done)
    return advanced


def _handle(rt: Runtime, completion: Completion | None) -> str:
    """"advanced", "later" (keep the message) or "ignored"."""
    if completion is None:
        log.warning("video_completion_unreadable")
        return "ignored"
    with transaction(rt.settings.database_url) as s:
        job = s.scalar(select(vm.VideoJob).where(vm.VideoJob.job_id == completion.job_id))
        if job is None:
            item = s.get(m.Item, completion.job_tag) if completion.job_tag else None
            if item is not None and item.status not in m.TERMINAL:
                return "later"  # its StartContentModeration answer is not committed yet
            return "ignored"  # another application's job on a shared topic, or long gone
        job.notified_at = job.notified_at or video_jobs.now()
        item_id = job.item_id
        status = s.get(m.Item, item_id).status
    if status != m.SUBMITTED:
        return "ignored"
    log.info("video_completion", item_id=item_id, job_id=completion.job_id, status=completion.status)
    rt.dispatcher.poll_video(item_id, 0)
    return "advanced"


def _delete(sqs, url: str, entries: list[dict]) -> None:
    try:
        failed = sqs.delete_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
    except (ClientError, BotoCoreError) as exc:
        failed = [{"Message": str(exc)}]
    if failed:  # they come back after the visibility timeout; handling them again is harmless
        log.warning("video_completion_delete_failed", failed=failed)
