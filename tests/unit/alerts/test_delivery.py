"""Sending webhook deliveries: Standard Webhooks signatures (verified with the `standardwebhooks` package),
rotation overlap, the retry schedule, giving up, and disabling a failing endpoint (injected clock)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from moderation.alerts import delivery, fanout, webhooks
from moderation.alerts.models import Alert, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.db import transaction
from tests.unit.alerts.webhook_fakes import POLICY, PUBLIC, START, Clock, FakeTransport, outbox_alert, resolver


@pytest.fixture
def endpoint(sqlite_url):
    return webhooks.add(sqlite_url, 1, "https://hooks.example.com/modq?x=1", None, "test")


def fanned(url: str, alert_id: int, when=START) -> int:
    with transaction(url) as s:
        (delivery_id,) = fanout.fan_out(s, [alert_id], when)
    return delivery_id


def send(url, delivery_id, transport, clock=None, **kw):
    return delivery.send(url, delivery_id, POLICY, transport, clock or delivery.utcnow, resolver(), lambda: 1.0, **kw)


def test_a_delivery_is_signed_to_the_standard_and_verifies(sqlite_url, endpoint):
    delivery_id = fanned(sqlite_url, outbox_alert(sqlite_url))
    transport = FakeTransport()

    assert send(sqlite_url, delivery_id, transport) == "delivered"

    (sent,) = transport.sent
    payload = Webhook(endpoint["secret"]).verify(sent.body, sent.headers)
    assert payload == {"item_id": "i-1", "verdict": "rejected", "kind": "decision", "type": "item.decided",
                       "tenant": "default"}
    assert sent.headers["webhook-signature"].startswith("v1,") and " " not in sent.headers["webhook-signature"]
    assert sent.address == PUBLIC and sent.target.host == "hooks.example.com" and sent.target.path == "/modq?x=1"
    assert sent.headers["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret()).verify(sent.body, sent.headers)


def test_every_retry_keeps_the_webhook_id_and_each_attempt_is_logged(sqlite_url, endpoint):
    delivery_id = fanned(sqlite_url, outbox_alert(sqlite_url))
    clock, transport = Clock(), FakeTransport([500, OSError("connection refused"), 200])

    assert send(sqlite_url, delivery_id, transport, clock) == "pending"
    assert send(sqlite_url, delivery_id, transport, clock) == "skipped"  # not due yet
    clock.advance(seconds=5)
    assert send(sqlite_url, delivery_id, transport, clock) == "pending"
    clock.advance(seconds=10)
    assert send(sqlite_url, delivery_id, transport, clock) == "delivered"
    assert send(sqlite_url, delivery_id, transport, clock) == "skipped"  # delivered once

    assert len({s.headers["webhook-id"] for s in transport.sent}) == 1 and len(transport.sent) == 3
    (row,) = webhooks.deliveries(sqlite_url, EVERY_TENANT)
    assert [(a["status_code"], a["error"]) for a in row["attempt_log"]] == [
        (500, "HTTP 500"), (None, "OSError: connection refused"), (200, None)]
    assert row["state"] == "delivered" and row["attempts"] == 3
    assert all(a["latency_ms"] >= 0 for a in row["attempt_log"])


def test_during_a_rotation_overlap_both_secrets_sign_then_only_the_new(sqlite_url, endpoint):
    old = endpoint["secret"]
    new = webhooks.rotate_secret(sqlite_url, endpoint["id"], EVERY_TENANT, timedelta(hours=24))["secret"]
    transport = FakeTransport()
    send(sqlite_url, fanned(sqlite_url, outbox_alert(sqlite_url)), transport)

    sent = transport.sent[-1]
    assert len(sent.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(sent.body, sent.headers)["type"] == "item.decided"

    with transaction(sqlite_url) as s:  # the overlap is over
        s.get(WebhookEndpoint, endpoint["id"]).previous_secret_until = delivery.utcnow() - timedelta(seconds=1)
    send(sqlite_url, fanned(sqlite_url, outbox_alert(sqlite_url)), transport)
    sent = transport.sent[-1]
    assert Webhook(new).verify(sent.body, sent.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(sent.body, sent.headers)


def test_the_backoff_doubles_up_to_its_cap_with_jitter_below_nominal():
    nominal = [delivery.backoff(n, 5, 3600, lambda: 1.0) for n in range(1, 13)]
    assert nominal == [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
    assert delivery.backoff(3, 5, 3600, lambda: 0.0) == 15.0  # at most a quarter less
    assert delivery.backoff(400, 5, 3600, lambda: 1.0) == 3600  # no overflow


def test_an_endpoint_failing_for_24_hours_is_disabled_with_an_operator_alert(sqlite_url, endpoint):
    clock, transport = Clock(), FakeTransport([503] * 100)
    first = fanned(sqlite_url, outbox_alert(sqlite_url))
    attempts = 0
    while send(sqlite_url, first, transport, clock) == "pending" or attempts == 0:
        attempts += 1
        with transaction(sqlite_url) as s:
            clock.now = s.get(WebhookDelivery, first).next_attempt_at.replace(tzinfo=START.tzinfo)
        assert clock.now - START <= timedelta(hours=25)

    with transaction(sqlite_url) as s:
        ep = s.get(WebhookEndpoint, endpoint["id"])
        assert ep.disabled_at is not None and "every attempt failed since" in ep.disabled_reason
        assert s.get(WebhookDelivery, first).state == "failed"
        (alert,) = s.scalars(select(Alert).where(Alert.kind == "deployment"))
        assert alert.tenant_id is None and alert.published_at is None  # for SNS (the outbox relay)
        assert endpoint["id"] in alert.subject and alert.message["endpoint_id"] == endpoint["id"]
        attempts_logged = s.scalar(select(WebhookAttempt.id).order_by(WebhookAttempt.id.desc()).limit(1))
    assert 15 < attempts_logged < 40  # hourly once the backoff reaches its cap
    assert webhooks.listing(sqlite_url, EVERY_TENANT)[0]["state"] == "disabled"
    # A disabled endpoint gets no more deliveries; redeliver re-enables it.
    later = fanout.sweep(sqlite_url, clock)
    assert later == []
    webhooks.redeliver(sqlite_url, first, EVERY_TENANT)
    assert send(sqlite_url, first, FakeTransport([204]), clock=None) == "delivered"


def test_a_delivery_gives_up_after_the_window_but_the_endpoint_stays_while_others_succeed(sqlite_url, endpoint):
    clock = Clock()
    delivery_id = fanned(sqlite_url, outbox_alert(sqlite_url))
    send(sqlite_url, delivery_id, FakeTransport([500]), clock)
    clock.advance(hours=23)
    send(sqlite_url, fanned(sqlite_url, outbox_alert(sqlite_url), clock.now), FakeTransport([200]), clock)
    clock.advance(hours=2)
    assert send(sqlite_url, delivery_id, FakeTransport([500]), clock) == "failed"
    assert webhooks.listing(sqlite_url, EVERY_TENANT)[0]["state"] == "active"
    assert [d["id"] for d in webhooks.deliveries(sqlite_url, EVERY_TENANT, failed=True)] == [delivery_id]


@pytest.mark.parametrize("addresses, refusal", [
    (("127.0.0.1",), "a loopback address"), (("10.1.2.3",), "a private address"),
    (("169.254.169.254",), "a cloud metadata address"), (("fe80::1",), "a link-local address"),
    ((PUBLIC, "192.168.1.10"), "a private address"),  # every answer is checked, not just the first
    (("::ffff:127.0.0.1",), "a loopback address"), (("fd00:ec2::254",), "a cloud metadata address"),
])
def test_a_host_resolving_to_a_refused_address_is_not_contacted(sqlite_url, endpoint, addresses, refusal):
    delivery_id = fanned(sqlite_url, outbox_alert(sqlite_url))
    transport = FakeTransport()
    delivery.send(sqlite_url, delivery_id, POLICY, transport, delivery.utcnow, resolver(*addresses), lambda: 1.0)
    assert transport.sent == []
    (row,) = webhooks.deliveries(sqlite_url, EVERY_TENANT)
    assert row["last_error"].startswith("url: hooks.example.com resolves to") and refusal in row["last_error"]


def test_a_host_listed_in_allow_hosts_may_resolve_to_a_private_address(sqlite_url, endpoint):
    delivery_id = fanned(sqlite_url, outbox_alert(sqlite_url))
    transport = FakeTransport()
    policy = delivery.Policy(private_hosts=frozenset({"hooks.example.com"}))
    assert delivery.send(sqlite_url, delivery_id, policy, transport, delivery.utcnow,
                         resolver("10.0.0.5")) == "delivered"
    assert transport.sent[0].address == "10.0.0.5"


def test_a_redirect_is_not_followed_and_counts_as_a_failure(sqlite_url, endpoint):
    delivery_id = fanned(sqlite_url, outbox_alert(sqlite_url))
    assert send(sqlite_url, delivery_id, FakeTransport([302]), Clock()) == "pending"
    assert webhooks.deliveries(sqlite_url, EVERY_TENANT)[0]["last_error"] == "HTTP 302 (redirects are not followed)"


def test_the_body_is_the_alert_document_with_type_and_tenant(sqlite_url, endpoint):
    transport = FakeTransport()
    send(sqlite_url, fanned(sqlite_url, outbox_alert(sqlite_url, kind="review", verdict="approved")), transport)
    assert json.loads(transport.sent[0].body) == {"item_id": "i-1", "verdict": "approved", "kind": "review",
                                                  "type": "item.reviewed", "tenant": "default"}


def test_an_unexpected_error_is_a_failed_attempt_not_a_stuck_delivery(sqlite_url, endpoint):
    delivery_id = fanned(sqlite_url, outbox_alert(sqlite_url))
    assert send(sqlite_url, delivery_id, FakeTransport([UnicodeEncodeError("ascii", "ü", 0, 1, "no")]),
                Clock()) == "pending"
    (row,) = webhooks.deliveries(sqlite_url, EVERY_TENANT)
    assert row["attempts"] == 1 and row["last_error"].startswith("unexpected UnicodeEncodeError: ")


def test_redeliver_of_an_id_out_of_range_is_not_found(sqlite_url):
    for bad in (0, 2**31, -1):
        with pytest.raises(webhooks.NotFound):
            webhooks.redeliver(sqlite_url, bad, EVERY_TENANT)
