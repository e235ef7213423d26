"""Webhooks end to end (README "Webhooks"): decisions on PostgreSQL fan out to a tenant's endpoint, a real
Celery worker (with its beat, on Redis) sends them to a real HTTP receiver on loopback that verifies every
request with the `standardwebhooks` package, as a platform would, and answers 500 three times first.

Each event arrives exactly once (the receiver de-duplicates on webhook-id, and counts), after 4 attempts;
then the secret is rotated: the new one verifies, and the old one too during the overlap. Retries are made
fast through MODQ_WEBHOOK_* settings, not by sleeping in the code under test.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections import Counter
from datetime import timedelta
from urllib.parse import quote
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery import Celery
from fastapi.testclient import TestClient
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from config.settings import Settings
from moderation.alerts import delivery, fanout, webhooks
from moderation.api.app import create_app
from moderation.alerts.models import Alert, WebhookAttempt, WebhookDelivery
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.domain import policy
from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.infra.lease import LocalLeases
from moderation.items import outcomes, services as service
from moderation.tenants import tokens
from tests.fakes.providers import FakeProvider, RecordingPublisher
from tests.integration.conftest import WorkerProcess, wait_for
from tests.integration.fresh_pg import fresh_database
from tests.review_items import decided_item
from worker.app import ROUTES
from worker.dispatch import CeleryDispatcher

pytestmark = pytest.mark.integration
LOOPBACK = "127.0.0.1"


class Receiver:
    """A platform's webhook handler: verifies strictly with every secret it currently accepts, answers 500 to
    the first ``fail_first`` requests of each webhook-id, and keeps each event once (by webhook-id)."""

    def __init__(self):
        self.secrets: list[str] = []  # the secrets this receiver accepts now
        self.known: dict[str, str] = {}  # name -> secret, to see which ones each request verifies with
        self.fail_first = 3
        self.requests: Counter[str] = Counter()  # webhook-id -> requests
        self.accepted: Counter[str] = Counter()  # webhook-id -> 2xx answers
        self.events: dict[str, dict] = {}  # webhook-id -> payload, the de-duplicated store
        self.verified_by: dict[str, set[str]] = {}  # webhook-id -> names of the secrets its last request verifies
        self.rejected = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer((LOOPBACK, 0), self._handler())
        self.url = f"http://{LOOPBACK}:{self.server.server_address[1]}/hooks/modq"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["content-length"]))
                self.send_response(receiver.answer(body, dict(self.headers)))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        return Handler

    def answer(self, body: bytes, headers: dict[str, str]) -> int:
        payload = None
        for secret in self.secrets:
            try:
                payload = Webhook(secret).verify(body, headers)
                break
            except WebhookVerificationError:
                continue
        with self.lock:
            if payload is None:
                self.rejected += 1
                return 401
            msg_id = headers["webhook-id"]
            self.verified_by[msg_id] = {name for name, secret in self.known.items() if _verifies(secret, body, headers)}
            self.requests[msg_id] += 1
            if self.requests[msg_id] <= self.fail_first:
                return 500
            self.accepted[msg_id] += 1
            self.events.setdefault(msg_id, payload)  # de-duplicated: a repeat changes nothing
            return 204

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers)
        return True
    except WebhookVerificationError:
        return False


class WebhooksToCelery(InMemoryDispatcher):
    """The deciding side: items are decided in-process; webhook sends go through Redis to the worker."""

    def __init__(self, celery: CeleryDispatcher):
        super().__init__()
        self.celery = celery

    def deliver_webhooks(self, delivery_ids: list[int]) -> None:
        super().deliver_webhooks(delivery_ids)
        self.celery.deliver_webhooks(delivery_ids)


def celery_on(broker_url: str, prefix: str) -> CeleryDispatcher:
    app = Celery("modq-it-webhooks", broker=broker_url)
    app.conf.update(broker_transport_options={"global_keyprefix": prefix},
                    task_routes={task: {"queue": queue} for task, queue in ROUTES.items()})
    return CeleryDispatcher(app)


def attempts_of(url: str) -> dict[int, list[int | None]]:
    with transaction(url) as s:
        found: dict[int, list[int | None]] = {}
        for delivery_id, status in s.execute(select(WebhookAttempt.delivery_id, WebhookAttempt.status_code)
                                             .order_by(WebhookAttempt.id)):
            found.setdefault(delivery_id, []).append(status)
        return found


def test_signed_deliveries_reach_a_real_receiver_once_each_and_a_rotated_secret_verifies(broker_url, tmp_path):
    prefix = f"webhooks-{uuid.uuid4().hex[:6]}:"
    receiver = Receiver()
    with fresh_database("modq_webhooks") as url:
        media = tmp_path / "media"
        media.mkdir()
        settings = Settings(database_url=url, media_root=media, provider="local", sns_topic_arn=None)
        dispatcher = WebhooksToCelery(celery_on(broker_url, prefix))
        rt = Runtime(settings, policy.load(settings.thresholds), dispatcher, RecordingPublisher())
        rt._provider, rt._leases = (provider := FakeProvider()), LocalLeases()
        loopback = frozenset({LOOPBACK})
        endpoint = webhooks.add(url, 1, receiver.url, None, "it", http_hosts=loopback, private_hosts=loopback)
        receiver.secrets, receiver.known = [endpoint["secret"]], {"first": endpoint["secret"]}
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODQ_")}
        env.update({"MODQ_DATABASE_URL": url, "MODQ_BROKER_URL": broker_url, "MODQ_BROKER_KEY_PREFIX": prefix,
                    "MODQ_PROVIDER": "local", "MODQ_LOG_FORMAT": "json", "MODQ_MEDIA_ROOT": str(media),
                    "MODQ_WEBHOOK_ALLOW_HTTP_HOSTS": LOOPBACK, "MODQ_WEBHOOK_ALLOW_HOSTS": LOOPBACK,
                    "MODQ_WEBHOOK_RETRY_BASE_SECONDS": "0.2", "MODQ_WEBHOOK_RETRY_MAX_SECONDS": "0.4",
                    "MODQ_WEBHOOK_SWEEP_SECONDS": "0.3"})
        worker = WorkerProcess(env, tmp_path / "worker.log", queues="webhooks",
                               extra_args=["-B", "-s", str(tmp_path / "beat-schedule")])
        try:
            approved = decided_item(rt, media, provider, label=None)
            rejected = decided_item(rt, media, provider, "Explicit Nudity", 99)
            (media / "broken.jpg").write_bytes(b"\xff\xd8\xff")
            failed = service.submit("broken.jpg", rt=rt).item_id
            outcomes.fail_item(failed, "the image is truncated", rt)
            assert len(dispatcher.webhooks) == 3  # fanned out right after each commit

            wait_for(lambda: len(receiver.events) == 3, 60, 0.1, f"3 events at the receiver\n{worker.output()}")
            wait_for(lambda: all(d["state"] == "delivered" for d in webhooks.deliveries(url, EVERY_TENANT)), 30, 0.1,
                     "the deliveries to be recorded delivered")

            by_item = {e["item_id"]: e for e in receiver.events.values()}
            assert {i: (e["type"], e["verdict"], e["tenant"]) for i, e in by_item.items()} == {
                approved: ("item.decided", "approved", "default"), rejected: ("item.decided", "rejected", "default"),
                failed: ("item.failed", "failed", "default")}
            assert set(receiver.accepted.values()) == {1}  # each event accepted exactly once ...
            assert set(receiver.requests.values()) == {4}  # ... after three 500s
            assert receiver.rejected == 0
            assert sorted(attempts_of(url).values()) == [[500, 500, 500, 204]] * 3

            # Rotation: the receiver switches to the new secret; during the overlap the old one verifies too.
            new = webhooks.rotate_secret(url, endpoint["id"], EVERY_TENANT, timedelta(hours=1))["secret"]
            receiver.secrets, receiver.known["new"] = [new], new
            receiver.fail_first = 0
            later = decided_item(rt, media, provider, "Explicit Nudity", 98)
            wait_for(lambda: len(receiver.events) == 4, 30, 0.1, f"the event after rotation\n{worker.output()}")
            (after,) = [msg for msg, e in receiver.events.items() if e["item_id"] == later]
            assert receiver.verified_by[after] == {"first", "new"} and receiver.rejected == 0

            # Redelivery keeps the webhook-id, so the receiver keeps the event once.
            with transaction(url) as s:
                first = s.scalar(select(WebhookDelivery.id).order_by(WebhookDelivery.id).limit(1))
            webhooks.redeliver(url, first, EVERY_TENANT)
            dispatcher.deliver_webhooks([first])
            wait_for(lambda: max(receiver.accepted.values()) == 2, 30, 0.1, "the redelivery")
            assert len(receiver.events) == 4 and receiver.rejected == 0
        finally:
            worker.stop()
            receiver.close()


def test_two_workers_never_send_one_delivery_at_once(tmp_path):
    """On PostgreSQL the delivery row is locked SKIP LOCKED for the whole attempt: a second worker given the
    same delivery meanwhile skips it, and after the first one succeeded there is nothing left to send."""
    with fresh_database("modq_webhooks_lock") as url:
        endpoint = webhooks.add(url, 1, "https://hooks.example.com/", None, "it")
        with transaction(url) as s:
            alert = Alert(tenant_id=1, kind="decision", dedup_id="it:lock", subject="s", message={"verdict": "approved"},
                          attributes={})
            s.add(alert)
            s.flush()
            (delivery_id,) = fanout.fan_out(s, [alert.id], utcnow())
        inside, release, sent = threading.Event(), threading.Event(), []

        def slow(target, address, headers, body, timeout):
            sent.append(headers["webhook-id"])
            inside.set()
            assert release.wait(30)
            return 200

        policy_ = delivery.Policy()
        resolve = lambda host, port: ["93.184.216.34"]  # noqa: E731 - a public address, never contacted
        first = threading.Thread(target=lambda: sent.append(delivery.send(url, delivery_id, policy_, slow,
                                                                          resolver=resolve)))
        first.start()
        assert inside.wait(30)
        assert delivery.send(url, delivery_id, policy_, slow, resolver=resolve) == "skipped"
        release.set()
        first.join(30)
        assert sent == [f"msg_{alert.id}_{endpoint['id']}", "delivered"]
        assert delivery.send(url, delivery_id, policy_, slow, resolver=resolve) == "skipped"


HOSTILE = ["a\x00b", "\ud800", "\x00", "x" * 5000, "' OR 1=1 --", "../../etc/passwd", "%00"]


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_hostile_strings_reach_no_webhook_query_unchecked(rt, value):
    """On PostgreSQL (which refuses NUL in text): whatever a client sends to /v1/webhooks, never a 5xx."""
    with fresh_database("modq_webhooks_fuzz") as url:
        rt.settings = Settings(database_url=url, media_root=rt.settings.media_root)
        token = tokens.create(url, "fuzzer", "admin", created_by="test")[1]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        q = quote(value.encode("utf-8", "surrogatepass"), safe="")
        with TestClient(create_app(rt, health_checks={}), raise_server_exceptions=False) as client:
            def post(path, body):
                return client.post(path, content=json.dumps(body).encode(), headers=headers)

            responses = [
                post("/v1/webhooks", {"url": value}),
                post("/v1/webhooks", {"url": f"https://hooks.example.com/{value}"}),
                post("/v1/webhooks", {"url": "https://hooks.example.com/", "events": [value]}),
                post("/v1/webhooks", {"url": "https://hooks.example.com/", "tenant": value}),
                post(f"/v1/webhooks/{q}/rotate-secret", {"overlap": value}),
                client.delete(f"/v1/webhooks/{q}", headers=headers),
                client.get(f"/v1/webhooks/deliveries?endpoint={q}", headers=headers),
                post(f"/v1/webhooks/deliveries/{q}/redeliver", {}),
            ]
    assert [(r.status_code, r.text) for r in responses if r.status_code >= 500] == []
