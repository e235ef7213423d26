"""Tests of the test infrastructure: the fake Rekognition endpoint, driven by a REAL boto3 client."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import botocore.retries.standard
import pytest
from botocore.config import Config

from tests.fakes.rekognition_server import FakeRekognition
from tests.fakes.rekognition_state import MODELED_ERROR_CODES

REPO = Path(__file__).resolve().parents[2]
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"j" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"p" * 200
BUCKET = "modq-media"


def label(name, confidence, parent="", level=None):
    return {"Name": name, "ParentName": parent, "TaxonomyLevel": level or (2 if parent else 1), "Confidence": confidence}


def detection(ts, name, confidence, **extra):
    return {"Timestamp": ts, **label(name, confidence), **extra}


def s3(key):
    return {"S3Object": {"Bucket": BUCKET, "Name": key}}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def server():
    with FakeRekognition() as fake:
        yield fake


@pytest.fixture
def fake(server):
    server.reset()
    yield server
    assert server.shape_errors == []
    assert server.callback_errors == []
    server.reset()


def make_client(fake, retries=None):
    """A real client; by default it makes ONE attempt so tests see raw errors.

    Careful: in ``Config(retries=...)`` the key ``max_attempts`` counts RETRIES (botocore adds one),
    ``total_max_attempts`` counts attempts; AWS_MAX_ATTEMPTS / the config file count attempts.
    """
    return boto3.client(
        "rekognition",
        region_name="us-east-1",
        endpoint_url=fake.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries=retries or {"mode": "standard", "total_max_attempts": 1}, connect_timeout=2, read_timeout=10),
    )


@pytest.fixture
def client(fake):
    return make_client(fake)


@pytest.fixture
def no_backoff(monkeypatch):
    """Keep botocore's retries but skip their sleeps (up to 3 s for throttling)."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)


def error_of(excinfo):
    err = excinfo.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


# --------------------------------------------------------------------------- images
def test_s3_labels_use_default_min_confidence_50(fake, client):
    fake.add_s3_object(BUCKET, "a.jpg", labels=[
        label("Explicit", 99.5), label("Explicit Nudity", 99.5, "Explicit"), label("Alcohol", 50.0), label("Gambling", 49.9),
    ])
    resp = client.detect_moderation_labels(Image=s3("a.jpg"))
    assert [x["Name"] for x in resp["ModerationLabels"]] == ["Explicit", "Explicit Nudity", "Alcohol"]
    assert resp["ModerationLabels"][1] == label("Explicit Nudity", 99.5, "Explicit")
    assert resp["ModerationModelVersion"] == "7.0"
    assert resp["ContentTypes"] == []
    assert fake.requests == [("DetectModerationLabels", {"Image": s3("a.jpg")})]
    assert fake.calls["DetectModerationLabels"] == fake.accepted_calls["DetectModerationLabels"] == 1


def test_min_confidence_filters(fake, client):
    fake.add_s3_object(BUCKET, "a.jpg", labels=[label("Violence", 80.0), label("Weapons", 65.0, "Violence"), label("Alcohol", 10.0)])
    def names(**kw):
        return [x["Name"] for x in client.detect_moderation_labels(Image=s3("a.jpg"), **kw)["ModerationLabels"]]

    assert names(MinConfidence=70) == ["Violence"]
    assert names(MinConfidence=65) == ["Violence", "Weapons"]
    assert names(MinConfidence=0) == ["Violence", "Weapons", "Alcohol"]
    assert names(MinConfidence=100) == []


def test_bytes_matched_by_sha256_else_default_labels(fake, client):
    fake.set_bytes_labels(hashlib.sha256(JPEG).hexdigest(), [label("Hate Symbols", 97.0)])
    assert client.detect_moderation_labels(Image={"Bytes": JPEG})["ModerationLabels"] == [label("Hate Symbols", 97.0)]
    assert client.detect_moderation_labels(Image={"Bytes": PNG})["ModerationLabels"] == []
    fake.default_labels = [label("Rude Gestures", 88.0), label("Gambling", 20.0)]
    assert client.detect_moderation_labels(Image={"Bytes": PNG})["ModerationLabels"] == [label("Rude Gestures", 88.0)]
    fake.set_bytes_labels(hashlib.sha256(PNG).hexdigest(), [], error="ImageTooLargeException")
    with pytest.raises(client.exceptions.ImageTooLargeException):
        client.detect_moderation_labels(Image={"Bytes": PNG})


def test_endpoint_from_environment_variable(fake, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_REKOGNITION", fake.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    fake.add_s3_object(BUCKET, "a.jpg", labels=[label("Explicit", 90.0)])
    client = boto3.client("rekognition", region_name="us-east-1")
    assert client.detect_moderation_labels(Image=s3("a.jpg"))["ModerationLabels"][0]["Name"] == "Explicit"
    assert fake.calls["DetectModerationLabels"] == 1


@pytest.mark.parametrize(
    ("image", "extra", "code"),
    [
        ({"Bytes": JPEG}, {"MinConfidence": 100.5}, "InvalidParameterException"),
        ({"Bytes": b"\xff\xd8\xff" + b"0" * (5_242_880 - 2)}, {}, "ImageTooLargeException"),
        ({"Bytes": b"GIF89a" + b"0" * 100}, {}, "InvalidImageFormatException"),
        ({"Bytes": JPEG, "S3Object": {"Bucket": BUCKET, "Name": "a.jpg"}}, {}, "InvalidParameterException"),
        (s3("never-registered.jpg"), {}, "InvalidS3ObjectException"),
        (s3("clip.mp4"), {}, "InvalidImageFormatException"),
    ],
    ids=["min-confidence", "too-large", "gif", "bytes-and-s3", "unregistered", "video-object"],
)
def test_request_validation_botocore_skips(fake, client, image, extra, code):
    fake.add_s3_object(BUCKET, "a.jpg", labels=[label("Explicit", 99.0)])
    fake.add_s3_object(BUCKET, "clip.mp4", kind="video")
    with pytest.raises(getattr(client.exceptions, code)) as excinfo:
        client.detect_moderation_labels(Image=image, **extra)
    assert error_of(excinfo) == (code, 400)
    assert fake.errors == {code: 1} and not fake.accepted_calls


def test_largest_allowed_bytes_accepted(fake, client):
    resp = client.detect_moderation_labels(Image={"Bytes": b"\xff\xd8\xff" + b"0" * (5_242_880 - 3)})
    assert resp["ModerationLabels"] == []


@pytest.mark.parametrize("code", sorted(MODELED_ERROR_CODES))
def test_scenario_error_maps_to_client_exception(fake, client, code):
    fake.add_s3_object(BUCKET, "bad.jpg", error=code)
    with pytest.raises(getattr(client.exceptions, code)) as excinfo:
        client.detect_moderation_labels(Image=s3("bad.jpg"))
    assert error_of(excinfo) == (code, 500 if code == "InternalServerError" else 400)


def test_misspelled_error_code_rejected(fake):
    with pytest.raises(ValueError, match="AccessDenied"):
        fake.add_s3_object(BUCKET, "x.jpg", error="AccessDenied")


def test_access_denied_for_every_operation(fake, client):
    fake.add_s3_object(BUCKET, "a.jpg", labels=[label("Explicit", 99.0)])
    fake.add_s3_object(BUCKET, "v.mp4", kind="video")
    fake.access_denied = True
    calls = [
        lambda: client.detect_moderation_labels(Image=s3("a.jpg")),
        lambda: client.start_content_moderation(Video=s3("v.mp4")),
        lambda: client.get_content_moderation(JobId="whatever"),
    ]
    for call in calls:
        with pytest.raises(client.exceptions.AccessDeniedException):
            call()
    assert fake.errors == {"AccessDeniedException": 3} and fake.jobs == {}


# --------------------------------------------------------------------- fault injection
@pytest.mark.parametrize(
    ("attr", "code", "status", "counter"),
    [("throttle_ratio", "ThrottlingException", 400, "throttled"), ("server_error_ratio", "InternalServerError", 500, "server_errors")],
)
def test_retryable_faults_retried_exactly_three_times(fake, no_backoff, monkeypatch, attr, code, status, counter):
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    fake.add_s3_object(BUCKET, "a.jpg", labels=[label("Explicit", 99.0)])
    setattr(fake, attr, 1.0)
    client = make_client(fake, retries={"mode": "standard"})  # standard default: 3 attempts in total
    with pytest.raises(getattr(client.exceptions, code)) as excinfo:
        client.detect_moderation_labels(Image=s3("a.jpg"))
    assert error_of(excinfo) == (code, status)
    assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    assert fake.calls["DetectModerationLabels"] == 3
    assert getattr(fake, counter) == 3 and not fake.accepted_calls
    setattr(fake, attr, 0.0)
    assert client.detect_moderation_labels(Image=s3("a.jpg"))["ModerationLabels"]
    assert fake.calls["DetectModerationLabels"] == 4


@pytest.mark.parametrize(
    ("retries", "attempts"),
    [
        ({"mode": "standard", "total_max_attempts": 3}, 3),
        ({"mode": "standard", "max_attempts": 3}, 4),  # max_attempts in Config = retries, not attempts
        ({"mode": "standard", "total_max_attempts": 1}, 1),
    ],
)
def test_retry_config_attempt_counts(fake, no_backoff, monkeypatch, retries, attempts):
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    fake.add_s3_object(BUCKET, "a.jpg")
    fake.quota_tps = 0  # every call: ProvisionedThroughputExceededException, which botocore retries
    client = make_client(fake, retries=retries)
    with pytest.raises(client.exceptions.ProvisionedThroughputExceededException):
        client.detect_moderation_labels(Image=s3("a.jpg"))
    assert fake.calls["DetectModerationLabels"] == fake.throttled == attempts


def test_fault_ratios_are_reproducible_with_seed(fake, client):
    fake.add_s3_object(BUCKET, "a.jpg")
    fake.throttle_ratio, fake.server_error_ratio = 0.3, 0.2

    def outcomes():
        result = []
        for _ in range(30):
            try:
                client.detect_moderation_labels(Image=s3("a.jpg"))
                result.append("ok")
            except client.exceptions.ClientError as exc:
                result.append(exc.response["Error"]["Code"])
        return result

    fake.seed = 1234
    first = outcomes()
    fake.seed = 1234
    assert outcomes() == first
    assert {"ok", "ThrottlingException", "InternalServerError"} == set(first)
    assert fake.throttled == 2 * first.count("ThrottlingException")


def test_quota_tps_sliding_window_per_operation(fake, client):
    clock = fake.clock = FakeClock()
    fake.add_s3_object(BUCKET, "a.jpg")
    fake.quota_tps = 3

    def detect():
        try:
            client.detect_moderation_labels(Image=s3("a.jpg"))
            return "ok"
        except client.exceptions.ProvisionedThroughputExceededException:
            return "PTE"

    assert [detect() for _ in range(5)] == ["ok", "ok", "ok", "PTE", "PTE"]
    with pytest.raises(client.exceptions.ResourceNotFoundException):  # other operation: own window
        client.get_content_moderation(JobId="nope")
    clock.now += 0.999
    assert detect() == "PTE"
    clock.now += 0.002
    assert [detect() for _ in range(4)] == ["ok", "ok", "ok", "PTE"]
    assert fake.throttled == fake.errors["ProvisionedThroughputExceededException"] == 4
    assert fake.accepted_calls["DetectModerationLabels"] == 6


def test_quota_tps_under_concurrency(fake, client):
    fake.add_s3_object(BUCKET, "a.jpg")
    fake.quota_tps = 5
    # A frozen clock: on a loaded machine ten threads can straddle a real second,
    # which would open a new window and make the expected split a matter of luck.
    fake.clock = lambda: 1000.0
    results = []
    lock = threading.Lock()

    def detect():
        try:
            client.detect_moderation_labels(Image=s3("a.jpg"))
            outcome = "ok"
        except client.exceptions.ProvisionedThroughputExceededException:
            outcome = "PTE"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=detect) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["PTE"] * 5 + ["ok"] * 5


def test_latency_and_concurrent_requests(fake, client):
    fake.add_s3_object(BUCKET, "a.jpg", labels=[label("Explicit", 99.0)])
    fake.latency_s = 0.3
    threads = [threading.Thread(target=client.detect_moderation_labels, kwargs={"Image": s3("a.jpg")}) for _ in range(6)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 1.2, elapsed  # served in parallel, each delayed
    assert fake.max_concurrent_requests == 6
    assert fake.accepted_calls["DetectModerationLabels"] == 6


def test_shape_errors_are_caught_and_recorded(fake, client):
    fake.add_s3_object(BUCKET, "bad.jpg", labels=[label("Explicit", 150.0)])
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.detect_moderation_labels(Image=s3("bad.jpg"))
    assert error_of(excinfo) == ("FakeServerShapeError", 500)
    assert len(fake.shape_errors) == 1 and "outside 0..100" in fake.shape_errors[0]
    fake.shape_errors.clear()  # the fixture asserts it is empty


def test_reset_forgets_everything(fake, client):
    fake.add_s3_object(BUCKET, "a.jpg")
    fake.latency_s, fake.quota_tps, fake.access_denied = 1.0, 0, True
    fake.calls["x"] += 1
    fake.reset()
    assert (fake.s3_objects, fake.latency_s, fake.quota_tps, fake.access_denied, fake.calls) == ({}, 0.0, None, False, {})
    with pytest.raises(client.exceptions.InvalidS3ObjectException):
        client.detect_moderation_labels(Image=s3("a.jpg"))


# ----------------------------------------------------------------------------- video
def test_video_job_in_progress_then_paginated_sorted(fake, client):
    timeline = [detection(ts, name, conf) for ts, name, conf in [
        (9000, "Violence", 91.0), (1000, "Explicit", 99.0), (5000, "Alcohol", 40.0), (3000, "Weapons", 75.0),
        (7000, "Drugs & Tobacco", 66.0), (2000, "Explicit Nudity", 98.0), (4000, "Gambling", 59.9),
    ]]
    timeline.append(detection(8000, "Explosions and Blasts", 80.0, StartTimestampMillis=8000, EndTimestampMillis=8500, DurationMillis=500))
    fake.add_s3_object(BUCKET, "clip.mp4", kind="video", labels=timeline)
    fake.job_polls_in_progress = 2
    finished = []
    fake.on_job_complete = finished.append
    job_id = client.start_content_moderation(Video=s3("clip.mp4"), MinConfidence=60, JobTag="upload-42")["JobId"]

    for polls in range(2):
        assert finished == []
        resp = client.get_content_moderation(JobId=job_id, MaxResults=3)
        assert resp["JobStatus"] == "IN_PROGRESS" and "ModerationLabels" not in resp and "NextToken" not in resp
    assert len(finished) == 1 and fake.max_concurrent_jobs_seen == 1  # notified with the 2nd IN_PROGRESS answer

    pages, token = [], None
    while True:
        resp = client.get_content_moderation(JobId=job_id, MaxResults=3, **({"NextToken": token} if token else {}))
        assert resp["JobStatus"] == "SUCCEEDED"
        assert (resp["JobId"], resp["JobTag"], resp["Video"], resp["ModerationModelVersion"]) == (job_id, "upload-42", s3("clip.mp4"), "7.0")
        assert resp["GetRequestMetadata"] == {"SortBy": "TIMESTAMP", "AggregateBy": "TIMESTAMPS"}
        assert resp["VideoMetadata"]["DurationMillis"] >= 9000
        pages.append(resp["ModerationLabels"])
        token = resp.get("NextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [3, 3]
    items = [d for p in pages for d in p]
    assert [d["Timestamp"] for d in items] == [1000, 2000, 3000, 7000, 8000, 9000]
    assert items[0] == {"Timestamp": 1000, "ModerationLabel": label("Explicit", 99.0), "ContentTypes": []}
    assert items[4]["StartTimestampMillis"] == 8000 and items[4]["DurationMillis"] == 500
    assert len(finished) == 1 and finished[0]["JobId"] == job_id and finished[0]["JobStatus"] == "SUCCEEDED"
    message = fake.completion_message(job_id)
    assert set(message) == {"JobId", "Status", "API", "JobTag", "Timestamp", "Video"}
    assert (message["Status"], message["JobTag"], message["Video"]) == ("SUCCEEDED", "upload-42", {"S3ObjectName": "clip.mp4", "S3Bucket": BUCKET})
    assert abs(message["Timestamp"] - time.time() * 1000) < 60_000
    assert fake.calls["GetContentModeration"] == 4


def test_video_max_results_capped_at_1000_and_sort_by_name(fake, client):
    fake.add_s3_object(BUCKET, "long.mp4", kind="video", labels=[detection(i * 10, "Violence", 70.0) for i in range(1005)]
                       + [detection(5, "Alcohol", 60.0), detection(1, "Alcohol", 90.0)])
    job_id = client.start_content_moderation(Video=s3("long.mp4"))["JobId"]
    first = client.get_content_moderation(JobId=job_id, MaxResults=5000)
    assert len(first["ModerationLabels"]) == 1000 and first["NextToken"]
    rest = client.get_content_moderation(JobId=job_id, NextToken=first["NextToken"])
    assert len(rest["ModerationLabels"]) == 7 and "NextToken" not in rest
    by_name = client.get_content_moderation(JobId=job_id, SortBy="NAME", MaxResults=3)["ModerationLabels"]
    assert [(d["ModerationLabel"]["Name"], d["Timestamp"]) for d in by_name] == [("Alcohol", 1), ("Alcohol", 5), ("Violence", 0)]


def test_client_request_token_idempotency(fake, client):
    fake.add_s3_object(BUCKET, "clip.mp4", kind="video")
    first = client.start_content_moderation(Video=s3("clip.mp4"), ClientRequestToken="upload-42", JobTag="t")["JobId"]
    again = client.start_content_moderation(Video=s3("clip.mp4"), ClientRequestToken="upload-42", JobTag="t")["JobId"]
    assert again == first and list(fake.jobs) == [first]
    with pytest.raises(client.exceptions.IdempotentParameterMismatchException):
        client.start_content_moderation(Video=s3("clip.mp4"), ClientRequestToken="upload-42", JobTag="t", MinConfidence=80)
    other = client.start_content_moderation(Video=s3("clip.mp4"), ClientRequestToken="upload-43", JobTag="t")["JobId"]
    assert other != first and len(fake.jobs) == 2


def test_limit_exceeded_past_max_concurrent_jobs(fake, client):
    fake.add_s3_object(BUCKET, "clip.mp4", kind="video")
    fake.max_concurrent_jobs, fake.job_polls_in_progress = 3, 1
    jobs = [client.start_content_moderation(Video=s3("clip.mp4"))["JobId"] for _ in range(3)]
    with pytest.raises(client.exceptions.LimitExceededException) as excinfo:
        client.start_content_moderation(Video=s3("clip.mp4"))
    assert error_of(excinfo) == ("LimitExceededException", 400)
    assert fake.max_concurrent_jobs_seen == 3 and len(fake.jobs) == 3
    assert fake.complete_job(jobs[0])["JobStatus"] == "SUCCEEDED"
    assert client.get_content_moderation(JobId=jobs[0])["JobStatus"] == "SUCCEEDED"
    client.start_content_moderation(Video=s3("clip.mp4"))
    assert fake.max_concurrent_jobs_seen == 3 and fake.in_progress_jobs() == 3


def test_failed_job_has_status_message(fake, client):
    fake.add_s3_object(BUCKET, "broken.mp4", kind="video", labels=[detection(0, "Explicit", 99.0)], fail_job="Unsupported codec")
    finished = []
    fake.on_job_complete = finished.append
    job_id = client.start_content_moderation(Video=s3("broken.mp4"))["JobId"]
    resp = client.get_content_moderation(JobId=job_id)
    assert (resp["JobStatus"], resp["StatusMessage"]) == ("FAILED", "Unsupported codec")
    assert "ModerationLabels" not in resp
    assert [j["JobStatus"] for j in finished] == ["FAILED"]
    assert fake.completion_message(job_id)["Status"] == "FAILED"


@pytest.mark.parametrize(
    ("key", "code"),
    [("missing.mp4", "InvalidS3ObjectException"), ("photo.jpg", "InvalidS3ObjectException"), ("huge.mp4", "VideoTooLargeException")],
)
def test_start_rejects_bad_video_objects(fake, client, key, code):
    fake.add_s3_object(BUCKET, "photo.jpg", labels=[label("Explicit", 99.0)])
    fake.add_s3_object(BUCKET, "huge.mp4", kind="video", error="VideoTooLargeException")
    with pytest.raises(getattr(client.exceptions, code)):
        client.start_content_moderation(Video=s3(key))
    assert fake.jobs == {}


def test_bad_next_token_and_unknown_job(fake, client):
    fake.add_s3_object(BUCKET, "clip.mp4", kind="video", labels=[detection(t, "Violence", 90.0) for t in range(4)])
    job_a = client.start_content_moderation(Video=s3("clip.mp4"))["JobId"]
    job_b = client.start_content_moderation(Video=s3("clip.mp4"))["JobId"]
    token_a = client.get_content_moderation(JobId=job_a, MaxResults=1)["NextToken"]
    for job_id, token in [(job_a, "garbled!!"), (job_a, token_a[:-1]), (job_b, token_a)]:
        with pytest.raises(client.exceptions.InvalidPaginationTokenException):
            client.get_content_moderation(JobId=job_id, NextToken=token)
    assert client.get_content_moderation(JobId=job_a, NextToken=token_a, MaxResults=1)["ModerationLabels"][0]["Timestamp"] == 1
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_content_moderation(JobId="0" * 32)


def test_job_duration_finishes_without_polling(fake, client):
    clock = fake.clock = FakeClock()
    fake.add_s3_object(BUCKET, "clip.mp4", kind="video")
    fake.job_duration_s = 30.0
    done = threading.Event()
    fake.on_job_complete = lambda job: done.set()
    job_id = client.start_content_moderation(Video=s3("clip.mp4"))["JobId"]
    clock.now += 29.9
    assert not done.wait(0.1)
    assert client.get_content_moderation(JobId=job_id)["JobStatus"] == "IN_PROGRESS"
    clock.now += 0.1
    assert done.wait(2), "the ticker thread should finish the job and call on_job_complete"
    assert client.get_content_moderation(JobId=job_id)["JobStatus"] == "SUCCEEDED"
    with pytest.raises(ValueError):
        fake.completion_message(client.start_content_moderation(Video=s3("clip.mp4"))["JobId"])


def test_completion_message_via_moto_sqs(fake, client):
    from moto import mock_aws

    fake.add_s3_object(BUCKET, "clip.mp4", kind="video")
    fake.job_polls_in_progress = 1
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        queue_url = sqs.create_queue(QueueName="rekognition-done")["QueueUrl"]
        fake.on_job_complete = lambda job: sqs.send_message(
            QueueUrl=queue_url, MessageBody=json.dumps({"Type": "Notification", "Message": json.dumps(fake.completion_message(job["JobId"]))})
        )
        job_id = client.start_content_moderation(Video=s3("clip.mp4"), JobTag="abc")["JobId"]  # passes through moto
        assert "Messages" not in sqs.receive_message(QueueUrl=queue_url)
        assert client.get_content_moderation(JobId=job_id)["JobStatus"] == "IN_PROGRESS"
        assert client.get_content_moderation(JobId=job_id)["JobStatus"] == "SUCCEEDED"
        client.get_content_moderation(JobId=job_id)  # no second notification
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    inner = json.loads(json.loads(messages[0]["Body"])["Message"])
    assert (inner["JobId"], inner["Status"], inner["JobTag"]) == (job_id, "SUCCEEDED", "abc")


# ------------------------------------------------------------------------------- CLI
def test_command_line_mode():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.rekognition_server", "--port", "0", "--quota-tps", "2",
         "--default-label", "Explicit:99", "--default-label", "Exposed Female Nipple:95:Explicit Nudity:3"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:"), line
        client = boto3.client(
            "rekognition", region_name="us-east-1", endpoint_url=line.split()[1], aws_access_key_id="a",
            aws_secret_access_key="b", config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
        )
        by_bytes = client.detect_moderation_labels(Image={"Bytes": JPEG})["ModerationLabels"]
        assert by_bytes == [label("Explicit", 99.0), label("Exposed Female Nipple", 95.0, "Explicit Nudity", 3)]
        assert client.detect_moderation_labels(Image=s3("anything.jpg"))["ModerationLabels"] == by_bytes
        with pytest.raises(client.exceptions.ProvisionedThroughputExceededException):
            client.detect_moderation_labels(Image={"Bytes": JPEG})
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr
    assert '"DetectModerationLabels": 3' in stderr and '"shape_errors": 0' in stderr


def test_s3_getobject_serves_the_first_bytes_of_its_objects(fake):
    """Benchmarks point AWS_ENDPOINT_URL_S3 here too: the worker reads an S3 image's first bytes before
    Rekognition reads it in place (moderation/infra/media/s3_peek.py), so every object the fake knows is a JPEG there."""
    s3_client = boto3.client("s3", region_name="us-east-1", endpoint_url=fake.endpoint_url, aws_access_key_id="a",
                             aws_secret_access_key="b")
    fake.add_s3_object(BUCKET, "in/a.jpg", labels=[])
    got = s3_client.get_object(Bucket=BUCKET, Key="in/a.jpg", Range="bytes=0-9")
    assert got["Body"].read() == b"\xff\xd8\xff\xe0\x00\x10JFIF" and got["ContentRange"].startswith("bytes 0-9/")
    with pytest.raises(s3_client.exceptions.NoSuchKey):
        s3_client.get_object(Bucket=BUCKET, Key="in/unknown.jpg")
    fake.accept_any_s3 = True
    assert s3_client.get_object(Bucket=BUCKET, Key="in/unknown.jpg")["ETag"]
