"""S3 upload events in the exact formats AWS delivers them to an SQS queue.

Field names and nesting follow the S3 user guide ("Event message structure",
event version 2.1; "EventBridge event message structure"). moto emits a
subset of these (no sequencer, versionId, userIdentity or requestParameters
in notifications; a fixed sequencer in EventBridge events), so tests that
need the full shape build it here.
"""

from __future__ import annotations

import json
from urllib.parse import quote_plus

SQS_ARN = "arn:aws:sqs:us-east-1:123456789012:modq-uploads"


def encode_key(key: str) -> str:
    """How S3 writes a key into a notification: form encoding (space -> "+", "+" -> %2B), "/" kept."""
    return quote_plus(key, safe="/")


def s3_record(bucket: str, key: str, *, raw_key: str | None = None, event: str = "ObjectCreated:Put",
              size: int | None = 1024, etag: str = "d41d8cd98f00b204e9800998ecf8427e", version: str | None = None,
              sequencer: str = "0055AED6DCD90281E5") -> dict:
    obj = {"key": raw_key if raw_key is not None else encode_key(key), "eTag": etag, "sequencer": sequencer}
    if size is not None:
        obj["size"] = size
    if version is not None:
        obj["versionId"] = version
    return {
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-22T07:00:00.000Z", "eventName": event,
        "userIdentity": {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.9"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810",
                             "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "modq-uploads",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKEXAMPLE"},
                          "arn": f"arn:aws:s3:::{bucket}"},
               "object": obj},
    }


def notification(*records: dict) -> str:
    """The SQS body S3 sends straight to a queue (or SNS with raw message delivery)."""
    return json.dumps({"Records": list(records)})


def sns_envelope(message: str, topic: str = "arn:aws:sns:us-east-1:123456789012:modq-uploads") -> str:
    """The SQS body when S3 notifies an SNS topic and the queue subscribes without raw delivery."""
    return json.dumps({"Type": "Notification", "MessageId": "6b3e0f2d-2b44-5d43-9a53-6b2f5bd6a2a1",
                       "TopicArn": topic, "Subject": "Amazon S3 Notification", "Message": message,
                       "Timestamp": "2026-11-22T07:00:00.123Z", "SignatureVersion": "1",
                       "Signature": "EXAMPLE", "SigningCertURL": "https://sns.us-east-1.amazonaws.com/x.pem",
                       "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"})


def eventbridge(bucket: str, key: str, *, detail_type: str = "Object Created", size: int = 1024,
                version: str | None = "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e", sequencer: str = "617f08299329d189",
                reason: str = "PutObject") -> str:
    """An EventBridge event for S3 as a rule with an SQS target delivers it (the key is not encoded)."""
    obj = {"key": key, "size": size, "etag": "b1946ac92492d2347c6235b4d2611184", "sequencer": sequencer}
    if version is not None:
        obj["version-id"] = version
    return json.dumps({
        "version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": detail_type,
        "source": "aws.s3", "account": "123456789012", "time": "2026-11-22T07:00:00Z", "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {"version": "0", "bucket": {"name": bucket}, "object": obj, "request-id": "N4N7GDK58NMKJ12R",
                   "requester": "123456789012", "source-ip-address": "203.0.113.9", "reason": reason},
    })


def s3_test_event(bucket: str) -> str:
    """What S3 sends once when a notification configuration is saved."""
    return json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-22T07:00:00.000Z",
                       "Bucket": bucket, "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3"})
