"""Fixtures and helpers for the video use-case tests (imported by those modules)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import fakeredis
import pytest
from botocore.stub import Stubber
from sqlalchemy import func, select

from moderation.domain import policy
from moderation.items import services as service
from moderation.video import services as video, jobs as video_jobs
from moderation.infra.semaphore import LeaseSemaphore
from moderation.providers.rekognition_video import RekognitionVideo
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.items import models as m
from moderation.video import models as vm
from moderation.infra.db import transaction
from tests.fakes.providers import ColorFrameProvider, RecordingPublisher
from tests.unit.providers.test_rekognition_video import JOB

BUCKET = "ugc-videos"


@pytest.fixture
def stub():
    client = boto3.client("rekognition", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.client = client
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def slots():
    return LeaseSemaphore(fakeredis.FakeRedis(), "slots", limit=2, lease_seconds=900)


class Clock:
    """The video use cases' clock (``video_jobs.now``), moved by the tests: polls are time-dependent."""

    def __init__(self):
        self.at = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.at

    def tick(self, seconds: float = 10) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(video_jobs, "now", fake)
    return fake


@pytest.fixture
def vrt(make_settings, stub, slots, clock) -> Runtime:
    """A Rekognition-provider runtime whose AWS calls go to the Stubber."""
    settings = make_settings(provider="rekognition")
    rt = Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())
    rt._video, rt._video_slots = RekognitionVideo(client=stub.client), slots
    rt.clock = clock
    return rt


def advance_later(rt, item_id: str, seconds: float = 10) -> str:
    """The next scheduled poll, ``seconds`` later."""
    rt.clock.tick(seconds)
    return video.advance(item_id, rt=rt)


@pytest.fixture
def ort(rt) -> Runtime:
    """The offline runtime (MODQ_PROVIDER=local) with a frame model that answers by colour."""
    rt._provider = ColorFrameProvider()
    return rt


def submit_s3(rt, key: str = "in/clip.mp4") -> str:
    return service.submit(f"s3://{BUCKET}/{key}", rt=rt).item_id


def expect_start(stub, item_id: str, job_id: str = JOB, key: str = "in/clip.mp4", token: str | None = None):
    stub.add_response("start_content_moderation", {"JobId": job_id}, expected_params={
        "Video": {"S3Object": {"Bucket": BUCKET, "Name": key}}, "MinConfidence": 50.0,
        "ClientRequestToken": token or item_id, "JobTag": item_id})


def item(rt, item_id) -> m.Item:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id)


def job(rt, item_id) -> vm.VideoJob:
    with transaction(rt.settings.database_url) as s:
        return s.get(vm.VideoJob, item_id)


def count(rt, model, **where) -> int:
    with transaction(rt.settings.database_url) as s:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return s.scalar(query)


def polls(rt) -> list[tuple[str, str, float]]:
    return [x for x in rt.dispatcher.scheduled if x[0] == "poll_video"]
