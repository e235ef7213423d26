"""The worker re-checks media confinement (``media.uris.reparse``), because what was checked at submit
may have changed before the task runs: the file swapped for a symlink out of the media root, or the
bucket taken off MODQ_S3_BUCKETS. Each such item ends ``failed`` with the refusal as its reason,
and no provider sees the media. Images and both video paths go through the same re-check.
"""

from __future__ import annotations

import os

import boto3
import pytest
from moto import mock_aws

from moderation.infra import aws
from moderation.items import services as service
from moderation.video import services as video
from moderation.items import models as m
from moderation.infra.db import transaction
from tests.conftest import jpeg_bytes
from tests.media_factory import RED, segments, video_bytes
from tests.video_fixtures import BUCKET, clock, ort, slots, stub, vrt  # noqa: F401 (fixtures)

OLD, KEPT = "ugc-retired", "ugc-uploads"


def item(rt, item_id: str) -> m.Item:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id)


@pytest.fixture
def outside(tmp_path):
    """Files outside the media root, as a swap would point at them."""
    path = tmp_path / "outside"
    path.mkdir()
    return path


def swap_for_symlink(path, target) -> None:
    """What a user with write access to the media root can do after submit."""
    path.unlink()
    os.symlink(target, path)


def test_image_swapped_for_a_symlink_out_of_the_root_after_submit_fails_without_a_provider_call(
        rt, media_root, outside, fake_provider):
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    (outside / "secret.jpg").write_bytes(jpeg_bytes(color=(1, 2, 3)))
    item_id = service.submit("a.jpg", rt=rt).item_id
    swap_for_symlink(media_root / "a.jpg", outside / "secret.jpg")

    assert service.process_image(item_id, rt=rt) == "failed"
    row = item(rt, item_id)
    assert row.failure_reason == (f"path '{media_root.resolve() / 'a.jpg'}' is outside the media root "
                                  f"'{media_root.resolve()}' (MODQ_MEDIA_ROOT)")
    assert fake_provider.calls == []


def test_image_in_a_bucket_removed_from_the_allow_list_after_submit_fails_without_a_provider_call(
        rt, make_settings, fake_provider):
    fake_provider.reads_s3_directly = True  # the provider reads the object itself; the worker peeks at its head
    rt.settings = make_settings(s3_buckets=f"{OLD},{KEPT}", dedupe=False)
    retired = service.submit(f"s3://{OLD}/in/a.jpg", rt=rt).item_id
    kept = service.submit(f"s3://{KEPT}/in/b.jpg", rt=rt).item_id
    rt.settings = make_settings(s3_buckets=KEPT, dedupe=False)  # the operator retires the bucket; workers restart

    assert service.process_image(retired, rt=rt) == "failed"
    assert item(rt, retired).failure_reason == f"S3 bucket '{OLD}' is not in MODQ_S3_BUCKETS"
    assert fake_provider.calls == []  # (and no S3 call: there is no S3 outside the block below)
    aws.reset_clients()
    with mock_aws():  # the kept object exists: the worker reads its first bytes (``s3_peek``) before the call
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=KEPT)
        s3.put_object(Bucket=KEPT, Key="in/b.jpg", Body=jpeg_bytes())
        assert service.process_image(kept, rt=rt) == "approved"  # the bucket still allowed is read as before
    aws.reset_clients()
    assert len(fake_provider.calls) == 1


def test_rekognition_video_in_a_bucket_removed_from_the_allow_list_fails_without_an_aws_call(
        vrt, make_settings, slots):  # noqa: F811 (fixtures)
    vrt.settings = make_settings(provider="rekognition", s3_buckets=f"{BUCKET},{OLD}")
    item_id = service.submit(f"s3://{OLD}/in/clip.mp4", rt=vrt).item_id
    vrt.settings = make_settings(provider="rekognition", s3_buckets=BUCKET)

    assert video.start(item_id, rt=vrt) == "failed"  # the Stubber has no answer queued: any AWS call would raise
    assert item(vrt, item_id).failure_reason == f"S3 bucket '{OLD}' is not in MODQ_S3_BUCKETS"
    assert slots.holders() == []


def test_offline_video_swapped_for_a_symlink_out_of_the_root_fails_without_decoding(
        ort, media_root, outside):  # noqa: F811 (fixtures)
    (media_root / "clip.mp4").write_bytes(video_bytes(seconds=1))
    (outside / "other.mp4").write_bytes(video_bytes(seconds=2, scene=segments((0, 2, RED))))
    item_id = service.submit("clip.mp4", rt=ort).item_id
    swap_for_symlink(media_root / "clip.mp4", outside / "other.mp4")

    assert video.start(item_id, rt=ort) == "failed"
    assert item(ort, item_id).failure_reason == (f"path '{media_root.resolve() / 'clip.mp4'}' is outside the media "
                                                 f"root '{media_root.resolve()}' (MODQ_MEDIA_ROOT)")
    assert ort.provider.frames == []
