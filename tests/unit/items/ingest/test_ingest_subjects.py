"""S3 uploads carry their uploader in the object's metadata (x-amz-meta-subject-id): moto delivers the events."""

from __future__ import annotations

from sqlalchemy import func, select

from moderation.infra.db import transaction
from moderation.items.ingest import services as ingest_s3
from moderation.items.ingest.models import IngestReject
from moderation.items import models as m
from tests.conftest import jpeg_bytes, png_bytes
from tests.unit.items.ingest.test_ingest_s3 import all_items, uploads  # noqa: F401  (the fixture)


def test_the_subject_comes_from_the_object_metadata(rt, uploads):  # noqa: F811
    uploads.put("u/42/cat.jpg", jpeg_bytes(), Metadata={"subject-id": "user-42"})
    uploads.put("u/42/photo", png_bytes(), ContentType="image/png", Metadata={"subject-id": "user-43"})
    uploads.put("u/42/plain.jpg", jpeg_bytes(color=(1, 2, 3)))

    assert ingest_s3.drain(rt).created == 3

    subjects = {i.item_metadata["key"]: i.subject_id for i in all_items(rt)}
    assert subjects == {"u/42/cat.jpg": "user-42", "u/42/photo": "user-43", "u/42/plain.jpg": None}


def test_a_subject_submit_refuses_rejects_the_record_and_stores_no_item(rt, uploads):  # noqa: F811
    uploads.put("u/long.jpg", jpeg_bytes(), Metadata={"subject-id": "x" * 256})

    counts = ingest_s3.drain(rt)

    assert counts.rejected == 1 and counts.created == 0 and uploads.left() == 0
    with transaction(rt.settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(m.Item)) == 0
        reject = s.scalars(select(IngestReject)).one()
    assert reject.reason == "refused at submit: subject_id must be 1-255 characters"
