"""Webhook endpoints: add, list, remove, rotate the secret; deliveries and redelivery (``modq webhooks``,
/v1/webhooks). Callers resolve tenant names to ids; every call takes the caller's ``Scope`` and treats an
endpoint or delivery outside it as not found."""

from __future__ import annotations

import base64
import re
import secrets
from datetime import timedelta
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.alerts.delivery import FAILED, PENDING
from moderation.alerts.events import SUBSCRIPTIONS, check_events
from moderation.alerts.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from moderation.alerts.ssrf import check_url
from moderation.domain.errors import BadInput, ModqError
from moderation.domain.tenancy import Scope
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.infra.schema import Tenant

SECRET_BYTES = 32
MAX_ID = 2**31 - 1  # the id columns are 32-bit integers
MAX_OVERLAP = timedelta(days=7)
_DURATION = re.compile(r"(\d{1,7})([smhd]?)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ENDPOINT_ID = re.compile(r"ep_[0-9a-f]{24}")


class NotFound(ModqError):
    """No such endpoint or delivery the caller may see (HTTP 404)."""


def new_secret() -> str:
    """``whsec_`` and the base64 of 32 random bytes (Standard Webhooks)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def add(database_url: str, tenant_id: int, url: str, events: Iterable[str] | None, created_by: str,
        http_hosts: frozenset[str] = frozenset(), private_hosts: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A new endpoint; the result carries its ``secret``, shown this once."""
    check_url(url, http_hosts, private_hosts)
    wanted = check_events(events)
    secret = new_secret()
    with transaction(database_url) as s:
        endpoint = WebhookEndpoint(id="ep_" + secrets.token_hex(12), tenant_id=tenant_id, url=url, events=wanted,
                                   secret=secret, created_by=created_by, created_at=utcnow())
        s.add(endpoint)
        s.flush()
        result = {**describe(endpoint, _names(s)), "secret": secret}
    SUBSCRIPTIONS.clear()
    return result


def listing(database_url: str, scope: Scope, removed: bool = False) -> list[dict[str, Any]]:
    with transaction(database_url) as s:
        query = select(WebhookEndpoint).order_by(WebhookEndpoint.created_at)
        if not removed:
            query = query.where(WebhookEndpoint.removed_at.is_(None))
        names = _names(s)
        return [describe(e, names) for e in s.scalars(_scoped(query, scope))]


def remove(database_url: str, endpoint_id: str, scope: Scope) -> dict[str, Any]:
    """Stop sending to it (kept, with its deliveries, for the record); its pending deliveries fail."""
    with transaction(database_url) as s:
        endpoint = _endpoint(s, endpoint_id, scope)
        endpoint.removed_at = utcnow()
        for delivery in s.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id,
                                                                 WebhookDelivery.state == PENDING)):
            delivery.state, delivery.next_attempt_at, delivery.last_error = FAILED, None, "endpoint removed"
        result = describe(endpoint, _names(s))
    SUBSCRIPTIONS.clear()
    return result


def rotate_secret(database_url: str, endpoint_id: str, scope: Scope, overlap: timedelta) -> dict[str, Any]:
    """A new secret, returned this once; the old one keeps signing too (both signatures sent) for ``overlap``."""
    if not timedelta(0) <= overlap <= MAX_OVERLAP:
        raise BadInput(f"overlap: must be between 0 and {MAX_OVERLAP.days} days")
    with transaction(database_url) as s:
        endpoint = _endpoint(s, endpoint_id, scope)
        endpoint.previous_secret = endpoint.secret if overlap else None
        endpoint.previous_secret_until = utcnow() + overlap if overlap else None
        endpoint.secret = new_secret()
        return {**describe(endpoint, _names(s)), "secret": endpoint.secret}


def parse_overlap(text: str) -> timedelta:
    """``--overlap`` / ``overlap``: a whole number and s, m, h or d (``24h``); 0: the old secret stops at once."""
    found = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if found is None:
        raise BadInput(f"overlap: {text!r} is not a duration (a whole number and s, m, h or d: 24h, 90m; 0: none)")
    return timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2) or "s"])


def deliveries(database_url: str, scope: Scope, failed: bool = False, endpoint_id: str | None = None,
               limit: int = 100) -> list[dict[str, Any]]:
    """The latest deliveries, newest first, each with its attempts (status code or error, latency)."""
    with transaction(database_url) as s:
        query = (select(WebhookDelivery).join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                 .order_by(WebhookDelivery.id.desc()).limit(max(1, min(limit, 1000))))
        if failed:
            query = query.where(WebhookDelivery.state == FAILED)
        if endpoint_id is not None:
            _endpoint(s, endpoint_id, scope)
            query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
        rows = list(s.scalars(_scoped(query, scope)))
        attempts: dict[int, list[dict[str, Any]]] = {}
        for a in s.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_([d.id for d in rows]))
                           .order_by(WebhookAttempt.id)):
            attempts.setdefault(a.delivery_id, []).append(
                {"at": a.at.isoformat(), "status_code": a.status_code, "latency_ms": a.latency_ms, "error": a.error})
        return [describe_delivery(d, attempts.get(d.id, [])) for d in rows]


def redeliver(database_url: str, delivery_id: int, scope: Scope) -> dict[str, Any]:
    """Send a delivery again (same ``webhook-id``): pending, due now. The caller queues the send."""
    if not isinstance(delivery_id, int) or not 1 <= delivery_id <= MAX_ID:
        raise NotFound(f"no webhook delivery {delivery_id}")
    with transaction(database_url) as s:
        delivery = s.scalar(_scoped(select(WebhookDelivery).join(
            WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.id == delivery_id), scope).with_for_update(of=WebhookDelivery))
        if delivery is None:
            raise NotFound(f"no webhook delivery {delivery_id}")
        endpoint = s.get(WebhookEndpoint, delivery.endpoint_id)
        if endpoint.removed_at is not None:
            raise BadInput(f"delivery: its endpoint {endpoint.id} was removed")
        endpoint.disabled_at = endpoint.disabled_reason = endpoint.failing_since = None  # asked for: try again
        delivery.state, delivery.next_attempt_at, delivery.created_at = PENDING, utcnow(), utcnow()
        return describe_delivery(delivery, [])


def describe(e: WebhookEndpoint, names: dict[int, str]) -> dict[str, Any]:
    state = "removed" if e.removed_at else "disabled" if e.disabled_at else "active"
    return {"id": e.id, "tenant": names.get(e.tenant_id, str(e.tenant_id)), "url": e.url, "events": list(e.events),
            "state": state, "created_by": e.created_by, "created_at": e.created_at.isoformat(),
            "previous_secret_until": e.previous_secret_until.isoformat() if e.previous_secret_until else None,
            "failing_since": e.failing_since.isoformat() if e.failing_since else None,
            "disabled_reason": e.disabled_reason}


def describe_delivery(d: WebhookDelivery, attempts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": d.id, "endpoint_id": d.endpoint_id, "alert_id": d.alert_id, "event": d.event, "state": d.state,
            "attempts": d.attempts, "last_status": d.last_status, "last_error": d.last_error,
            "created_at": d.created_at.isoformat(),
            "next_attempt_at": d.next_attempt_at.isoformat() if d.next_attempt_at else None,
            "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None, "attempt_log": attempts}


def _scoped(query, scope: Scope):
    return query if scope.all else query.where(WebhookEndpoint.tenant_id.in_(sorted(scope.tenant_ids)))


def _endpoint(s: Session, endpoint_id: str, scope: Scope) -> WebhookEndpoint:
    well_formed = isinstance(endpoint_id, str) and _ENDPOINT_ID.fullmatch(endpoint_id)
    endpoint = s.get(WebhookEndpoint, endpoint_id) if well_formed else None  # no NUL or such reaches the query
    if endpoint is None or endpoint.removed_at is not None or not scope.covers(endpoint.tenant_id):
        raise NotFound(f"no webhook endpoint {endpoint_id!r}")
    return endpoint


def _names(s: Session) -> dict[int, str]:
    return dict(s.execute(select(Tenant.id, Tenant.name)).all())
