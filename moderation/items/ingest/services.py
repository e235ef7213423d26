"""Items from S3 uploads: drain the SQS queue the buckets notify, submit one item per created object.

The upload itself starts moderation; the platform's code does not change (docs/s3-events.md). Guarantees:

- a redelivered message (SQS is at-least-once) or the same upload seen through another route makes nothing
  new: the item's external id is derived from bucket, key and version or sequencer (``ObjectCreated.external_id``);
- a message is deleted only after every item it names is committed; when the database or S3 is unavailable
  it stays and comes back after the queue's visibility timeout;
- a bad record does not hold up its batch: it is logged, counted and kept in
  ``ingest_rejects`` (its raw text), and the good records beside it are submitted;
- objects outside the configured filters are skipped and counted, not failed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from moderation.infra.media import uris as media
from moderation.infra import metrics
from moderation.items.ingest import s3_events
from moderation.items import services as service
from moderation.items.submission import Origin
from moderation.infra.schema import Tenant
from moderation.infra.aws import error_code
from moderation.domain.errors import BadInput, RefusedSubmission
from moderation.items.ingest.s3_events import BadRecord, Ignored, ObjectCreated
from moderation.infra.db import transaction
from moderation.items.ingest.models import IngestReject

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.ingest")
SOURCE = "s3-events"
SUBJECT_METADATA = "subject-id"  # x-amz-meta-subject-id: the uploader's account, set by the platform's upload


@dataclass
class Counts:
    messages: int = 0
    created: int = 0
    duplicate: int = 0  # the item existed already: a redelivery, or the same upload by another route
    rejected: int = 0
    kept: int = 0  # messages left on the queue to try again (database, S3 or access trouble)
    skipped: Counter = field(default_factory=Counter)  # by reason
    ignored: Counter = field(default_factory=Counter)  # by reason

    def add(self, other: Counts) -> None:
        for name in ("messages", "created", "duplicate", "rejected", "kept"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.skipped.update(other.skipped)
        self.ignored.update(other.ignored)

    def as_dict(self) -> dict:
        return {"messages": self.messages, "created": self.created, "duplicate": self.duplicate,
                "skipped": dict(self.skipped), "ignored": dict(self.ignored), "rejected": self.rejected,
                "kept": self.kept}


class _Later(Exception):
    """Leave the message on the queue: it is worth another try once the cause has passed."""


def drain(rt: Runtime, max_messages: int | None = None, wait_seconds: int | None = None) -> Counts:
    """Read what the queue holds now (up to ``max_messages``); counts of what became of it."""
    s, counts = rt.settings, Counts()
    if not s.s3_events_queue_url:
        return counts
    limit = max_messages or s.s3_events_max_messages
    wait = s.s3_events_wait_seconds if wait_seconds is None else wait_seconds
    try:  # before reading anything: an unknown tenant stops here, naming the setting
        origin: Origin | None = events_origin(rt)
    except _Later:  # the database is down: each message is kept for later, as when it fails mid-way
        origin = None
    sqs, url = rt.sqs(), s.s3_events_queue_url
    kept_ids: set[str] = set()
    while counts.messages < limit:
        try:  # long polling (WaitTimeSeconds > 0) asks every SQS server; short polling may miss the only message
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, limit - counts.messages),
                                        WaitTimeSeconds=wait).get("Messages", [])
        except (ClientError, BotoCoreError) as exc:  # the next run tries again
            log.error("s3_events_receive_failed", queue_url=url, error=str(exc))
            break
        if not batch:
            break
        done, cycled = [], False
        for msg in batch:
            if msg.get("MessageId") in kept_ids:  # kept earlier in this drain and visible again: the next run's
                cycled = True
                continue
            counts.messages += 1
            if handle_message(rt, msg, counts, origin):
                done.append({"Id": str(len(done)), "ReceiptHandle": msg["ReceiptHandle"]})
            else:
                counts.kept += 1
                kept_ids.add(msg.get("MessageId"))
        if done:
            _delete(sqs, url, done)
        if cycled:  # the queue has come round: what is left is what was kept
            break
    return counts


def events_origin(rt: Runtime) -> Origin:
    """Who the uploads' items come from: MODQ_S3_EVENTS_TENANT's tenant (BadInput naming the setting if there
    is no such tenant), submitted by ``s3-events`` in the audit trail."""
    name = rt.settings.s3_events_tenant
    try:
        with transaction(rt.settings.database_url) as s:  # the tenants table is infra's: items sit below tenants/
            tenant_id = s.scalar(select(Tenant.id).where(Tenant.name == name))
    except SQLAlchemyError as exc:
        raise _Later(f"database unavailable: {exc.__class__.__name__}") from None
    if tenant_id is not None:
        return Origin(tenant_id, actor=SOURCE)
    raise BadInput(f"MODQ_S3_EVENTS_TENANT: no tenant named {name!r} (`modq tenants create {name}`, "
                   "or name one `modq tenants list` shows)")


def handle_message(rt: Runtime, msg: dict, counts: Counts, origin: Origin | None = None) -> bool:
    """Submit, skip or reject each record of one message (for ``origin``, default ``events_origin``); True when
    it may be deleted."""
    message_id = msg.get("MessageId", "")
    try:
        for index, outcome in enumerate(s3_events.parse_body(msg.get("Body", ""))):
            if isinstance(outcome, Ignored):
                counts.ignored[outcome.reason] += 1
                metrics.s3_event("ignored", outcome.reason)
            elif isinstance(outcome, BadRecord):
                _reject(rt, counts, message_id, outcome.index, outcome.reason, outcome.raw)
            else:
                _ingest(rt, counts, message_id, index, outcome, origin)
    except _Later as exc:
        log.warning("s3_event_kept_for_later", message_id=message_id, reason=str(exc))
        return False
    except Exception:  # a bug, not bad data: keep the message (its queue's DLQ catches a poison one), go on
        log.exception("s3_event_failed", message_id=message_id)
        return False
    return True


def _ingest(rt: Runtime, counts: Counts, message_id: str, index: int, ev: ObjectCreated,
            origin: Origin | None) -> None:
    reason = skip_reason(rt.settings, ev)
    content_type, subject_id = "", None
    kind = media.MediaRef(uri="", scheme="s3", key=ev.key).extension_kind
    if reason is None:  # one HEAD: the uploader (x-amz-meta-subject-id); without a telling extension, the kind
        kind, content_type, subject_id, reason = _head(rt, ev, kind)
    if reason is not None:
        counts.skipped[reason] += 1
        metrics.s3_event("skipped", reason)
        log.info("s3_event_skipped", bucket=ev.bucket, key=ev.key, reason=reason)
        return
    metadata = {"source": SOURCE, "bucket": ev.bucket, "key": ev.key, "version_id": ev.version or None,
                "sequencer": ev.sequencer or None, "size": ev.size, "etag": ev.etag or None,
                "event_name": ev.event_name, "event_time": ev.event_time or None,
                "uploader": ev.requester or None, "content_type": content_type or None, "via": ev.shape}
    origin = origin or events_origin(rt)
    try:
        result = service.submit(media.s3_uri(ev.bucket, ev.key, ev.version), external_id=ev.external_id,
                                metadata=metadata, media_type=kind, rt=rt, subject_id=subject_id,
                                origin=origin)
    except RefusedSubmission as exc:  # e.g. a key with control characters: no URI can name it
        _reject(rt, counts, message_id, index, f"refused at submit: {exc}", ev.raw)
        return
    except SQLAlchemyError as exc:
        raise _Later(f"database unavailable: {exc.__class__.__name__}") from None
    outcome = "created" if result.created else "duplicate"
    setattr(counts, outcome, getattr(counts, outcome) + 1)
    metrics.s3_event(outcome, "")
    log.info("s3_event_ingested", item_id=result.item_id, created=result.created, bucket=ev.bucket, key=ev.key)


def skip_reason(settings, ev: ObjectCreated) -> str | None:
    """Why the configured filters leave this object out (None: take it)."""
    allowed = settings.s3_events_bucket_allowlist
    if allowed is not None and ev.bucket not in allowed:
        return "bucket"
    prefixes = settings.s3_events_prefix_list
    if prefixes and not ev.key.startswith(prefixes):
        return "prefix"
    suffixes = settings.s3_events_suffix_list
    if suffixes and not ev.key.lower().endswith(suffixes):  # IMG_0001.JPG is a .jpg too
        return "suffix"
    if ev.key.endswith("/"):  # a console "folder": an empty marker, not an upload
        return "folder"
    limit = settings.s3_events_max_object_bytes
    if limit is not None and ev.size is not None and ev.size > limit:
        return "too_large"
    return None


def _head(rt: Runtime, ev: ObjectCreated, kind: str | None) -> tuple[str | None, str, str | None, str | None]:
    """(media type, content type, subject id, skip reason) from a HEAD of the object: ``kind`` from the key's
    extension, else from its content type; the subject from its user metadata ``subject-id``, if set."""
    extra = {"VersionId": ev.version} if ev.version else {}
    try:
        head = rt.s3().head_object(Bucket=ev.bucket, Key=ev.key, **extra)
    except ClientError as exc:
        if kind is not None:  # the HEAD was only for the subject: the item is moderated (or fails) as before
            log.warning("s3_event_head_failed", bucket=ev.bucket, key=ev.key, error=error_code(exc))
            return kind, "", None, None
        if error_code(exc) in ("404", "NoSuchKey", "NotFound", "NoSuchVersion"):
            return None, "", None, "gone"  # deleted before we looked: nothing left to moderate
        raise _Later(f"HEAD s3://{ev.bucket}/{ev.key} failed: {error_code(exc)}") from None  # 403: grant s3:GetObject
    except BotoCoreError as exc:
        raise _Later(f"S3 unreachable: {exc}") from None
    content_type = str(head.get("ContentType", "")).split(";")[0].strip().lower()
    subject_id = (head.get("Metadata") or {}).get(SUBJECT_METADATA)  # checked by submit: refused, not cut
    major = content_type.split("/")[0]
    kind = kind or (major if major in ("image", "video") else None)
    limit = rt.settings.s3_events_max_object_bytes
    if kind and limit is not None and ev.size is None and int(head.get("ContentLength", 0)) > limit:
        return kind, content_type, subject_id, "too_large"
    return kind, content_type, subject_id, None if kind else "not_media"


def _reject(rt: Runtime, counts: Counts, message_id: str, index: int, reason: str, raw: str) -> None:
    """Keep a bad record for inspection (once per message and position), log and count it."""
    url = rt.settings.s3_events_queue_url or ""
    try:
        with transaction(rt.settings.database_url) as s:
            known = s.scalar(select(IngestReject.id).where(IngestReject.message_id == message_id,
                                                           IngestReject.record_index == index))
            if known is None:
                s.add(IngestReject(source=SOURCE, queue_url=url, message_id=message_id, record_index=index,
                                   reason=reason, raw=raw))
    except IntegrityError:
        pass  # a concurrent drain of the same redelivered message stored it first
    except SQLAlchemyError as exc:
        raise _Later(f"database unavailable: {exc.__class__.__name__}") from None
    counts.rejected += 1
    metrics.s3_event("rejected", "")
    log.warning("s3_event_rejected", message_id=message_id, record_index=index, reason=reason)


def _delete(sqs, url: str, entries: list[dict]) -> None:
    try:
        failed = sqs.delete_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
    except (ClientError, BotoCoreError) as exc:
        failed = [{"Message": str(exc)}]
    if failed:  # they come back after the visibility timeout and find their items already there
        log.warning("s3_events_delete_failed", failed=failed)
