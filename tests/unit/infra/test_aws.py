"""Missing AWS credentials or region are a deployment fault on every AWS call path an item takes:
failed at once (no retry), one line, an operator alert (moderation/infra/aws.py ``botocore_fault``).

Real botocore clients, no network: without credentials a request fails while being signed, before
anything is sent, and a client without a usable region fails when it is made. Where a job must be
running first, botocore's Stubber stands in for Rekognition until the credentials go.
"""

from __future__ import annotations

import boto3
import fakeredis
import pytest
import structlog
from botocore.exceptions import (EndpointConnectionError, InvalidRegionError, NoCredentialsError, NoRegionError,
                                 PartialCredentialsError, ReadTimeoutError)
from botocore.stub import Stubber
from sqlalchemy import select

from moderation.infra import aws
from moderation.domain import policy
from moderation.items import services as service
from moderation.video import services as video
from moderation.domain.errors import DeploymentFault, TransientFault
from moderation.infra.lease import LocalLeases
from moderation.infra.semaphore import LeaseSemaphore
from moderation.providers.rekognition import RekognitionProvider
from moderation.providers.rekognition_video import RekognitionVideo
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.items import models as m
from moderation.alerts.models import Alert
from moderation.infra.db import transaction
from tests.conftest import jpeg_bytes
from tests.fakes.providers import ColorFrameProvider, FakeProvider, RecordingPublisher
from tests.media_factory import video_bytes
from tests.video_fixtures import clock  # noqa: F401 (fixture)

NO_CREDENTIALS = ("no AWS credentials for {}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
                  "or give the host a role")


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    """A host with a region but no credentials anywhere in the SDK chain (and no instance metadata to ask)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    aws.reset_clients()
    yield
    aws.reset_clients()


def runtime(make_settings, fake, **settings) -> Runtime:
    s = make_settings(**settings)
    rt = Runtime(s, policy.load(s.thresholds), InMemoryDispatcher(), RecordingPublisher())
    rt._provider, rt._leases = fake, LocalLeases()
    rt._video_slots = LeaseSemaphore(fakeredis.FakeRedis(), "slots", limit=2, lease_seconds=900)
    return rt


def failed_once_with_alert(rt, item_id: str, status: str, reason: str) -> None:
    """The item failed on its first attempt with ``reason``, and the operator got one deployment alert."""
    assert status == "failed"
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        assert (item.status, item.failure_reason, item.attempts) == ("failed", reason, 1)
        alerts = [(a.kind, a.message["reason"]) for a in s.scalars(select(Alert).where(Alert.item_id == item_id))]
    assert alerts == [("deployment", reason)]
    assert rt.dispatcher.alerts  # sent on to the operator, not only stored


# --- the classification ------------------------------------------------------------------


@pytest.mark.parametrize("exc, message", [
    (NoCredentialsError(), NO_CREDENTIALS.format("S3")),
    (PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
     "incomplete AWS credentials for S3: Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY"),
    (NoRegionError(), "no AWS region configured for S3: set AWS_REGION"),
    (InvalidRegionError(region_name="us east 1"), "invalid AWS region for S3: Provided region_name 'us east 1' "
                                                  "doesn't match a supported format. Set AWS_REGION to a region "
                                                  "such as us-east-1"),
])
def test_missing_credentials_or_region_is_a_deployment_fault_in_one_line(exc, message):
    fault = aws.botocore_fault(exc, "S3")
    assert isinstance(fault, DeploymentFault) and str(fault) == message and "\n" not in message


def test_a_region_no_aws_partition_has_is_a_deployment_fault_where_the_network_is_not(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_REKOGNITION", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    nowhere = boto3.client("rekognition", region_name="moon-base-1")  # made without a network
    unreachable = EndpointConnectionError(endpoint_url=nowhere.meta.endpoint_url)
    fault = aws.botocore_fault(unreachable, "Rekognition", nowhere)
    assert isinstance(fault, DeploymentFault)
    assert str(fault) == ("cannot reach Rekognition in AWS region 'moon-base-1', which is in no AWS partition: "
                          "check AWS_REGION")
    known = boto3.client("rekognition", region_name="eu-west-1")
    assert isinstance(aws.botocore_fault(unreachable, "Rekognition", known), TransientFault)  # the network's fault
    custom = boto3.client("rekognition", region_name="moon-base-1", endpoint_url="http://127.0.0.1:9")
    assert isinstance(aws.botocore_fault(unreachable, "Rekognition", custom), TransientFault)  # any name goes there


def test_network_faults_stay_transient():
    timeout = ReadTimeoutError(endpoint_url="https://s3.us-east-1.amazonaws.com/b/k")
    fault = aws.botocore_fault(timeout, "S3", transient="upload to s3://b/k failed")
    assert type(fault) is TransientFault and str(fault) == "upload to s3://b/k failed"


def test_a_client_without_a_usable_region_or_with_half_the_credentials_is_refused_when_made(no_credentials,
                                                                                              monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us east 1")
    with pytest.raises(DeploymentFault, match="^invalid AWS region for rekognition: Provided region_name 'us east 1'"):
        aws.client("rekognition")
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(DeploymentFault, match="^no AWS region configured for rekognition: set AWS_REGION$"):
        aws.client("rekognition")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    with pytest.raises(DeploymentFault, match="^incomplete AWS credentials for s3: Partial credentials found in env, "
                                              "missing: AWS_SECRET_ACCESS_KEY$"):
        aws.client("s3")


# --- every path an item takes -----------------------------------------------------------------


def test_an_s3_image_under_the_local_provider_fails_at_once_without_a_traceback(no_credentials, make_settings):
    rt = runtime(make_settings, FakeProvider())
    item_id = service.submit("s3://ugc-uploads/cat.jpg", rt=rt).item_id
    with structlog.testing.capture_logs() as logged:
        status = service.process_image(item_id, rt=rt)  # returns: no TransientFault for Celery to retry
    failed_once_with_alert(rt, item_id, status, NO_CREDENTIALS.format("S3"))
    assert rt._provider.calls == []
    assert not [e for e in logged if "exc_info" in e or "exception" in e]  # the reason is the whole story


def test_an_s3_image_under_rekognition_fails_at_once(no_credentials, make_settings):
    rt = runtime(make_settings, RekognitionProvider(), provider="rekognition")
    item_id = service.submit("s3://ugc-uploads/cat.jpg", rt=rt).item_id  # HeadObject first (paying once)
    failed_once_with_alert(rt, item_id, service.process_image(item_id, rt=rt), NO_CREDENTIALS.format("S3"))


def test_a_local_image_sent_to_rekognition_fails_at_once(no_credentials, make_settings, media_root):
    rt = runtime(make_settings, RekognitionProvider(), provider="rekognition")
    (media_root / "cat.jpg").write_bytes(jpeg_bytes())
    item_id = service.submit("cat.jpg", rt=rt).item_id  # DetectModerationLabels with Image.Bytes
    failed_once_with_alert(rt, item_id, service.process_image(item_id, rt=rt), NO_CREDENTIALS.format("Rekognition"))


def test_a_video_job_start_fails_at_once(no_credentials, make_settings):
    rt = runtime(make_settings, FakeProvider(), provider="rekognition")
    rt._video = RekognitionVideo()
    item_id = service.submit("s3://ugc-videos/clip.mp4", rt=rt).item_id
    failed_once_with_alert(rt, item_id, video.start(item_id, rt=rt), NO_CREDENTIALS.format("Rekognition"))
    assert rt.video_slots.holders() == []


def test_a_video_poll_fails_at_once_when_the_credentials_go(no_credentials, make_settings, clock):
    rt = runtime(make_settings, FakeProvider(), provider="rekognition")
    stubbed = boto3.client("rekognition", aws_access_key_id="x", aws_secret_access_key="x")
    rt._video = RekognitionVideo(client=stubbed)
    item_id = service.submit("s3://ugc-videos/clip.mp4", rt=rt).item_id
    with Stubber(stubbed) as stub:
        stub.add_response("start_content_moderation", {"JobId": "a" * 32})
        assert video.start(item_id, rt=rt) == "submitted"
    rt._video = RekognitionVideo()  # e.g. the instance role was detached while the job ran
    clock.tick(60)  # the first poll is due
    status = video.advance(item_id, rt=rt)
    failed_once_with_alert(rt, item_id, status, NO_CREDENTIALS.format("Rekognition"))


def test_staging_a_local_video_for_rekognition_fails_at_once(no_credentials, make_settings, media_root):
    rt = runtime(make_settings, FakeProvider(), provider="rekognition", video_staging_bucket="modq-staging")
    rt._video = RekognitionVideo()
    (media_root / "clip.mp4").write_bytes(video_bytes(seconds=1))
    item_id = service.submit("clip.mp4", rt=rt).item_id
    failed_once_with_alert(rt, item_id, video.start(item_id, rt=rt), NO_CREDENTIALS.format("S3"))


def test_an_s3_video_under_the_local_provider_fails_at_once(no_credentials, make_settings):
    rt = runtime(make_settings, ColorFrameProvider())
    item_id = service.submit("s3://ugc-videos/clip.mp4", rt=rt).item_id
    failed_once_with_alert(rt, item_id, video.start(item_id, rt=rt), NO_CREDENTIALS.format("S3"))
    assert rt._provider.frames == []
