"""The use cases against SQLite with fake provider, dispatcher and publisher."""

from __future__ import annotations

import hashlib
import os

import pytest
from sqlalchemy import func, select

from moderation.alerts import services as alerts
from moderation.items import outcomes, services as service
from moderation.domain.errors import BadInput, DeploymentFault, RefusedSubmission, TransientFault
from moderation.items import models as m
from moderation.alerts.models import Alert
from moderation.infra.db import transaction
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for


def put(media_root, name: str, data: bytes) -> str:
    (media_root / name).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def item(rt, item_id: str) -> m.Item:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id)


def count(rt, model) -> int:
    with transaction(rt.settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_submit_commits_queued_row_then_dispatches(rt, media_root):
    put(media_root, "a.jpg", jpeg_bytes())
    result = service.submit("a.jpg", external_id="ext-1", metadata={"user": "42"}, rt=rt)
    assert result.created and result.dispatched and result.status == "queued"
    assert rt.dispatcher.sent == [(result.item_id, "image")]
    row = item(rt, result.item_id)
    assert (row.status, row.external_id, row.item_metadata) == ("queued", "ext-1", {"user": "42"})


def test_resubmitting_external_id_returns_existing_and_sends_nothing(rt, media_root):
    put(media_root, "a.jpg", jpeg_bytes())
    first = service.submit("a.jpg", external_id="dup", rt=rt)
    second = service.submit("other-uri-ignored.jpg", external_id="dup", rt=rt)
    assert second.item_id == first.item_id and not second.created
    assert len(rt.dispatcher.sent) == 1
    assert count(rt, m.Item) == 1


def test_refused_submission_stores_nothing(rt):
    with pytest.raises(RefusedSubmission, match="outside the media root"):
        service.submit("/etc/passwd", rt=rt)
    assert count(rt, m.Item) == 0 and rt.dispatcher.sent == []


def test_broker_down_keeps_the_row_queued(rt, media_root):
    put(media_root, "a.jpg", jpeg_bytes())

    class DownDispatcher:
        def moderate(self, *a):
            raise ConnectionError("redis down")

    rt.dispatcher = DownDispatcher()
    result = service.submit("a.jpg", rt=rt)
    assert not result.dispatched and item(rt, result.item_id).status == "queued"


@pytest.mark.parametrize(
    "label, confidence, verdict, alerts_expected",
    [(None, 0, "approved", 0), ("Hate Symbols", 60, "flagged", 1), ("Exposed Female Genitalia", 99, "rejected", 1)],
)
def test_process_records_decision_and_outbox(rt, media_root, fake_provider, label, confidence, verdict, alerts_expected):
    digest = put(media_root, "a.jpg", jpeg_bytes())
    if label:
        fake_provider.by_key[digest] = labels_for(label, confidence)
    item_id = service.submit("a.jpg", rt=rt).item_id
    assert service.process_image(item_id, rt=rt) == verdict
    row = item(rt, item_id)
    assert (row.status, row.verdict, row.provider) == (verdict, verdict, "local")
    assert row.policy_version == rt.policy.version and row.content_key == digest
    assert count(rt, m.Decision) == 1 and count(rt, Alert) == alerts_expected
    assert rt.dispatcher.alerts == list(range(1, alerts_expected + 1))
    # the provider got the local profile's min_confidence
    assert fake_provider.calls == [(digest, rt.policy.for_provider("local").min_confidence)]


def test_alert_body_and_attributes(rt, media_root, fake_provider):
    digest = put(media_root, "a.jpg", jpeg_bytes())
    fake_provider.by_key[digest] = labels_for("Exposed Female Genitalia", 97.5)
    item_id = service.submit("a.jpg", external_id="post-9", rt=rt).item_id
    service.process_image(item_id, rt=rt)
    assert alerts.flush_outbox(rt.settings.database_url, rt.publisher) == 1
    (sent,) = rt.publisher.sent
    assert sent["attributes"] == {"verdict": "rejected", "top_label": "Exposed Female Genitalia", "media_type": "image"}
    msg = sent["message"]
    assert (msg["item_id"], msg["external_id"], msg["verdict"]) == (item_id, "post-9", "rejected")
    assert msg["top_labels"][0] == {"name": "Exposed Female Genitalia", "confidence": 97.5}
    assert msg["policy_version"] == rt.policy.version and msg["decided_at"]
    assert len(sent["subject"]) < 100 and "rejected" in sent["subject"]


def test_duplicate_delivery_records_one_decision(rt, media_root, fake_provider):
    digest = put(media_root, "a.jpg", jpeg_bytes())
    fake_provider.by_key[digest] = labels_for("Hate Symbols", 70)
    item_id = service.submit("a.jpg", rt=rt).item_id
    assert service.process_image(item_id, rt=rt) == "flagged"
    assert service.process_image(item_id, rt=rt) == "flagged"
    assert count(rt, m.Decision) == 1 and count(rt, Alert) == 1
    assert len(fake_provider.calls) == 1  # the second delivery saw a terminal item and stopped


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "file is empty"),
        (b"plain text pretending to be a jpeg", "not a supported image"),
        (jpeg_bytes()[:200], "corrupt or truncated jpeg"),
        (jpeg_bytes(50, 50), "at least 80 px"),
    ],
)
def test_bad_media_fails_with_reason_and_no_provider_call(rt, media_root, fake_provider, data, reason):
    put(media_root, "bad.jpg", data)
    put(media_root, "good.jpg", jpeg_bytes())
    bad = service.submit("bad.jpg", rt=rt).item_id
    good = service.submit("good.jpg", rt=rt).item_id
    assert service.process_image(bad, rt=rt) == "failed"
    assert reason in item(rt, bad).failure_reason
    assert fake_provider.calls == []
    assert service.process_image(good, rt=rt) == "approved"  # nothing else affected


def test_oversize_file_fails(make_settings, rt, media_root):
    put(media_root, "big.jpg", jpeg_bytes(400, 400))
    rt.settings = make_settings(max_image_bytes=1000)
    item_id = service.submit("big.jpg", rt=rt).item_id
    assert service.process_image(item_id, rt=rt) == "failed"
    assert "over the limit of 1,000 (MODQ_MAX_IMAGE_BYTES)" in item(rt, item_id).failure_reason


def test_file_deleted_after_submit_fails_clearly(rt, media_root):
    put(media_root, "gone.jpg", jpeg_bytes())
    item_id = service.submit("gone.jpg", rt=rt).item_id
    (media_root / "gone.jpg").unlink()
    assert service.process_image(item_id, rt=rt) == "failed"
    assert "no such file" in item(rt, item_id).failure_reason


@pytest.mark.parametrize("swap, reason", [
    (lambda p: (p.unlink(), os.symlink(p.name, p)), "it is a symlink loop (too many levels of symbolic links)"),
    (lambda p: (p.unlink(), p.mkdir()), "it is a directory, not a file"),
])
def test_file_the_os_will_not_read_after_submit_fails_as_bad_input(rt, media_root, fake_provider, swap, reason):
    """The worker's re-check meets what submit refuses: the item fails with the reason, once, with no alert."""
    put(media_root, "a.jpg", jpeg_bytes())
    item_id = service.submit("a.jpg", rt=rt).item_id
    swap(media_root / "a.jpg")
    assert service.process_image(item_id, rt=rt) == "failed"
    row = item(rt, item_id)
    assert (row.failure_reason, row.attempts) == (f"path {str(media_root.resolve() / 'a.jpg')!r} is not usable: "
                                                  f"{reason}", 1)
    assert fake_provider.calls == [] and count(rt, Alert) == 0


def test_provider_bad_input_fails_without_alert(rt, media_root, fake_provider):
    digest = put(media_root, "a.jpg", jpeg_bytes())
    fake_provider.errors[digest] = BadInput("Rekognition accepts only JPEG or PNG (InvalidImageFormatException)")
    item_id = service.submit("a.jpg", rt=rt).item_id
    assert service.process_image(item_id, rt=rt) == "failed"
    assert "InvalidImageFormatException" in item(rt, item_id).failure_reason
    assert count(rt, Alert) == 0


def test_access_denied_fails_and_alerts_operators(rt, media_root, fake_provider):
    digest = put(media_root, "a.jpg", jpeg_bytes())
    fake_provider.errors[digest] = DeploymentFault("IAM denied rekognition:DetectModerationLabels")
    item_id = service.submit("a.jpg", rt=rt).item_id
    assert service.process_image(item_id, rt=rt) == "failed"
    with transaction(rt.settings.database_url) as s:
        (alert,) = s.scalars(select(Alert)).all()
        assert alert.kind == "deployment" and "IAM denied" in alert.message["reason"]


def test_transient_fault_propagates_and_leaves_item_processing(rt, media_root, fake_provider):
    digest = put(media_root, "a.jpg", jpeg_bytes())
    fake_provider.errors[digest] = TransientFault("throttled")
    item_id = service.submit("a.jpg", rt=rt).item_id
    with pytest.raises(TransientFault):
        service.process_image(item_id, rt=rt)
    row = item(rt, item_id)
    assert (row.status, row.attempts) == ("processing", 1)
    del fake_provider.errors[digest]
    assert service.process_image(item_id, rt=rt) == "approved"
    assert item(rt, item_id).attempts == 2


def test_fail_item_is_final_and_audited(rt, media_root):
    put(media_root, "a.jpg", jpeg_bytes())
    item_id = service.submit("a.jpg", rt=rt).item_id
    outcomes.fail_item(item_id, "gave up after 5 attempts: throttled", rt=rt)
    assert service.process_image(item_id, rt=rt) == "failed"  # not reprocessed
    with transaction(rt.settings.database_url) as s:
        actions = [e.action for e in s.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id))]
    assert actions == ["submit", "fail"]


def test_audit_trail_of_a_decision(rt, media_root):
    put(media_root, "a.jpg", jpeg_bytes())
    item_id = service.submit("a.jpg", rt=rt).item_id
    service.process_image(item_id, rt=rt)
    with transaction(rt.settings.database_url) as s:
        events = [(e.action, e.from_status, e.to_status) for e in s.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id))]
    assert events == [("submit", None, "queued"), ("processing", "queued", "processing"), ("decide", "processing", "approved")]


def test_a_worker_runtime_publishes_the_alert_itself_after_the_commit(rt, media_root, fake_provider):
    digest = put(media_root, "a.jpg", jpeg_bytes())
    fake_provider.by_key[digest] = labels_for("Exposed Female Genitalia", 97.5)
    rt.alert_relay = alerts.InlineRelay(rt.settings.database_url, rt.publisher, pause=30)
    item_id = service.submit("a.jpg", external_id="post-7", rt=rt).item_id

    assert service.process_image(item_id, rt=rt) == "rejected"

    assert rt.dispatcher.alerts == []  # no publish_alert task
    (sent,) = rt.publisher.sent
    assert (sent["item_id"], sent["message"]["external_id"], sent["message"]["verdict"]) == (item_id, "post-7", "rejected")
    with transaction(rt.settings.database_url) as s:
        row = s.scalar(select(Alert))
        assert (row.id, row.attempts, row.last_error) == (sent["id"], 1, None) and row.published_at is not None
    assert alerts.flush_outbox(rt.settings.database_url, rt.publisher) == 0


def test_when_the_inline_publish_fails_the_alert_goes_to_the_task(rt, media_root, fake_provider):
    digest = put(media_root, "a.jpg", jpeg_bytes())
    fake_provider.by_key[digest] = labels_for("Exposed Female Genitalia", 97.5)
    rt.publisher.failing = True
    rt.alert_relay = alerts.InlineRelay(rt.settings.database_url, rt.publisher, pause=30)
    item_id = service.submit("a.jpg", rt=rt).item_id

    assert service.process_image(item_id, rt=rt) == "rejected"  # the decision stands

    with transaction(rt.settings.database_url) as s:
        row = s.scalar(select(Alert))
        assert row.published_at is None and row.attempts == 1 and "SNS unavailable" in row.last_error
    assert rt.dispatcher.alerts == [row.id]
