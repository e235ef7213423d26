"""Send one webhook delivery (Standard Webhooks), log the attempt, and decide what happens next.

The delivery row is locked (``SKIP LOCKED``) for the whole attempt, so two workers never send the same
delivery at once; a crash mid-attempt rolls back and the delivery is sent again (receivers de-duplicate
on ``webhook-id``, the same on every attempt and redelivery of one event to one endpoint).
Failed attempts wait ``backoff`` (doubling from MODQ_WEBHOOK_RETRY_BASE_SECONDS up to
MODQ_WEBHOOK_RETRY_MAX_SECONDS, less up to a quarter at random) until MODQ_WEBHOOK_GIVE_UP_SECONDS after
the event; an endpoint whose every attempt failed for MODQ_WEBHOOK_DISABLE_AFTER_SECONDS is disabled and
the operator alerted (a deployment alert, no tenant, through the outbox to SNS).
"""

from __future__ import annotations

import http.client
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from moderation.alerts.models import Alert, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from moderation.alerts.services import subject_line
from moderation.alerts.ssrf import Resolver, UnsafeUrl, check_url, pin, system_resolver
from moderation.alerts.transport import Transport, http_post
from moderation.infra.clock import aware, utcnow
from moderation.infra.db import transaction
from moderation.infra.schema import Tenant

log = structlog.get_logger("modq.webhooks")
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
USER_AGENT = "modq-webhooks/1"
CANCELLED = "cancelled: its review was undone or overridden before it was sent"


@dataclass(frozen=True)
class Policy:
    timeout: float = 5.0
    base: float = 5.0
    cap: float = 3600.0
    give_up: float = 24 * 3600.0
    disable_after: float = 24 * 3600.0
    http_hosts: frozenset[str] = frozenset()
    private_hosts: frozenset[str] = frozenset()

    @classmethod
    def of(cls, settings) -> "Policy":
        return cls(settings.webhook_timeout_seconds, settings.webhook_retry_base_seconds,
                   settings.webhook_retry_max_seconds, settings.webhook_give_up_seconds,
                   settings.webhook_disable_after_seconds, settings.webhook_http_hosts, settings.webhook_private_hosts)


def backoff(attempts: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: base x 2^(attempts-1), at most ``cap``, then
    75-100 % of that at random (jitter: endpoints that fail together are not retried in lockstep)."""
    nominal = min(cap, base * 2 ** min(max(attempts, 1) - 1, 40))
    return nominal * (0.75 + 0.25 * rand())


def message_id(alert_id: int, endpoint_id: str) -> str:
    """``webhook-id``: one per event per endpoint, the same on every retry and redelivery."""
    return f"msg_{alert_id}_{endpoint_id}"


def body_of(alert: Alert, event: str, tenant: str) -> str:
    return json.dumps({**alert.message, "type": event, "tenant": tenant}, sort_keys=True, separators=(",", ":"))


def secrets_at(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during a rotation's overlap."""
    until = aware(endpoint.previous_secret_until)
    return [endpoint.secret] + ([endpoint.previous_secret] if endpoint.previous_secret and until and until > now
                                else [])


def headers_for(msg_id: str, at: datetime, body: str, secrets: list[str]) -> dict[str, str]:
    """Standard Webhooks headers; several secrets: space-separated signatures, each verifies."""
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets),
            "content-type": "application/json", "user-agent": USER_AGENT}


@dataclass(frozen=True)
class Attempt:
    status: int | None
    error: str | None
    latency_ms: float


def attempt(endpoint: WebhookEndpoint, msg_id: str, body: str, now: datetime, policy: Policy,
            transport: Transport, resolver: Resolver) -> Attempt:
    """Check the URL and its resolved address, sign, POST; never raises for the endpoint's faults."""
    started = time.perf_counter()
    status = error = None
    try:
        target = check_url(endpoint.url, policy.http_hosts, policy.private_hosts)
        address = pin(target, policy.private_hosts, resolver)
        status = transport(target, address, headers_for(msg_id, now, body, secrets_at(endpoint, now)),
                           body.encode(), policy.timeout)
        if not 200 <= status < 300:
            error = f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
    except UnsafeUrl as exc:
        error = str(exc)
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000] if str(exc) else type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - recorded as a failed attempt, never a delivery stuck retrying
        log.exception("webhook_attempt_error", endpoint_id=endpoint.id)
        error = f"unexpected {type(exc).__name__}: {exc}"[:1000]
    return Attempt(status, error, round((time.perf_counter() - started) * 1000, 1))


def send(database_url: str, delivery_id: int, policy: Policy, transport: Transport = http_post,
         clock: Callable[[], datetime] = utcnow, resolver: Resolver = system_resolver,
         rand: Callable[[], float] = random.random) -> str:
    """Attempt one due delivery: its state afterwards, or "skipped" (not pending, not due, or another
    worker holds it)."""
    with transaction(database_url) as s:
        delivery = s.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                                          WebhookDelivery.state == PENDING)
                            .with_for_update(skip_locked=True))
        now = clock()
        if delivery is None or (delivery.next_attempt_at is not None and aware(delivery.next_attempt_at) > now):
            return "skipped"
        endpoint = s.get(WebhookEndpoint, delivery.endpoint_id)
        if endpoint.removed_at is not None or endpoint.disabled_at is not None:
            why = "removed" if endpoint.removed_at is not None else "disabled"
            delivery.state, delivery.next_attempt_at, delivery.last_error = FAILED, None, f"endpoint {why}"
            return FAILED
        alert = s.get(Alert, delivery.alert_id)
        if alert.cancelled_at is not None:  # its review was undone (alerts.holds): it must never go out
            delivery.state, delivery.next_attempt_at, delivery.last_error = FAILED, None, CANCELLED
            return FAILED
        tenant = s.scalar(select(Tenant.name).where(Tenant.id == endpoint.tenant_id))
        result = attempt(endpoint, message_id(alert.id, endpoint.id), body_of(alert, delivery.event, tenant),
                         now, policy, transport, resolver)
        s.add(WebhookAttempt(delivery_id=delivery.id, at=now, status_code=result.status,
                             latency_ms=result.latency_ms, error=result.error))
        delivery.attempts += 1
        delivery.last_status, delivery.last_error = result.status, result.error
        if result.error is None:
            delivery.state, delivery.delivered_at, delivery.next_attempt_at = DELIVERED, now, None
            s.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id)
                      .values(failing_since=None))
        else:
            _after_failure(s, delivery, endpoint, now, policy, rand)
        state = delivery.state
    log.info("webhook_attempt", delivery_id=delivery_id, endpoint_id=endpoint.id, state=state,
             status=result.status, error=result.error, latency_ms=result.latency_ms)
    return state


def _after_failure(s: Session, delivery: WebhookDelivery, endpoint: WebhookEndpoint, now: datetime,
                   policy: Policy, rand: Callable[[], float]) -> None:
    since = aware(endpoint.failing_since)
    if since is None:
        endpoint.failing_since = since = now
    if (now - since).total_seconds() >= policy.disable_after:
        delivery.state, delivery.next_attempt_at = FAILED, None
        _disable(s, endpoint, now, f"every attempt failed since {since.isoformat()} "
                                   f"(last: {delivery.last_error})")
    elif (now - aware(delivery.created_at)).total_seconds() >= policy.give_up:
        delivery.state, delivery.next_attempt_at = FAILED, None
    else:
        delivery.next_attempt_at = now + timedelta(seconds=backoff(delivery.attempts, policy.base, policy.cap, rand))


def _disable(s: Session, endpoint: WebhookEndpoint, now: datetime, reason: str) -> None:
    """Disable the endpoint and alert the operator (no tenant: SNS only; beat's flush_outbox publishes it)."""
    endpoint.disabled_at, endpoint.disabled_reason = now, reason[:2000]
    text = f"webhook endpoint {endpoint.id} (tenant {endpoint.tenant_id}) disabled: {reason}"
    s.add(Alert(item_id=None, tenant_id=None, kind="deployment", dedup_id=f"webhook:{endpoint.id}:{now.timestamp()}",
                subject=subject_line(f"modq deployment fault: {text}"), attributes={"kind": "webhook_disabled"},
                message={"kind": "deployment", "reason": text, "endpoint_id": endpoint.id,
                         "tenant_id": endpoint.tenant_id, "url": endpoint.url, "disabled_at": now.isoformat()}))
    log.error("webhook_endpoint_disabled", endpoint_id=endpoint.id, tenant_id=endpoint.tenant_id, reason=reason)
