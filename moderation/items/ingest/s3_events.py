"""S3 upload events as they arrive in an SQS message body: parsing only, no I/O.

Three shapes reach the queue (docs/s3-events.md):

- S3 event notifications sent straight to SQS (or through SNS with raw delivery):
  ``{"Records": [{"eventName": "ObjectCreated:Put", "s3": {...}}, ...]}``;
- the same inside an SNS envelope: ``{"Type": "Notification", "Message": "<that JSON>"}``;
- EventBridge "Object Created" events: ``{"source": "aws.s3", "detail-type": "Object Created", "detail": {...}}``;

plus ``s3:TestEvent``, which S3 sends once when a notification configuration is saved.

Keys in S3 event notifications are form-encoded: "+" for a space, ``%XX`` for
UTF-8 bytes and reserved characters (a literal "+" arrives as ``%2B``).
EventBridge events carry the key as it is. Every record becomes its own
outcome, so one unreadable record never hides the good ones beside it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote_to_bytes


@dataclass(frozen=True)
class ObjectCreated:
    bucket: str
    key: str  # decoded: exactly the S3 object key
    version: str  # "" when the bucket is unversioned (S3's "null" version included)
    sequencer: str
    size: int | None
    etag: str
    event_name: str
    event_time: str
    requester: str  # the uploader's AWS principal, when the event names it (never the source IP)
    shape: str  # "s3", "sns" or "eventbridge": how it reached the queue
    raw: str = field(default="", compare=False, repr=False)  # the record as received (kept if submit refuses it)

    @property
    def upload(self) -> str:
        """What tells this upload apart from another one of the same key.

        The version id when the bucket is versioned; otherwise S3's sequencer
        (grows with every PUT to the key); the eTag only when an event has
        neither (moto's notifications): the same bytes again are nothing new.
        """
        if self.version:
            return f"version:{self.version}"
        if self.sequencer:
            return f"sequencer:{self.sequencer}"
        return f"etag:{self.etag}"

    @property
    def external_id(self) -> str:
        """``s3:`` + sha256 of bucket, key and upload: stable across redeliveries and event shapes,
        67 characters however long the key (S3 keys reach 1,024 bytes; external ids stop at 255)."""
        # JSON, not a separator: a key may contain any character, and the parts must never run together.
        parts = json.dumps([self.bucket, self.key, self.upload], ensure_ascii=False)
        digest = hashlib.sha256(parts.encode("utf-8")).hexdigest()
        return f"s3:{digest}"


@dataclass(frozen=True)
class Ignored:
    reason: str  # "test_event" or "not_a_create"
    detail: str = ""


@dataclass(frozen=True)
class BadRecord:
    reason: str
    raw: str  # the record (or the whole body) as received, for inspection
    index: int  # position among the message's records; -1: the body itself


Outcome = ObjectCreated | Ignored | BadRecord


class _Bad(ValueError):
    pass


def parse_body(body: str) -> list[Outcome]:
    """Every record in one SQS message body, each as an outcome."""
    try:
        doc = json.loads(body)
    except ValueError:
        return [BadRecord("message body is not JSON", body, -1)]
    shape = "s3"
    if isinstance(doc, dict) and doc.get("Type") == "Notification" and isinstance(doc.get("Message"), str):
        shape = "sns"  # SNS without raw delivery: the S3 or EventBridge JSON is a string inside
        try:
            doc = json.loads(doc["Message"])
        except ValueError:
            return [BadRecord("SNS message is not JSON", body, -1)]
    if not isinstance(doc, dict):
        return [BadRecord("not an S3 event: the JSON is not an object", body, -1)]
    if doc.get("Event") == "s3:TestEvent":
        return [Ignored("test_event", str(doc.get("Bucket", "")))]
    if doc.get("source") == "aws.s3" and "detail-type" in doc:
        return [_one(doc, 0, "eventbridge" if shape == "s3" else shape, _eventbridge)]
    if "Records" in doc:
        records = doc["Records"]
        if not isinstance(records, list):
            return [BadRecord("not an S3 event: Records is not a list", body, -1)]
        return [_one(record, i, shape, _notification) for i, record in enumerate(records)]
    return [BadRecord("not an S3 event: no Records, EventBridge detail or TestEvent", body, -1)]


def _one(record: Any, index: int, shape: str, parse) -> Outcome:
    try:
        if not isinstance(record, dict):
            raise _Bad("record is not a JSON object")
        outcome = parse(record, shape)
    except _Bad as exc:
        return BadRecord(str(exc), raw_text(record), index)
    if isinstance(outcome, ObjectCreated):
        outcome = replace(outcome, raw=raw_text(record))
    return outcome


def raw_text(record: Any) -> str:
    """The record as JSON text for inspection, without the uploader's IP address (not ours to keep)."""
    if isinstance(record, dict):
        record = dict(record)
        for outer, inner in (("requestParameters", "sourceIPAddress"), ("detail", "source-ip-address")):
            if isinstance(record.get(outer), dict) and inner in record[outer]:
                record[outer] = {k: v for k, v in record[outer].items() if k != inner}
    return json.dumps(record, ensure_ascii=False)


def _notification(record: dict, shape: str) -> Outcome:
    name = _text(record.get("eventName"), "eventName")
    if not name.removeprefix("s3:").startswith("ObjectCreated:"):
        return Ignored("not_a_create", name)
    s3 = _obj(record.get("s3"), "s3")
    obj = _obj(s3.get("object"), "s3.object")
    return ObjectCreated(
        bucket=_text(_obj(s3.get("bucket"), "s3.bucket").get("name"), "s3.bucket.name"),
        key=decode_key(_text(obj.get("key"), "s3.object.key")),
        version=_version(obj.get("versionId")), sequencer=_opt(obj.get("sequencer")),
        size=_size(obj.get("size")), etag=_opt(obj.get("eTag")), event_name=name,
        event_time=_opt(record.get("eventTime")),
        requester=_opt(_obj(record.get("userIdentity") or {}, "userIdentity").get("principalId")), shape=shape)


def _eventbridge(doc: dict, shape: str) -> Outcome:
    kind = str(doc.get("detail-type"))
    if kind != "Object Created":
        return Ignored("not_a_create", kind)
    detail = _obj(doc.get("detail"), "detail")
    obj = _obj(detail.get("object"), "detail.object")
    reason = _opt(detail.get("reason"))
    return ObjectCreated(
        bucket=_text(_obj(detail.get("bucket"), "detail.bucket").get("name"), "detail.bucket.name"),
        key=_text(obj.get("key"), "detail.object.key"),  # EventBridge: not encoded
        version=_version(obj.get("version-id")), sequencer=_opt(obj.get("sequencer")),
        size=_size(obj.get("size")), etag=_opt(obj.get("etag") or obj.get("eTag")),
        event_name=f"ObjectCreated:{reason}" if reason else "Object Created", event_time=_opt(doc.get("time")),
        requester=_opt(detail.get("requester")), shape=shape)


def decode_key(raw: str) -> str:
    """An S3 notification's key as the object key: "+" is a space, then %-escapes are UTF-8 bytes."""
    try:
        key = unquote_to_bytes(raw.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        raise _Bad(f"s3.object.key {raw[:200]!r} is not URL-encoded UTF-8") from None
    if not key:
        raise _Bad("s3.object.key is empty")
    return key


def _obj(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise _Bad(f"{where} is missing or not an object")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise _Bad(f"{where} is missing or not a string")
    return value


def _opt(value: Any) -> str:
    return "" if value is None else str(value)


def _version(value: Any) -> str:
    # "null" is the version of an object written while versioning was off or suspended: every
    # such upload has it, so it tells nothing apart; the current object is the one to read.
    return "" if value in (None, "", "null") else str(value)


def _size(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise _Bad(f"object size {value!r} is not a whole number of bytes")
    return int(value)
