"""/v1/webhooks: a tenant admin's endpoints and deliveries; another tenant's are 404, refusals name the field."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from moderation.alerts import fanout
from moderation.alerts.events import EVENTS
from moderation.alerts.models import WebhookEndpoint
from moderation.infra.db import transaction
from moderation.tenants import services as tenants, tokens
from tests.unit.alerts.webhook_fakes import START, outbox_alert


@pytest.fixture
def admins(rt):
    """Bearer headers of an admin of `default` and of an admin of `adult-art`, and adult-art's id."""
    url = rt.settings.database_url
    other = tenants.create(url, "adult-art", "test")["id"]

    def header(name: str, tenant: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens.create(url, name, 'admin', 'test', (tenant,))[1]}"}

    return header("root", "default"), header("art-admin", "adult-art"), other


def test_an_admin_adds_lists_rotates_and_removes_its_endpoint(client, admins):
    mine, _, _ = admins
    added = client.post("/v1/webhooks", json={"url": "https://hooks.example.com/modq"}, headers=mine)
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["secret"].startswith("whsec_") and body["tenant"] == "default" and len(body["events"]) == len(EVENTS)
    assert body["created_by"].startswith("root (token ")
    listed = client.get("/v1/webhooks", headers=mine).json()
    assert [e["id"] for e in listed] == [body["id"]] and listed[0]["secret"] is None
    rotated = client.post(f"/v1/webhooks/{body['id']}/rotate-secret", json={"overlap": "1h"}, headers=mine).json()
    assert rotated["secret"] != body["secret"] and rotated["previous_secret_until"] is not None
    assert client.delete(f"/v1/webhooks/{body['id']}", headers=mine).json()["state"] == "removed"
    assert client.get("/v1/webhooks", headers=mine).json() == []


def test_another_tenants_endpoint_and_deliveries_are_404(client, admins, rt):
    mine, theirs, other = admins
    endpoint = client.post("/v1/webhooks", json={"url": "https://art.example.com/"}, headers=theirs).json()
    assert endpoint["tenant"] == "adult-art"
    with transaction(rt.settings.database_url) as s:
        (delivery_id,) = fanout.fan_out(s, [outbox_alert(rt.settings.database_url, tenant_id=other)], START)

    for method, path, kw in [("delete", f"/v1/webhooks/{endpoint['id']}", {}),
                             ("post", f"/v1/webhooks/{endpoint['id']}/rotate-secret", {"json": {}}),
                             ("get", f"/v1/webhooks/deliveries?endpoint={endpoint['id']}", {}),
                             ("post", f"/v1/webhooks/deliveries/{delivery_id}/redeliver", {})]:
        answer = getattr(client, method)(path, headers=mine, **kw)
        assert answer.status_code == 404, (path, answer.text)
        assert "adult-art" not in answer.text and "art.example.com" not in answer.text
    assert client.get("/v1/webhooks", headers=mine).json() == []
    assert client.get("/v1/webhooks/deliveries", headers=mine).json() == []
    refused = client.post("/v1/webhooks", json={"url": "https://x.example.com/", "tenant": "adult-art"}, headers=mine)
    assert refused.status_code == 422 and refused.json()["message"] == ("tenant: no tenant named 'adult-art' that "
                                                                        "this token acts for")

    theirs_now = client.get("/v1/webhooks/deliveries", headers=theirs).json()
    assert [d["id"] for d in theirs_now] == [delivery_id]
    again = client.post(f"/v1/webhooks/deliveries/{delivery_id}/redeliver", headers=theirs)
    assert again.status_code == 202 and rt.dispatcher.webhooks[-1] == delivery_id


@pytest.mark.parametrize("body, message", [
    ({"url": "http://hooks.example.com/"}, "url: must use https (plain http only for hosts in "
                                           "MODQ_WEBHOOK_ALLOW_HTTP_HOSTS, not 'hooks.example.com')"),
    ({"url": "https://10.1.1.1/"}, "url: 10.1.1.1 is a private address (allowed only for hosts in "
                                   "MODQ_WEBHOOK_ALLOW_HOSTS)"),
    ({"url": "https://169.254.169.254/"}, "url: 169.254.169.254 is a cloud metadata address (allowed only for hosts "
                                          "in MODQ_WEBHOOK_ALLOW_HOSTS)"),
    ({"url": "https://a:b@hooks.example.com/"}, "url: must not carry credentials (user:password@); the signature "
                                                "authenticates modq"),
    ({"url": "https://hooks.example.com/", "events": ["item.exploded"]},
     "events: unknown event 'item.exploded'; choose from item.decided, item.reviewed, item.failed, subject.flagged, "
     "appeal.decided, review.undone, review.overridden, notice.decided"),
])
def test_refusals_name_the_field_and_store_nothing(client, admins, rt, body, message):
    answer = client.post("/v1/webhooks", json=body, headers=admins[0])
    assert answer.status_code == 422 and answer.json()["message"] == message
    with transaction(rt.settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_only_admins_manage_webhooks(client, auth):
    assert client.get("/v1/webhooks", headers=auth["reviewer"]).status_code == 403
    assert client.post("/v1/webhooks", json={"url": "https://h.example.com/"}, headers=auth["ingest"]).status_code == 403
