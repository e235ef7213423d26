"""Which decisions reach the outbox for webhooks: every alert carries its item's tenant; approvals and plain
failures only when the tenant has an endpoint for them, and never for SNS."""

from __future__ import annotations

from sqlalchemy import select

from moderation.alerts import webhooks
from moderation.alerts.models import Alert, WebhookDelivery
from moderation.infra.db import transaction
from moderation.items import outcomes, services as service
from tests.review_items import decided_item


def outbox(url: str) -> list[Alert]:
    with transaction(url) as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)))


def deliveries(url: str) -> list[tuple[int, str]]:
    with transaction(url) as s:
        return list(s.execute(select(WebhookDelivery.alert_id, WebhookDelivery.event).order_by(WebhookDelivery.id)))


def test_without_endpoints_only_what_needs_attention_is_written(rt, media_root, fake_provider):
    decided_item(rt, media_root, fake_provider, label=None)  # approved
    rejected = decided_item(rt, media_root, fake_provider, "Explicit Nudity", 99)
    (alert,) = outbox(rt.settings.database_url)
    assert (alert.item_id, alert.tenant_id, alert.kind) == (rejected, 1, "decision")
    assert rt.dispatcher.alerts == [alert.id] and rt.dispatcher.webhooks == []
    assert deliveries(rt.settings.database_url) == []  # beat's sweep marks it fanned out


def test_with_an_endpoint_every_decision_and_failure_is_delivered_and_approvals_skip_sns(rt, media_root,
                                                                                         fake_provider):
    url = rt.settings.database_url
    webhooks.add(url, 1, "https://hooks.example.com/", ["item.decided", "item.failed"], "test")
    approved = decided_item(rt, media_root, fake_provider, label=None)
    rejected = decided_item(rt, media_root, fake_provider, "Explicit Nudity", 99)
    (media_root / "never.jpg").write_bytes(b"\xff\xd8\xff")
    failed = service.submit("never.jpg", rt=rt).item_id
    outcomes.fail_item(failed, "the image is truncated", rt)  # no operator alert: for webhooks alone

    rows = outbox(url)
    by_item = {a.item_id: a for a in rows}
    assert by_item[approved].published_at is not None and by_item[approved].message["verdict"] == "approved"
    assert by_item[rejected].published_at is None
    failure = rows[-1]
    assert (failure.kind, failure.message["reason"], failure.published_at is not None) == (
        "failed", "the image is truncated", True)
    assert all(a.tenant_id == 1 and a.fanned_out_at is not None for a in rows)
    assert deliveries(url) == [(by_item[approved].id, "item.decided"), (by_item[rejected].id, "item.decided"),
                               (by_item[failed].id, "item.failed")]
    assert len(rt.dispatcher.webhooks) == 3
    assert rt.dispatcher.alerts == [by_item[rejected].id]  # SNS: only what needs attention

