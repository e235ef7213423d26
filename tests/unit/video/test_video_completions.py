"""Completion notifications: parsing both message forms, and draining an SQS queue (moto, in-process)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from moderation.infra import aws
from moderation.video import services as video, completions as video_completions
from moderation.video import models as vm
from moderation.infra.db import transaction
from tests.video_fixtures import JOB, clock, expect_start, slots, stub, submit_s3, vrt  # noqa: F401 (fixtures)

NOTIFICATION = {"JobId": JOB, "Status": "SUCCEEDED", "API": "StartContentModeration", "JobTag": "item-1",
                "Timestamp": 1_795_320_000_123, "Video": {"S3ObjectName": "in/clip.mp4", "S3Bucket": "ugc-videos"},
                "Message": ""}


def envelope(message: dict) -> str:
    return json.dumps({"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:us-east-1:"
                       "123456789012:AmazonRekognitionModq", "Message": json.dumps(message),
                       "Timestamp": "2026-11-22T10:00:00.000Z", "SignatureVersion": "1"})


@pytest.mark.parametrize("body", [json.dumps(NOTIFICATION), envelope(NOTIFICATION)], ids=["raw", "sns"])
def test_both_message_forms_parse(body):
    assert video_completions.parse(body) == video_completions.Completion(JOB, "SUCCEEDED", "item-1")


@pytest.mark.parametrize("body", ["", "not json", "[]", json.dumps({"Message": "nope"}), envelope({"Status": "x"}),
                                  json.dumps({"JobId": 7})])
def test_anything_else_is_not_a_completion(body):
    assert video_completions.parse(body) is None


def test_error_status_is_kept_for_the_log():
    assert video_completions.parse(json.dumps({**NOTIFICATION, "Status": "ERROR"})).status == "ERROR"


@pytest.fixture
def queue(vrt, make_settings):
    aws.reset_clients()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="rekognition-done")["QueueUrl"]
        vrt.settings = make_settings(provider="rekognition", video_completion_queue_url=url)
        yield sqs, url
    aws.reset_clients()


def left(sqs, url) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                   "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attrs["Attributes"].values())


def test_drain_brings_the_matching_items_poll_forward(vrt, stub, queue):
    sqs, url = queue
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)
    vrt.dispatcher.scheduled.clear()
    sqs.send_message(QueueUrl=url, MessageBody=envelope({**NOTIFICATION, "JobTag": item_id}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({**NOTIFICATION, "JobId": "someone-elses"}))
    sqs.send_message(QueueUrl=url, MessageBody="garbage")

    assert video_completions.drain(rt=vrt) == 1
    assert vrt.dispatcher.scheduled == [("poll_video", item_id, 0)]
    assert left(sqs, url) == 0  # handled, ignored and unreadable messages are all deleted
    with transaction(vrt.settings.database_url) as s:
        assert s.get(vm.VideoJob, item_id).notified_at is not None


def test_a_message_that_beats_the_start_commit_is_kept_for_later(vrt, queue):
    sqs, url = queue
    item_id = submit_s3(vrt)  # queued: Start answered but its commit is not visible yet
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({**NOTIFICATION, "JobTag": item_id}))
    assert video_completions.drain(rt=vrt) == 0
    assert vrt.dispatcher.scheduled == [] and left(sqs, url) == 1


def test_without_a_queue_url_nothing_happens(vrt):
    assert vrt.settings.video_completion_queue_url is None
    assert video_completions.drain(rt=vrt) == 0
