"""S3 uploads end to end: an object put into a moto bucket notifies an SQS queue (moto server);
a real Celery worker with embedded beat drains it (modq.ingest_s3_events), moderates the item
through the fake Rekognition server and records the decision in PostgreSQL. Nothing else is called."""

from __future__ import annotations

import hashlib
import json
import uuid

import boto3
import pytest
from sqlalchemy import func, select

from moderation.items import models as m
from moderation.infra.db import transaction
from moderation.items.ingest.models import IngestReject
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for
from tests.integration.conftest import WorkerProcess, wait_for
from tests.s3_event_shapes import notification, s3_record

pytestmark = pytest.mark.integration
# Keys S3 encodes in its notifications ("+", %2B, %XX of UTF-8): each must reach Rekognition unchanged.
KEYS = ["u/plain.jpg", "u/with space.jpg", "u/c++ (1) copy.jpg", "u/café 写真.jpg", "u/100% q?x#y.jpg"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Uploads:
    """A moto bucket and the SQS queue its ObjectCreated notifications go to (moto server, as the worker sees it).

    Register objects with the fake Rekognition *before* ``notify``: it may put a placeholder object of its own
    into moto, and that upload must not be an event of the test.
    """

    def __init__(self, endpoint: str):
        kw = {"endpoint_url": endpoint, "region_name": "us-east-1"}
        self.s3, self.sqs = boto3.client("s3", **kw), boto3.client("sqs", **kw)
        self.sns, self.events = boto3.client("sns", **kw), boto3.client("events", **kw)
        self.bucket = unique("ugc-uploads")
        self.url = self.sqs.create_queue(QueueName=unique("modq-uploads"))["QueueUrl"]
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]
        self.arn = attrs["QueueArn"]
        self.s3.create_bucket(Bucket=self.bucket)

    def notify(self) -> None:
        self.s3.put_bucket_notification_configuration(Bucket=self.bucket, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": self.arn, "Events": ["s3:ObjectCreated:*"]}]})

    def left(self) -> int:
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return sum(int(v) for v in attrs.values())


@pytest.fixture
def uploads(moto_endpoint) -> Uploads:
    return Uploads(moto_endpoint)


@pytest.fixture
def ingest_worker(worker_env, uploads, tmp_path):
    """A worker on images, alerts and maintenance with beat draining the uploads queue every half second."""
    env = {**worker_env, "MODQ_S3_EVENTS_QUEUE_URL": uploads.url, "MODQ_S3_EVENTS_INTERVAL_SECONDS": "0.5",
           "MODQ_S3_EVENTS_WAIT_SECONDS": "0"}
    proc = WorkerProcess(env, tmp_path / "worker.log", queues="images,alerts,maintenance",
                         extra_args=["-B", "-s", str(tmp_path / "beat-schedule")])
    yield proc
    proc.stop()


def items_in(database_url: str, bucket: str) -> dict[str, m.Item]:
    """The bucket's items by object key."""
    with transaction(database_url) as s:
        rows = s.scalars(select(m.Item).where(m.Item.media_uri.like(f"s3://{bucket}/%")))
        return {i.item_metadata["key"]: i for i in rows}


def wait_decided(database_url: str, bucket: str, count: int, timeout: float = 60) -> dict[str, m.Item]:
    def done():
        rows = items_in(database_url, bucket)
        return rows if len(rows) == count and all(i.status in m.TERMINAL for i in rows.values()) else None

    return wait_for(done, timeout, message=f"{count} items from s3://{bucket} to be decided")


def detect_keys(rekognition, bucket: str) -> list[str]:
    return [b["Image"]["S3Object"]["Name"] for op, b in rekognition.requests
            if op == "DetectModerationLabels" and b["Image"].get("S3Object", {}).get("Bucket") == bucket]


def test_an_upload_becomes_a_decided_item_and_a_redelivery_adds_nothing(ingest_worker, uploads, rekognition,
                                                                          it_settings):
    flagged = [lab.to_dict() for lab in labels_for("Nazi Party", 72)]
    for key in KEYS:
        rekognition.add_s3_object(uploads.bucket, key, labels=flagged if key == "u/c++ (1) copy.jpg" else [])
    uploads.notify()
    bodies = {key: jpeg_bytes(color=(i * 40, 90, 200)) for i, key in enumerate(KEYS)}
    for key, body in bodies.items():
        uploads.s3.put_object(Bucket=uploads.bucket, Key=key, Body=body)  # the only call modq hears of

    rows = wait_decided(it_settings.database_url, uploads.bucket, len(KEYS))

    assert {k: r.status for k, r in rows.items()} == {k: "flagged" if k == "u/c++ (1) copy.jpg" else "approved"
                                                      for k in KEYS}, {k: r.failure_reason for k, r in rows.items()}
    assert sorted(detect_keys(rekognition, uploads.bucket)) == sorted(KEYS), rekognition.requests  # once each
    assert all(r.external_id.startswith("s3:") and r.item_metadata["size"] == len(bodies[k]) for k, r in rows.items())
    wait_for(lambda: uploads.left() == 0, 30, message="the queue to be empty")

    # SQS redelivers: the same notification again (moto's shape: eTag, no sequencer) creates nothing
    key = "u/with space.jpg"
    again = s3_record(uploads.bucket, key, etag=hashlib.md5(bodies[key]).hexdigest(), sequencer="",
                      size=len(bodies[key]))
    uploads.sqs.send_message(QueueUrl=uploads.url, MessageBody=notification(again))
    wait_for(lambda: uploads.left() == 0, 30, message="the redelivered message to be handled")
    assert len(items_in(it_settings.database_url, uploads.bucket)) == len(KEYS)
    assert len(detect_keys(rekognition, uploads.bucket)) == len(KEYS)


def test_sns_wrapped_and_eventbridge_events_and_a_bad_record_beside_a_good_one(ingest_worker, uploads, rekognition,
                                                                               it_settings):
    via_sns, via_eb = unique("ugc-via-sns"), unique("ugc-via-eb")
    for bucket in (via_sns, via_eb):
        uploads.s3.create_bucket(Bucket=bucket)
        rekognition.add_s3_object(bucket, "u/a b+c.jpg", labels=[])
    rekognition.add_s3_object(uploads.bucket, "u/good.jpg", labels=[])
    # an SNS topic between the bucket and the queue (no raw delivery: the SNS envelope)
    topic = uploads.sns.create_topic(Name=unique("modq-uploads"))["TopicArn"]
    uploads.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=uploads.arn)
    uploads.s3.put_bucket_notification_configuration(Bucket=via_sns, NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]})
    # EventBridge: the bucket sends all its events to the default bus; a rule routes Object Created here
    uploads.s3.put_bucket_notification_configuration(Bucket=via_eb, NotificationConfiguration={
        "EventBridgeConfiguration": {}})
    rule = unique("modq-uploads")
    uploads.events.put_rule(Name=rule, EventPattern=json.dumps({
        "source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"bucket": {"name": [via_eb]}}}))
    uploads.events.put_targets(Rule=rule, Targets=[{"Id": "modq", "Arn": uploads.arn}])
    for bucket in (via_sns, via_eb):
        uploads.s3.put_object(Bucket=bucket, Key="u/a b+c.jpg", Body=jpeg_bytes())
    # and a message whose second record is malformed (this bucket does not notify: the test writes the event)
    uploads.s3.put_object(Bucket=uploads.bucket, Key="u/good.jpg", Body=jpeg_bytes())
    bad = {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": uploads.bucket}}}
    uploads.sqs.send_message(QueueUrl=uploads.url, MessageBody=notification(
        s3_record(uploads.bucket, "u/good.jpg"), bad))

    for bucket, via in ((via_sns, "sns"), (via_eb, "eventbridge")):
        [(key, item)] = wait_decided(it_settings.database_url, bucket, 1).items()
        assert (key, item.status, item.item_metadata["via"]) == ("u/a b+c.jpg", "approved", via)
    [(key, item)] = wait_decided(it_settings.database_url, uploads.bucket, 1).items()
    assert (key, item.status) == ("u/good.jpg", "approved")
    with transaction(it_settings.database_url) as s:
        reject = s.scalar(select(IngestReject).where(IngestReject.queue_url == uploads.url))
        assert reject.record_index == 1 and reject.reason == "s3.object is missing or not an object"
        assert json.loads(reject.raw) == bad
        mine = select(func.count()).select_from(IngestReject).where(IngestReject.queue_url == uploads.url)
        assert s.scalar(mine) == 1
    wait_for(lambda: uploads.left() == 0, 30, message="the queue to be empty")
