"""Webhook endpoints (add, refusals, rotation, scope) and the fan-out from the outbox."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from moderation.alerts import events, fanout, webhooks
from moderation.alerts.events import Subscriptions
from moderation.alerts.models import Alert, WebhookDelivery, WebhookEndpoint
from moderation.bootstrap import InMemoryDispatcher
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.infra.db import transaction
from moderation.tenants import services as tenants
from tests.unit.alerts.webhook_fakes import START, outbox_alert

# (url, the refusal's exact message): each names the field `url`.
REFUSED_URLS = [
    ("http://hooks.example.com/x", "url: must use https (plain http only for hosts in MODQ_WEBHOOK_ALLOW_HTTP_HOSTS, "
                                   "not 'hooks.example.com')"),
    ("https://user:pw@hooks.example.com/x", "url: must not carry credentials (user:password@); the signature "
                                            "authenticates modq"),
    ("https://127.0.0.1/x", "url: 127.0.0.1 is a loopback address (allowed only for hosts in MODQ_WEBHOOK_ALLOW_HOSTS)"),
    ("https://[::1]:8443/x", "url: ::1 is a loopback address (allowed only for hosts in MODQ_WEBHOOK_ALLOW_HOSTS)"),
    ("https://10.0.0.8/x", "url: 10.0.0.8 is a private address (allowed only for hosts in MODQ_WEBHOOK_ALLOW_HOSTS)"),
    ("https://192.168.1.1/x", "url: 192.168.1.1 is a private address (allowed only for hosts in "
                              "MODQ_WEBHOOK_ALLOW_HOSTS)"),
    ("https://169.254.10.1/x", "url: 169.254.10.1 is a link-local address (allowed only for hosts in "
                               "MODQ_WEBHOOK_ALLOW_HOSTS)"),
    ("https://169.254.169.254/latest/meta-data", "url: 169.254.169.254 is a cloud metadata address (allowed only for "
                                                 "hosts in MODQ_WEBHOOK_ALLOW_HOSTS)"),
    ("https://[fd00:ec2::254]/", "url: fd00:ec2::254 is a cloud metadata address (allowed only for hosts in "
                                 "MODQ_WEBHOOK_ALLOW_HOSTS)"),
    ("https://0.0.0.0/", "url: 0.0.0.0 is an unspecified address (allowed only for hosts in MODQ_WEBHOOK_ALLOW_HOSTS)"),
    ("https://localhost/x", "url: localhost is a local name (allowed only for hosts in MODQ_WEBHOOK_ALLOW_HOSTS)"),
    ("ftp://hooks.example.com/", "url: scheme 'ftp' is not allowed: use https://"),
    ("hooks.example.com/x", "url: scheme 'none' is not allowed: use https://"),
    ("https:///x", "url: 'https:///x' names no host"),
    ("https://hooks.example.com/x#frag", "url: must not have a fragment (#...)"),
    ("https://hooks.example.com:99999/", "url: 'https://hooks.example.com:99999/' is not a URL (Port out of range "
                                         "0-65535)"),
    ("https://hooks.example.com/a b", "url: must be at most 2000 printable characters without spaces"),
    ("", "url: give the endpoint's https:// URL"),
    ("https://bücher.example/h", "url: host 'bücher.example' is not ASCII: write an internationalised name in its "
                                 "xn-- form"),
]


def count(url: str, model) -> int:
    with transaction(url) as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("url, message", REFUSED_URLS)
def test_an_unsafe_url_is_refused_naming_url_and_nothing_is_stored(sqlite_url, url, message):
    with pytest.raises(BadInput) as refused:
        webhooks.add(sqlite_url, 1, url, None, "test")
    assert str(refused.value) == message
    assert count(sqlite_url, WebhookEndpoint) == 0


def test_development_hosts_may_use_http_and_private_addresses_when_listed(sqlite_url):
    row = webhooks.add(sqlite_url, 1, "http://127.0.0.1:8080/hook", None, "test",
                       http_hosts=frozenset({"127.0.0.1"}), private_hosts=frozenset({"127.0.0.1"}))
    assert row["url"] == "http://127.0.0.1:8080/hook" and row["state"] == "active"
    with pytest.raises(BadInput, match="^url: 127.0.0.1 is a loopback address"):  # http alone is not enough
        webhooks.add(sqlite_url, 1, "http://127.0.0.1:8080/hook", None, "test", http_hosts=frozenset({"127.0.0.1"}))


def test_an_unknown_event_is_refused_naming_events(sqlite_url):
    with pytest.raises(BadInput) as refused:
        webhooks.add(sqlite_url, 1, "https://hooks.example.com/", ["item.decided", "item.deleted"], "test")
    assert str(refused.value) == ("events: unknown event 'item.deleted'; choose from item.decided, item.reviewed, "
                                  "item.failed, subject.flagged, appeal.decided, review.undone, review.overridden, "
                                  "notice.decided")
    with pytest.raises(BadInput, match="^events: name at least one of"):
        webhooks.add(sqlite_url, 1, "https://hooks.example.com/", [" "], "test")
    assert count(sqlite_url, WebhookEndpoint) == 0


def test_the_secret_is_whsec_and_32_random_bytes_shown_at_add_and_never_listed(sqlite_url):
    row = webhooks.add(sqlite_url, 1, "https://hooks.example.com/", ["item.failed"], "test")
    assert row["secret"].startswith("whsec_") and len(base64.b64decode(row["secret"][6:])) == 32
    assert row["events"] == ["item.failed"] and row["id"].startswith("ep_")
    (listed,) = webhooks.listing(sqlite_url, EVERY_TENANT)
    assert "secret" not in listed and listed["id"] == row["id"]


def test_another_tenants_endpoint_is_not_found(sqlite_url):
    other = tenants.create(sqlite_url, "adult-art", "test")["id"]
    theirs = webhooks.add(sqlite_url, other, "https://hooks.example.com/", None, "test")
    mine = Scope(tenant_ids=frozenset({1}))
    assert webhooks.listing(sqlite_url, mine) == []
    for call in (lambda: webhooks.remove(sqlite_url, theirs["id"], mine),
                 lambda: webhooks.rotate_secret(sqlite_url, theirs["id"], mine, timedelta(hours=1)),
                 lambda: webhooks.deliveries(sqlite_url, mine, endpoint_id=theirs["id"])):
        with pytest.raises(webhooks.NotFound, match=f"no webhook endpoint '{theirs['id']}'"):
            call()
    with transaction(sqlite_url) as s:
        (delivery_id,) = fanout.fan_out(s, [outbox_alert(sqlite_url, tenant_id=other)], START)
    with pytest.raises(webhooks.NotFound):
        webhooks.redeliver(sqlite_url, delivery_id, mine)
    assert webhooks.deliveries(sqlite_url, mine) == []


@pytest.mark.parametrize("text, seconds", [("24h", 86400), ("90m", 5400), ("0", 0), ("7d", 7 * 86400), ("30s", 30)])
def test_overlap_durations(text, seconds):
    assert webhooks.parse_overlap(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["1 day", "-1h", "h", "1.5h"])
def test_a_bad_overlap_is_refused_naming_overlap(text):
    with pytest.raises(BadInput, match="^overlap: "):
        webhooks.parse_overlap(text)


def test_an_overlap_over_a_week_is_refused(sqlite_url):
    row = webhooks.add(sqlite_url, 1, "https://hooks.example.com/", None, "test")
    with pytest.raises(BadInput, match="^overlap: must be between 0 and 7 days"):
        webhooks.rotate_secret(sqlite_url, row["id"], EVERY_TENANT, timedelta(days=8))


def test_an_alert_fans_out_once_to_each_subscribed_endpoint(sqlite_url):
    a = webhooks.add(sqlite_url, 1, "https://a.example.com/", None, "test")
    webhooks.add(sqlite_url, 1, "https://b.example.com/", ["item.failed"], "test")  # not subscribed
    c = webhooks.add(sqlite_url, 1, "https://c.example.com/", ["item.decided"], "test")
    removed = webhooks.add(sqlite_url, 1, "https://d.example.com/", None, "test")
    webhooks.remove(sqlite_url, removed["id"], EVERY_TENANT)
    alert_id = outbox_alert(sqlite_url)
    dispatcher = InMemoryDispatcher()

    created = fanout.after_commit(sqlite_url, dispatcher, [alert_id], ttl=0)
    again = fanout.after_commit(sqlite_url, dispatcher, [alert_id], ttl=0)
    swept = fanout.sweep(sqlite_url)

    assert again == [] and sorted(swept) == sorted(created) == sorted(dispatcher.webhooks)
    with transaction(sqlite_url) as s:
        assert sorted(s.scalars(select(WebhookDelivery.endpoint_id))) == sorted([a["id"], c["id"]])
        assert s.get(Alert, alert_id).fanned_out_at is not None


def test_the_sweep_fans_out_what_no_process_did_and_marks_alerts_of_tenants_without_endpoints(sqlite_url):
    other = tenants.create(sqlite_url, "kids-forum", "test")["id"]
    webhooks.add(sqlite_url, other, "https://kids.example.com/", None, "test")
    mine, theirs, operator = (outbox_alert(sqlite_url), outbox_alert(sqlite_url, tenant_id=other),
                              outbox_alert(sqlite_url, kind="deployment", tenant_id=None))
    due = fanout.sweep(sqlite_url)
    with transaction(sqlite_url) as s:
        assert [d.alert_id for d in s.scalars(select(WebhookDelivery))] == [theirs]
        assert all(s.get(Alert, i).fanned_out_at is not None for i in (mine, theirs, operator))
        assert due == list(s.scalars(select(WebhookDelivery.id)))


def test_the_subscription_cache_is_read_once_per_interval():
    class Ticks:
        now = 0.0

        def __call__(self):
            return self.now

    class CountingSession:
        reads = 0

        def execute(self, _query):
            self.reads += 1
            return [(1, ["item.decided"])]

    clock, s = Ticks(), CountingSession()
    cache = Subscriptions(clock)
    assert cache.wants(s, 1, events.DECIDED, 10) and not cache.wants(s, 1, events.FAILED, 10)
    assert not cache.wants(s, 2, events.DECIDED, 10) and not cache.wants(s, None, events.DECIDED, 10)
    assert s.reads == 1
    clock.now = 10.0
    cache.wants(s, 1, events.DECIDED, 10)
    assert s.reads == 2


def test_alert_kinds_map_to_events():
    assert {k: events.event_of(k) for k in ("decision", "review", "reevaluate", "failed", "deployment",
                                            "worker_lost", "subject", "appeal", "other")} == {
        "decision": "item.decided", "review": "item.reviewed", "reevaluate": "item.decided", "failed": "item.failed",
        "deployment": "item.failed", "worker_lost": "item.failed", "subject": "subject.flagged",
        "appeal": "appeal.decided", "other": None}
