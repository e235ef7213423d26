"""Animated images on the Rekognition provider: a real boto3 client against the fake Rekognition endpoint
(which judges the bytes it is sent by their colour: red is explicit) and moto's S3.

Each analysed frame is its own DetectModerationLabels call with ``Image.Bytes``; a frame already analysed,
in any file, is not paid for again; and an S3 object goes to Rekognition as an ``S3Object`` (which it
would read as one picture) only when its first bytes show it is one JPEG or still PNG.
"""

from __future__ import annotations

import json
import struct
import zlib

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import select
from typer.testing import CliRunner

from moderation.infra import aws
from moderation.providers import instrumented
from moderation.domain import policy
from moderation.items import services as service
from moderation.cli.main import app
from moderation.infra.lease import LocalLeases
from moderation.providers.rekognition import RekognitionProvider
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.items import models as m
from moderation.infra.db import transaction
from moderation.providers.models import ProviderCall
from tests.animated_media import BLUE, GREY, RED, YELLOW, animated, still
from tests.fakes.providers import RecordingPublisher
from tests.fakes.rekognition_server import FakeRekognition

BUCKET = "ugc-uploads"


@pytest.fixture
def fake():
    with FakeRekognition() as server:
        server.labels_by_color = True
        server.accept_any_s3 = True  # an S3Object it was sent is read as one clean picture
        yield server


@pytest.fixture
def s3():
    aws.reset_clients()
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client
    aws.reset_clients()


@pytest.fixture
def rek(make_settings, fake, s3):
    settings = make_settings(provider="rekognition", s3_buckets=BUCKET, price_per_image=0.001)
    rt = Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())
    client = boto3.client("rekognition", region_name="us-east-1", endpoint_url=fake.endpoint_url)
    rt._provider = instrumented.instrument(RekognitionProvider(client=client), settings)
    rt._leases = LocalLeases()
    return rt


def moderate(rt, uri: str) -> m.Item:
    item_id = service.submit(uri, rt=rt).item_id
    service.process_image(item_id, rt=rt)
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        s.expunge(item)
        return item


def sent(fake) -> list[str]:
    """How each DetectModerationLabels call carried its image: "bytes" or "s3"."""
    return ["bytes" if "Bytes" in body["Image"] else "s3" for op, body in fake.requests
            if op == "DetectModerationLabels"]


def first_reason(rt, item: m.Item) -> dict:
    with transaction(rt.settings.database_url) as s:
        return s.scalar(select(m.Decision.reasons).where(m.Decision.item_id == item.id))[0]


def test_each_distinct_frame_is_one_bytes_call(rek, fake, media_root):
    (media_root / "a.gif").write_bytes(animated("gif", [BLUE, RED, BLUE], [50, 10_000, 50]))
    item = moderate(rek, "a.gif")
    assert item.status == "rejected" and sent(fake) == ["bytes", "bytes"]
    assert first_reason(rek, item)["text"].endswith("in frame 1 at 0:00.050")


def test_a_frame_seen_in_another_file_is_not_paid_for_again(rek, fake, media_root, cli_env):
    (media_root / "first.gif").write_bytes(animated("gif", [BLUE, RED]))
    (media_root / "second.webp").write_bytes(animated("webp", [RED, YELLOW, BLUE]))
    first, second = moderate(rek, "first.gif"), moderate(rek, "second.webp")
    assert (first.status, second.status) == ("rejected", "rejected")
    assert fake.calls["DetectModerationLabels"] == 3  # blue and red once each, then yellow
    assert first_reason(rek, second)["text"].endswith("in frame 0 at 0:00.000")
    with transaction(rek.settings.database_url) as s:
        rows = s.execute(select(ProviderCall.item_id, ProviderCall.outcome, ProviderCall.media_type,
                                ProviderCall.calls)).all()
    assert sorted(rows) == sorted([(first.id, "ok", "animation", 2), (second.id, "ok", "animation", 1),
                                   (second.id, "reused", "animation", 2)])
    cli_env.settings = rek.settings
    result = CliRunner().invoke(app, ["stats", "--json", "--since", "1d"])
    cost = json.loads(result.stdout)["cost"]
    assert (cost["images"], cost["animation_frames"]) == (3, 3)
    assert (cost["estimated_usd"], cost["saved_usd"]) == (pytest.approx(0.003), pytest.approx(0.002))
    text = CliRunner().invoke(app, ["stats", "--since", "1d"]).stdout
    assert "of which frames of animations" in text and "3 (one call each)" in text


def test_an_s3_apng_is_read_frame_by_frame_not_sent_as_one_picture(rek, fake, s3):
    s3.put_object(Bucket=BUCKET, Key="u/anim.png", Body=animated("png", [BLUE, RED], [50, 10_000]))
    item = moderate(rek, f"s3://{BUCKET}/u/anim.png")
    assert item.status == "rejected" and sent(fake) == ["bytes", "bytes"]


@pytest.mark.parametrize("fmt", ["gif", "webp", "tiff"])
def test_s3_formats_rekognition_cannot_read_in_place_are_read_here(rek, fake, s3, fmt):
    s3.put_object(Bucket=BUCKET, Key=f"u/a.{fmt}", Body=animated(fmt, [BLUE, RED]))
    item = moderate(rek, f"s3://{BUCKET}/u/a.{fmt}")
    assert item.status == "rejected" and sent(fake) == ["bytes", "bytes"]


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_an_s3_still_jpeg_or_png_is_still_read_in_place(rek, fake, s3, fmt):
    s3.put_object(Bucket=BUCKET, Key=f"u/still.{fmt}", Body=still(fmt, RED))
    item = moderate(rek, f"s3://{BUCKET}/u/still.{fmt}")
    assert item.status == "approved" and sent(fake) == ["s3"]  # the fake reads an S3Object as a clean picture


def test_a_png_whose_first_bytes_cannot_tell_is_read_here(rek, fake, s3):
    png = still("png", RED)
    text = b"tEXt" + b"Comment\0" + b"x" * 70_000  # a metadata chunk longer than the peek, before IDAT
    padded = png[:33] + struct.pack(">I", len(text) - 4) + text + struct.pack(">I", zlib.crc32(text)) + png[33:]
    s3.put_object(Bucket=BUCKET, Key="u/big-header.png", Body=padded)
    item = moderate(rek, f"s3://{BUCKET}/u/big-header.png")
    assert item.status == "rejected" and sent(fake) == ["bytes"]


def test_on_a_versioned_bucket_rekognition_reads_the_version_that_was_looked_at(rek, fake, s3):
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=BUCKET, Key="u/v.jpg", Body=still("jpeg", GREY))["VersionId"]
    moderate(rek, f"s3://{BUCKET}/u/v.jpg")
    (request,) = [body for op, body in fake.requests if op == "DetectModerationLabels"]
    assert request["Image"]["S3Object"] == {"Bucket": BUCKET, "Name": "u/v.jpg", "Version": version}


def test_an_empty_s3_object_fails_without_a_call(rek, fake, s3):
    s3.put_object(Bucket=BUCKET, Key="u/empty.png", Body=b"")
    item = moderate(rek, f"s3://{BUCKET}/u/empty.png")
    assert (item.status, item.failure_reason) == ("failed", f"s3://{BUCKET}/u/empty.png is empty (0 bytes)")
    assert sent(fake) == []
