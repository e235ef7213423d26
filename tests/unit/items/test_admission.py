"""What modq accepts: refused per item with the reason, before the database could refuse a whole batch."""

from __future__ import annotations

import pytest

from moderation.domain.errors import RefusedSubmission
from moderation.items import admission, services as service
from moderation.items.services import Entry


@pytest.mark.parametrize("external_id, message", [
    ("", "1-255 characters"), ("x" * 256, "1-255 characters"),
    ("a\x00b", "external_id must not contain NUL characters"),
    ("a\ud800", "external_id must be valid Unicode"),
])
def test_external_ids_modq_cannot_store_are_refused(external_id, message):
    with pytest.raises(RefusedSubmission, match=message):
        admission.check_external_id(external_id)


@pytest.mark.parametrize("metadata, message", [
    (["a"], "metadata must be a JSON object, not list"), ("text", "metadata must be a JSON object, not str"),
    ({"k": float("nan")}, "finite"), ({"k": [1, {"deep": float("inf")}]}, "finite"),
    ({"k": "a\x00"}, "NUL"), ({"a\x00": 1}, "NUL"), ({"k": ["\udcff"]}, "lone surrogates"),
])
def test_metadata_modq_cannot_store_is_refused(metadata, message):
    with pytest.raises(RefusedSubmission, match=message):
        admission.check_metadata(metadata)


def test_storable_metadata_passes():
    admission.check_metadata({"user": 42, "tags": ["a", "é"], "score": 0.5, "nested": {"ok": None}})
    admission.check_metadata(None)


def test_a_uri_with_a_lone_surrogate_is_refused(rt, media_root):
    with pytest.raises(RefusedSubmission, match="media_uri must be valid Unicode"):
        admission.accept("s3://bucket/a\udcff.jpg", None, rt)


def test_in_a_batch_an_unstorable_item_is_refused_alone(rt):
    results = service.submit_many([Entry("s3://bucket/a.jpg", "ok-1"), Entry("s3://bucket/b.jpg", "nan", {"x": float("nan")}),
                                   Entry("s3://bucket/c\udcff.jpg", "sur"), Entry("s3://bucket/d.jpg", "ok-2")], rt=rt)
    assert [getattr(r, "created", None) for r in results] == [True, None, None, True]
    assert "finite" in str(results[1]) and "lone surrogates" in str(results[2])
    with pytest.raises(RefusedSubmission, match="NUL"):
        service.submit("s3://bucket/e.jpg", external_id="e", metadata={"k": "\x00"}, rt=rt)
