"""Videos end to end: real Redis broker and job-slot semaphore, real Celery worker
processes, PostgreSQL, the fake Rekognition HTTP server (which counts concurrent
jobs and refuses past its limit, as AWS does) and moto SNS -> SQS for
completion notifications."""

from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest
import redis
from sqlalchemy import select

from moderation.items import services as service
from moderation.infra.semaphore import LeaseSemaphore
from moderation.video import models as vm
from moderation.infra.db import transaction
from tests.fakes.providers import labels_for
from tests.integration.conftest import WorkerProcess, wait_terminal
from tests.media_factory import truncated, video_bytes

pytestmark = pytest.mark.integration
BUCKET = "ugc-videos"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:AmazonRekognitionModqDone"
ROLE_ARN = "arn:aws:iam::123456789012:role/modq-rekognition-publish"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def timeline(*events: tuple[int, str, float]) -> list[dict]:
    """Fake-server detections: each label with its ancestors at the same timestamp."""
    return [{"Timestamp": ts, **lab.to_dict()} for ts, name, conf in events for lab in labels_for(name, conf)]


def add_videos(rekognition, n: int) -> dict[str, str]:
    """n S3 videos: every third one shows a hate symbol 12 s in; key -> expected verdict."""
    expected = {}
    for i in range(n):
        key = f"{unique('v')}/clip-{i}.mp4"
        flagged = i % 3 == 0
        rekognition.add_s3_object(BUCKET, key, kind="video",
                                  labels=timeline((12_000, "Nazi Party", 72.0)) if flagged else [])
        expected[key] = "flagged" if flagged else "approved"
    return expected


@pytest.fixture
def start_workers(worker_env, tmp_path):
    """Start video workers with extra settings; they are stopped after the test."""
    started = []

    def start(count: int = 1, queues: str = "videos,alerts", extra_args=None, **settings) -> list[WorkerProcess]:
        env = {**worker_env, **{f"MODQ_{k.upper()}": str(v) for k, v in settings.items()}}
        for _ in range(count):
            log = tmp_path / f"video-worker-{len(started)}.log"
            started.append(WorkerProcess(env, log, queues=queues, concurrency=4, extra_args=extra_args))
        return started

    yield start
    for proc in started:
        proc.stop()


def test_a_backlog_larger_than_the_job_cap_never_trips_the_limit(start_workers, rekognition, it_runtime,
                                                                   broker_url):
    cap, videos = 3, 14
    rekognition.max_concurrent_jobs = cap  # the fake refuses a 4th job in progress, as AWS refuses a 21st
    rekognition.job_duration_s = 0.8
    rekognition.job_polls_in_progress = 1  # and every job answers IN_PROGRESS at least once
    expected = add_videos(rekognition, videos)
    # two worker processes, as on two hosts: the cap is shared through Redis
    start_workers(2, video_max_concurrent_jobs=cap, video_poll_initial_seconds=0.2,
                  video_poll_max_interval_seconds=0.5, video_start_retry_seconds=0.3)

    ids = {key: service.submit(f"s3://{BUCKET}/{key}", external_id=unique("vid"), rt=it_runtime).item_id
           for key in expected}
    rows = wait_terminal(it_runtime.settings.database_url, list(ids.values()), timeout=120)

    for key, item_id in ids.items():
        assert rows[item_id].status == expected[key], (key, rows[item_id].failure_reason)
    assert rekognition.max_concurrent_jobs_seen == cap  # used fully ...
    assert rekognition.errors["LimitExceededException"] == 0  # ... and never past the limit
    assert rekognition.calls["StartContentModeration"] == videos  # one start per video
    starts = [body for op, body in rekognition.requests if op == "StartContentModeration"]
    assert {b["ClientRequestToken"] for b in starts} == set(ids.values()) == {b["JobTag"] for b in starts}
    assert all(b["MinConfidence"] == it_runtime.policy.min_confidence for b in starts)
    slots = LeaseSemaphore(redis.Redis.from_url(broker_url), "modq:video:job-slots", cap, 60)
    # Every slot given back. A job's slot is released just after its decision commits (video.jobs.finish),
    # so the last one may still be on its way when the last item reads terminal.
    deadline = time.monotonic() + 10
    while slots.in_use() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert slots.in_use() == 0

    flagged = next(i for k, i in ids.items() if expected[k] == "flagged")
    with transaction(it_runtime.settings.database_url) as s:
        summary = s.scalar(select(vm.VideoLabelSummary).where(vm.VideoLabelSummary.item_id == flagged,
                                                              vm.VideoLabelSummary.label == "Nazi Party"))
        assert (summary.first_ms, summary.max_confidence) == (12_000, 72.0)


@pytest.fixture
def completion_queue(moto_endpoint):
    """An SQS queue subscribed (SNS envelope, not raw) to the topic Rekognition notifies."""
    sns = boto3.client("sns", endpoint_url=moto_endpoint, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    topic = sns.create_topic(Name=TOPIC_ARN.rsplit(":", 1)[1])["TopicArn"]
    url = sqs.create_queue(QueueName=unique("rekognition-done"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return sns, topic, url


def test_a_completion_message_advances_the_item_without_waiting_for_a_poll(start_workers, rekognition, it_runtime,
                                                                            completion_queue, tmp_path):
    sns, topic, url = completion_queue
    rekognition.job_duration_s = 1.0
    # What AWS does when a job ends: publish the completion JSON to the job's topic.
    rekognition.on_job_complete = lambda job: sns.publish(
        TopicArn=topic, Message=json.dumps(rekognition.completion_message(job["JobId"])))
    expected = add_videos(rekognition, 3)
    start_workers(1, queues="videos,alerts,maintenance", extra_args=["-B", "-s", str(tmp_path / "beat-schedule")],
                  video_completion_queue_url=url, video_completion_interval_seconds=0.5,
                  video_poll_initial_seconds=600, video_poll_max_interval_seconds=600,  # no poll in this test's life
                  video_sns_topic_arn=TOPIC_ARN, video_role_arn=ROLE_ARN)

    ids = {key: service.submit(f"s3://{BUCKET}/{key}", rt=it_runtime).item_id for key in expected}
    rows = wait_terminal(it_runtime.settings.database_url, list(ids.values()), timeout=45)

    for key, item_id in ids.items():
        assert rows[item_id].status == expected[key], (key, rows[item_id].failure_reason)
    assert rekognition.calls["GetContentModeration"] == len(ids)  # exactly the poll each message brought forward
    starts = [body for op, body in rekognition.requests if op == "StartContentModeration"]
    assert all(b["NotificationChannel"] == {"SNSTopicArn": TOPIC_ARN, "RoleArn": ROLE_ARN} for b in starts)
    with transaction(it_runtime.settings.database_url) as s:
        jobs = list(s.scalars(select(vm.VideoJob).where(vm.VideoJob.item_id.in_(list(ids.values())))))
    assert len(jobs) == 3 and all(j.notified_at and j.polls == 1 for j in jobs)  # the poll the notice brought


def test_offline_path_in_a_worker(start_workers, it_runtime, media_dir):
    (media_dir / "ok-clip.mp4").write_bytes(video_bytes(seconds=4, size=(320, 240)))
    (media_dir / "cut-clip.mp4").write_bytes(truncated(video_bytes(seconds=6, faststart=True)))
    start_workers(1, provider="local")
    ok = service.submit("ok-clip.mp4", rt=it_runtime).item_id
    cut = service.submit("cut-clip.mp4", rt=it_runtime).item_id
    rows = wait_terminal(it_runtime.settings.database_url, [ok, cut], timeout=60)
    assert rows[ok].status == "approved" and rows[ok].provider == "local"
    assert rows[cut].status == "failed" and "truncated" in rows[cut].failure_reason
