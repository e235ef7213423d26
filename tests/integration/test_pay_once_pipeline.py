"""Paying once, end to end: real worker, PostgreSQL, the fake Rekognition server (its call count is the
bill) and moto S3 (whose ETags identify unversioned objects)."""

from __future__ import annotations

import hashlib
import uuid

import boto3
import pytest
from sqlalchemy import select

from moderation.items.banks import services as banks
from moderation.items.banks.models import BankEntry
from moderation.items import services as service
from moderation.items import models as m
from moderation.infra.db import transaction
from moderation.providers.models import ProviderCall
from tests.conftest import png_bytes
from tests.fakes.providers import labels_for
from tests.integration.conftest import wait_terminal

pytestmark = pytest.mark.integration
BUCKET = "ugc-uploads"


def rek_labels(name: str, confidence: float) -> list[dict]:
    return [lab.to_dict() for lab in labels_for(name, confidence)]


def run(it_runtime, uris: list[str]) -> list[m.Item]:
    ids = [service.submit(uri, external_id=uuid.uuid4().hex, rt=it_runtime).item_id for uri in uris]
    rows = wait_terminal(it_runtime.settings.database_url, ids)
    return [rows[i] for i in ids]


def outcomes(it_runtime, items: list[m.Item]) -> list[str]:
    with transaction(it_runtime.settings.database_url) as s:
        by_item = dict(s.execute(select(ProviderCall.item_id, ProviderCall.outcome)
                                 .where(ProviderCall.item_id.in_([i.id for i in items]))).all())
    return [by_item.get(i.id) for i in items]


def test_identical_bytes_are_analysed_once(worker, rekognition, it_runtime, media_dir):
    data = png_bytes(300, 200, (int(uuid.uuid4().int % 200), 10, 10))
    rekognition.set_bytes_labels(hashlib.sha256(data).hexdigest(), rek_labels("Graphic Violence", 70))
    names = [f"dup-{uuid.uuid4().hex[:8]}-{n}.png" for n in range(2)]
    for name in names:
        (media_dir / name).write_bytes(data)
    first = run(it_runtime, names[:1])[0]
    second = run(it_runtime, names[1:])[0]
    assert rekognition.calls["DetectModerationLabels"] == 1
    assert (first.status, second.status) == ("flagged", "flagged")
    assert second.analysis_id == first.analysis_id
    assert outcomes(it_runtime, [first, second]) == ["ok", "reused"]


def test_an_s3_object_is_analysed_once_per_etag(worker, rekognition, it_runtime, moto_endpoint):
    key = f"in/{uuid.uuid4().hex[:8]}/photo.jpg"
    rekognition.add_s3_object(BUCKET, key, labels=[])
    first, again = run(it_runtime, [f"s3://{BUCKET}/{key}"]), run(it_runtime, [f"s3://{BUCKET}/{key}"])
    assert rekognition.calls["DetectModerationLabels"] == 1
    etag = boto3.client("s3", endpoint_url=moto_endpoint).head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')
    assert first[0].content_key == again[0].content_key == f"s3:{BUCKET}/{key}@etag:{etag}"
    # The uploader replaces the object: a new ETag, so a new analysis.
    boto3.client("s3", endpoint_url=moto_endpoint).put_object(Bucket=BUCKET, Key=key, Body=b"new content")
    replaced = run(it_runtime, [f"s3://{BUCKET}/{key}"])[0]
    assert rekognition.calls["DetectModerationLabels"] == 2 and replaced.content_key != first[0].content_key


def test_banked_content_never_reaches_the_provider(worker, rekognition, it_runtime, media_dir):
    data = png_bytes(320, 240, (10, int(uuid.uuid4().int % 200), 10))
    name = f"banked-{uuid.uuid4().hex[:8]}.png"
    (media_dir / name).write_bytes(data)
    with transaction(it_runtime.settings.database_url) as s:
        entry, _ = banks.add(s, hashlib.sha256(data).hexdigest(), "rejected", note="known-bad",
                             source="test", added_by="test")
        entry_id = entry.id
    item = run(it_runtime, [name])[0]
    assert item.status == "rejected" and rekognition.calls["DetectModerationLabels"] == 0
    with transaction(it_runtime.settings.database_url) as s:
        reasons = s.scalar(select(m.Decision.reasons).where(m.Decision.item_id == item.id))
        s.delete(s.get(BankEntry, entry_id))  # the database is shared by the session's tests
    assert reasons[0]["text"] == f"hash bank entry #{entry_id} (rejected, same content): known-bad"
    assert outcomes(it_runtime, [item]) == ["banked"]
