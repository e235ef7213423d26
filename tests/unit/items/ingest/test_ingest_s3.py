"""Draining the S3 upload queue: moto (in-process) delivers the buckets' real notifications to SQS."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

import boto3
import pytest
from moto import mock_aws
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from moderation.infra import aws
from moderation.items.ingest import services as ingest_s3
from moderation.items import services as service
from moderation.items import models as m
from moderation.infra.db import transaction
from moderation.items.ingest.models import IngestReject
from tests.conftest import jpeg_bytes, png_bytes
from tests.s3_event_shapes import eventbridge, notification, s3_record, sns_envelope

BUCKET = "ugc-uploads"
QUIET = "ugc-quiet"  # no notifications: for tests that write their own event messages


@dataclass
class Uploads:
    s3: object
    sqs: object
    url: str
    arn: str

    def put(self, key: str, body: bytes, bucket: str = BUCKET, **extra) -> bytes:
        self.s3.put_object(Bucket=bucket, Key=key, Body=body, **extra)
        return body

    def left(self) -> int:
        """Messages still on the queue, visible or in flight."""
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return sum(int(v) for v in attrs.values())

    def notify(self, bucket: str, events=("s3:ObjectCreated:*", "s3:ObjectRemoved:*")) -> None:
        self.s3.create_bucket(Bucket=bucket)
        self.s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": self.arn, "Events": list(events)}]})


@pytest.fixture
def uploads(rt, make_settings):
    """A bucket whose ObjectCreated/ObjectRemoved notifications go to an SQS queue, and ``rt`` reading it."""
    aws.reset_clients()
    with mock_aws():
        s3, sqs = boto3.client("s3", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
        # A short visibility timeout: a message kept for later comes back within the test.
        url = sqs.create_queue(QueueName="modq-uploads", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        env = Uploads(s3, sqs, url, arn)
        env.notify(BUCKET)  # S3 sends its s3:TestEvent now
        s3.create_bucket(Bucket=QUIET)
        rt.settings = make_settings(s3_events_queue_url=url, s3_events_wait_seconds=0)
        yield env
    aws.reset_clients()


def configure(rt, make_settings, **s3_events):
    rt.settings = make_settings(s3_events_queue_url=rt.settings.s3_events_queue_url, s3_events_wait_seconds=0,
                                **{f"s3_events_{k}": v for k, v in s3_events.items()})


def item_for(rt, external_id: str) -> m.Item | None:
    with transaction(rt.settings.database_url) as s:
        return s.scalar(select(m.Item).where(m.Item.external_id == external_id))


def all_items(rt) -> list[m.Item]:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(m.Item).order_by(m.Item.created_at)))


def run_worker(rt) -> dict[str, str]:
    """What a worker does with each task sent: item id -> final status."""
    return {item_id: service.process_image(item_id, rt=rt) for item_id, _kind in rt.dispatcher.sent}


def test_an_upload_becomes_a_decided_item(rt, uploads):
    data = uploads.put("u/42/cat.jpg", jpeg_bytes())

    counts = ingest_s3.drain(rt)

    assert counts.created == 1 and counts.ignored == {"test_event": 1} and counts.kept == 0
    [item] = all_items(rt)
    assert item.media_uri == f"s3://{BUCKET}/u/42/cat.jpg" and item.media_type == "image"
    meta = item.item_metadata
    assert (meta["source"], meta["bucket"], meta["key"]) == ("s3-events", BUCKET, "u/42/cat.jpg")
    assert meta["size"] == len(data)
    assert meta["etag"] == hashlib.md5(data).hexdigest() and meta["event_name"] == "ObjectCreated:Put"
    assert "203.0.113.9" not in json.dumps(meta) and "source_ip" not in json.dumps(meta)
    assert run_worker(rt) == {item.id: "approved"}
    assert item_for(rt, item.external_id).content_key == hashlib.sha256(data).hexdigest()  # that object's bytes
    assert uploads.left() == 0  # every message handled and deleted


def test_a_redelivered_message_creates_nothing_new(rt, uploads):
    uploads.put("u/1.jpg", jpeg_bytes())
    # SQS is at-least-once: the same body may arrive twice
    msgs = uploads.sqs.receive_message(QueueUrl=uploads.url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    body = next(msg["Body"] for msg in msgs if "Records" in msg["Body"])
    uploads.sqs.send_message(QueueUrl=uploads.url, MessageBody=body)

    counts = ingest_s3.drain(rt)

    assert (counts.created, counts.duplicate) == (1, 1)
    assert len(all_items(rt)) == 1 and len(rt.dispatcher.sent) == 1
    assert uploads.left() == 0
    uploads.sqs.send_message(QueueUrl=uploads.url, MessageBody=body)  # and again, much later
    assert ingest_s3.drain(rt).duplicate == 1 and len(all_items(rt)) == 1


def counted(outcome: str, reason: str) -> float:
    return REGISTRY.get_sample_value("modq_s3_events_total", {"outcome": outcome, "reason": reason}) or 0.0


def test_objects_outside_the_filters_are_skipped_and_counted(rt, uploads, make_settings):
    uploads.notify("other-bucket")
    configure(rt, make_settings, buckets=BUCKET, prefixes="uploads/,inbox/", suffixes=".jpg,.png",
              max_object_bytes=50_000)
    kept = uploads.put("uploads/IMG_0001.JPG", jpeg_bytes())  # suffixes match any case
    uploads.put("elsewhere/a.jpg", jpeg_bytes())
    uploads.put("uploads/notes.txt", b"hello")
    uploads.put("uploads/big.png", b"\x89PNG" + b"0" * 60_000)
    uploads.put("inbox/x.jpg", jpeg_bytes(), bucket="other-bucket")
    before = {reason: counted("skipped", reason) for reason in ("prefix", "suffix", "too_large", "bucket")}

    counts = ingest_s3.drain(rt)

    assert counts.created == 1
    assert counts.skipped == {"prefix": 1, "suffix": 1, "too_large": 1, "bucket": 1}
    assert {reason: counted("skipped", reason) - n for reason, n in before.items()} == counts.skipped  # Prometheus
    [item] = all_items(rt)
    assert item.item_metadata["key"] == "uploads/IMG_0001.JPG" and item.item_metadata["size"] == len(kept)
    assert uploads.left() == 0  # skipped is handled, not failed: nothing comes back


def test_the_events_allow_list_defaults_to_modq_s3_buckets(rt, uploads, make_settings):
    uploads.notify("other-bucket")
    rt.settings = make_settings(s3_events_queue_url=uploads.url, s3_events_wait_seconds=0, s3_buckets=BUCKET)
    uploads.put("a.jpg", jpeg_bytes(), bucket="other-bucket")
    assert ingest_s3.drain(rt).skipped == {"bucket": 1} and all_items(rt) == []


def test_media_type_comes_from_the_content_type_when_the_key_has_no_extension(rt, uploads):
    uploads.put("u/photo", png_bytes(), ContentType="image/png")
    uploads.put("u/clip", b"\x00\x00\x00\x18ftypmp42", ContentType="video/mp4")
    uploads.put("u/readme", b"hello", ContentType="text/plain; charset=utf-8")
    uploads.put("u/folder/", b"")  # a console "folder"

    counts = ingest_s3.drain(rt)

    assert counts.created == 2 and counts.skipped == {"not_media": 1, "folder": 1}
    kinds = {i.item_metadata["key"]: (i.media_type, i.item_metadata["content_type"]) for i in all_items(rt)}
    assert kinds == {"u/photo": ("image", "image/png"), "u/clip": ("video", "video/mp4")}


def test_an_object_deleted_before_ingestion_is_skipped(rt, uploads):
    uploads.sqs.send_message(QueueUrl=uploads.url, MessageBody=notification(s3_record(QUIET, "u/gone")))
    assert ingest_s3.drain(rt).skipped == {"gone": 1} and uploads.left() == 0


def test_removals_are_ignored(rt, uploads):
    uploads.put("u/a.jpg", jpeg_bytes())
    ingest_s3.drain(rt)
    uploads.s3.delete_object(Bucket=BUCKET, Key="u/a.jpg")
    counts = ingest_s3.drain(rt)
    assert counts.ignored == {"not_a_create": 1} and counts.created == 0 and len(all_items(rt)) == 1


def test_a_malformed_record_does_not_block_its_batch(rt, uploads):
    a, c = uploads.put("u/a.jpg", jpeg_bytes(), QUIET), uploads.put("u/c.jpg", jpeg_bytes(color=(1, 2, 3)), QUIET)
    bad = s3_record(QUIET, "u/b.jpg", raw_key="%FF.jpg")
    body = notification(s3_record(QUIET, "u/a.jpg", size=len(a)), bad, s3_record(QUIET, "u/c.jpg", size=len(c)))
    uploads.sqs.send_message(QueueUrl=uploads.url, MessageBody=body)

    counts = ingest_s3.drain(rt)

    assert counts.created == 2 and counts.rejected == 1 and uploads.left() == 0
    assert sorted(i.item_metadata["key"] for i in all_items(rt)) == ["u/a.jpg", "u/c.jpg"]
    with transaction(rt.settings.database_url) as s:
        [reject] = s.scalars(select(IngestReject)).all()
        assert (reject.record_index, reject.source, reject.queue_url) == (1, "s3-events", uploads.url)
        assert "not URL-encoded UTF-8" in reject.reason
        assert json.loads(reject.raw)["s3"]["object"]["key"] == "%FF.jpg"  # the record as received ...
        assert "sourceIPAddress" not in reject.raw  # ... less the uploader's IP


def test_a_redelivered_bad_record_is_kept_once(rt, uploads):
    msg = {"MessageId": "m-1", "ReceiptHandle": "r", "Body": notification({"eventName": "ObjectCreated:Put"})}
    for _ in range(2):
        assert ingest_s3.handle_message(rt, msg, ingest_s3.Counts())
    with transaction(rt.settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(IngestReject)) == 1


def test_a_body_that_is_not_an_event_is_kept_whole(rt, uploads):
    uploads.sqs.send_message(QueueUrl=uploads.url, MessageBody="hello from a misrouted producer")
    assert ingest_s3.drain(rt).rejected == 1 and uploads.left() == 0
    with transaction(rt.settings.database_url) as s:
        reject = s.scalars(select(IngestReject)).one()
    assert (reject.record_index, reject.raw) == (-1, "hello from a misrouted producer")


def test_a_key_submit_refuses_is_rejected_with_the_reason(rt, uploads):
    uploads.put("u/ok.jpg", jpeg_bytes(), QUIET)
    body = notification(s3_record(QUIET, "u/bell\x07.jpg"), s3_record(QUIET, "u/ok.jpg"))
    uploads.sqs.send_message(QueueUrl=uploads.url, MessageBody=body)
    counts = ingest_s3.drain(rt)
    assert counts.rejected == 1 and counts.created == 1
    with transaction(rt.settings.database_url) as s:
        reject = s.scalars(select(IngestReject)).one()
    assert reject.reason.startswith("refused at submit: media URI contains control characters")
    assert json.loads(reject.raw)["s3"]["object"]["key"] == "u/bell%07.jpg"


def drain_until(rt, predicate, timeout: float = 15):
    deadline = time.monotonic() + timeout
    total = ingest_s3.Counts()
    while time.monotonic() < deadline:
        total.add(ingest_s3.drain(rt))
        if predicate(total):
            return total
        time.sleep(0.2)
    raise AssertionError(f"drain never got there: {total.as_dict()}")


def test_a_message_stays_on_the_queue_until_its_items_are_committed(rt, uploads, make_settings, tmp_path):
    uploads.put("u/a.jpg", jpeg_bytes())
    good = rt.settings
    rt.settings = make_settings(database_url=f"sqlite:///{tmp_path}/no/such/dir/modq.db",
                                s3_events_queue_url=uploads.url, s3_events_wait_seconds=0)

    counts = ingest_s3.drain(rt)  # the database is down

    assert counts.kept == 1 and counts.created == 0 and uploads.left() == 1
    rt.settings = good  # it is back: the message returns after its visibility timeout
    assert drain_until(rt, lambda c: c.created == 1).kept == 0
    assert len(all_items(rt)) == 1 and uploads.left() == 0


def test_a_failure_halfway_through_a_message_keeps_it_and_the_retry_adds_only_the_rest(rt, uploads, monkeypatch):
    uploads.put("u/a.jpg", jpeg_bytes())
    uploads.put("u/b.jpg", jpeg_bytes(color=(9, 9, 9)))
    msg = {"MessageId": "m-2", "ReceiptHandle": "r",
           "Body": notification(s3_record(BUCKET, "u/a.jpg"), s3_record(BUCKET, "u/b.jpg"))}
    real, calls = service.submit, []

    def flaky(*args, **kwargs):
        calls.append(kwargs["external_id"])
        if len(calls) == 2:
            raise OperationalError("INSERT", {}, Exception("connection lost"))
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "submit", flaky)
    first = ingest_s3.Counts()
    assert ingest_s3.handle_message(rt, msg, first) is False  # not deleted
    assert first.created == 1 and len(all_items(rt)) == 1
    second = ingest_s3.Counts()
    assert ingest_s3.handle_message(rt, msg, second) is True
    assert (second.created, second.duplicate) == (1, 1) and len(all_items(rt)) == 2


KEYS = ["u/a b.jpg", "u/a+b.jpg", "u/a%20b.jpg", "u/c++ (1) copy.jpg", "u/café ñ/写真.jpg", "u/100%.jpg",
        "u/q?x#y.jpg", "/leading-slash.jpg", "u/trailing space.jpg ", "u/=&;:@,$!'~.jpg",
        "u/double//slash.jpg"]  # submit refuses a "//" typed in a URI; the event's key is escaped instead


def test_keys_with_spaces_unicode_and_plus_round_trip_to_the_right_object(rt, uploads):
    # image/jpeg: "trailing space.jpg " has no extension modq knows, so the content type decides
    contents = {key: uploads.put(key, jpeg_bytes(color=(i * 20, 255 - i * 20, 7)), ContentType="image/jpeg")
                for i, key in enumerate(KEYS)}
    assert len({hashlib.sha256(v).hexdigest() for v in contents.values()}) == len(KEYS)  # each one different

    assert ingest_s3.drain(rt).created == len(KEYS)
    statuses = run_worker(rt)

    assert set(statuses.values()) == {"approved"}
    by_key = {i.item_metadata["key"]: i for i in all_items(rt)}
    assert set(by_key) == set(KEYS)
    for key, data in contents.items():  # the worker read exactly that object, not a neighbour
        assert item_for(rt, by_key[key].external_id).content_key == hashlib.sha256(data).hexdigest(), key


def test_sns_wrapped_notifications_work(rt, uploads):
    sns = boto3.client("sns", region_name="us-east-1")
    topic = sns.create_topic(Name="modq-uploads")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=uploads.arn)  # not raw: the SNS envelope
    uploads.s3.create_bucket(Bucket="via-sns")
    uploads.s3.put_bucket_notification_configuration(Bucket="via-sns", NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]})
    data = uploads.put("u/sns one.jpg", jpeg_bytes(), bucket="via-sns")

    assert ingest_s3.drain(rt).created == 1
    [item] = all_items(rt)
    assert (item.item_metadata["via"], item.item_metadata["key"]) == ("sns", "u/sns one.jpg")
    assert run_worker(rt) == {item.id: "approved"}
    assert item_for(rt, item.external_id).content_key == hashlib.sha256(data).hexdigest()


def test_eventbridge_events_work(rt, uploads):
    events = boto3.client("events", region_name="us-east-1")
    events.put_rule(Name="modq-uploads", EventPattern=json.dumps({"source": ["aws.s3"],
                                                                  "detail-type": ["Object Created"]}))
    events.put_targets(Rule="modq-uploads", Targets=[{"Id": "modq", "Arn": uploads.arn}])
    uploads.s3.create_bucket(Bucket="via-eventbridge")
    uploads.s3.put_bucket_notification_configuration(Bucket="via-eventbridge", NotificationConfiguration={
        "EventBridgeConfiguration": {}})
    data = uploads.put("u/eb +one.jpg", jpeg_bytes(), bucket="via-eventbridge")

    assert ingest_s3.drain(rt).created == 1
    [item] = all_items(rt)
    assert (item.item_metadata["via"], item.item_metadata["key"]) == ("eventbridge", "u/eb +one.jpg")
    assert run_worker(rt) == {item.id: "approved"}
    assert item_for(rt, item.external_id).content_key == hashlib.sha256(data).hexdigest()


def test_one_upload_seen_by_two_routes_is_one_item(rt, uploads):
    record = s3_record(QUIET, "u/a.jpg", version="v1", sequencer="0A")
    uploads.put("u/a.jpg", jpeg_bytes(), QUIET)
    for body in (notification(record), sns_envelope(notification(record)),
                 eventbridge(QUIET, "u/a.jpg", version="v1", sequencer="0A")):
        uploads.sqs.send_message(QueueUrl=uploads.url, MessageBody=body)
    counts = ingest_s3.drain(rt)
    assert counts.created == 1 and counts.duplicate == 2 and len(all_items(rt)) == 1


def test_without_a_queue_url_nothing_happens(rt):
    assert rt.settings.s3_events_queue_url is None
    assert ingest_s3.drain(rt).as_dict() == {"messages": 0, "created": 0, "duplicate": 0, "skipped": {},
                                             "ignored": {}, "rejected": 0, "kept": 0}


def test_an_unreachable_queue_is_logged_and_left_for_the_next_run(rt, uploads, make_settings):
    rt.settings = make_settings(s3_events_queue_url=uploads.url.replace("modq-uploads", "no-such-queue"))
    assert ingest_s3.drain(rt).messages == 0


def test_an_unexpected_error_keeps_that_message_and_the_others_go_on(rt, uploads, monkeypatch):
    uploads.put("u/a.jpg", jpeg_bytes(), QUIET)
    uploads.put("u/b.jpg", jpeg_bytes(), QUIET)
    for key in ("u/a.jpg", "u/b.jpg"):
        uploads.sqs.send_message(QueueUrl=uploads.url, MessageBody=notification(s3_record(QUIET, key)))
    real = service.submit

    def buggy(uri, **kwargs):
        if "u/a.jpg" in uri:
            raise KeyError("a bug")
        return real(uri, **kwargs)

    monkeypatch.setattr(service, "submit", buggy)
    counts = ingest_s3.drain(rt)
    assert counts.kept == 1 and counts.created == 1
    assert [i.item_metadata["key"] for i in all_items(rt)] == ["u/b.jpg"] and uploads.left() == 1


def test_a_kept_message_seen_again_in_the_same_drain_is_left_for_the_next(rt, uploads, monkeypatch):
    """A drain slower than the queue's visibility timeout meets its kept messages again: it stops there."""
    uploads.put("u/a.jpg", jpeg_bytes(), QUIET)
    uploads.sqs.send_message(QueueUrl=uploads.url, MessageBody=notification(s3_record(QUIET, "u/a.jpg")))
    tries = []

    def buggy(uri, **kwargs):
        tries.append(uri)
        raise KeyError("a bug")

    monkeypatch.setattr(service, "submit", buggy)
    counts = ingest_s3.drain(rt, max_messages=3, wait_seconds=2)  # waits out the 1 s visibility timeout
    assert counts.kept == 1 and len(tries) == 1 and uploads.left() == 1
