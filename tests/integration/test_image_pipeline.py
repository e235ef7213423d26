"""Images end to end: real Redis broker, real Celery worker, PostgreSQL, the fake
Rekognition HTTP server (via AWS_ENDPOINT_URL_REKOGNITION) and moto SNS -> SQS."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from moderation.items import services as service
from tests.conftest import jpeg_bytes, png_bytes
from tests.fakes.providers import labels_for
from tests.integration.conftest import items_by_id, wait_alerts_published, wait_for, wait_terminal

pytestmark = pytest.mark.integration
BUCKET = "ugc-uploads"


def rek_labels(name: str, confidence: float) -> list[dict]:
    return [lab.to_dict() for lab in labels_for(name, confidence)]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_images_end_as_thresholds_say_with_one_alert_each(worker, rekognition, it_runtime, alert_queue, media_dir):
    alert_queue.drain()
    cases = {  # key -> (labels, expected verdict)
        "clean.jpg": ([], "approved"),
        "beer.jpg": (rek_labels("Alcoholic Beverages", 97), "approved"),  # Alcohol: never flag
        "symbol.jpg": (rek_labels("Nazi Party", 72), "flagged"),
        "nude.jpg": (rek_labels("Exposed Female Genitalia", 98.5), "rejected"),
    }
    submitted = {}
    for key, (labels, _) in cases.items():
        s3_key = unique("s3") + "/" + key
        rekognition.add_s3_object(BUCKET, s3_key, labels=labels)
        submitted[key] = service.submit(f"s3://{BUCKET}/{s3_key}", external_id=unique(key), rt=it_runtime).item_id
    # and the bytes path: a local PNG whose content hash the fake recognises
    data = png_bytes(300, 200, (200, 10, 10))
    local_name = unique("local") + ".png"
    (media_dir / local_name).write_bytes(data)
    rekognition.set_bytes_labels(hashlib.sha256(data).hexdigest(), rek_labels("Graphic Violence", 70))
    cases[local_name] = (None, "flagged")
    submitted[local_name] = service.submit(local_name, rt=it_runtime).item_id

    rows = wait_terminal(it_runtime.settings.database_url, list(submitted.values()))
    for key, item_id in submitted.items():
        assert rows[item_id].status == cases[key][1], (key, rows[item_id].failure_reason)
        assert rows[item_id].policy_version == it_runtime.policy.version

    alerted = [submitted[k] for k, (_, verdict) in cases.items() if verdict != "approved"]
    wait_alerts_published(it_runtime.settings.database_url, alerted)
    messages = wait_for(lambda: _drain_until(alert_queue, len(alerted)), 30, message="SQS alert messages")
    by_item = {}
    for envelope in messages:
        by_item.setdefault(envelope["Message"]["item_id"], []).append(envelope)
    assert sorted(by_item) == sorted(alerted), "exactly the flagged/rejected items alerted"
    assert all(len(v) == 1 for v in by_item.values()), "one message per item"

    nude = by_item[submitted["nude.jpg"]][0]
    body = nude["Message"]
    assert body["verdict"] == "rejected" and body["media_uri"].endswith("/nude.jpg")
    assert body["top_labels"][0] == {"name": "Exposed Female Genitalia", "confidence": 98.5}
    assert body["policy_version"] == it_runtime.policy.version and body["decided_at"]
    attrs = {k: v["Value"] for k, v in nude["MessageAttributes"].items()}
    assert attrs == {"verdict": "rejected", "top_label": "Exposed Female Genitalia", "media_type": "image"}
    assert len(nude["Subject"]) < 100

    # the provider got the policy's MinConfidence and S3 media were never downloaded
    detect = [body for op, body in rekognition.requests if op == "DetectModerationLabels"]
    assert all(b["MinConfidence"] == it_runtime.policy.min_confidence for b in detect)
    assert sum("S3Object" in b["Image"] for b in detect) == 4 and sum("Bytes" in b["Image"] for b in detect) == 1


_collected: list = []


def _drain_until(queue, n: int):
    _collected.extend(queue.drain())
    if len(_collected) >= n:
        found = list(_collected)
        _collected.clear()
        return found
    return None


def test_bad_inputs_fail_clearly_and_affect_nothing_else(worker, rekognition, it_runtime, media_dir):
    rekognition.add_s3_object(BUCKET, "ok.jpg", labels=[])
    (media_dir / "text.jpg").write_text("not an image at all")
    (media_dir / "tiny.jpg").write_bytes(jpeg_bytes(40, 40))
    (media_dir / "empty.jpg").write_bytes(b"")
    ids = {
        "missing-s3": service.submit(f"s3://{BUCKET}/{unique('nope')}.jpg", rt=it_runtime).item_id,
        "text": service.submit("text.jpg", external_id=unique("t"), rt=it_runtime).item_id,
        "tiny": service.submit("tiny.jpg", external_id=unique("t"), rt=it_runtime).item_id,
        "empty": service.submit("empty.jpg", external_id=unique("t"), rt=it_runtime).item_id,
        "good": service.submit(f"s3://{BUCKET}/ok.jpg", external_id=unique("ok"), rt=it_runtime).item_id,
    }
    rows = wait_terminal(it_runtime.settings.database_url, list(ids.values()))
    expected = {
        "missing-s3": "does not exist",  # found by the HeadObject that pins its ETag, before any call
        "text": "not a supported image: content starts with text",
        "tiny": "each side must be at least 80 px",
        "empty": "file is empty",
    }
    for key, reason in expected.items():
        row = rows[ids[key]]
        assert row.status == "failed" and reason in row.failure_reason, (key, row.failure_reason)
    assert rows[ids["good"]].status == "approved"
    assert rekognition.calls["DetectModerationLabels"] == 1  # only the good one reached the provider


def test_throttling_is_retried_until_decided(worker, rekognition, it_runtime):
    rekognition.add_s3_object(BUCKET, "busy.jpg", labels=rek_labels("Nazi Party", 72))
    rekognition.throttle_ratio = 1.0
    item_id = service.submit(f"s3://{BUCKET}/busy.jpg", external_id=unique("busy"), rt=it_runtime).item_id
    # botocore's own retries (2 attempts) and at least one deferral of the task happen while throttled
    wait_for(lambda: rekognition.throttled >= 3, 30, message="throttled calls")
    rekognition.throttle_ratio = 0.0
    row = wait_terminal(it_runtime.settings.database_url, [item_id])[item_id]
    assert row.status == "flagged" and row.attempts == 1  # the deferrals gave their attempts back


def test_persistent_throttling_never_fails_the_item(worker, rekognition, it_runtime):
    """Throttling is not the item's fault: it retries past MODQ_MAX_ATTEMPTS (README "What modq guarantees")."""
    rekognition.add_s3_object(BUCKET, "always-busy.jpg", labels=[])
    rekognition.throttle_ratio = 1.0
    item_id = service.submit(f"s3://{BUCKET}/always-busy.jpg", external_id=unique("busy"), rt=it_runtime).item_id
    url = it_runtime.settings.database_url
    # MODQ_MAX_ATTEMPTS=3 deliveries of MODQ_AWS_MAX_ATTEMPTS=2 calls each would make 6 throttled calls.
    wait_for(lambda: rekognition.throttled > 3 * 2 + 2, 60, message="more tries than MODQ_MAX_ATTEMPTS")
    row = items_by_id(url, [item_id])[item_id]
    assert row.status == "processing" and row.attempts <= 1  # a deferral gives its attempt back
    rekognition.throttle_ratio = 0.0
    row = wait_terminal(url, [item_id])[item_id]
    assert row.status == "approved" and row.failure_reason is None and row.attempts == 1


def test_access_denied_fails_and_alerts(worker, rekognition, it_runtime, alert_queue):
    alert_queue.drain()
    rekognition.add_s3_object(BUCKET, "denied.jpg", labels=[])
    rekognition.access_denied = True
    item_id = service.submit(f"s3://{BUCKET}/denied.jpg", external_id=unique("denied"), rt=it_runtime).item_id
    row = wait_terminal(it_runtime.settings.database_url, [item_id])[item_id]
    assert row.status == "failed" and "AccessDeniedException" in row.failure_reason
    assert rekognition.calls["DetectModerationLabels"] == 1  # a deployment fault is not retried
    wait_alerts_published(it_runtime.settings.database_url, [item_id])
    (msg,) = wait_for(lambda: alert_queue.drain(), 30, message="the deployment alert")
    assert msg["Message"]["kind"] == "deployment" and msg["Message"]["item_id"] == item_id
